"""Every surface says what the obligation model says (issue 19's follow-ups), on the real store:
who is told when a dispute opens in each pack, and a senior manager's App Home listing each
transfer once. Each quotes the seed that decides it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

import pytest
import sqlalchemy as sa

from bot import home, obligations, services, views
from bot.domain import UK_TIME, local_date
from bot.org import Org
from bot.services import RaiseRequest
from scheduler.delivery import Delivery
from store.repo import SqlUnitOfWork
from tests.fakes import FakeChat

UoW = Callable[[], SqlUnitOfWork]
TEXT = "Agreed after talking it through with both teams"
MON = datetime.combine(date(2026, 11, 23), time(10), tzinfo=UK_TIME)
TUE = datetime.combine(date(2026, 11, 24), time(10), tzinfo=UK_TIME)

# pack: (holding team, receiving team, case ref, the seed's words on who settles a dispute first)
DISPUTES = {
    "probation": ("pdu-north", "pdu-south", "X300101",
                  "The framework outlines the circumstances in which this should be escalated to "
                  "Senior Managers"),
    "rochdale": ("roch-frt-1", "roch-cp-1", "300102",
                 "In event of any disagreements for case transfer this will initially be managed "
                 "between the responsible PM and the PM the case is to transfer to. Should the "
                 "disagreement not be resolved then it will be escalated to the respective HOS."),
    "bury": ("bury-assessment", "bury-cin", "300103",
             "Team Managers have the responsibility to seek speedy resolution of any disputes If "
             "disputes cannot be resolved then the relevant Strategic Lead should be informed"),
    "leicestershire": ("leics-frcd", "leics-cic", "300104",
                       "If Team Managers are unable to resolve any dispute, then this should be "
                       "escalated to the respective Service Managers for resolution."),
    "council-s2": ("s2-mash", "s2-fsp", "300105",
                   "The above transfer points and principles need to be applied by all Practice "
                   "Managers and Group managers"),
}


def _raise(uow: UoW, org: Org, holding: str, receiving: str, ref: str) -> int:
    pack = org.pack_for(holding)
    confirmed = tuple((cl.id, it.id) for cl in pack.gating("request", "permanent")
                      for it in cl.items_for("permanent"))
    with uow() as u:
        t = services.raise_transfer(u, org, org.team(holding).managers[0], RaiseRequest(
            case_ref=ref, receiving_team=receiving, holding_team=holding, confirmed=confirmed), MON)
    assert t.id is not None
    return t.id


def _cards(chat: FakeChat, to: str) -> list[views.Card]:
    return [m for ch, m in chat.posts if ch == to and isinstance(m, views.Card)]


def _told(chat: FakeChat, to: str) -> tuple[list[str], views.Card | None]:
    """What ``to`` was told (a new card's headline, or a line in the thread of the card they
    hold) and their card as last drawn."""
    lines = [" ".join(c.headline) for c in _cards(chat, to)]
    lines += [text for ch, _ts, text, _ in chat.replies if ch == f"D{to}"]
    drawn = [*_cards(chat, to), *[m for ch, _ts, m in chat.updates
                                  if ch == f"D{to}" and isinstance(m, views.Card)]]
    return lines, (drawn[-1] if drawn else None)


@pytest.mark.parametrize("pack_name", sorted(DISPUTES))
def test_a_dispute_opens_with_both_team_managers_told_and_holding_decide_and_nobody_above(
        pack_name: str, engine: sa.Engine, org: Org, uow: UoW) -> None:
    """Each pack's first rung is its team managers (the seed below): when the receiving manager
    raises a dispute, the holding manager is told with a card holding Decide the dispute, the To
    do names the first rung, and the level above hears nothing and may not decide until it is
    escalated to them."""
    holding, receiving, ref, seed = DISPUTES[pack_name]
    assert seed  # the seed's words, quoted above
    pack = org.pack_for(holding)
    first, above = pack.escalation.levels[0], pack.escalation.levels[1]
    tid = _raise(uow, org, holding, receiving, ref)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(MON)
    chat.posts.clear()
    chat.updates.clear()
    rmgr, hmgr = org.team(receiving).managers[0], org.team(holding).managers[0]
    with uow() as u:
        services.act(u, org, rmgr, tid, "dispute", TUE, reason=TEXT)
    delivery.deliver(TUE)
    lines, card = _told(chat, hmgr)
    assert any("decide it together" in line for line in lines)
    assert card is not None and "decide" in [b.action for b in card.buttons]
    seniors = {x for team in (holding, receiving) for c in [org.contact(team, above.name)] if c
               for x in c.users}
    reached = {ch for ch, _ in chat.posts} | {ch.removeprefix("D") for ch, _ts, _t, _n in chat.replies}
    assert seniors and not reached & seniors
    with uow() as u:
        t = services.load(u, transfer_id=tid)
        [o] = obligations.current(t, pack, org, services.calendar(org), local_date(TUE),
                                  services.transfer_deadlines(org, t))
        assert o.who.startswith(first.label) and o.action == "decide"
        assert set(obligations.people(o, t, pack, org)) >= {hmgr, rmgr}
        for senior in seniors:
            card = services.card_for(u, org, t, senior, TUE)
            assert "decide" not in [b.action for b in card.buttons]
        for manager in (hmgr, rmgr):
            assert "decide" in [b.action for b in services.card_for(u, org, t, manager, TUE).buttons]


def test_a_senior_managers_home_lists_an_escalated_overdue_dispute_once_where_they_owe_it(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """FAQ: "case transfers to be completed within 20 working days" and "escalated to Senior
    Managers": a dispute escalated to senior management and past its 20 days is listed once on
    the senior manager's App Home, under "Waiting on you" with Decide the dispute, not again under
    Overdue and Reached your level."""
    tid = _raise(uow, org, "pdu-north", "pdu-south", "X300106")
    with uow() as u:
        services.act(u, org, "U0SMGR", tid, "dispute", TUE, reason=TEXT)
    with uow() as u:
        services.act(u, org, "U0NMGR", tid, "escalate", TUE, reason=TEXT)
    late = datetime.combine(date(2026, 12, 23), time(10), tzinfo=UK_TIME)
    with uow() as u:
        h = services.home(u, org, "U0SMT1", late)
    shown = home.sections(waiting=h.waiting, holding=h.outbound, receiving=h.inbound,
                          today=late.date(), escalated=h.escalated)
    where = [s.title for s in shown for r in s.rows if r.id == tid]
    assert where == ["Waiting on you (1)"]
    assert "decide" in [b.action for b in shown[0].buttons[tid]]


def test_a_managers_home_lists_an_overdue_inbound_transfer_once(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """FAQ: "case transfers to be completed within 20 working days": past day 20 the receiving
    SPO's undecided request is under "Waiting on you" (with Accept), not also under Overdue; the
    holding SPO, who owes nothing on it yet, sees it once, under Overdue, not again as Outbound."""
    tid = _raise(uow, org, "pdu-north", "pdu-south", "X300107")
    late = datetime.combine(date(2026, 12, 22), time(10), tzinfo=UK_TIME)
    for user, title in (("U0SMGR", "Waiting on you (1)"), ("U0NMGR", None)):
        with uow() as u:
            h = services.home(u, org, user, late)
        shown = home.sections(waiting=h.waiting, holding=h.outbound, receiving=h.inbound,
                              today=late.date(), escalated=h.escalated)
        where = [s.title for s in shown for r in s.rows if r.id == tid]
        assert len(where) == 1, where
        if title:
            assert where == [title]
