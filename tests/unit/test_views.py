"""Platform-neutral views: what a card, a form and a digest say, before any chat platform
renders them. People appear as Person references (ids), never as names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot import actions, views
from bot.calendar import calendar_for
from bot.clocks import Deadline
from bot.domain import Transfer, new_transfer
from bot.obligations import Obligation
from bot.org import Actor, Role, load_org
from bot.policy import PolicyPack, builtin_pack
from bot.views import Person

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday
TODAY = NOW.date()
CAL = calendar_for("ENG")
PP = Actor("U0HPP", frozenset({Role.holding_practitioner}))
HM = Actor("U0HMGR", frozenset({Role.holding_manager}))
RM = Actor("U0RMGR", frozenset({Role.receiving_manager}))
PROBATION = builtin_pack("probation")
BURY = builtin_pack("bury")


def requested(pack: PolicyPack = PROBATION, **fields: Any) -> Transfer:
    """A transfer from pdu-north to pdu-south, requested at NOW (its request checklist signed)."""
    ref = "X123456" if pack.name == "probation" else "101001"
    t = new_transfer(case_ref=ref, pack=pack, holding_team="pdu-north", receiving_team="pdu-south",
                     kind="permanent", actor=PP, now=NOW, **fields)
    for cl in pack.gating("request", t.kind):
        for item in cl.items:
            t.confirm(HM, NOW, pack, checklist=cl.id, item=item.id)
    t.request(PP, NOW, pack)
    t.id = 7
    return t


def card(t: Transfer, viewer: Actor, deadlines: list[Deadline] | None = None,
         **kw: Any) -> views.Card:
    """``t``'s card for ``viewer``, offering what the catalogue allows them."""
    pack = builtin_pack(t.policy)
    return views.card(t, deadlines or [], cal=CAL, today=TODAY,
                      offered=actions.available(t, viewer, pack, clocks=deadlines or [], today=TODAY),
                      pack=pack, **kw)


def resolution(due_on: date) -> Deadline:
    """The probation resolution clock, started today."""
    return Deadline("resolution", "Transfer to be completed by", TODAY, due_on, ())


def test_card_buttons_are_the_viewers_available_actions_with_the_transfer_id() -> None:
    """Each offered action becomes a button carrying its name, label, style and the transfer id."""
    t = requested()
    c = card(t, RM)
    offered = actions.available(t, RM, PROBATION, clocks=[], today=TODAY)
    assert [b.action for b in c.buttons] == [a.name for a in offered]
    assert all(b.transfer_id == 7 for b in c.buttons)
    assert c.buttons[0] == views.Button("accept", "Accept", 7, "primary")


def test_card_shows_team_ids_kind_label_and_a_short_deadline() -> None:
    """Without an org the teams are their ids; the kind is the pack's label; the deadline reads
    as the pack's obligation with working days left, in a few words (no "day 1 is the next
    working day" explanation on the card: that is in the README)."""
    c = card(requested(), RM, [resolution(date(2026, 12, 21))])
    fields = dict(c.fields)
    kind = next(k.label for k in PROBATION.kinds if k.id == "permanent")
    assert fields["Transfer"] == (f"pdu-north → pdu-south · {kind} · Requested",)
    assert fields["Next deadline"] == ("Transfer to be completed by Mon 21 Dec 2026 (20 working days left)",)
    assert "day 1 is" not in str(c)
    assert c.title == "Case transfer: X123456"
    assert c.fallback == ("Transfer X123456: Requested pdu-south: decide on X123456 (accept or "
                          "decline). Transfer to be completed by Mon 21 Dec 2026 (20 working days "
                          "left).")


def test_card_deadline_counts_the_working_day_of_the_clock() -> None:
    """FAQ: "The next working day following the request for transfer is day 1 ... completed
    within 20 working days": ten working days on, the card says day 10 of 20."""
    t = requested()
    d = Deadline("resolution", "Transfer to be completed by", TODAY, date(2026, 12, 21), ())
    c = views.card(t, [d], cal=CAL, today=date(2026, 12, 7), offered=[], pack=PROBATION)
    assert dict(c.fields)["Next deadline"] == ("Transfer to be completed by Mon 21 Dec 2026 (day 10 of 20)",)


