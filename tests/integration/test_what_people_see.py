"""What people see (issue 15): cards that stay true as the clock moves, and that say who must do
what by when in the pack's own words; everyone on the transfer hears of a decision that
concerns them; labels everywhere, never ids."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa

from bot import services, views
from bot.domain import UK_TIME
from bot.org import Org
from bot.services import RaiseRequest
from handlers.slack import blocks
from scheduler.delivery import Delivery
from scheduler.sweep import sweep
from store.repo import SqlUnitOfWork
from tests.fakes import FakeChat

UoW = Callable[[], SqlUnitOfWork]


def at(day: date, hour: int = 10) -> datetime:
    """``day`` at ``hour`` o'clock, UK time."""
    return datetime.combine(day, time(hour), tzinfo=UK_TIME)


REQUESTED = at(date(2026, 11, 23))  # Mon 23 Nov: day 1 is Tue 24 Nov, day 20 is Mon 21 Dec


def _raise(uow: UoW, org: Org, user: str = "U0NPP1", **kw: Any) -> int:
    req = RaiseRequest(**{"case_ref": "X123456", "receiving_team": "pdu-south", **kw})
    with uow() as u:
        t = services.raise_transfer(u, org, user, req, REQUESTED)
    assert t.id is not None
    return t.id


def _told(chat: FakeChat, to: str, said: str) -> bool:
    """Whether ``to`` was told ``said``: a new card's headline, or a line in their card's thread."""
    return (any(said in c.headline[0] for c in _cards_of(chat, to) if c.headline)
            or any(said in line for ch, _, line, _ in chat.replies if ch == f"D{to}"))


def _cards_of(chat: FakeChat, to: str) -> list[views.Card]:
    """Every card the chat was shown for ``to`` (posted, then redrawn), oldest first."""
    out = [m for ch, m in chat.posts if ch == to and isinstance(m, views.Card)]
    out += [m for ch, _, m in chat.updates if ch == f"D{to}" and isinstance(m, views.Card)]
    return out


def _deadline(card: views.Card) -> str:
    return "".join(str(p) for p in dict(card.fields)["Next deadline"])


