"""The catalogue of actions: who may take each step, from which states, on which transfers, and
how a submitted form becomes typed command values. Pure: no database, no chat platform."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot import actions
from bot.actions import CATALOGUE, Action, clean_text, parse, refusal
from bot.calendar import calendar_for
from bot.clocks import deadlines
from bot.domain import Transfer, new_transfer
from bot.errors import DomainError, FormErrors, NotPermitted
from bot.org import Actor, Role
from bot.policy import PolicyPack, builtin_pack
from bot.states import STATE_LABELS

# Monday 23 November 2026, 10:00 UTC.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

PP = Actor("U0HPP", frozenset({Role.holding_practitioner}))
HM = Actor("U0HMGR", frozenset({Role.holding_manager}))
RM = Actor("U0RMGR", frozenset({Role.receiving_manager}))
RSW = Actor("U0RSW", frozenset({Role.receiving_member}))
SENIOR = Actor("U0SMT", frozenset({Role.escalation}))
# The transferring (holding) area's senior managers, who alone endorse an extension.
HOLDING_SENIOR = Actor("U0HSMT", frozenset({Role.escalation, Role.holding_escalation}))
BATON = Actor("baton", frozenset({Role.system}))
NOBODY = Actor("U0OTHER", frozenset())
PEOPLE = (PP, HM, RM, RSW, SENIOR, HOLDING_SENIOR)
HOME_VISIT = ("receiving_area_home_visit",)  # the receiving area does the address assessment

PROBATION = builtin_pack("probation")
BURY = builtin_pack("bury")
ROCHDALE = builtin_pack("rochdale")
LEICS = builtin_pack("leicestershire")
S2 = builtin_pack("council-s2")
PACKS = {p.name: p for p in (PROBATION, BURY, ROCHDALE, LEICS, S2)}

RATIONALE = "Victim lives two streets from the proposed address"
CAL = calendar_for("ENG")


def offered(t: Transfer, person: Actor, pack: PolicyPack, today: date = NOW.date()) -> list[Action]:
    """The buttons ``person`` is offered on ``t`` on ``today``, its clocks as they run."""
    return actions.available(t, person, pack, clocks=deadlines(t, pack, CAL), today=today)


def later(hours: int = 0, days: int = 0) -> datetime:
    """A fixed time after NOW."""
    return NOW + timedelta(days=days, hours=hours)


def fresh(pack: PolicyPack = PROBATION, *, kind: str = "permanent", at: datetime = NOW,
          **fields: Any) -> Transfer:
    """A transfer created by the holding practitioner, not yet requested."""
    ref = "X123456" if pack.name == "probation" else "101001"
    t = new_transfer(case_ref=ref, pack=pack, holding_team="team-hold", receiving_team="team-recv",
                     kind=kind, actor=PP, now=at, **fields)
    t.id = 7
    return t


def requested(pack: PolicyPack = PROBATION, at: datetime = NOW, **kw: Any) -> Transfer:
    """A transfer requested at ``at`` (NOW), its request checklist (if any) signed off first."""
    t = fresh(pack, at=at, **kw)
    for cl in pack.gating("request", t.kind):
        for item in cl.items:
            t.confirm(HM, at, pack, checklist=cl.id, item=item.id)
    t.request(PP, at, pack)
    return t


def breached() -> Transfer:
    """A probation transfer requested on Fri 23 Oct 2026: its 20 working days ran out on Fri 20
    Nov, so on NOW (Mon 23 Nov) its delay reason is awaited."""
    return requested(at=datetime(2026, 10, 23, 10, tzinfo=UTC))


def heads_up() -> Transfer:
    """A Rochdale transfer with an early heads up given, not yet requested."""
    t = fresh(ROCHDALE)
    t.give_heads_up(HM, NOW)
    return t


def accepted(pack: PolicyPack = PROBATION, **kw: Any) -> Transfer:
    """A requested transfer the receiving manager accepted an hour later."""
    t = requested(pack, **kw)
    t.accept(RM, later(1), pack)
    return t


def completed(pack: PolicyPack = PROBATION, **kw: Any) -> Transfer:
    """An accepted transfer completed two hours after the request."""
    t = accepted(pack, **kw)
    t.complete(RM, later(2), pack)
    return t


def declined(pack: PolicyPack = PROBATION) -> Transfer:
    """A requested transfer the receiving manager declined an hour later."""
    t = requested(pack)
    t.decline(RM, later(1), pack, rationale=RATIONALE,
              reason_category=pack.decline_reasons[0].id if pack.decline_reasons else None)
    return t


def disputed(pack: PolicyPack = PROBATION) -> Transfer:
    """A declined transfer the holding manager disputed the next day."""
    t = declined(pack)
    t.dispute(HM, later(days=1), reason="The risk can be managed with an exclusion zone")
    return t


def withdrawn(pack: PolicyPack = PROBATION, **kw: Any) -> Transfer:
    """A requested transfer the holding practitioner withdrew."""
    t = requested(pack, **kw)
    t.withdraw(PP, later(1), reason="Recalled to custody")
    return t


def work_asked() -> Transfer:
    """A requested Bury transfer on which the receiving manager asked for work."""
    t = requested(BURY)
    t.request_work(RM, later(1), items=["Update the chronology"], due=date(2026, 12, 7))
    return t


def work_asked_then_withdrawn() -> Transfer:
    """Work was asked for, then the transfer was withdrawn."""
    t = work_asked()
    t.withdraw(PP, later(2), reason="Family moved out of the area")
    return t


def at_transfer_point() -> Transfer:
    """A requested Bury transfer with its transfer point (the initial core group) dated."""
    return requested(BURY, transfer_point="initial_core_group", transfer_point_date=date(2026, 12, 3))


def declined_at_transfer_point() -> Transfer:
    """A Bury transfer with a dated transfer point, declined."""
    t = at_transfer_point()
    t.decline(RM, later(1), BURY, rationale=RATIONALE, reason_category="transfer_point_not_reached")
    return t


S2_WHY = "The ICPC is on Thursday; waiting for sign-off would leave the child unallocated."


def s2_urgent() -> Transfer:
    """An S2 transfer requested before the PM's sign-off, the Group Manager asked to agree."""
    t = fresh(S2)
    t.request(PP, NOW, S2, urgent_reason=S2_WHY)
    return t