def test_the_viewer_reads_what_they_must_do_in_one_sentence_with_the_date() -> None:
    """The receiving manager, who holds Accept, reads what they must do: "Decide ... by <date>";
    the holding practitioner, who owes nothing, reads who is awaited."""
    d = resolution(date(2026, 12, 21))
    assert card(requested(), RM, [d]).you == ("Decide on X123456 (accept or decline) by Mon 21 Dec "
                                              "2026.")
    assert card(requested(), PP, [d]).you == ("pdu-south: decide on X123456 (accept or decline) "
                                              "by Mon 21 Dec 2026.")


def test_card_with_an_org_shows_team_names() -> None:
    """Given the org, the card names the teams as the org file does."""
    org = load_org()
    team = org.teams[0]
    t = requested()
    t.holding_team = team.id
    assert str(dict(card(t, RM, org=org).fields)["Transfer"][0]).startswith(f"{team.name} → ")


def test_the_endorsers_card_carries_the_reason_for_delay_and_the_actions_in_hand() -> None:
    """FAQ (probation): past the 20 working days the transferring area records the reason for
    delay and the actions being taken; the senior manager asked to endorse reads both on the
    card, not "on the card's history"."""
    t = requested()
    t.record_delay(PP, NOW + timedelta(days=30), reason="Awaiting the court's decision",
                   actions="Chasing the listing office weekly", pack=PROBATION)
    fields = dict(card(t, HM).fields)
    assert fields["Reason for delay"] == (
        "Awaiting the court's decision. Actions in hand: Chasing the listing office weekly",)


def test_the_card_says_whether_the_pick_up_point_was_attended() -> None:
    """Rochdale: "the pick-up point ... CP/Court PM/SW or representative attends and takes case
    responsibility": the card says whether the receiving team attended, and if not whether the
    absence was agreed in advance."""
    pack = builtin_pack("rochdale")
    t = requested(pack, transfer_point="icpc", transfer_point_date=date(2026, 11, 30))
    t.record_attendance(RM, NOW + timedelta(days=7), attended=False, agreed_absence=True)
    point = str(dict(card(t, RM).fields)["Transfer point"][0])
    assert point.startswith("Initial Child Protection Conference (ICPC) (Mon 30 Nov 2026)")
    assert point.endswith(": not attended (absence agreed in advance)")


def test_checklist_progress_says_how_many_are_confirmed_and_who_is_awaited() -> None:
    """Probation (MAPPA 2/3): "a multi-agency consultation" before the receiving area decides:
    the card counts the confirmed lines and names who is awaited by team and role."""
    t = requested(flags=("mappa_2_3",))
    org = load_org()
    progress = str(dict(card(t, RM, org=org).fields)["Checklist"][0])
    assert progress.endswith(": 0 of 1 confirmed; waiting on South PDU's Senior Probation Officer")


def test_a_card_shows_three_buttons_at_most_with_exactly_one_primary() -> None:
    """However many steps a viewer may take, three at most are in sight (or two beside the
    overflow menu, which never holds just one), exactly one primary, the destructive last."""
    bs = [views.Button(name, name, 7, style) for name, style in
          (("accept", "primary"), ("decline", "danger"), ("request_work", None), ("dispute", "danger"))]
    for n in range(1, len(bs) + 1):
        sight, more = views.arrange(bs[:n])
        assert len(sight) <= 3 and len(more) != 1 and len(sight) + len(more) == n
        assert sight[0].style == "primary"
    sight, more = views.arrange(bs)
    assert [b.action for b in sight] == ["accept", "request_work"]
    assert [b.action for b in more] == ["decline", "dispute"]


def test_card_names_the_worker_and_the_decider_as_people() -> None:
    """The named worker and whoever accepted are Person references, not text."""
    t = requested()
    t.accept(RM, NOW + timedelta(hours=1), PROBATION, named_worker="U0SPP1")
    c = card(t, RM)
    assert dict(c.fields)["Named worker"] == (Person("U0SPP1"),)
    assert c.status[:2] == ("Accepted by ", Person("U0RMGR"))


