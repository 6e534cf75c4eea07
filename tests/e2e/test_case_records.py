"""Case records as people make them: `/transfer record` on Slack and `transfer record` in the
Teams chat start a policy clock with no transfer yet; the scheduler tells the people its
obligation names (issue 21 item 4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

import sqlalchemy as sa
from slack_sdk import WebClient

from bot import services
from bot.domain import UK_TIME
from bot.org import Org
from sandbox.slack_api import SlackStandIn
from sandbox.teams.driver import TeamsDriver
from sandbox.teams.standin import card_of, card_text
from scheduler.sweep import tick
from store.repo import SqlUnitOfWork
from tests.e2e.conftest import texts
from tests.e2e.slack import TOKEN, SlackDriver, slack_delivery, wait

UoW = Callable[[], SqlUnitOfWork]
FRCD_SW, FRCD_MGR = "U0LFSW1", "U0LFMGR"
AUDIT = tuple(("holding_manager_audit", i) for i in (
    "assessments_complete", "recording_up_to_date", "chronology_current", "cypic_assessment"))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A UK time."""
    return datetime.combine(day, time(hour, minute), tzinfo=UK_TIME)


def _said(slack: SlackDriver, user: str, words: str) -> str:
    before = len(slack.api.responses)
    slack.command(user, words)
    wait(slack.api, lambda: len(slack.api.responses) > before)
    said = slack.api.responses[-1]
    assert said.effect == "ephemeral"
    return str(said.payload["text"]) + texts(said.payload.get("blocks"))


def test_slack_urgent_viability_referral_is_due_in_48_hours_and_its_people_hear_at_night(
        slack: SlackDriver, api: SlackStandIn, engine: sa.Engine, org: Org) -> None:
    """LEICS: "In the case of urgent placement IVA's these need to be completed within 48 hours":
    recorded Monday 09:30 with no transfer, due 09:30 Wednesday; the reminder comes 8 hours
    before, at night (hours count every hour), and the breach tells the managers too."""
    said = _said(slack, FRCD_SW, "record 123456 viability_referral 2026-11-23 09:30")
    assert "by 09:30 Wed 25 Nov 2026" in said and "123456" in said
    client = WebClient(token=TOKEN, base_url=api.api_url)
    tick(engine, org, slack_delivery(engine, org, client), at(date(2026, 11, 25), 2))
    night = wait(api, lambda: api.messages(FRCD_SW))
    assert "Reminder" in texts(night[-1].blocks) and "123456" in texts(night[-1].blocks)
    assert not api.messages(FRCD_MGR)
    tick(engine, org, slack_delivery(engine, org, client), at(date(2026, 11, 25), 9, 31))
    missed = wait(api, lambda: api.messages(FRCD_MGR))
    assert "Missed" in texts(missed[-1].blocks)
    tick(engine, org, slack_delivery(engine, org, client), at(date(2026, 11, 25), 9, 45))
    assert len(api.messages(FRCD_MGR)) == 1  # once
    done = _said(slack, FRCD_SW, "record done 123456 viability_referral")
    assert done.startswith("Done on 123456") and "Nothing is owed" in done


def test_slack_record_refuses_a_bad_kind_date_or_case_and_records_nothing(
        slack: SlackDriver, engine: sa.Engine) -> None:
    """Each mistake gets its own message; the usage line names the reader's kinds."""
    assert "Kinds: viability_referral" in _said(slack, FRCD_SW, "record")
    assert "'bogus' is not a case record" in _said(slack, FRCD_SW, "record 123456 bogus 2026-11-20")
    assert "is not a date" in _said(slack, FRCD_SW, "record 123456 left_care_cin 2026-02-30")
    assert "case reference is not valid" in _said(slack, FRCD_SW, "record AB12 left_care_cin 2026-11-20")
    assert "in the future" in _said(slack, FRCD_SW, "record 123456 left_care_cin 2027-01-20")
    with engine.connect() as c:
        rows = c.execute(sa.text("SELECT case_ref, kind, on_date FROM case_record")).all()
    assert rows == []
    assert "record CASE KIND" in _said(slack, FRCD_SW, "help")


def test_teams_icpc_record_asks_for_the_core_group_within_5_days(teams: TeamsDriver) -> None:
    """ROCH: "interim position is at responsibility will transfer at Core Group within 5 days of
    the ICPC", typed in the Teams chat."""
    teams.install("U0RFSW1")
    card = card_of(teams.ask("U0RFSW1", "transfer record 2001234 icpc 2026-11-20"))
    assert card is not None
    said = card_text(card)
    assert "hold the core group for 2001234" in said and "Wed 25 Nov 2026" in said
    assert "`" not in said
    usage = card_text(card_of(teams.ask("U0RFSW1", "transfer record")) or {}).replace("\\", "")
    assert "transfer record CASE KIND" in usage and "date_of_birth" in usage


def test_bury_s20_record_dates_the_cypic_request_and_the_request_ends_its_clock(
        uow: UoW, org: Org) -> None:
    """BURY: "no later than 5 months following accommodation": the accommodation recorded first
    is the request's date (not asked twice); raising the CYPiC transfer ends the record's clock,
    and the transfer's own s20_five_months clock runs from the same date."""
    now = at(date(2026, 11, 23), 10)
    with uow() as u:
        services.record_case(u, org, "U0BAMGR", ["2001234", "accommodated", "2026-10-01"], now)
    with uow() as u:
        t = services.raise_transfer(u, org, "U0BAMGR", services.RaiseRequest(
            case_ref="2001234", receiving_team="bury-cin", kind="children_in_care",
            circumstance="s20_long_term", confirmed=AUDIT), now)
    assert t.accommodated_on == date(2026, 10, 1)
    d = {x.clock: x for x in services.transfer_deadlines(org, t)}
    assert d["s20_five_months"].due_on == date(2027, 3, 1)
    with uow() as u:
        assert u.case_records.open_of_case("2001234") == []


def test_a_record_whose_clocks_ended_goes_at_purge_and_an_open_one_stays(uow: UoW, org: Org) -> None:
    """Retention: a case record is kept while its clocks run, and purged with closed transfers."""
    now = at(date(2026, 11, 23), 10)
    with uow() as u:
        services.record_case(u, org, "U0LFSW1", ["123456", "left_care_cin", "2026-11-20"], now)
        services.record_case(u, org, "U0LFSW1", ["654321", "left_care_cin", "2026-11-20"], now)
    with uow() as u:
        services.record_done(u, org, "U0LFSW1", ["123456", "left_care_cin"], now)
    with uow() as u:
        services.purge(u, at(date(2026, 11, 24), 0))
    with uow() as u:
        assert [r.case_ref for r in u.case_records.open_of_case("654321")] == ["654321"]
        left = u.session.execute(sa.text("SELECT case_ref FROM case_record")).scalars().all()
    assert left == ["654321"]
