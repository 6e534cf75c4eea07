"""Every catalogue action through chat: signed button presses and form submissions against the
Web API stand-in, as a person allowed to take it and as one who is not; the chat and the domain
agree on both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from bot import actions, services
from bot.org import Org
from bot.ports import UnitOfWork
from bot.services import RaiseRequest
from handlers.slack import ids
from tests.conftest import NOW
from tests.e2e.platforms import ChatSide
from tests.e2e.slack import SlackDriver, checks, date_pick, select, text_input, user_select, wait

UoW = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class Case:
    """How to bring a transfer to where an action applies, who may take it, who may not."""

    raiser: str
    receiving_team: str
    allowed: str
    refused: str
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    kind: str = "permanent"
    ref: str = "X123456"
    heads_up: bool = False
    confirmed: tuple[tuple[str, str], ...] = ()
    point_date: date | None = None
    flags: tuple[str, ...] = ()
    before: tuple[tuple[str, str, dict[str, Any]], ...] = ()  # (user, action, values) first
    records: str = ""  # the timeline event, when not the action's own
    raised_days_ago: int = 0  # raised this long before the app's clock
    urgent_reason: str | None = None  # S2: requested before the PM's sign-off
    extra: dict[str, Any] = field(default_factory=dict)  # more of the raise form


Steps = tuple[tuple[str, str, dict[str, Any]], ...]
DECLINED: Steps = (("U0SMGR", "decline", {"rationale": "Victim lives on the same street",
                                   "reason_category": "heightened_risk"}),)
ACCEPTED: Steps = (("U0SMGR", "accept", {}),)
BURY_SIGN_OFF = tuple(("holding_manager_audit", i) for i in (
    "assessments_complete", "recording_up_to_date", "chronology_current", "lcs_activities_closed",
    "cypic_assessment"))
S2_WHY = "The ICPC is on Thursday; waiting for sign-off would leave the child unallocated."
CASES: dict[str, Case] = {
    "request": Case("U0RFSW1", "roch-cp-1", "U0RFSW1", "U0RCMGR", ref="101001", heads_up=True),
    "accept": Case("U0NPP1", "pdu-south", "U0SMGR", "U0SPP1", {"named_worker": user_select("U0SPP1")},
                   records="allocated"),
    "decline": Case("U0NPP1", "pdu-south", "U0SMGR", "U0NMGR",
                    {"reason_category": select("heightened_risk"),
                     "rationale": text_input("Victim lives on the same street")}),
    "request_work": Case("U0BAMGR", "bury-cin", "U0BCMGR", "U0BASW1",
                         {"items": text_input("Update the chronology")}, ref="201001",
                         confirmed=BURY_SIGN_OFF),
    "work_done": Case("U0BAMGR", "bury-cin", "U0BASW1", "U0BCMGR", ref="201002", confirmed=BURY_SIGN_OFF,
                      before=(("U0BCMGR", "request_work", {"items": ("Update the chronology",)}),)),
    "confirm": Case("U0LFSW1", "leics-cic", "U0LFMGR", "U0LCSW1",
                    {"items": checks("cic_transfer.assessment")}, kind="children_in_care", ref="301001"),
    "attendance": Case("U0RFSW1", "roch-cp-1", "U0RFMGR", "U0RFSW1", {"attended": select("no")},
                       ref="101002", point_date=date(2026, 11, 27), records="transfer_point_missed"),
    "allocate": Case("U0NPP1", "pdu-south", "U0SMGR", "U0SPP1", {"named_worker": user_select("U0SPP1")},
                     before=ACCEPTED),
    "complete": Case("U0NPP1", "pdu-south", "U0SMGR", "U0SPP1", before=ACCEPTED),
    "withdraw": Case("U0NPP1", "pdu-south", "U0NPP1", "U0SMGR",
                     {"reason": text_input("The move fell through")}),
    "dispute": Case("U0NPP1", "pdu-south", "U0NMGR", "U0NPP1",
                    {"reason": text_input("The risk can be managed at the address")}, before=DECLINED),
    "escalate": Case("U0LFSW1", "leics-cic", "U0LFMGR", "U0LFSW1",
                     {"reason": text_input("No agreement between us")}, ref="301002",
                     before=(("U0LCMGR", "decline", {"rationale": "Not ready to transfer yet at all"}),
                             ("U0LFMGR", "dispute", {"reason": "The child's plan needs this team now"}))),
    # at the first rung the team managers decide (ROCH "initially be managed between the
    # responsible PM and the PM the case is to transfer to"): a practitioner is refused
    "decide": Case("U0NPP1", "pdu-south", "U0SMGR", "U0NPP2",
                   {"outcome": select("transfer"), "rationale": text_input("The risk plan is sufficient")},
                   before=(*DECLINED, ("U0NMGR", "dispute", {"reason": "The risk can be managed there"}))),
    "record_delay": Case("U0NPP1", "pdu-south", "U0NPP1", "U0SMGR",
                         {"reason": text_input("Awaiting police checks"),
                          "actions": text_input("Chased the police twice")}),
    # Past its 20 working days, the transfer has reached senior management, who may now see it.
    "endorse": Case("U0NPP1", "pdu-south", "U0SMT1", "U0NMGR",
                    {"rationale": text_input("Complex case, agreed plan"),
                     "expected_by": date_pick("2030-01-31")}, raised_days_ago=40),
    "address_assessed": Case("U0NPP1", "pdu-south", "U0SMGR", "U0NPP1",
                             {"outcome": text_input("Visited: the address is suitable")},
                             flags=("receiving_area_home_visit",)),
    "convert": Case("U0NPP1", "pdu-south", "U0NMGR", "U0NPP1", kind="temporary",
                    extra={"move_date": date(2026, 11, 20), "move_end_date": date(2027, 1, 29)}),
    # ROCH, S2: capacity is no reason to decline; a team's manager raises it as a concern.
    "capacity_concern": Case("U0RFSW1", "roch-cp-1", "U0RCMGR", "U0RFSW1", ref="301003",
                             values={"concern": text_input("Three vacancies in CP1 this month")}),
    # S2: requested before the PM's sign-off because waiting would delay the child.
    "agree_without_sign_off": Case("U0SMSW1", "s2-fsp", "U0GRPMGR", "U0SFMGR", ref="4711",
                                   urgent_reason=S2_WHY),
    # ROCH: the Head of Service holding a capacity concern marks it dealt with.
    "capacity_resolved": Case("U0RFSW1", "roch-cp-1", "U0HOS", "U0RCMGR", ref="301004",
                              values={"note": text_input("Allocated across the service area this week")},
                              before=(("U0RCMGR", "capacity_concern",
                                       {"concern": "Three vacancies in CP1 this month"}),)),
    # BURY step 5: the holding manager agrees the date the receiving manager gave on Accept.
    "agree_date": Case("U0BAMGR", "bury-cin", "U0BAMGR", "U0BASW1", ref="201003", confirmed=BURY_SIGN_OFF,
                       before=(("U0BCMGR", "accept", {"named_worker": "U0BCSW1",
                                                      "agreed_date": date(2026, 12, 4)}),)),
}


def test_every_catalogue_action_has_a_chat_case() -> None:
    """The walk below covers the whole catalogue, so no step is left unreachable in chat."""
    assert set(CASES) == set(actions.BY_NAME)


def _prepare(uow: UoW, org: Org, c: Case) -> int:
    with uow() as u:
        t = services.raise_transfer(u, org, c.raiser, RaiseRequest(
            case_ref=c.ref, receiving_team=c.receiving_team, kind=c.kind, heads_up=c.heads_up,
            confirmed=c.confirmed, transfer_point="icpc" if c.point_date else None, flags=c.flags,
            transfer_point_date=c.point_date, urgent_reason=c.urgent_reason, **c.extra),
            NOW - timedelta(days=c.raised_days_ago))
    assert t.id is not None
    for user, name, values in c.before:
        with uow() as u:
            services.act(u, org, user, t.id, name, NOW, **values)
    return t.id


def _ephemerals(slack: SlackDriver, user: str) -> list[str]:
    return [c.params.get("text", "") for c in slack.api.calls_to("chat.postEphemeral")
            if c.params.get("user") == user]


@pytest.mark.parametrize("name", list(CASES))
def test_action_through_chat_for_allowed_and_refused_people(name: str, chat: ChatSide, uow: UoW) -> None:
    """On Slack and on Teams: the refused person pressing the button is told privately why and
    who can, and nothing changes; the allowed person gets the form, fills it in and the step is
    recorded; the domain's rule says the same of both."""
    c = CASES[name]
    a = actions.BY_NAME[name]
    org = chat.org
    tid = _prepare(uow, org, c)
    with uow() as u:
        t = services.load(u, transfer_id=tid)
        pack = org.pack_for(t.holding_team)
        refused = services.actor_for(u, org, t, c.refused, NOW.date())
        allowed = services.actor_for(u, org, t, c.allowed, NOW.date())
    assert isinstance(actions.refusal(a, t, refused, pack), actions.NotPermitted)
    assert actions.refusal(a, t, allowed, pack) is None
    events = len(t.timeline)

    chat.press(c.refused, name, tid)
    told = chat.told(c.refused)
    assert "Only " in told and "nothing has changed" in told
    assert chat.no_form(c.refused)

    chat.press(c.allowed, name, tid)
    assert chat.form_open(c.allowed, name)
    errors = chat.submit(c.allowed, c.values)
    assert not errors, errors
    with uow() as u:
        after = services.load(u, transfer_id=tid)
    assert len(after.timeline) > events
    assert after.timeline[-1].kind == (c.records or a.event)