def test_card_status_carries_the_decline_rationale_as_typed() -> None:
    """The rationale is kept as the person wrote it; the renderer escapes it."""
    t = requested()
    t.decline(RM, NOW, PROBATION, rationale="<!channel> risk is too high here",
              reason_category="heightened_risk")
    c = card(t, RM)
    assert c.status[0] == "Declined by " and c.status[1] == Person("U0RMGR")
    assert ": <!channel> risk is too high here" in c.status
    # the holding team's window for disputing the decline, not "None (closed)"
    assert dict(c.fields)["Next deadline"] == (
        "The holding team may dispute the decline until Mon 07 Dec 2026 (10 working days left)",)
    assert c.buttons == ()


def test_card_awaiting_a_decision_says_so() -> None:
    """While requested, the status says the receiving team's decision is awaited."""
    assert card(requested(), PP).status == ("Awaiting the receiving team's decision.",
                                            " · As of Mon 23 Nov 2026.")  # its date: Baton's own


def test_card_headline_becomes_the_fallback() -> None:
    """A notice's headline is what the notification says."""
    c = card(requested(), RM, headline=("pdu-north asks you to take this case.",))
    assert c.fallback.startswith("X123456: pdu-north asks you to take this case. pdu-south: decide "
                                 "on X123456 (accept or decline). To be done or a date agreed by")


def test_deadline_text_counts_working_days_each_way() -> None:
    """Overdue, due today, one day left and several days left each read correctly."""
    def text(d: Deadline) -> str:
        return views.deadline_text(Obligation((), "accept", "decide", d, ""), CAL, TODAY)

    assert views.deadline_text(None, CAL, TODAY) == "Closed: nothing is owed"
    assert text(resolution(TODAY)).endswith("(due today)")
    assert text(resolution(date(2026, 11, 24))).endswith("(1 working day left)")
    assert text(resolution(date(2026, 11, 20))).endswith("(overdue by 1 working day)")
    assert text(resolution(date(2026, 11, 19))).endswith(
        "(overdue by 2 working days)")


def test_decline_form_offers_the_packs_reasons_and_says_why() -> None:
    """Probation's decline form lists the presumption's reasons and explains them first."""
    f = views.form(actions.BY_NAME["decline"], requested(), PROBATION, RM, cal=CAL, now=NOW)
    assert (f.action, f.transfer_id, f.case_ref, f.submit) == ("decline", 7, "X123456", "Decline")
    assert f.intro[0] == ("Case X123456.",)
    assert (PROBATION.decline_reasons_intro + ".",) in f.intro
    reason = next(i for i in f.inputs if i.field.name == "reason_category")
    assert reason.options == PROBATION.decline_reasons


def test_work_form_starts_at_the_policys_due_date() -> None:
    """Bury step 6: "the work will be completed in 10 working days"; the due date starts ten
    working days from today."""
    f = views.form(actions.BY_NAME["request_work"], requested(BURY), BURY, RM, cal=CAL, now=NOW)
    due = next(i for i in f.inputs if i.field.name == "due")
    assert due.initial == CAL.add_working_days(TODAY, BURY.remedial_work_days) == date(2026, 12, 7)


def test_confirm_form_offers_the_items_this_person_may_confirm() -> None:
    """The holding practitioner's confirm form offers the transferring checks not yet confirmed,
    and lists the confirmed ones with who confirmed them."""
    t = requested()
    t.confirm(PP, NOW, PROBATION, checklist="transferring_checks", item="police_checks")
    f = views.form(actions.BY_NAME["confirm"], t, PROBATION, PP, cal=CAL, now=NOW)
    items = next(i for i in f.inputs if i.field.name == "items")
    assert [o.id for o in items.options if o.id.startswith("transferring_checks.")] == [
        "transferring_checks.safeguarding_checks", "transferring_checks.home_visit"]
    assert any(Person("U0HPP") in line for line in f.intro)


def test_digest_fallback_is_the_one_case_or_a_count() -> None:
    """One item reads as its case and text; several as how many need attention."""
    one = views.Digest((views.DigestItem("X123456", 7, "Resolution due today"),))
    assert one.fallback == "X123456: Resolution due today"
    two = views.Digest((*one.items, views.DigestItem("X654321", 8, "Overdue")))
    assert two.fallback == "2 transfers need attention"


