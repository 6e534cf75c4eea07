"""Who sees a case record's duties in lists and homes (bot/usecases/record_lists.py): its team,
and its next ladder level once a duty is missed; nobody else, at any moment, in any list."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import services
from bot.domain import UK_TIME
from bot.org import Org, load_org
from tests.fakes import FakeUnitOfWork

ORG = load_org()
RECORDED = datetime.combine(date(2026, 11, 23), time(10), tzinfo=UK_TIME)
PEOPLE = sorted({p for t in ORG.teams for p in (*t.managers, *t.members)} | {"U0SVCMGR", "U0HOS", "U0SMT1"})


def _recorded() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    services.record_case(uow, ORG, "U0LFSW1", ["123456", "viability_referral", "2026-11-23", "09:30"],
                         RECORDED)
    return uow


def _may_see(org: Org, user: str, late: bool) -> bool:
    team = org.team("leics-frcd")
    level = org.contact("leics-frcd", "service_manager")
    return user in (*team.managers, *team.members) or (late and level is not None and user in level.users)


@settings(max_examples=60, deadline=None)
@given(user=st.sampled_from(PEOPLE), scope=st.sampled_from(["mine", "team", "overdue"]),
       hours=st.integers(min_value=0, max_value=24 * 5))
def test_a_record_duty_is_seen_only_by_its_team_and_once_missed_its_next_level(
        user: str, scope: str, hours: int) -> None:
    """LEICS: "In the case of urgent placement IVA's these need to be completed within 48 hours":
    for anyone, any list and any moment in the next five days, the referral's duty is listed only
    to FRCD's members and managers, and to its Service Manager once the 48 hours have passed."""
    now = RECORDED + timedelta(hours=hours)
    late = now > datetime.combine(date(2026, 11, 25), time(9, 30), tzinfo=UK_TIME)
    listed = [d.case_ref for d in services.record_duties(_recorded(), ORG, user, scope, now)]
    if listed:
        assert _may_see(ORG, user, late), (user, scope, hours)
    if scope == "overdue" and listed:
        assert late
    if user == "U0LFMGR":  # the managers owe it: in each of their lists it belongs in
        assert listed == (["123456"] if scope != "overdue" or late else [])
