"""Need to know in chat: the real Bolt app over signed requests against the Slack stand-in."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bot import services
from bot.org import Org
from bot.ports import UnitOfWork
from bot.settings import Settings
from handlers.bootstrap import build
from handlers.bootstrap import slack as slack_runtime
from handlers.server import serve_in_thread, wsgi_app
from handlers.slack import ids
from tests.conftest import NOW
from tests.e2e.conftest import texts
from tests.e2e.slack import SECRET, TOKEN, Clock, SlackDriver, checks, select, text_input, users_input, wait

UoW = Callable[[], UnitOfWork]
OUTSIDER, STRANGER = "U0BASW1", "U0NOBODY"


def _raise(uow: UoW, ref: str = "X123456", **kw: object) -> int:
    from bot.org import load_org

    with uow() as u:
        t = services.raise_transfer(u, load_org(), "U0NPP1", services.RaiseRequest(
            case_ref=ref, receiving_team="pdu-south", **kw), NOW)  # type: ignore[arg-type]
    assert t.id is not None
    return t.id


def _answers(slack: SlackDriver, n: int) -> list[str]:
    got = wait(slack.api, lambda: len(slack.api.responses) >= n and slack.api.responses)
    return [r.payload.get("text", "") for r in got]


def test_outsider_reads_the_same_for_an_existing_and_an_unknown_case(slack: SlackDriver, uow: UoW) -> None:
    """A Bury social worker asking about a probation case gets, for status and history, exactly
    what they get for a case Baton never heard of, but for the reference."""
    _raise(uow)
    for sub in ("status", "history"):
        before = len(slack.api.responses)
        slack.command(OUTSIDER, f"{sub} X123456")
        known = _answers(slack, before + 1)[-1]
        slack.command(OUTSIDER, f"{sub} X999999")
        unknown = _answers(slack, before + 2)[-1]
        assert known == "No transfer you can see has the reference X123456."
        assert known.replace("X123456", "X999999") == unknown


def test_person_on_the_transfer_sees_its_status(slack: SlackDriver, uow: UoW) -> None:
    """The receiving manager's /transfer status shows the card."""
    _raise(uow)
    slack.command("U0SMGR", "status X123456")
    answer = wait(slack.api, lambda: slack.api.responses)[0]
    assert "X123456" in texts(answer.payload.get("blocks"))


def test_stranger_gets_only_the_help_text(slack: SlackDriver, uow: UoW) -> None:
    """Someone not in the org file asking for a case's status is shown the help, nothing else."""
    _raise(uow)
    slack.command(STRANGER, "status X123456")
    answer = wait(slack.api, lambda: slack.api.responses)[0]
    assert answer.payload["text"] == "Here is what /transfer can do."
    assert "X123456" not in str(answer.payload)
    first = answer.payload["blocks"][0]["text"]["text"]  # what the administrator must add for them
    assert f"name {STRANGER} under your team's managers: or members:" in first


def test_crafted_button_for_another_transfer_is_refused_neutrally(slack: SlackDriver, uow: UoW) -> None:
    """An outsider pressing Accept with another team's transfer id is told the neutral answer
    privately, gets no form, and nothing changes."""
    tid = _raise(uow)
    slack.press(OUTSIDER, ids.ACCEPT, str(tid))
    told = wait(slack.api, lambda: [c.params.get("text") for c in slack.api.calls_to("chat.postEphemeral")
                                    if c.params.get("user") == OUTSIDER])
    assert told[0] == "No transfer you can see matches that button or form."
    assert not slack.api.modal_stack(OUTSIDER)
    with uow() as u:
        assert services.load(u, transfer_id=tid).state.value == "requested"


def test_lastteam_refused_to_a_practitioner_outside_the_front_door(slack: SlackDriver, uow: UoW) -> None:
    """A probation practitioner asking who held a case last gets the neutral answer."""
    slack.command("U0NPP1", "lastteam X123456")
    answer = wait(slack.api, lambda: slack.api.responses)[0]
    assert answer.payload["text"] == "No transfer you can see has the reference X123456."