def test_typed_action_opens_the_same_form(slack: SlackDriver, uow: UoW, org: Org) -> None:
    """`/transfer complete X123456` opens the Complete form for a person who may complete it."""
    _prepare(uow, org, CASES["complete"])
    slack.command("U0SMGR", "complete X123456")
    modal = wait(slack.api, lambda: slack.api.modal_stack("U0SMGR"))[-1]
    assert modal.callback_id == ids.form("complete")
    slack.submit("U0SMGR", {})
    with uow() as u:
        assert services.load(u, case_ref="X123456").state == "completed"


def test_typed_action_refused_says_why_privately(slack: SlackDriver, uow: UoW, org: Org) -> None:
    """`/transfer complete X123456` by the practitioner is refused privately, naming who can."""
    _prepare(uow, org, CASES["withdraw"])
    slack.command("U0NPP1", "complete X123456")
    answer = wait(slack.api, lambda: slack.api.responses)[0]
    assert answer.effect == "ephemeral"
    assert answer.payload["text"].startswith("Only the holding team's managers or the receiving team's")
    assert not slack.api.modal_stack("U0NPP1")


def test_stale_button_is_refused_and_the_card_redrawn(slack: SlackDriver, uow: UoW, org: Org) -> None:
    """Accept pressed on a card after the transfer was withdrawn: refused, and the card redrawn
    without the Accept button."""
    tid = _prepare(uow, org, CASES["accept"])
    dm = wait(slack.api, lambda: slack.api.messages("U0SMGR"))[0]
    with uow() as u:
        services.act(u, org, "U0NPP1", tid, "withdraw", NOW + timedelta(minutes=1),
                     reason="The move fell through")
    slack.press("U0SMGR", ids.ACCEPT, str(tid), message_ts=dm.ts)
    told = wait(slack.api, lambda: _ephemerals(slack, "U0SMGR"))
    assert "withdrawn" in told[0]
    redrawn = wait(slack.api, lambda: [m for m in slack.api.messages("U0SMGR")
                                       if m.ts == dm.ts and m.updated])[-1]
    assert ids.ACCEPT not in str(redrawn.blocks)