def s2_urgent_completed() -> Transfer:
    """An S2 transfer requested before sign-off, agreed, accepted and completed."""
    t = s2_urgent()
    t.agree_without_sign_off(HOLDING_SENIOR, later(1), S2)
    t.accept(RM, later(2), S2)
    t.complete(HM, later(3), S2)
    return t


def accepted_with_date() -> Transfer:
    """A Bury transfer accepted with a transfer date the holding manager has still to agree."""
    t = requested(BURY)
    t.accept(RM, later(1), BURY, agreed_date=date(2026, 12, 4))
    return t


CAPACITY_HOS = Actor("U0HOS", frozenset({Role.capacity_level}))


def capacity_raised(*, withdrawn: bool = False) -> Transfer:
    """A Rochdale request whose capacity concern is with the Head of Service (then withdrawn)."""
    t = requested(ROCHDALE)
    t.raise_capacity_concern(RM, later(1), ROCHDALE, concern="Three vacancies in the team this month")
    if withdrawn:
        t.withdraw(PP, later(2), reason="The family moved out of the area")
    return t


@dataclass(frozen=True)
class Case:
    """One catalogue entry's examples: a transfer it applies to, who may and who may not take it
    there, and a transfer in a state it does not allow."""

    setup: Callable[[], Transfer]
    allowed: Actor
    refused: Actor
    wrong: Callable[[], Transfer]


CASES: dict[str, Case] = {
    "request": Case(heads_up, PP, RM, requested),
    "accept": Case(requested, RM, HM, completed),
    "decline": Case(requested, RM, PP, accepted),
    "request_work": Case(requested, RM, HM, declined),
    "work_done": Case(work_asked, PP, RM, work_asked_then_withdrawn),
    "confirm": Case(requested, PP, RSW, completed),
    "attendance": Case(at_transfer_point, HM, PP, declined_at_transfer_point),
    "allocate": Case(accepted, RM, HM, requested),
    "complete": Case(accepted, HM, PP, completed),
    "withdraw": Case(requested, PP, RM, disputed),
    "dispute": Case(declined, HM, PP, completed),
    "escalate": Case(disputed, RM, PP, declined),
    "decide": Case(disputed, RM, PP, requested),  # the team managers decide at the first rung
    "record_delay": Case(breached, PP, RM, completed),
    "endorse": Case(requested, HOLDING_SENIOR, SENIOR, withdrawn),
    "address_assessed": Case(lambda: requested(flags=HOME_VISIT), RM, PP,
                             lambda: accepted(flags=HOME_VISIT)),
    "agree_without_sign_off": Case(s2_urgent, HOLDING_SENIOR, SENIOR, s2_urgent_completed),
    "convert": Case(lambda: requested(kind="temporary"), HM, PP,
                    lambda: completed(kind="temporary")),
    "capacity_concern": Case(lambda: requested(ROCHDALE), RM, PP, lambda: completed(ROCHDALE)),
    "agree_date": Case(accepted_with_date, HM, PP, lambda: declined(BURY)),
    "capacity_resolved": Case(capacity_raised, CAPACITY_HOS, RM, lambda: capacity_raised(withdrawn=True)),
}
NAMES = list(CASES)


