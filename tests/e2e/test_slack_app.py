"""Baton in Slack, end to end: signed requests in, Web API calls out, the database in between."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import sqlalchemy as sa

from bot.domain import State
from handlers.slack import ids
from sandbox.slack_api import ResponseRecord
from store.repo import SqlUnitOfWork
from tests.e2e.conftest import texts
from tests.e2e.slack import (
    SlackDriver,
    checks,
    date_pick,
    select,
    text_input,
    user_select,
    wait,
)

PP, NMGR, SMGR, SPP, NBUDDY = "U0NPP1", "U0NMGR", "U0SMGR", "U0SPP1", "U0NMGR"
UoW = Callable[[], SqlUnitOfWork]


def raise_x123456(slack: SlackDriver, *, ref: str = "X123456") -> tuple[int, dict]:
    """North's practitioner opens the raise form and submits a transfer to South."""
    slack.command(PP, "new")
    wait(slack.api, lambda: slack.api.modal_stack(PP))
    return slack.submit(PP, {
        ids.CASE_REF: text_input(ref),
        ids.RECEIVING_TEAM: select("pdu-south"),
        ids.KIND: select("permanent"),
        ids.FLAGS: checks(),
    })


def open_transfer(uow: UoW, ref: str = "X123456"):  # type: ignore[no-untyped-def]
    """The open transfer for ``ref`` in the database."""
    with uow() as u:
        return u.transfers.get_open_by_case(ref)


def test_help_is_private_and_an_unknown_subcommand_answers_with_help(slack: SlackDriver) -> None:
    """/transfer help and /transfer frobnicate both answer privately with the subcommands."""
    slack.command(PP, "help")
    wait(slack.api, lambda: slack.api.responses)
    slack.command(PP, "frobnicate")
    wait(slack.api, lambda: len(slack.api.responses) >= 2)
    first, second = slack.api.responses[:2]
    assert first.effect == "ephemeral" and second.effect == "ephemeral"
    assert "/transfer new" in texts(first.payload.get("blocks"))  # the reader's own commands first
    assert "capacity-concern" not in texts(first.payload.get("blocks"))  # not their policy's step
    assert "frobnicate" in second.payload["text"]


def test_raise_form_submit_stores_the_transfer_and_tells_everyone(slack: SlackDriver, uow: UoW) -> None:
    """Submitting the form stores it; the receiving manager gets a DM with buttons, the
    channel a post, the requester a confirmation."""
    status, answer = raise_x123456(slack)
    assert status == 200 and "errors" not in answer
    t = open_transfer(uow)
    assert t is not None and t.state == State.requested and t.requested_by == PP
    api = slack.api
    dm = wait(api, lambda: api.messages(SMGR))
    [row] = [b for b in dm[0].blocks or [] if b["type"] == "actions"]
    assert [el["action_id"] for el in row["elements"]] == [ids.ACCEPT, ids.DECLINE, ids.MORE]
    assert [o["value"] for o in row["elements"][-1]["options"]] == [
        ids.more_value("request_work", t.id or 0), ids.more_value("dispute", t.id or 0)]
    assert "X123456" in texts(dm[0].blocks)
    assert wait(api, lambda: api.messages("C0SOUTH"))
    assert wait(api, lambda: api.messages(PP))


def test_an_overflow_option_opens_its_form_as_the_button_would(slack: SlackDriver, uow: UoW) -> None:
    """The receiving manager's card holds Ask for work in its overflow menu: choosing it sends
    block_actions with the option (``selected_option.value``) and a trigger_id, and the form
    opens just as the button's would; a garbled option opens nothing and says so."""
    raise_x123456(slack)
    api = slack.api
    dm = wait(api, lambda: api.messages(SMGR))[0]
    t = open_transfer(uow)
    menu = next(el for b in dm.blocks or [] if b["type"] == "actions" for el in b["elements"]
                if el["type"] == "overflow")
    option = next(o for o in menu["options"] if o["text"]["text"] == "Ask for work")
    status, _ = slack.press(SMGR, menu["action_id"], option["value"], message_ts=dm.ts,
                            element="overflow", text="Ask for work")
    assert status == 200
    modal = wait(api, lambda: api.modal_stack(SMGR))[-1]
    assert modal.callback_id == ids.WORK_VIEW and modal.payload["private_metadata"] == str(t.id)
    slack.press(SPP, ids.MORE, "nonsense:0", element="overflow")
    said = wait(api, lambda: [c.params.get("text", "") for c in api.calls_to("chat.postEphemeral")
                              if c.params.get("user") == SPP])
    assert "out of date" in said[-1] and not api.modal_stack(SPP)