def test_card_deadline_colour_and_working_days_follow_the_sweep_across_the_breach(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """FAQ: "case transfers to be completed within 20 working days ... The next working day
    following the request for transfer is day 1". The receiving manager's card is redrawn at the
    5-day reminder (Mon 14 Dec: green, day 15 of 20) and at the breach (Tue 22 Dec: red,
    overdue by 1 working day), without anyone touching the transfer."""
    _raise(uow, org)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(REQUESTED)
    first = _cards_of(chat, "U0SMGR")[-1]
    assert first.rag == "green" and "(20 working days left)" in _deadline(first)
    assert _deadline(first).startswith("Transfer to be completed by Mon 21 Dec 2026")

    for day, rag, left in ((date(2026, 12, 14), "green", "(day 15 of 20)"),
                           (date(2026, 12, 18), "amber", "(day 19 of 20)"),
                           (date(2026, 12, 22), "red", "(overdue by 1 working day)")):
        sweep(engine, org, at(day))
        delivery.deliver(at(day))
        card = _cards_of(chat, "U0SMGR")[-1]
        assert (card.rag, left in _deadline(card)) == (rag, True), (day, _deadline(card))
        assert f"As of {views.day(day)}" in "".join(str(p) for p in card.status)
    rendered = str(blocks.card_blocks(card))
    assert ":red_circle: Overdue: Transfer to be completed by Mon 21 Dec 2026" in rendered
    assert "day 1 is the next working day" not in rendered  # the README says it, not the card


def test_a_second_sweep_the_same_day_redraws_nothing_more(engine: sa.Engine, org: Org,
                                                          uow: UoW) -> None:
    """The redraw at a step is written once, with the step's marker: a second sweep that day
    writes no second redraw."""
    _raise(uow, org)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(REQUESTED)
    sweep(engine, org, at(date(2026, 12, 22)))
    delivery.deliver(at(date(2026, 12, 22)))
    n = len(chat.updates)
    sweep(engine, org, at(date(2026, 12, 22), 11))
    delivery.deliver(at(date(2026, 12, 22), 11))
    assert len(chat.updates) == n > 0


def test_the_receiving_managers_dm_says_who_must_decide_by_when_who_raised_it_and_its_flags(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """The DM reads: South PDU must decide by the 20th working day, North PDU's Probation
    Practitioner raised it, and it is flagged MAPPA level 2 or 3; no id anywhere."""
    _raise(uow, org, flags=("mappa_2_3",))
    chat = FakeChat()
    Delivery(engine, org, chat, uow).deliver(REQUESTED)
    card = _cards_of(chat, "U0SMGR")[0]
    assert card.todo == ("South PDU: confirm the MAPPA 2/3 multi-agency consultation on X123456, "
                         "then decide (accept or decline). Transfer to be completed by Mon 21 Dec "
                         "2026 (20 working days left).")
    assert "North PDU's Probation Practitioner" in card.headline[0]
    assert "Flags: MAPPA level 2 or 3." in card.headline[0]
    assert dict(card.fields)["Flags"] == ("MAPPA level 2 or 3",)
    assert card.todo in card.fallback


def _decline(uow: UoW, org: Org, tid: int, now: datetime) -> None:
    with uow() as u:
        services.act(u, org, "U0SMGR", tid, "decline", now, reason_category="heightened_risk",
                     rationale="The proposed address is next to the victim's school.")


def test_the_holding_manager_hears_of_a_decline_with_the_dispute_button_and_keeps_it_at_home(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """A decline reaches the holding manager on a card of their own, with the reason in the
    pack's words and Raise a dispute; the declined case stays in their App Home, waiting on them."""
    tid = _raise(uow, org)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(REQUESTED)
    _decline(uow, org, tid, at(date(2026, 11, 25)))
    delivery.deliver(at(date(2026, 11, 25)))
    card = _cards_of(chat, "U0NMGR")[-1]
    assert "South PDU declined this transfer (Specific, heightened risk" in card.headline[0]
    assert "dispute" in [b.action for b in card.buttons]
    assert card.todo == ("North PDU: dispute the decline on X123456, or keep the case. The holding "
                         "team may dispute the decline until Wed 09 Dec 2026 (10 working days left).")
    with uow() as u:
        home = services.home(u, org, "U0NMGR", at(date(2026, 11, 26)))
    assert [r.case_ref for r, _ in home.waiting] == ["X123456"]
    assert [r.case_ref for r in home.outbound] == ["X123456"]


def test_the_named_worker_is_told_of_their_allocation_and_the_holding_team_too(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """BURY step 7: "RTM will identify SW to be allocated SW and then informs HTM": the worker
    named on acceptance gets a card of their own, and the holding team hears of it."""
    tid = _raise(uow, org)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(REQUESTED)
    with uow() as u:
        services.act(u, org, "U0SMGR", tid, "accept", at(date(2026, 11, 25)), named_worker="U0SPP1")
    delivery.deliver(at(date(2026, 11, 25)))
    assert _cards_of(chat, "U0SPP1")[-1].headline == (
        "You are the named worker for this case in South PDU.",)
    assert _told(chat, "U0NMGR", "named the worker")


def test_a_delay_reason_and_an_endorsement_are_told_and_the_date_moves_every_clock_and_card(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """FAQ: "The responsibility for recording the reasons for delay and Senior Management
    endorsement lies with the transferring area". The receiving manager hears of the delay
    reason; senior management's endorsement sets the date the transfer is now expected by, the
    20-day clock and every card follow it (no longer overdue), and the Endorse button goes."""
    tid = _raise(uow, org)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(REQUESTED)
    day = at(date(2027, 1, 7))
    sweep(engine, org, day)
    with uow() as u:
        services.act(u, org, "U0NPP1", tid, "record_delay", day,
                     reason="Waiting for the police checks", actions="Chased the police twice")
    delivery.deliver(day)
    assert _told(chat, "U0SMGR", "recorded the reason for the delay")
    with uow() as u:
        services.act(u, org, "U0SMT1", tid, "endorse", day, rationale="Complex MAPPA case",
                     expected_by=date(2027, 1, 29))
    delivery.deliver(day)
    card = _cards_of(chat, "U0SMGR")[-1]
    assert _deadline(card).startswith("Transfer to be completed by Fri 29 Jan 2027 (")
    assert card.rag == "green"
    assert _told(chat, "U0NMGR", "now expected by Fri 29 Jan 2027")
    with uow() as u:  # endorsed once: the button goes from senior management's cards
        t = u.transfers.get(tid)
        assert t is not None
        assert "endorse" not in [b.action for b in services.card_for(u, org, t, "U0SMT1", day).buttons]


ON_THE_TRANSFER = ("U0NPP1", "U0NPP2", "U0NMGR", "U0SMGR", "U0SPP1", "U0SMT1")


def test_no_card_offers_record_delay_once_a_reason_is_recorded_until_the_next_breach(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """FAQ: "Where this cannot be achieved, the reasons for the delay and actions being
    undertaken to progress must be fully recorded", by the transferring area "if the 20
    working-day deadline is missed". At the breach (Tue 22 Dec) the practitioner's card offers
    Record delay reason; once they record one, every card of the transfer is redrawn without it,
    for everyone, and the holding manager is told. A further reason is still typed (its form
    says it is an update). When the endorsed expected-by date (Fri 29 Jan) is missed too, the
    sweep's redraw on Mon 1 Feb offers it again."""
    tid = _raise(uow, org)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(REQUESTED)

    def buttons(card: views.Card) -> list[str]:
        return [b.action for b in card.buttons]

    def anyone_offered(now: datetime) -> list[str]:
        with uow() as u:
            t = u.transfers.get(tid)
            assert t is not None
            return [p for p in ON_THE_TRANSFER
                    if "record_delay" in buttons(services.card_for(u, org, t, p, now))]

    assert anyone_offered(at(date(2026, 12, 21))) == []  # day 20: not missed yet
    breach = at(date(2026, 12, 22))
    sweep(engine, org, breach)
    delivery.deliver(breach)
    assert "record_delay" in buttons(_cards_of(chat, "U0NPP1")[-1])
    assert anyone_offered(breach) == ["U0NPP1", "U0NPP2", "U0NMGR"]

    def intro(user: str) -> str:
        with uow() as u:
            form = services.form_for(u, org, user, tid, "record_delay", breach)
        return " ".join("".join(str(p) for p in line) for line in form.intro)

    assert "as an update" not in intro("U0NPP1")
    with uow() as u:
        services.act(u, org, "U0NPP1", tid, "record_delay", breach,
                     reason="Waiting for the police checks", actions="Chased the police twice")
    delivery.deliver(breach)
    redrawn = _cards_of(chat, "U0NPP1")[-1]
    assert "record_delay" not in buttons(redrawn)
    assert "record the reason for delay" not in redrawn.todo
    assert anyone_offered(breach) == [] == anyone_offered(at(date(2027, 1, 5)))
    told = [c for c in _cards_of(chat, "U0NMGR") if c.headline
            and "recorded the reason for the delay" in c.headline[0]]
    assert told and "record_delay" not in buttons(told[-1])
    assert "as an update" in intro("U0NMGR")

    with uow() as u:
        services.act(u, org, "U0SMT1", tid, "endorse", at(date(2027, 1, 6)),
                     rationale="Complex MAPPA case", expected_by=date(2027, 1, 29))
    assert anyone_offered(at(date(2027, 1, 29))) == []
    missed = at(date(2027, 2, 1))
    sweep(engine, org, missed)
    delivery.deliver(missed)
    assert "record_delay" in buttons(_cards_of(chat, "U0NPP1")[-1])
    assert anyone_offered(missed) == ["U0NPP1", "U0NPP2", "U0NMGR"]


def test_a_digests_button_goes_once_its_ask_is_answered(engine: sa.Engine, org: Org,
                                                         uow: UoW) -> None:
    """At the breach (Tue 22 Dec) the holding practitioner's reminder offers Record delay reason;
    once a delay reason is recorded that message is redrawn without it. Senior management's
    Endorse extension goes from their reminder once they endorse."""
    tid = _raise(uow, org)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(REQUESTED)
    breach = at(date(2026, 12, 22))
    sweep(engine, org, breach)
    delivery.deliver(breach)

    def digests(to: str) -> list[views.Digest]:
        out = [m for ch, m in chat.posts if ch == to and isinstance(m, views.Digest)]
        return out + [m for ch, _, m in chat.updates if ch == f"D{to}" and isinstance(m, views.Digest)]

    def offered(d: views.Digest) -> list[str]:
        return [b.action for i in d.items for b in i.buttons]

    assert offered(digests("U0NPP1")[-1]) == ["record_delay"]
    with uow() as u:
        services.act(u, org, "U0NPP1", tid, "record_delay", breach,
                     reason="Waiting for the police checks", actions="Chased the police twice")
    delivery.deliver(breach)
    assert offered(digests("U0NPP1")[-1]) == []
    # the line says what is owed now: the reason is recorded, the receiving team's decision is not
    before, now = digests("U0NPP1")[0].items[0].text, digests("U0NPP1")[-1].items[0].text
    assert before.startswith("North PDU: record the reason for delay on X123456")
    assert now.startswith("South PDU: decide on X123456 (accept or decline). Missed: ")
    assert now.split(". Missed: ", 1)[1] == before.split(". Missed: ", 1)[1]

    reminder = at(date(2026, 12, 30))
    sweep(engine, org, reminder)
    delivery.deliver(reminder)
    def ask() -> views.Digest:
        return [d for d in digests("U0SMT1") if "endorse the extension" in d.items[0].text][-1]

    assert offered(ask()) == ["endorse"]
    with uow() as u:
        services.act(u, org, "U0SMT1", tid, "endorse", reminder, rationale="Complex MAPPA case",
                     expected_by=date(2027, 1, 29))
    delivery.deliver(reminder)
    assert offered(ask()) == []


def test_senior_management_is_asked_to_endorse_before_the_endorsement_deadline(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """FAQ: "Senior Management endorsement if the transfer extends to 30 days": the
    transferring area's senior manager is reminded, with the Endorse button, 5 working days
    before day 30 (Wed 30 Dec 2026, day 30 being Thu 7 Jan 2027)."""
    _raise(uow, org)
    result = sweep(engine, org, at(date(2026, 12, 30)))
    lines = [x for x in result.lines if x.startswith("U0SMT1: ") and "endorse" in x]
    assert lines == ["U0SMT1: X123456: Senior management to endorse the extension by Thu 07 Jan "
                     "2027 (5 working days left). Senior management: endorse the extension, with "
                     "the date the transfer is now expected by."]
    with engine.connect() as c:
        payloads = [p for (p,) in c.execute(sa.text(
            "SELECT payload FROM notification WHERE recipient = 'U0SMT1' AND kind = 'item'"))]
    assert "endorse" in str(payloads)


def test_an_escalation_contacts_list_and_home_show_what_reached_their_level(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """Past its 20 working days the transfer reached senior management: the SMT member's
    `/transfer list overdue` and App Home show it (before, it did not concern them), and the
    SMT channel's digest counts the same overdue transfers as put to its level."""
    _raise(uow, org)
    with uow() as u:
        assert services.list_for(u, org, "U0SMT1", "overdue", date(2026, 12, 1)) == []
    sweep(engine, org, at(date(2026, 12, 22)))
    with uow() as u:
        listed = services.list_for(u, org, "U0SMT1", "overdue", date(2026, 12, 22))
        home = services.home(u, org, "U0SMT1", at(date(2026, 12, 22)))
        summary = services.weekly_summary(u, org, start=date(2026, 12, 15), end=date(2026, 12, 21),
                                          channel="C0SMT")
    assert [r.case_ref for r in listed] == ["X123456"] and summary.overdue_reached == len(listed)
    assert [r.case_ref for r in home.escalated] == ["X123456"]


def test_only_the_bury_team_manager_may_raise_and_is_told_before_filling_the_form_in(
        uow: UoW, org: Org) -> None:
    """BURY step 2: "Holding Team Manager (HTM) will audit the case ... The case should not be
    placed on the transfer list for discussion unless an audit has been completed": a social
    worker is told at once that only the Team Manager can raise it; S2's social worker may raise
    with the reason ("where this may cause unnecessary delay for a child the Group Manager will
    be contacted") and is told they cannot sign off the checklist."""
    today = date(2026, 11, 23)
    with uow() as u:
        bury = services.raise_access(u, org, "U0BASW1", "bury-assessment", today)
        manager = services.raise_access(u, org, "U0BAMGR", "bury-assessment", today)
        s2 = services.raise_access(u, org, "U0SMSW1", "s2-mash", today)
    assert bury.refusal is not None
    assert "only Bury Assessment Team's Team Manager can raise a transfer" in bury.refusal
    assert manager == services.RaiseAccess()
    assert s2.refusal is None and not s2.may_sign_off and "Group Manager is asked to agree" in s2.note
    pack = org.pack_for("bury-assessment")
    form = blocks.raise_modal(pack, org, "bury-assessment").to_dict()
    checklist = next(b for b in form["blocks"] if b.get("block_id") == "checklist")
    assert checklist["optional"] is False


# ---- no ids where a label exists ------------------------------------------------------------
def _visible_text(node: Any) -> Iterable[str]:
    """The text a person reads in rendered Block Kit (not block ids, action ids or values)."""
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node["text"]
        for k, v in node.items():
            if k not in ("block_id", "action_id", "value", "callback_id", "private_metadata"):
                yield from _visible_text(v)
    elif isinstance(node, list):
        for v in node:
            yield from _visible_text(v)
    elif isinstance(node, str):
        return


def _ids(org: Org) -> set[str]:
    """Every id the org file and packs give a label for, that a person could mistake for words
    (ids with a hyphen or underscore, and the transfer points' short codes)."""
    out = {t.id for t in org.teams}
    for team in org.teams:
        pack = org.pack_for(team.id)
        choices = [*pack.kinds, *pack.flags, *pack.transfer_points, *pack.decline_reasons]
        out |= {c.id for c in choices}
        out |= {c.name for c in pack.clocks} | {lv.name for lv in pack.escalation.levels}
        out |= {cl.id for cl in pack.checklists} | {i.id for cl in pack.checklists for i in cl.items}
    return {i for i in out if "_" in i or "-" in i or i in ("icpc", "rcpc")}


def test_no_rendered_card_list_history_or_notice_shows_an_id_where_a_label_exists(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """Probation (MAPPA, a decline with its reason, a breach and escalation), Rochdale (ICPC
    pick-up point) and Bury (work asked for): every card, redraw, digest, list, App Home,
    history and agenda reads team names, kinds, transfer points, reasons and clocks by their
    labels, never `pdu-north`, `heightened_risk`, `icpc` or "#3"."""
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    _raise(uow, org, flags=("mappa_2_3",))
    declined = _raise(uow, org, case_ref="X222222")
    with uow() as u:
        roch = services.raise_transfer(u, org, "U0RFSW1", RaiseRequest(
            case_ref="309009", receiving_team="roch-cp-1", transfer_point="icpc",
            transfer_point_date=date(2026, 12, 3), flags=("funding_agreement",)), REQUESTED)
        gate = org.pack_for("bury-assessment").gating("request")[0]
        bury = services.raise_transfer(u, org, "U0BAMGR", RaiseRequest(
            case_ref="201001", receiving_team="bury-cin", transfer_point="initial_core_group",
            transfer_point_date=date(2026, 12, 10),
            confirmed=tuple((gate.id, i.id) for i in gate.items_for("permanent"))), REQUESTED)
    assert roch.id and bury.id
    delivery.deliver(REQUESTED)
    _decline(uow, org, declined, at(date(2026, 11, 24)))
    with uow() as u:
        services.act(u, org, "U0BCMGR", bury.id, "request_work", at(date(2026, 11, 24)),
                     items=["Update the chronology"])
    for day in (date(2026, 11, 24), date(2026, 12, 2), date(2026, 12, 22), date(2027, 1, 8)):
        sweep(engine, org, at(day))
        delivery.deliver(at(day))
    rendered: list[Any] = [blocks.render(m) for _, m in chat.posts]
    rendered += [blocks.render(m) for _, _, m in chat.updates]
    today = date(2027, 1, 8)
    cal = services.calendar(org)
    with uow() as u:
        for user in ("U0NMGR", "U0SMGR", "U0RCMGR", "U0BAMGR", "U0SMT1", "U0HOS"):
            rows = services.list_for(u, org, user, "team", today)
            rendered.append(blocks.summary_list(rows, today=today, cal=cal, title="t", org=org))
            home = services.home(u, org, user, at(today))
            rendered.append(blocks.home_view(
                waiting=home.waiting, holding=home.outbound, receiving=home.inbound, today=today,
                cal=cal, escalated=home.escalated, org=org).to_dict())
            rendered.append(blocks.agenda_blocks(services.agenda(u, org, user, today), today=today,
                                                 title="agenda", org=org))
        for ref in ("X123456", "X222222", "309009", "201001"):
            t = services.load(u, case_ref=ref)
            rendered.append(blocks.timeline_blocks(t, org))
    texts = [x for r in rendered for x in _visible_text(r)]
    texts += [str(r.get("text", "")) for r in rendered if isinstance(r, dict)]
    assert len(texts) > 50
    joined = "\n".join(texts)
    for label in ("North PDU", "Initial Child Protection Conference (ICPC)", "MAPPA level 2 or 3",
                  "Specific, heightened risk", "Transfer to be completed by",
                  "Initial Child Protection Core Group", "Update the chronology"):
        assert label in joined, label
    words = re.compile(r"(?<![\w@<-])(" + "|".join(sorted(map(re.escape, _ids(org)), key=len,
                                                             reverse=True)) + r")(?![\w-])")
    found = {m.group(1): x for x in texts for m in [words.search(x)] if m}
    assert found == {}
    assert not [x for x in texts if re.search(r"#\d", x)]


def test_burys_holding_team_is_reminded_of_the_work_itself(engine: sa.Engine, org: Org,
                                                           uow: UoW) -> None:
    """BURY step 6: "the RTM advises HTM of the work outstanding and the work will be completed
    in 10 working days": the holding team's reminder names the work, not a count of items."""
    with uow() as u:
        gate = org.pack_for("bury-assessment").gating("request")[0]
        t = services.raise_transfer(u, org, "U0BAMGR", RaiseRequest(
            case_ref="201001", receiving_team="bury-cin",
            confirmed=tuple((gate.id, i.id) for i in gate.items_for("permanent"))), REQUESTED)
        assert t.id
        services.act(u, org, "U0BCMGR", t.id, "request_work", at(date(2026, 11, 24)),
                     items=["Update the chronology", "Close the LCS episode"])
    lines = sweep(engine, org, at(date(2026, 12, 7))).lines
    assert ("U0BAMGR: 201001: Bury Assessment Team: do the work asked for on 201001: Update the "
            "chronology; Close the LCS episode. Holding team to complete the work outstanding after "
            "the receiving manager's audit by Tue 08 Dec 2026 (1 working day left).") in lines


def test_a_head_of_services_overdue_list_agrees_with_their_channels_digest(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """ROCH: "the electronic case transfer needs to be completed by the next working day": the
    pick-up point (ICPC) was Thu 3 Dec, nobody moved it, and on Mon 7 Dec it is put to the Head
    of Service. Their `/transfer list overdue` lists it, and the head-of-service channel's
    digest counts the same one as put to its level (a probation transfer, which never reaches a
    head of service, is in the org-wide figures only)."""
    _raise(uow, org)  # probation: its ladder has no head of service
    with uow() as u:
        services.raise_transfer(u, org, "U0RFSW1", RaiseRequest(
            case_ref="309009", receiving_team="roch-cp-1", transfer_point="icpc",
            transfer_point_date=date(2026, 12, 3)), REQUESTED)
    monday = date(2026, 12, 7)
    sweep(engine, org, at(monday))
    with uow() as u:
        listed = services.list_for(u, org, "U0HOS", "overdue", monday)
        summary = services.weekly_summary(u, org, start=date(2026, 11, 30), end=date(2026, 12, 6),
                                          channel="C0HOS")
        nobody = services.list_for(u, org, "U0HOS", "overdue", date(2026, 12, 1))
    assert [r.case_ref for r in listed] == ["309009"] and nobody == []
    assert summary.overdue_reached == len(listed) == 1
    rendered = str(blocks.weekly_digest(summary))
    assert "Overdue and put to this channel's level*\\n1 " in rendered