def pack_of(t: Transfer) -> PolicyPack:
    """The builtin pack a transfer works under."""
    return PACKS[t.policy]


# ---- the rule, for every entry ---------------------------------------------------------------
def test_every_catalogue_entry_has_examples_here() -> None:
    """The examples below cover the whole catalogue, so a new action cannot go untested."""
    assert set(CASES) == set(actions.BY_NAME) == {a.name for a in CATALOGUE}


@pytest.mark.parametrize("name", NAMES)
def test_allowed_actor_may_take_the_step(name: str) -> None:
    """The example actor holds one of the entry's roles on a transfer in one of its states."""
    c, a = CASES[name], actions.BY_NAME[name]
    t = c.setup()
    assert t.state in a.states
    assert refusal(a, t, c.allowed, pack_of(t)) is None
    actions.check(a, t, c.allowed, pack_of(t))  # raises nothing


@pytest.mark.parametrize("name", NAMES)
def test_refused_actor_gets_not_permitted_naming_who_can(name: str) -> None:
    """Someone without the entry's roles is refused with NotPermitted naming who can, the case
    and that nothing changed."""
    c, a = CASES[name], actions.BY_NAME[name]
    t = c.setup()
    err = refusal(a, t, c.refused, pack_of(t))
    assert isinstance(err, NotPermitted)
    msg = str(err)
    assert msg.startswith(f"Only {actions.who_can(a)} can ")
    assert t.case_ref in msg and msg.endswith("nothing has changed.")
    with pytest.raises(NotPermitted):
        actions.check(a, t, c.refused, pack_of(t))


@pytest.mark.parametrize("name", NAMES)
def test_wrong_state_is_refused_naming_the_state(name: str) -> None:
    """On a transfer in a state the entry does not allow, even the allowed actor gets a
    DomainError (not NotPermitted) naming the case, its state and the states that would do."""
    c, a = CASES[name], actions.BY_NAME[name]
    t = c.wrong()
    assert t.state not in a.states
    err = refusal(a, t, c.allowed, pack_of(t))
    assert isinstance(err, DomainError) and not isinstance(err, NotPermitted)
    msg = str(err)
    assert msg.startswith(f"{t.case_ref} is {STATE_LABELS[t.state].lower()}, so you cannot ")
    assert "only when it is" in msg and msg.endswith("nothing has changed.")


@pytest.mark.parametrize("name", NAMES)
def test_state_is_checked_before_role(name: str) -> None:
    """Someone not permitted, on the wrong state, is told about the state."""
    c, a = CASES[name], actions.BY_NAME[name]
    t = c.wrong()
    err = refusal(a, t, c.refused, pack_of(t))
    assert isinstance(err, DomainError) and not isinstance(err, NotPermitted)
    assert STATE_LABELS[t.state].lower() in str(err)


@pytest.mark.parametrize("name", NAMES)
def test_available_agrees_with_refusal(name: str) -> None:
    """For every person, on the entry's transfers, available() offers exactly the actions
    refusal() allows whose button is due now (``awaited``), in catalogue order."""
    c = CASES[name]
    for t in (c.setup(), c.wrong()):
        pack, clocks = pack_of(t), deadlines(t, pack_of(t), CAL)
        for person in PEOPLE:
            allowed = [a for a in CATALOGUE if refusal(a, t, person, pack) is None
                       and actions.offered_now(a, t, pack, clocks, NOW.date())]
            assert offered(t, person, pack) == allowed, (t.state, person.user)
    t = c.setup()
    assert actions.BY_NAME[name] in offered(t, c.allowed, pack_of(t))
    assert actions.BY_NAME[name] not in offered(t, c.refused, pack_of(t))


def test_baton_and_people_with_no_role_get_no_buttons() -> None:
    """The scheduler may take any step (refusal passes it) but is offered none; a person with no
    role on the transfer is offered none either."""
    t = requested()
    assert refusal(actions.BY_NAME["accept"], t, BATON, PROBATION) is None
    assert offered(t, BATON, PROBATION) == []
    assert offered(t, NOBODY, PROBATION) == []