def test_raise_form_errors_show_on_the_field_and_store_nothing(slack: SlackDriver, uow: UoW,
                                                               engine: sa.Engine) -> None:
    """A name instead of a CRN, the same team, a duplicate: each error comes back on its field."""
    slack.command(PP, "new")
    wait(slack.api, lambda: slack.api.modal_stack(PP))
    _, answer = slack.submit(PP, {ids.CASE_REF: text_input("John Smith"),
                                       ids.RECEIVING_TEAM: select("pdu-south"),
                                       ids.KIND: select("permanent")})
    assert answer["response_action"] == "errors"
    assert "contains spaces" in answer["errors"][ids.CASE_REF]
    assert "John" not in json.dumps(answer)
    _, answer = slack.submit(PP, {ids.CASE_REF: text_input("X123456"),
                                  ids.RECEIVING_TEAM: select("pdu-north"),
                                       ids.KIND: select("permanent")})
    assert "must differ" in answer["errors"][ids.RECEIVING_TEAM]
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM transfer")).scalar_one() == 0
    raise_x123456(slack)
    slack.command(PP, "new")
    wait(slack.api, lambda: slack.api.modal_stack(PP))
    _, answer = slack.submit(PP, {ids.CASE_REF: text_input("x123456"),
                                  ids.RECEIVING_TEAM: select("pdu-south"),
                                  ids.KIND: select("permanent")})
    assert "already has an open transfer" in answer["errors"][ids.CASE_REF]


def test_accept_names_the_worker_and_updates_the_dm_in_place(slack: SlackDriver, uow: UoW) -> None:
    """Accept opens a form; on submit the DM's buttons give way to the outcome and who decided."""
    raise_x123456(slack)
    api = slack.api
    dm = wait(api, lambda: api.messages(SMGR))[0]
    t = open_transfer(uow)
    slack.press(SMGR, ids.ACCEPT, str(t.id))
    modal = wait(api, lambda: api.modal_stack(SMGR))[-1]
    assert modal.callback_id == ids.ACCEPT_VIEW
    slack.submit(SMGR, {ids.NAMED_WORKER: user_select(SPP), ids.AGREED_DATE: date_pick("2026-12-01")})
    updated = wait(api, lambda: [m for m in api.messages(SMGR) if m.ts == dm.ts and m.updated])[0]
    buttons = [el["action_id"] for b in updated.blocks or [] if b["type"] == "actions"
               for el in b["elements"]]
    assert ids.ACCEPT not in buttons and ids.DECLINE not in buttons  # decided: no decision buttons
    assert buttons[0] == ids.button("complete")  # the next step is offered in the same message
    assert f"Accepted by <@{SMGR}>" in texts(updated.blocks)
    t = open_transfer(uow)
    assert t.state == State.allocated and t.named_worker == SPP


def test_decline_without_a_rationale_is_refused_on_the_field(slack: SlackDriver, uow: UoW) -> None:
    """Decline needs a rationale and, for probation, a reason; with them the decline is stored."""
    raise_x123456(slack)
    t = open_transfer(uow)
    slack.press(SMGR, ids.DECLINE, str(t.id))
    wait(slack.api, lambda: slack.api.modal_stack(SMGR))
    _, answer = slack.submit(SMGR, {ids.DECLINE_REASON: select("heightened_risk"),
                                    ids.RATIONALE: text_input("  ")})
    assert answer["response_action"] == "errors"
    assert "rationale" in answer["errors"][ids.RATIONALE]
    _, answer = slack.submit(SMGR, {ids.DECLINE_REASON: select(None),
                                    ids.RATIONALE: text_input("Victim nearby")})
    assert "presumption of acceptance" in answer["errors"][ids.DECLINE_REASON]
    assert open_transfer(uow).state == State.requested
    _, answer = slack.submit(SMGR, {ids.RATIONALE: text_input("Victim lives on the same street"),
                                    ids.DECLINE_REASON: select("heightened_risk")})
    assert "errors" not in answer
    with uow() as u:
        declined = u.transfers.latest_by_case("X123456")
    assert declined is not None
    assert declined.state == State.declined
    assert declined.timeline[-1].reason == "Victim lives on the same street"


