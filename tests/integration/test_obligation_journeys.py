"""Issue 19: every open transfer owned. Each case of the issue, through the one obligation model
(bot/obligations.py), on the real store: who must do what by when, who is told, and what their
cards say. Each quotes the seed it follows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa

from bot import obligations, services, views
from bot.domain import UK_TIME, local_date
from bot.org import Org
from bot.services import RaiseRequest
from bot.states import State
from scheduler.delivery import Delivery
from scheduler.sweep import redraw_day, sweep
from store.repo import SqlUnitOfWork
from tests.fakes import FakeChat

UoW = Callable[[], SqlUnitOfWork]
TEXT = "Agreed after talking it through with both teams"


def at(day: date, hour: int = 10) -> datetime:
    """``day`` at ``hour`` o'clock, UK time."""
    return datetime.combine(day, time(hour), tzinfo=UK_TIME)


MON = at(date(2026, 11, 23))  # Mon 23 Nov 2026: probation day 20 is Mon 21 Dec


def _raise(uow: UoW, org: Org, user: str, receiving: str, ref: str, now: datetime = MON,
           **kw: Any) -> int:
    with uow() as u:
        t = services.raise_transfer(u, org, user, RaiseRequest(case_ref=ref, receiving_team=receiving,
                                                               **kw), now)
    assert t.id is not None
    return t.id


def _act(uow: UoW, org: Org, user: str, tid: int, action: str, now: datetime, **kw: Any) -> None:
    with uow() as u:
        services.act(u, org, user, tid, action, now, **kw)


def _card(uow: UoW, org: Org, tid: int, user: str, now: datetime) -> views.Card:
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None
        return services.card_for(u, org, t, user, now)


def _owed(uow: UoW, org: Org, tid: int, now: datetime) -> list[obligations.Obligation]:
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None
        return obligations.current(t, org.pack_for(t.holding_team), org, services.calendar(org),
                                   local_date(now), services.transfer_deadlines(org, t))


def _deadline(card: views.Card) -> str:
    return "".join(str(p) for p in dict(card.fields)["Next deadline"])


def _buttons(card: views.Card) -> list[str]:
    return [b.action for b in card.buttons]


def _told(chat: FakeChat, user: str) -> list[views.Card]:
    return [m for ch, m in chat.posts if ch == user and isinstance(m, views.Card)]