def test_receiving_manager_sees_the_decision_steps_on_a_new_probation_request() -> None:
    """A requested probation transfer offers its receiving manager Accept, Decline, Ask for work,
    Raise a dispute and, where the receiving area does the home visit, Record address
    assessment; nothing of the holding team's alone."""
    names = [a.name for a in offered(requested(), RM, PROBATION)]
    assert names == ["accept", "decline", "request_work", "dispute"]
    names = [a.name for a in offered(requested(flags=HOME_VISIT), RM, PROBATION)]
    assert names == ["accept", "decline", "request_work", "dispute", "address_assessed"]


def test_refusal_of_a_completed_accept_reads_as_one_sentence() -> None:
    """The wording people see when a transfer has moved on."""
    err = refusal(actions.BY_NAME["accept"], completed(), RM, PROBATION)
    assert str(err) == ("X123456 is completed, so you cannot accept now "
                        "(only when it is requested or under assessment); nothing has changed.")


def test_refusal_of_a_member_accepting_names_the_managers_and_their_cover() -> None:
    """The wording people see when they hold the wrong role."""
    err = refusal(actions.BY_NAME["accept"], requested(), RSW, PROBATION)
    assert str(err) == ("Only the receiving team's managers (or their cover) can accept on "
                        "X123456; nothing has changed.")


def test_the_domain_refuses_with_the_catalogue_message() -> None:
    """Transfer.accept raises exactly what refusal() says, so buttons and steps cannot disagree."""
    t = completed()
    expected = str(refusal(actions.BY_NAME["accept"], t, RM, PROBATION))
    with pytest.raises(DomainError) as info:
        t.accept(RM, later(3), PROBATION)
    assert str(info.value) == expected


def test_unknown_action_lists_the_known_ones() -> None:
    """action() of a name not in the catalogue is a DomainError naming what Baton knows."""
    with pytest.raises(DomainError) as info:
        actions.action("approve")
    assert "'approve'" in str(info.value) and "accept" in str(info.value)
    assert actions.action("decline") is actions.BY_NAME["decline"]


# ---- conditions that come from the policy ----------------------------------------------------
def test_record_delay_applies_where_the_policy_asks_the_transferring_area() -> None:
    """Probation FAQ: "The responsibility for recording the reasons for delay and Senior
    Management endorsement lies with the transferring area." Bury has no such step."""
    a = actions.BY_NAME["record_delay"]
    assert refusal(a, requested(), PP, PROBATION) is None
    err = refusal(a, requested(BURY), PP, BURY)
    assert isinstance(err, DomainError) and not isinstance(err, NotPermitted)
    assert str(err) == f"The {BURY.title} policy has no such step."


DELAY = actions.BY_NAME["record_delay"]


def _names(t: Transfer, today: date) -> dict[str, list[str]]:
    return {p.user: [a.name for a in offered(t, p, PROBATION, today)] for p in PEOPLE}


def test_delay_reason_button_is_offered_from_the_20_day_breach_until_a_reason_is_recorded() -> None:
    """Probation FAQ: "Where this cannot be achieved, the reasons for the delay and actions being
    undertaken to progress must be fully recorded"; the transferring area is responsible "for
    recording the reason for delay if the 20 working-day deadline is missed". Requested Mon 23
    Nov: day 20 is Mon 21 Dec. The holding team is offered Record delay reason from Tue 22 Dec,
    and nobody is once a reason is recorded; a further reason stays possible (typed), an update."""
    t = requested()
    assert not any("record_delay" in n for n in _names(t, date(2026, 12, 21)).values())
    on_breach = _names(t, date(2026, 12, 22))
    assert "record_delay" in on_breach[PP.user] and "record_delay" in on_breach[HM.user]
    assert "record_delay" not in on_breach[RM.user]
    t.record_delay(PP, datetime(2026, 12, 22, 11, tzinfo=UTC), reason="Awaiting police checks",
                   actions="Chased the police twice", pack=PROBATION)
    for day in (date(2026, 12, 22), date(2027, 1, 4)):
        assert not any("record_delay" in n for n in _names(t, day).values()), day
    assert refusal(DELAY, t, PP, PROBATION) is None  # still recorded by `/transfer delay X123456`