def test_only_receiving_managers_may_press_accept(slack: SlackDriver, uow: UoW) -> None:
    """The receiving practitioner pressing Accept is told why, privately; nothing changes."""
    raise_x123456(slack)
    t = open_transfer(uow)
    slack.press(SPP, ids.ACCEPT, str(t.id))
    eph = wait(slack.api, lambda: slack.api.calls_to("chat.postEphemeral"))
    assert "Only the receiving team's managers" in eph[0].params["text"]
    assert not slack.api.modal_stack(SPP)
    assert open_transfer(uow).state == State.requested


def test_ask_for_work_records_items_due_in_ten_working_days(slack: SlackDriver, uow: UoW) -> None:
    """Ask for work lists the items; the transfer keeps its state and owes the work."""
    raise_x123456(slack)
    t = open_transfer(uow)
    slack.press(SMGR, ids.ASK_WORK, str(t.id))
    wait(slack.api, lambda: slack.api.modal_stack(SMGR))
    slack.submit(SMGR, {ids.WORK_ITEMS: text_input("Update OASys\nChronology")})
    t = open_transfer(uow)
    assert t.state == State.requested and t.work_items == ("Update OASys", "Chronology")
    assert t.work_due.isoformat() == "2026-12-07"


def test_heads_up_reaches_the_buddy_manager(slack: SlackDriver, uow: UoW) -> None:
    """Rochdale: a heads up from First Response reaches Child Protection's manager by DM."""
    slack.command("U0RFSW1", "headsup")
    wait(slack.api, lambda: slack.api.modal_stack("U0RFSW1"))
    _, answer = slack.submit("U0RFSW1", {ids.CASE_REF: text_input("104242"),
                                         ids.RECEIVING_TEAM: select("roch-cp-1"),
                                         ids.KIND: select("permanent")})
    assert "errors" not in answer
    t = open_transfer(uow, "104242")
    assert t.state == State.heads_up
    dm = wait(slack.api, lambda: slack.api.messages("U0RCMGR"))
    assert "104242" in texts(dm[0].blocks)


def test_headsup_is_refused_where_the_policy_has_none(slack: SlackDriver) -> None:
    """Probation has no early heads up: the user is told privately, no form opens."""
    slack.command(PP, "headsup")
    wait(slack.api, lambda: slack.api.responses)
    assert "no early heads up" in slack.api.responses[0].payload["text"]
    assert not slack.api.modal_stack(PP)


def test_cover_lets_a_colleague_accept_while_the_manager_is_away(slack: SlackDriver, uow: UoW) -> None:
    """/transfer cover names a colleague; their Accept then opens the form."""
    slack.command(SMGR, f"cover <@{SPP}|someone> until 2026-12-04")
    wait(slack.api, lambda: slack.api.responses)
    assert "covers your transfers until 04 Dec 2026" in slack.api.responses[0].payload["text"]
    raise_x123456(slack)
    t = open_transfer(uow)
    slack.press(SPP, ids.ACCEPT, str(t.id))
    assert wait(slack.api, lambda: slack.api.modal_stack(SPP))


def test_cover_takes_the_colleague_as_people_type_them(slack: SlackDriver, uow: UoW) -> None:
    """`/transfer cover @U0SPP1 until ...` (typed, not picked from Slack's list) names the
    colleague just as the escaped mention does."""
    slack.command(SMGR, f"cover @{SPP.lower()} until 2026-12-04")
    wait(slack.api, lambda: slack.api.responses)
    assert slack.api.responses[0].payload["text"] == f"<@{SPP}> covers your transfers until 04 Dec 2026."


def test_a_bury_social_worker_is_told_before_the_form_opens_that_only_the_team_manager_raises(
        slack: SlackDriver) -> None:
    """BURY step 2: the Holding Team Manager audits the case before it goes on the transfer list,
    so `/transfer new` from a social worker says so privately and opens no form."""
    slack.command("U0BASW1", "new")
    wait(slack.api, lambda: slack.api.responses)
    assert "Team Manager can raise" in slack.api.responses[0].payload["text"]
    assert not slack.api.modal_stack("U0BASW1")