def test_restricted_case_raised_in_chat_posts_to_no_channel_and_tells_no_excluded_person(
        slack: SlackDriver, uow: UoW) -> None:
    """Raised from the form as restricted with the receiving practitioner excluded: the receiving
    manager gets a brief DM (case reference and action), the channel and the excluded person nothing."""
    slack.command("U0NPP1", "new")
    wait(slack.api, lambda: slack.api.modal_stack("U0NPP1"))
    status, answer = slack.submit("U0NPP1", {
        ids.CASE_REF: text_input("X123456"), ids.RECEIVING_TEAM: select("pdu-south"),
        ids.KIND: select("permanent"), ids.RESTRICTED: checks("restricted"),
        ids.EXCLUDED: users_input("U0SPP1")})
    assert status == 200 and "errors" not in answer, answer
    dm = wait(slack.api, lambda: slack.api.messages("U0SMGR"))[0]
    assert "X123456: a transfer request needs your decision." in texts(dm.blocks)
    assert "North PDU" not in texts(dm.blocks)
    wait(slack.api, lambda: slack.api.messages("U0NPP1"))
    assert not slack.api.messages("C0SOUTH") and not slack.api.messages("U0SPP1")
    with uow() as u:
        t = services.load(u, case_ref="X123456")
        assert t.restricted and t.excluded == ("U0SPP1",)
        # every view of a restricted transfer is recorded: here, the two cards delivered
        assert sorted(r.reader for r in u.reads.of_transfer(t.id or 0)) == ["U0NPP1", "U0SMGR"]


def test_rationale_that_looks_like_a_phone_number_is_warned_then_kept_when_confirmed(
        slack: SlackDriver, uow: UoW) -> None:
    """A decline rationale holding a phone number is warned about on its field before anything
    is saved; submitted again unchanged, it is kept."""
    tid = _raise(uow)
    slack.press("U0SMGR", ids.button("decline"), str(tid))
    wait(slack.api, lambda: slack.api.modal_stack("U0SMGR"))
    values = {"rationale": text_input("Heightened risk; ring the victim's carer on 07700 900123"),
              "reason_category": select("heightened_risk")}
    _, answer = slack.submit("U0SMGR", values)
    assert "looks like it holds a phone number" in answer["errors"]["rationale"]
    with uow() as u:
        assert services.load(u, transfer_id=tid).state.value == "requested"
    status, answer = slack.submit("U0SMGR", values)
    assert status == 200 and "errors" not in answer, answer
    with uow() as u:
        assert services.load(u, transfer_id=tid).state.value == "declined"


def test_logs_hold_no_case_reference_or_typed_text(slack: SlackDriver, uow: UoW,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """Through a raise, a refused look and a decline with its rationale, nothing Baton logs
    names the case or repeats what was typed (only transfer ids)."""
    caplog.set_level(logging.DEBUG, logger="baton")
    tid = _raise(uow)
    slack.command(OUTSIDER, "status X123456")
    slack.press("U0SMGR", ids.button("decline"), str(tid))
    wait(slack.api, lambda: slack.api.modal_stack("U0SMGR"))
    slack.submit("U0SMGR", {"rationale": text_input("Heightened risk at the proposed address"),
                            "reason_category": select("heightened_risk")})
    wait(slack.api, lambda: slack.api.messages("U0NPP1"))
    baton = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("baton"))
    assert "X123456" not in baton and "Heightened risk" not in baton


def test_restricted_case_status_and_history_show_only_reference_state_and_actions_to_people_on_it(
        slack: SlackDriver, uow: UoW) -> None:
    """Even the receiving manager's /transfer status and history of a restricted case carry its
    reference, state and actions only: no teams, kind, funding note or the decline's rationale;
    both views are recorded."""
    tid = _raise(uow, restricted=True, funding_note="Joint funding with health")
    slack.press("U0SMGR", ids.button("decline"), str(tid))
    wait(slack.api, lambda: slack.api.modal_stack("U0SMGR"))
    status, answer = slack.submit("U0SMGR", {"rationale": text_input("Heightened risk at the new area"),
                                             "reason_category": select("heightened_risk")})
    assert status == 200 and "errors" not in answer, answer
    before = len(slack.api.responses)
    slack.command("U0SMGR", "status X123456")
    slack.command("U0SMGR", "history X123456")
    got = wait(slack.api, lambda: len(slack.api.responses) >= before + 2 and slack.api.responses)
    shown_both = sorted((texts(r.payload.get("blocks")) for r in got[before:before + 2]),
                        key=lambda x: "History of" in x)
    card, hist = shown_both
    for shown in (card, hist):
        assert "X123456" in shown and "Restricted case" in shown
        for hidden in ("North PDU", "South PDU", "Permanent", "Joint funding", "Heightened risk",
                       "heightened_risk"):
            assert hidden not in shown, (hidden, shown)
    assert "Declined" in card and "Declined" in hist
    with uow() as u:
        surfaces = [r.surface for r in u.reads.of_transfer(tid) if r.reader == "U0SMGR"]
    assert "status" in surfaces and "history" in surfaces