def test_a_missed_expected_by_date_asks_again_for_a_delay_reason() -> None:
    """Probation FAQ: the reasons for delay "must be fully recorded". Endorsed with the transfer
    now expected by Fri 29 Jan 2027, the 20-day clock follows that date: when it is missed too
    (Mon 1 Feb) the holding team is asked again, until the new reason is recorded."""
    t = requested()
    t.record_delay(PP, datetime(2026, 12, 22, 11, tzinfo=UTC), reason="Awaiting police checks",
                   actions="Chased the police twice", pack=PROBATION)
    t.endorse_extension(HOLDING_SENIOR, datetime(2027, 1, 6, 11, tzinfo=UTC), pack=PROBATION,
                        rationale="Complex MAPPA case", expected_by=date(2027, 1, 29))
    assert "record_delay" not in _names(t, date(2027, 1, 29))[PP.user]
    assert "record_delay" in _names(t, date(2027, 2, 1))[PP.user]
    t.record_delay(HM, datetime(2027, 2, 1, 11, tzinfo=UTC), reason="Court date moved again",
                   actions="Asked the court to list it", pack=PROBATION)
    assert not any("record_delay" in n for n in _names(t, date(2027, 2, 1)).values())


def test_the_catalogue_says_which_buttons_are_offered_only_while_awaited() -> None:
    """The distinction is the catalogue's: Raise a dispute's button (after a decline, within the
    dispute window) and Record delay reason's wait for their step to be asked for, and `baton
    actions` (the README's table) says so and how to type it."""
    assert [a.name for a in CATALOGUE if a.awaited is not None] == ["dispute", "record_delay"]
    table = actions.catalogue_table(PACKS)
    row = next(r for r in table.splitlines() if r.startswith("| `record-delay`"))
    assert "from the 20-day breach until a reason is recorded" in row and "/transfer delay" in row


def test_endorse_applies_only_where_the_policy_asks_senior_managers() -> None:
    """Probation FAQ: "... and for providing Senior Management endorsement if the transfer
    extends to 30 days"; Leicestershire asks for no endorsement."""
    a = actions.BY_NAME["endorse"]
    assert refusal(a, requested(), HOLDING_SENIOR, PROBATION) is None
    assert str(refusal(a, requested(LEICS), HOLDING_SENIOR, LEICS)) == (
        f"The {LEICS.title} policy has no such step.")


def test_endorse_is_only_for_the_transferring_areas_senior_managers() -> None:
    """Probation FAQ: "The responsibility for recording the reasons for delay and Senior
    Management endorsement lies with the transferring area." A senior manager on the ladder who
    is not the holding area's is refused and offered no Endorse button."""
    a = actions.BY_NAME["endorse"]
    assert a.roles == (Role.holding_escalation,)
    t = requested()
    err = refusal(a, t, SENIOR, PROBATION)
    assert str(err) == ("Only the transferring area's senior managers can endorse extension on "
                        "X123456; nothing has changed.")
    assert a not in offered(t, SENIOR, PROBATION)
    assert a in offered(t, HOLDING_SENIOR, PROBATION)


def test_address_assessment_applies_only_where_the_policy_has_one() -> None:
    """Probation FAQ: "the receiving area are required to conduct the address assessment within
    10 working days of the request." Rochdale has no address assessment."""
    a = actions.BY_NAME["address_assessed"]
    assert refusal(a, requested(flags=HOME_VISIT), RM, PROBATION) is None
    assert "no address assessment" in str(refusal(a, requested(ROCHDALE), RM, ROCHDALE))


def test_address_assessment_only_when_the_receiving_area_does_the_home_visit() -> None:
    """Probation FAQ: "If this isn't possible, the receiving area are required to conduct the
    address assessment within 10 working days of the request." Without the
    receiving_area_home_visit flag the transferring officer visits, so no Record address
    assessment."""
    a = actions.BY_NAME["address_assessed"]
    err = refusal(a, requested(), RM, PROBATION)
    assert isinstance(err, DomainError) and not isinstance(err, NotPermitted)
    assert str(err) == ("X123456 does not ask the receiving area for an address assessment "
                        "(the transferring officer does the home visit).")
    assert a not in offered(requested(), RM, PROBATION)
    assert refusal(a, requested(flags=HOME_VISIT), RM, PROBATION) is None


def test_work_done_needs_work_to_have_been_asked_for() -> None:
    """Bury step 6: "the RTM advises HTM of the work outstanding and the work will be completed in
    10 working days"; with nothing asked for there is nothing to mark done."""
    a = actions.BY_NAME["work_done"]
    err = refusal(a, requested(BURY), PP, BURY)
    assert str(err) == "No work has been asked for on 101001."
    assert refusal(a, work_asked(), PP, BURY) is None