def test_status_and_history_answer_privately_and_escape_user_text(slack: SlackDriver, uow: UoW) -> None:
    """A rationale with <!channel> and <@U123> is shown escaped, so it pings no one."""
    raise_x123456(slack)
    t = open_transfer(uow)
    slack.press(SMGR, ids.DECLINE, str(t.id))
    wait(slack.api, lambda: slack.api.modal_stack(SMGR))
    slack.submit(SMGR, {ids.RATIONALE: text_input("<!channel> ask <@U123> & co"),
                        ids.DECLINE_REASON: select("heightened_risk")})
    answers: list[ResponseRecord] = []
    for text in ("history X123456", "status x123456", "status Z999999"):
        slack.command(PP, text)
        wait(slack.api, lambda n=len(answers): len(slack.api.responses) > n)  # type: ignore[misc]
        answers.append(slack.api.responses[len(answers)])
    history, status, unknown = answers
    body = texts(history.payload.get("blocks"))
    assert "&lt;!channel&gt; ask &lt;@U123&gt; &amp; co" in body
    assert "<!channel>" not in json.dumps(history.payload)
    assert "X123456" in texts(status.payload.get("blocks"))
    assert "Z999999" in unknown.payload["text"]


def test_list_shows_my_open_transfers(slack: SlackDriver) -> None:
    """/transfer list mine shows the case I raised, with its deadline."""
    raise_x123456(slack)
    slack.command(PP, "list mine")
    wait(slack.api, lambda: slack.api.responses)
    assert "X123456" in texts(slack.api.responses[-1].payload.get("blocks"))


def test_app_home_shows_what_the_manager_is_receiving_with_buttons(slack: SlackDriver) -> None:
    """Opening App Home publishes inbound transfers with Accept/Decline buttons."""
    raise_x123456(slack)
    slack.event({"type": "app_home_opened", "user": SMGR, "tab": "home"}, "Ev1")
    home = wait(slack.api, lambda: slack.api.home_view(SMGR))
    assert "X123456" in texts(home.blocks)
    assert ids.ACCEPT in json.dumps(home.blocks)


def test_a_repeated_event_delivery_is_processed_once(slack: SlackDriver) -> None:
    """Slack's retry of the same event_id is acknowledged but not handled again."""
    slack.event({"type": "app_home_opened", "user": SMGR, "tab": "home"}, "Ev2")
    wait(slack.api, lambda: slack.api.calls_to("views.publish"))
    status, _ = slack.event({"type": "app_home_opened", "user": SMGR, "tab": "home"}, "Ev2", retry=1)
    assert status == 200
    slack.command(PP, "help")  # a later request, to be sure the retry had its chance
    wait(slack.api, lambda: slack.api.responses)
    assert len(slack.api.calls_to("views.publish")) == 1


def test_bad_or_stale_signatures_are_refused_and_change_nothing(slack: SlackDriver,
                                                                engine: sa.Engine) -> None:
    """A forged signature or a 10-minute-old timestamp gets 401; no transfer, no Web API call."""
    assert slack.post("command=/transfer&text=help", signature="v0=deadbeef")[0] == 401
    assert slack.post("command=/transfer&text=help", timestamp=int(time.time()) - 600)[0] == 401
    assert slack.api.calls_to("chat.postMessage") == []
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM transfer")).scalar_one() == 0


def test_healthz_answers_for_load_balancers(slack: SlackDriver) -> None:
    """GET /healthz is 200 ok without a signature."""
    import urllib.request

    with urllib.request.urlopen(slack.base_url + "/healthz") as resp:
        assert resp.status == 200 and resp.read() == b"ok\n"


def test_a_manager_away_with_no_cover_sends_new_requests_one_level_up(slack: SlackDriver) -> None:
    """South's manager is away with nobody covering: the request DM goes to senior management."""
    slack.command(SMGR, "cover nobody until 2026-12-04")
    wait(slack.api, lambda: slack.api.responses)
    assert "one level up" in slack.api.responses[0].payload["text"]
    raise_x123456(slack)
    dm = wait(slack.api, lambda: slack.api.messages("U0SMT1"))
    assert "X123456" in texts(dm[0].blocks)
    assert slack.api.messages(SMGR) == []