def test_unrestricted_history_keeps_the_rationale_for_people_on_it(slack: SlackDriver, uow: UoW) -> None:
    """The trimming is for restricted cases only: an ordinary case's history shows the decline's rationale."""
    tid = _raise(uow)
    slack.press("U0SMGR", ids.button("decline"), str(tid))
    wait(slack.api, lambda: slack.api.modal_stack("U0SMGR"))
    slack.submit("U0SMGR", {"rationale": text_input("Heightened risk at the new area"),
                            "reason_category": select("heightened_risk")})
    slack.command("U0SMGR", "history X123456")
    got = wait(slack.api, lambda: slack.api.responses)
    assert "Heightened risk at the new area" in texts(got[-1].payload.get("blocks"))


def test_raise_form_refuses_excluding_every_receiving_manager_on_the_excluded_field(
        slack: SlackDriver, uow: UoW) -> None:
    """Excluding South PDU's only manager on the raise form is refused on the excluded field,
    saying why; nothing is raised and nobody is told."""
    slack.command("U0NPP1", "new")
    wait(slack.api, lambda: slack.api.modal_stack("U0NPP1"))
    status, answer = slack.submit("U0NPP1", {
        ids.CASE_REF: text_input("X123456"), ids.RECEIVING_TEAM: select("pdu-south"),
        ids.KIND: select("permanent"), ids.RESTRICTED: checks("restricted"),
        ids.EXCLUDED: users_input("U0SMGR")})
    assert status == 200
    assert "excludes every manager of South PDU, so nobody could act" in answer["errors"][ids.EXCLUDED]
    with uow() as u:
        assert u.transfers.get_open_by_case("X123456") is None
    assert not slack.api.messages("U0SMGR")


def test_bolt_and_slack_sdk_write_no_request_bodies_even_at_debug(slack: SlackDriver, uow: UoW,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """With the root and Baton's loggers at DEBUG, a decline with its rationale and a status
    lookup leave no DEBUG record from Bolt or the Web API client, so no body, text or case."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="baton")
    tid = _raise(uow)
    slack.command("U0SMGR", "status X123456")
    slack.press("U0SMGR", ids.button("decline"), str(tid))
    wait(slack.api, lambda: slack.api.modal_stack("U0SMGR"))
    slack.submit("U0SMGR", {"rationale": text_input("Heightened risk at the proposed address"),
                            "reason_category": select("heightened_risk")})
    wait(slack.api, lambda: slack.api.messages("U0NPP1"))
    libs = [r for r in caplog.records if r.name.startswith(("slack", "baton.slack.web",
                                                             "baton.slack.bolt", "bolt"))]
    assert not [r for r in libs if r.levelno <= logging.DEBUG]
    shown = "\n".join(r.getMessage() for r in caplog.records)
    assert "Heightened risk" not in shown and "X123456" not in shown


def test_confirmation_of_a_warned_text_holds_on_another_instance(
        slack: SlackDriver, uow: UoW, engine: sa.Engine, org: Org, clock: Clock) -> None:
    """Warned about a rationale on one instance, the manager submits it unchanged and a second
    instance (another Bolt app on the same database) keeps it rather than warning again; the
    database holds a hash of the warning, never the text."""
    baton = build(Settings(DATABASE_URL=str(engine.url)), org=org, engine=engine)
    other = slack_runtime(baton, clock, token=TOKEN, signing_secret=SECRET, api_url=slack.api.api_url,
                          idle=0.2)
    server, url = serve_in_thread(wsgi_app(other.bolt))
    try:
        second = SlackDriver(base_url=url, api=slack.api)
        tid = _raise(uow)
        slack.press("U0SMGR", ids.button("decline"), str(tid))
        wait(slack.api, lambda: slack.api.modal_stack("U0SMGR"))
        values = {"rationale": text_input("Heightened risk; ring the carer on 07700 900123"),
                  "reason_category": select("heightened_risk")}
        _, answer = slack.submit("U0SMGR", values)
        assert "looks like it holds a phone number" in answer["errors"]["rationale"]
        status, answer = second.submit("U0SMGR", values)
        assert status == 200 and "errors" not in answer, answer
        with uow() as u:
            assert services.load(u, transfer_id=tid).state.value == "declined"
        with engine.connect() as c:
            kept = [tuple(r) for r in c.execute(sa.text("SELECT * FROM freetext_warning"))]
        assert len(kept) == 1 and "07700" not in str(kept) and len(kept[0][0]) == 64
    finally:
        server.shutdown()
        server.server_close()
        other.stop()