def test_convert_applies_only_to_a_temporary_move() -> None:
    """A permanent transfer has nothing to convert."""
    err = refusal(actions.BY_NAME["convert"], requested(), HM, PROBATION)
    assert str(err) == "X123456 is not a temporary move."


def test_attendance_needs_a_dated_transfer_point_not_yet_recorded() -> None:
    """Rochdale: "Should there be non-attendance without prior agreement from the receiving team
    at the agreed pro-active pick up point ..."; attendance is recorded once, against a date."""
    a = actions.BY_NAME["attendance"]
    assert "no transfer point date" in str(refusal(a, requested(BURY), HM, BURY))
    t = at_transfer_point()
    t.record_attendance(RM, later(days=10), attended=True)
    assert "already recorded" in str(refusal(a, t, HM, BURY))


def test_confirm_needs_an_item_this_person_confirms_still_open() -> None:
    """The receiving manager confirms only the MAPPA consultation, and only where the case is
    MAPPA level 2 or 3; the holding practitioner's checks are not theirs."""
    a = actions.BY_NAME["confirm"]
    err = refusal(a, requested(), RM, PROBATION)
    assert str(err) == "Nothing on the checklists of X123456 is waiting for you to confirm."
    assert refusal(a, requested(flags=("mappa_2_3",)), RM, PROBATION) is None


def test_confirm_is_not_offered_once_every_item_is_confirmed() -> None:
    """Council S2: "Transfers will not be requested prior to checklist being signed off by a
    Practice Manager"; once the sign-off is complete there is nothing left to confirm."""
    t = requested(S2)  # signs the whole pm_sign_off checklist first
    for item in S2.checklist("principles").items:  # and its advice lines
        t.confirm(HM, NOW, S2, checklist="principles", item=item.id)
    assert actions.BY_NAME["confirm"] not in offered(t, HM, S2)
    assert actions.confirmable(S2, fresh(S2), HM) != []


def test_only_the_holding_manager_disputes_a_decline() -> None:
    """Leicestershire: "If Team Managers are unable to resolve any dispute, then this should be
    escalated"; a decline is the holding manager's to dispute, not the practitioner's nor the
    manager who declined it."""
    a = actions.BY_NAME["dispute"]
    t = declined(LEICS)
    assert refusal(a, t, HM, LEICS) is None
    assert str(refusal(a, t, PP, LEICS)) == (
        "Only the holding team's managers or the receiving team's managers (or their cover) can "
        "raise a dispute on 101001; nothing has changed.")
    assert isinstance(refusal(a, t, RM, LEICS), actions.NotPermitted)


def test_either_manager_raises_a_dispute_about_a_live_transfer() -> None:
    """Leicestershire: "All disputes will be resolved within 5 Working Days": a disagreement
    about a live transfer, not only a decline, can be raised by either team's manager."""
    a = actions.BY_NAME["dispute"]
    t = requested(LEICS)
    assert refusal(a, t, HM, LEICS) is None and refusal(a, t, RM, LEICS) is None
    assert isinstance(refusal(a, t, PP, LEICS), actions.NotPermitted)


# ---- forms -----------------------------------------------------------------------------------
def test_parse_decline_returns_the_reason_and_cleaned_rationale() -> None:
    """A valid probation decline gives the reason id and the trimmed rationale."""
    out = parse(actions.BY_NAME["decline"], PROBATION, requested(), RM,
                {"reason_category": "heightened_risk", "rationale": f"  {RATIONALE}\x00  "})
    assert out == {"reason_category": "heightened_risk", "rationale": RATIONALE}


def test_parse_decline_without_pack_reasons_asks_for_the_rationale_only() -> None:
    """Rochdale lists no decline reasons, so its form has no reason field to fill."""
    out = parse(actions.BY_NAME["decline"], ROCHDALE, requested(ROCHDALE), RM,
                {"rationale": RATIONALE})
    assert out == {"rationale": RATIONALE}


def test_parse_accept_gives_a_date_and_a_user_or_none() -> None:
    """The agreed date becomes a date, the worker a user id; both may be left out."""
    a, t = actions.BY_NAME["accept"], requested()
    assert parse(a, PROBATION, t, RM, {"named_worker": " U0SPP1 ", "agreed_date": "2026-12-01"}) == {
        "named_worker": "U0SPP1", "agreed_date": date(2026, 12, 1), "rationale": None}
    assert parse(a, PROBATION, t, RM, {"agreed_date": date(2026, 12, 2)})["agreed_date"] == date(2026, 12, 2)
    assert parse(a, PROBATION, t, RM, {}) == {"named_worker": None, "agreed_date": None, "rationale": None}