def test_history_of_a_restricted_transfer_keeps_who_what_when_but_no_reason_or_detail() -> None:
    """A restricted case's history events keep actor, kind, time and states; reasons and details go."""
    t = requested()
    t.decline(RM, NOW, PROBATION, rationale="risk is too high here", reason_category="heightened_risk")
    t.restricted = True
    events = views.history_events(t)
    assert [(e.actor, e.kind, e.at, e.to_state) for e in events] == [
        (e.actor, e.kind, e.at, e.to_state) for e in t.timeline]
    assert all(e.reason is None and e.detail == {} for e in events)
    assert any(e.reason for e in t.timeline)  # the stored timeline is untouched
    t.restricted = False
    assert views.history_events(t) == t.timeline


def _facts(c: views.Card) -> dict[str, str]:
    return {label: "".join(str(p) for p in value) for label, value in c.fields}


def test_a_card_shows_the_temporary_move_and_unpaid_work_dates_the_faq_runs_on() -> None:
    """FAQ: a temporary move's timeframe is "down to the professional judgement of the RO", and
    unpaid work not completed within 12 months needs "an application ... to Court to extend the
    requirement as a priority": the card carries the move's dates, the order's date and that its
    12 months end before the transfer can complete."""
    t = requested(move_date=date(2026, 11, 30), move_end_date=date(2027, 2, 26),
                  order_date=date(2025, 12, 10))
    t._record(PP, NOW, "upw_extension_due", ends="2026-12-10", complete_by="2026-12-21")
    facts = _facts(card(t, RM))
    assert "30 Nov 2026" in facts["Temporary move"] and "26 Feb 2027" in facts["Temporary move"]
    assert "2026-12-10" in facts["Unpaid work order"]
    assert "apply to court to extend, as a priority" in facts["Unpaid work order"]


def test_a_card_shows_why_siblings_are_apart_and_a_capacity_concern() -> None:
    """BURY: "Sibling groups should be held within the same team, unless there are exceptional
    circumstances": the card names the linked siblings and why this one goes elsewhere."""
    t = requested(BURY, linked_refs=("1001",))
    t._record(HM, NOW, "siblings_apart", reason="Specialist safeguarding team needed",
              siblings=["1001"], teams=["bury-cin"], level="strategic_lead")
    facts = _facts(card(t, RM))
    assert facts["Siblings"] == "1001: apart from 1001. Why: Specialist safeguarding team needed"
    roch = builtin_pack("rochdale")
    r = requested(roch)
    r.raise_capacity_concern(RM, NOW, roch, concern="Three vacancies in CP1 this month")
    assert "Head of Service (HoS)" in _facts(card(r, RM))["Capacity concern"]


@given(st.lists(st.sampled_from(actions.CATALOGUE), unique_by=lambda a: a.name, max_size=12))
def test_any_set_of_steps_gives_one_primary_and_three_controls_at_most(offered: list[actions.Action]) -> None:
    """Invariant: whatever a viewer may take, the card shows at most three controls (two buttons
    and the overflow menu past three), every step once, exactly one primary unless every step
    is destructive, and no destructive step primary."""
    bs = views.buttons(requested(), offered)
    sight, more = views.arrange(bs)
    assert sorted(b.action for b in (*sight, *more)) == sorted(a.name for a in offered)
    assert len(sight) + (1 if more else 0) <= 3 and len(more) != 1
    primaries = [b for b in bs if b.style == "primary"]
    safe = [a for a in offered if a.style != "danger"]
    assert len(primaries) == (1 if safe else 0)
    assert all(b.action not in ("decline", "withdraw", "dispute") for b in primaries)


def test_a_pack_title_ending_in_policy_is_not_followed_by_policy_again() -> None:
    """The raise form and help say "under the Leicestershire children's social care Transfer
    Policy", not "... Transfer Policy policy"; other titles get the word once."""
    from bot.policy import all_builtin_packs
    from bot.views import policy_named

    for pack in all_builtin_packs().values():
        words = policy_named(pack.title).lower()
        assert words.startswith("the ") and words.endswith("policy") and "policy policy" not in words
    assert policy_named("Leicestershire children's social care Transfer Policy") == (
        "the Leicestershire children's social care Transfer Policy")