def test_probation_decided_goes_ahead_still_runs_the_20_days_from_the_request(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """FAQ: "The next working day following the request for transfer is day 1 ... case transfers
    to be completed within 20 working days". Declined, disputed and decided "the transfer goes
    ahead", the clock from the request still runs: 24 working days on, the card is overdue, the
    case is on the overdue list and the breach is swept."""
    tid = _raise(uow, org, "U0NPP1", "pdu-south", "X100001")
    _act(uow, org, "U0SMGR", tid, "decline", at(date(2026, 11, 24)), reason_category="heightened_risk",
         rationale="The proposed address is next to the victim's school.")
    _act(uow, org, "U0NMGR", tid, "dispute", at(date(2026, 11, 25)), reason=TEXT)
    _act(uow, org, "U0NMGR", tid, "escalate", at(date(2026, 11, 26)), reason=TEXT)
    _act(uow, org, "U0SMT1", tid, "decide", at(date(2026, 11, 27)), outcome="transfer",
         rationale=TEXT)
    later = at(date(2026, 12, 29))  # working day 24 (Christmas and Boxing Day are not)
    card = _card(uow, org, tid, "U0SMGR", later)
    assert _deadline(card).startswith("Transfer to be completed by Mon 21 Dec 2026 (overdue by")
    assert card.rag == "red" and "No deadline" not in _deadline(card)
    assert card.status[0] == "Dispute decided: the transfer goes ahead, by "  # not "Accepted by"
    with uow() as u:
        assert [r.case_ref for r in services.list_transfers(u, today=later.date(), overdue=True)] == [
            "X100001"]
    assert any("Missed: Transfer to be completed by" in x for x in sweep(engine, org, later).lines)


def test_rochdale_request_without_a_pick_up_point_has_a_date_to_agree_it_by(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """ROCH: "Agreed pro-active pick up point": the seed gives the point, not a timescale to
    agree it. Raised without one, the receiving team is asked to decide (or agree a date) within
    the pack's agree_within_working_days, so the card has a date, not "No deadline running"."""
    tid = _raise(uow, org, "U0RFSW1", "roch-cp-1", "300001")
    card = _card(uow, org, tid, "U0RCMGR", MON)
    assert _deadline(card).startswith("To be done or a date agreed by Mon 07 Dec 2026 (10 working "
                                      "days left)")
    assert card.todo.startswith("Rochdale CP 1") or "decide on 300001" in card.todo
    assert "accept" in _buttons(card)


def test_bury_request_waits_on_a_date_until_work_is_asked_or_a_date_agreed(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """BURY step 2: the case goes to the fortnightly transfer meeting; the seed gives the receiving
    team no timescale, so Baton's own date (10 working days: a fortnight) stands until a transfer
    date is agreed on Accept, whose clock then runs ("all cases will be transferred on the agreed
    transfer date as agreed by Team Managers")."""
    gate = org.pack_for("bury-assessment").gating("request")[0]
    tid = _raise(uow, org, "U0BAMGR", "bury-cin", "300002",
                 confirmed=tuple((gate.id, i.id) for i in gate.items_for("permanent")))
    [o] = _owed(uow, org, tid, MON)
    assert (o.action, o.deadline.clock, o.due_on) == ("accept", "agree_by", date(2026, 12, 7))
    _act(uow, org, "U0BCMGR", tid, "accept", at(date(2026, 11, 25)), agreed_date=date(2026, 12, 14))
    [o] = _owed(uow, org, tid, at(date(2026, 11, 25)))
    assert (o.action, o.deadline.clock, o.due_on) == ("allocate", "agreed_transfer_date",
                                                       date(2026, 12, 14))


def test_s2_request_after_the_group_manager_agrees_has_a_date_and_the_pm_is_told(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """S2: "Transfers will not be requested prior to checklist being signed off by a Practice
    Manager (PM) where this may cause unnecessary delay for a child the Group Manager will be
    contacted". The Group Manager is asked (with a date); once they agree, the receiving team owes
    a decision by a date, and the Practice Manager whose sign-off it went around is told."""
    tid = _raise(uow, org, "U0SMSW1", "s2-fsp", "300003",
                 urgent_reason="Waiting would delay the child's plan by weeks")
    [o] = _owed(uow, org, tid, MON)
    assert (o.action, o.due_on) == ("agree_without_sign_off", date(2026, 12, 7))
    assert "agree_without_sign_off" in _buttons(_card(uow, org, tid, "U0GRPMGR", MON))
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(MON)
    _act(uow, org, "U0GRPMGR", tid, "agree_without_sign_off", at(date(2026, 11, 24)))
    delivery.deliver(at(date(2026, 11, 24)))
    [o] = _owed(uow, org, tid, at(date(2026, 11, 24)))
    assert (o.action, o.due_on) == ("accept", date(2026, 12, 8))
    assert any("goes before your sign-off" in c.headline[0] for c in _told(chat, "U0SMMGR"))


def test_a_decline_can_be_disputed_within_its_window_and_then_nothing_is_offered(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """After a decline the holding managers may dispute it (probation FAQ: "ensure the decision
    and rationale is fully recorded"; the framework's escalation): the card says until when, not
    "None (closed)", and once the window closes nobody is offered anything."""
    tid = _raise(uow, org, "U0NPP1", "pdu-south", "X100002")
    _act(uow, org, "U0SMGR", tid, "decline", MON, reason_category="heightened_risk",
         rationale="The proposed address is next to the victim's school.")
    card = _card(uow, org, tid, "U0NMGR", MON)
    assert _deadline(card) == ("The holding team may dispute the decline until Mon 07 Dec 2026 "
                               "(10 working days left)")
    assert "None" not in card.todo + _deadline(card) and _buttons(card) == ["dispute"]
    after = at(date(2026, 12, 8))
    assert _buttons(_card(uow, org, tid, "U0NMGR", after)) == []
    assert _owed(uow, org, tid, after) == []


def test_an_imported_accepted_leicestershire_transfer_has_a_date(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """LEICS sets no timescale after acceptance (its clocks are the dispute's 5 working days and
    Children in Care's 10): an imported accepted row owes completion by Baton's own date."""
    text = ("case_ref,holding_team,receiving_team,requested_on,kind,state\n"
            "300004,leics-frcd,leics-cic,2026-11-02,permanent,accepted\n")
    with uow() as u:
        assert services.import_csv(u, org, text, MON).imported == 1
        t = u.transfers.get_open_by_case("300004")
        assert t is not None and t.id is not None
        tid = t.id
    o, gate = _owed(uow, org, tid, MON)
    assert (o.action, o.due_on) == ("allocate", date(2026, 12, 7))
    # LEICS "Any transfer of work ... will require": the holding manager confirms it first
    assert (gate.action, gate.due_on, gate.who) == ("confirm", date(2026, 12, 7),
                                                    "First Response Children's Duty")
    assert "No deadline" not in _deadline(_card(uow, org, tid, "U0LCMGR", MON))


def test_leicestershire_holding_manager_is_told_to_confirm_the_cic_checklist_and_accept_waits(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """LEICS: the Transfer checklist for LAC, "each line confirmed by a manager with a date",
    gates acceptance and only the holding manager confirms it: they are told with a card holding
    Confirm checklist; the receiving manager is offered no Accept until it is confirmed."""
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    tid = _raise(uow, org, "U0LFSW1", "leics-cic", "300005", kind="children_in_care")
    delivery.deliver(MON)
    told = _told(chat, "U0LFMGR")
    assert told and "confirm" in _buttons(told[-1])
    recv = _card(uow, org, tid, "U0LCMGR", MON)
    assert "accept" not in _buttons(recv) and "decline" in _buttons(recv)
    pack = org.pack_for("leics-frcd")
    cl = pack.gating("accept", "children_in_care")[0]
    for it in cl.items_for("children_in_care"):
        _act(uow, org, "U0LFMGR", tid, "confirm", MON, checklist=cl.id, item=it.id)
    assert "accept" in _buttons(_card(uow, org, tid, "U0LCMGR", MON))


def test_rochdale_holding_manager_is_told_after_a_missed_pick_up_point(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """ROCH: "Should there be non-attendance without prior agreement from the receiving team at
    the agreed pro-active pick up point then the holding PM will transfer the case electronically
    into the receiving PM": the holding manager is told, with Complete transfer, due the next
    working day."""
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    tid = _raise(uow, org, "U0RFSW1", "roch-cp-1", "300006", transfer_point="icpc",
                 transfer_point_date=date(2026, 11, 30))
    delivery.deliver(MON)
    point = at(date(2026, 11, 30), 15)
    _act(uow, org, "U0RFMGR", tid, "attendance", point, attended=False, agreed_absence=False)
    delivery.deliver(point)
    [o] = _owed(uow, org, tid, point)
    assert (o.action, o.due_on) == ("complete", date(2026, 12, 1))
    assert "complete" in _buttons(_card(uow, org, tid, "U0RFMGR", point))


def test_a_dispute_tells_the_other_sides_manager_who_may_decide_at_the_first_rung(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """ROCH: "In event of any disagreements for case transfer this will initially be managed
    between the responsible PM and the PM the case is to transfer to": when one manager raises
    a dispute the other is told, and both hold Decide the dispute."""
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    tid = _raise(uow, org, "U0RFSW1", "roch-cp-1", "300007")
    _act(uow, org, "U0RCMGR", tid, "dispute", at(date(2026, 11, 24)), reason=TEXT)
    delivery.deliver(at(date(2026, 11, 24)))
    assert any("decide" in _buttons(c) for c in _told(chat, "U0RFMGR"))
    for manager in ("U0RFMGR", "U0RCMGR"):
        assert "decide" in _buttons(_card(uow, org, tid, manager, at(date(2026, 11, 24))))


def test_leicestershire_escalation_before_the_due_date_never_says_overdue_by_minus(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """LEICS: "All disputes will be resolved within 5 Working Days": the Service Manager hears on
    day 3, two working days before it is due, and the line says so."""
    tid = _raise(uow, org, "U0LFSW1", "leics-cic", "300008")
    _act(uow, org, "U0LCMGR", tid, "dispute", MON, reason=TEXT)
    lines = sweep(engine, org, at(date(2026, 11, 26))).lines
    esc = [x for x in lines if "Escalated to Service Manager" in x]
    assert esc and all("2 working days left" in x and "overdue by -" not in x for x in esc)


def test_at_the_breach_the_late_receiving_team_stays_in_to_do(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """FAQ: "Where this cannot be achieved, the reasons for the delay and actions being undertaken
    to progress must be fully recorded": at the breach the holding team's delay reason is added
    to To do, and the receiving team that has not decided stays in it."""
    tid = _raise(uow, org, "U0NPP1", "pdu-south", "X100003")
    todo = _card(uow, org, tid, "U0NPP1", at(date(2026, 12, 22))).todo
    assert todo.startswith("South PDU: decide on X100003")
    assert "North PDU: record the reason for delay on X100003" in todo


def test_every_open_card_is_redrawn_once_at_the_start_of_each_working_day(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """A card is true on the day it is read: at 09:00 each working day every posted card of a
    transfer still owing something is redrawn ("1 working day left" becomes "due today"), once,
    however often the sweep runs."""
    _raise(uow, org, "U0NPP1", "pdu-south", "X100004")
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(MON)
    assert redraw_day(engine, org, at(date(2026, 11, 24), 8)) == 0  # before working hours
    assert redraw_day(engine, org, at(date(2026, 11, 28), 10)) == 0  # a Saturday
    assert redraw_day(engine, org, at(date(2026, 11, 24), 9)) > 0
    assert redraw_day(engine, org, at(date(2026, 11, 24), 11)) == 0
    delivery.deliver(at(date(2026, 11, 24), 9))
    redrawn = [m for _, _, m in chat.updates if isinstance(m, views.Card)]
    assert redrawn and all("As of Tue 24 Nov 2026" in "".join(map(str, c.status)) for c in redrawn)


def test_a_decider_keeps_a_readable_card_of_what_they_decided(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """The senior manager who decided a dispute still sees the transfer (no "No transfer you can
    see matches that button or form."), without a live Decide."""
    tid = _raise(uow, org, "U0NPP1", "pdu-south", "X100005")
    _act(uow, org, "U0SMGR", tid, "dispute", at(date(2026, 11, 24)), reason=TEXT)
    _act(uow, org, "U0NMGR", tid, "escalate", at(date(2026, 11, 24)), reason=TEXT)
    _act(uow, org, "U0SMT1", tid, "decide", at(date(2026, 11, 25)), outcome="transfer",
         rationale=TEXT)
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None and t.state == State.accepted
        card = services.message_card(u, org, t, "U0SMT1", at(date(2026, 11, 25)))
    assert card is not None and "decide" not in _buttons(card)


def test_both_platforms_show_the_obligation_and_its_colour(engine: sa.Engine, org: Org,
                                                           uow: UoW) -> None:
    """Slack's blocks and Teams' Adaptive Card carry the same To do line (for the receiving
    manager, what they must do and by when) and the deadline's colour in words (FAQ: "completed
    within 20 working days")."""
    import json

    from handlers.slack import blocks
    from handlers.teams import cards

    tid = _raise(uow, org, "U0NPP1", "pdu-south", "X100006")
    card = _card(uow, org, tid, "U0SMGR", at(date(2026, 12, 18)))
    slack = json.dumps(blocks.card_blocks(card))
    teams = json.dumps(cards.transfer_card(card, org).model_dump(mode="json", exclude_none=True))
    for text in (slack, teams):
        assert "To do:" in text and "Decide on X100006 (accept or decline) by Mon 21 Dec 2026." in text
        assert "Due soon: Transfer to be completed by Mon 21 Dec 2026 (day 19 of 20)" in text


def test_found_by_exploration_no_escalate_at_the_top_of_the_ladder(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """Exploration finding 1 (11 steps): a Leicestershire dispute the sweep climbed to the Head of
    Service ("All disputes will be resolved within 5 Working Days") offered the Service Manager
    Escalate, refused when pressed. At the top only Decide is offered."""
    tid = _raise(uow, org, "U0LFSW1", "leics-cic", "300009")
    _act(uow, org, "U0LCMGR", tid, "dispute", MON, reason=TEXT)
    sweep(engine, org, at(date(2026, 12, 1)))  # working day 5: the Head of Service
    for who in ("U0SVCMGR", "U0HOS", "U0LFMGR"):
        assert "escalate" not in _buttons(_card(uow, org, tid, who, at(date(2026, 12, 1))))
    assert "decide" in _buttons(_card(uow, org, tid, "U0HOS", at(date(2026, 12, 1))))


def test_a_reminder_names_the_step_and_offers_its_button_to_whoever_owes_it(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """FAQ: "case transfers to be completed within 20 working days": the 5-day reminder tells the
    receiving manager what they owe (decide) and holds Accept and Decline; the practitioner, who
    owes nothing yet, gets the line without them."""
    _raise(uow, org, "U0NPP1", "pdu-south", "X100007")
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(MON)
    sweep(engine, org, at(date(2026, 12, 14)))
    delivery.deliver(at(date(2026, 12, 14)))
    digests = {to: m for to, m in chat.posts if isinstance(m, views.Digest)}
    [item] = digests["U0SMGR"].items
    assert item.text.startswith("South PDU: decide on X100007 (accept or decline). Transfer to be "
                                "completed by Mon 21 Dec 2026 (5 working days left).")
    assert [b.action for b in item.buttons] == ["accept", "decline"]
    assert [b.action for b in digests["U0NPP1"].items[0].buttons] == []


def test_probation_decided_remain_closes_the_transfer_and_both_sides_are_told(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """FAQ: "Permission to move ... should be given unless the move would bring with it specific
    and heightened risks ... ensure the decision and rationale is fully recorded". Declined,
    disputed and decided the other way ("the case remains"): nothing is owed any more, nobody is
    offered a step, and both sides (the holding practitioner and manager, the manager who declined)
    are told the dispute is decided."""
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    tid = _raise(uow, org, "U0NPP1", "pdu-south", "X100012")
    _act(uow, org, "U0SMGR", tid, "decline", at(date(2026, 11, 24)), reason_category="heightened_risk",
         rationale="The proposed address is next to the victim's school.")
    _act(uow, org, "U0NMGR", tid, "dispute", at(date(2026, 11, 25)), reason=TEXT)
    [o] = _owed(uow, org, tid, at(date(2026, 11, 25)))
    assert (o.action, o.who) == ("decide", "Senior Probation Officer (SPO) (North PDU and South PDU)")
    assert [p.label for p in o.parties] == ["North PDU", "South PDU"]
    _act(uow, org, "U0NMGR", tid, "escalate", at(date(2026, 11, 26)), reason=TEXT)
    delivery.deliver(at(date(2026, 11, 26)))
    chat.posts.clear()
    chat.replies.clear()
    decided = at(date(2026, 11, 27))
    _act(uow, org, "U0SMT1", tid, "decide", decided, outcome="remain", rationale=TEXT)
    delivery.deliver(decided)
    assert _owed(uow, org, tid, decided) == []
    for user in ("U0NPP1", "U0NMGR", "U0SMGR", "U0SMT1"):
        assert _buttons(_card(uow, org, tid, user, decided)) == []
    # told: a first card, or (holding the case's card already) a line in its thread
    told = ({ch for ch, m in chat.posts if isinstance(m, views.Card)}
            | {ch.removeprefix("D") for ch, _ts, text, _ in chat.replies if "decided" in text})
    assert told >= {"U0NPP1", "U0NMGR"}
    assert "U0SMGR" in told  # who declined hears too