def test_parse_work_items_gives_one_item_a_line() -> None:
    """Work items are split into lines, blank lines dropped and each trimmed."""
    out = parse(actions.BY_NAME["request_work"], BURY, requested(BURY), RM,
                {"items": "Update the chronology\n\n  Close LCS activities \n", "due": "2026-12-07"})
    assert out == {"items": ("Update the chronology", "Close LCS activities"), "due": date(2026, 12, 7)}


def test_parse_work_without_a_due_date_leaves_it_to_the_policy() -> None:
    """Bury step 6: "the work will be completed in 10 working days"; an empty due date is None,
    for the service to fill with the policy's timescale."""
    out = parse(actions.BY_NAME["request_work"], BURY, requested(BURY), RM,
                {"items": "Update the chronology", "due": ""})
    assert out == {"items": ("Update the chronology",), "due": None}


def test_parse_yes_no_gives_a_bool() -> None:
    """'yes', 'No' and a bool all become a bool; the optional note may be left out."""
    a, t = actions.BY_NAME["attendance"], at_transfer_point()
    assert parse(a, BURY, t, HM, {"attended": "yes"}) == {"attended": True, "agreed_absence": None,
                                                          "holding_attended": None, "note": None}
    assert parse(a, BURY, t, HM, {"attended": "No"})["attended"] is False
    assert parse(a, BURY, t, HM, {"attended": False})["attended"] is False
    with pytest.raises(FormErrors) as info:
        parse(a, BURY, t, HM, {"attended": "maybe"})
    assert info.value.errors == {"attended": "Did the receiving team attend the transfer point: "
                                             "choose yes or no."}


def test_parse_confirm_gives_checklist_and_item_pairs() -> None:
    """Each ticked 'checklist.item' becomes a (checklist, item) pair."""
    out = parse(actions.BY_NAME["confirm"], PROBATION, requested(), PP,
                {"items": ["transferring_checks.safeguarding_checks", "transferring_checks.home_visit"]})
    assert out == {"items": (("transferring_checks", "safeguarding_checks"),
                             ("transferring_checks", "home_visit"))}


def test_parse_confirm_refuses_an_item_this_person_cannot_confirm() -> None:
    """An item not offered to this person (here, one they do not confirm) is named as the error."""
    with pytest.raises(FormErrors) as info:
        parse(actions.BY_NAME["confirm"], PROBATION, requested(flags=("mappa_2_3",)), RM,
              {"items": ["transferring_checks.home_visit"]})
    assert "transferring_checks.home_visit cannot be confirmed now" in info.value.errors["items"]


def test_parse_decide_offers_transfer_or_remain() -> None:
    """A decision is one of the two outcomes."""
    a, t = actions.BY_NAME["decide"], disputed()
    out = parse(a, PROBATION, t, RM, {"outcome": "remain", "rationale": RATIONALE})
    assert out == {"outcome": "remain", "rationale": RATIONALE}
    with pytest.raises(FormErrors) as info:
        parse(a, PROBATION, t, RM, {"outcome": "split", "rationale": RATIONALE})
    assert info.value.errors == {"outcome": "Decision: choose one of the options."}


def test_form_errors_name_every_bad_field_at_once() -> None:
    """A decline with a reason not offered and a short rationale fails on both fields, each with
    its own message; the error's field is the first of them. Probation FAQ: permission "should be
    given unless the move would bring with it specific and heightened risks ... including where
    sentence outcomes may be potentially undermined by the absence of specified sentence, licence
    interventions, or services in the receiving area", so the reason message lists those two."""
    with pytest.raises(FormErrors) as info:
        parse(actions.BY_NAME["decline"], PROBATION, requested(), RM,
              {"reason_category": "too_busy", "rationale": "no"})
    err = info.value
    assert set(err.errors) == {"reason_category", "rationale"}
    assert err.errors["reason_category"] == (
        PROBATION.decline_reasons_intro + ": "
        + "; ".join(r.label for r in PROBATION.decline_reasons) + ".")
    assert err.errors["rationale"] == "Rationale: write at least 20 characters (2 so far)."
    assert err.field == "reason_category" and str(err) == err.errors["reason_category"]
    assert isinstance(err, DomainError)