def test_text_shorter_than_the_minimum_is_refused_on_its_field(chat: ChatSide, uow: UoW) -> None:
    """On both platforms: a withdrawal reason of three letters is refused under that field;
    nothing changes."""
    tid = _prepare(uow, chat.org, CASES["withdraw"])
    chat.press("U0NPP1", "withdraw", tid)
    assert chat.form_open("U0NPP1", "withdraw")
    errors = chat.submit("U0NPP1", {"reason": text_input("moo")})
    assert "at least 10 characters" in errors["reason"]
    with uow() as u:
        assert services.load(u, transfer_id=tid).state == "requested"


def test_help_lists_every_action_from_the_catalogue(slack: SlackDriver) -> None:
    """/transfer help names the reader's own steps, /transfer help more every other step of a
    transfer and who may take it: together, the whole catalogue."""
    slack.command("U0NPP1", "help")  # one after the other: their answers come back in that order
    [first] = wait(slack.api, lambda: slack.api.responses[:1] if slack.api.responses else None)
    slack.command("U0NPP1", "help more")
    more = wait(slack.api, lambda: slack.api.responses[1] if len(slack.api.responses) >= 2 else None)
    text = str(first.payload.get("blocks")) + str(more.payload.get("blocks"))
    for a in actions.CATALOGUE:
        assert a.label in text
    decide = actions.action("decide")
    assert f"{decide.label}: {actions.who_can(decide)}" in str(more.payload.get("blocks"))


def test_s2_raise_form_reason_sends_the_request_to_the_group_manager_to_agree(
        chat: ChatSide, uow: UoW) -> None:
    """On both platforms. S2: "Transfers will not be requested prior to checklist being signed off
    by a Practice Manager (PM) where this may cause unnecessary delay for a child the Group Manager
    will be contacted." From the raise form, unsigned and without a reason the request is refused
    on the checklist; with the reason it goes, and the Group Manager's message offers Agree
    without sign-off."""
    base = {ids.CASE_REF: text_input("4711"), ids.RECEIVING_TEAM: select("s2-fsp"),
            ids.KIND: select("permanent")}
    errors = chat.raise_transfer("U0SMSW1", base)
    assert "Group Manager is asked to agree" in str(errors)
    errors = chat.raise_transfer("U0SMSW1", {**base, ids.URGENT_REASON: text_input(S2_WHY)})
    assert not errors, errors
    with uow() as u:
        assert services.load(u, case_ref="4711").state == "requested"
    gm = chat.delivered("U0GRPMGR", "Agree without sign-off")
    assert "4711" in gm and "unallocated" in gm