def test_short_text_is_refused_with_the_minimum_length() -> None:
    """Text under a field's minimum says how long it must be and how long it is."""
    with pytest.raises(FormErrors) as info:
        parse(actions.BY_NAME["withdraw"], PROBATION, requested(), PP, {"reason": "Moved"})
    assert info.value.errors == {"reason": "Why the transfer is withdrawn: write at least 10 "
                                           "characters (5 so far)."}


def test_nul_characters_do_not_count_towards_the_minimum_length() -> None:
    """Control characters are stripped before the length is checked."""
    with pytest.raises(FormErrors) as info:
        parse(actions.BY_NAME["withdraw"], PROBATION, requested(), PP,
              {"reason": "Moved\x00\x00\x00\x00\x00"})
    assert "(5 so far)" in info.value.errors["reason"]


def test_long_text_is_refused_with_the_maximum_length() -> None:
    """Text over a field's maximum says the limit."""
    with pytest.raises(FormErrors) as info:
        parse(actions.BY_NAME["attendance"], BURY, at_transfer_point(), HM,
              {"attended": "yes", "note": "x" * 501})
    assert info.value.errors == {"note": "Note: keep it under 500 characters (501 now)."}


def test_a_date_that_is_not_a_date_is_refused() -> None:
    """A due date that does not parse is named, with the format Baton wants."""
    with pytest.raises(FormErrors) as info:
        parse(actions.BY_NAME["request_work"], BURY, requested(BURY), RM,
              {"items": "Update the chronology", "due": "next Friday"})
    assert info.value.errors == {"due": "To be done by: 'next Friday' is not a date (YYYY-MM-DD)."}


def test_required_fields_left_empty_are_each_named() -> None:
    """Missing, empty and blank values of required fields each say they are needed."""
    with pytest.raises(FormErrors) as info:
        parse(actions.BY_NAME["record_delay"], PROBATION, requested(), PP,
              {"reason": "   ", "actions": None})
    assert info.value.errors == {"reason": "Give the reason for the delay.",
                                 "actions": "Give the actions being taken to progress it."}
    with pytest.raises(FormErrors) as info:
        parse(actions.BY_NAME["allocate"], PROBATION, accepted(), RM, {})
    assert info.value.errors == {"named_worker": "Give the named worker."}


def test_clean_text_strips_nul_and_control_characters_but_keeps_tabs_and_lines() -> None:
    """NUL, bell and DEL go; tabs and line breaks stay; the ends are trimmed."""
    assert clean_text("  a\x00b\x07\tc\nd\x7f  ") == "ab\tc\nd"
    assert clean_text("\x00\x00") == ""


def test_command_for_builds_the_step_with_parsed_values() -> None:
    """Parsed form values fill the action's command."""
    a = actions.BY_NAME["decline"]
    values = parse(a, PROBATION, requested(), RM,
                   {"reason_category": "heightened_risk", "rationale": RATIONALE})
    step = actions.command_for(a, 7, RM.user, values)
    assert isinstance(step, a.command)
    assert (step.transfer_id, step.user) == (7, RM.user)


def test_every_form_field_kind_is_one_parse_understands() -> None:
    """Every field in the catalogue is of a kind parse() handles, and choice fields offer options
    on a transfer the action applies to."""
    for name, c in CASES.items():
        a, t = actions.BY_NAME[name], c.setup()
        for f in actions.form_fields(a, pack_of(t)):
            assert f.kind in set(actions.FieldKind)
            if f.kind in (actions.FieldKind.choice, actions.FieldKind.items, actions.FieldKind.yes_no):
                assert actions.choices(a, f, pack_of(t), t, c.allowed), (name, f.name)


def test_s2_receiving_team_decides_once_the_group_manager_agrees_to_go_without_sign_off() -> None:
    """S2: "Transfers will not be requested prior to checklist being signed off by a Practice
    Manager (PM) where this may cause unnecessary delay for a child the Group Manager will be
    contacted": Accept and Decline wait for that agreement; the Group Manager's button is offered
    only to the transferring side's senior managers, and only while it is awaited."""
    t = s2_urgent()
    assert not {"accept", "decline"} & {a.name for a in offered(t, RM, S2)}
    assert "Group Manager's agreement" in str(refusal(actions.BY_NAME["accept"], t, RM, S2))
    assert "agree_without_sign_off" in [a.name for a in offered(t, HOLDING_SENIOR, S2)]
    t.agree_without_sign_off(HOLDING_SENIOR, later(1), S2)
    assert {"accept", "decline"} <= {a.name for a in offered(t, RM, S2)}
    assert "agree_without_sign_off" not in [a.name for a in offered(t, HOLDING_SENIOR, S2)]
