"""Clocks a case record starts with or without a transfer (issue 21 item 4), each test quoting
its seed: the pack's clock, its due date (with its time for an hours clock), who owes it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import obligations
from bot.calendar import UK_TIME, calendar_for
from bot.org import Org
from bot.pack_tables import pack_tables
from bot.policy import PolicyError, all_builtin_packs, builtin_pack, load_pack
from bot.record_clocks import CaseRecord, RecordStepKind, occurrences, record_steps, running

CAL = calendar_for("ENG", frozenset())
SEEDS = Path("/work/shared/seeds")
RECORDED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2019", "'")).strip()


def record(kind: str, on: date, team: str, *, at: datetime | None = None, ends_on: date | None = None,
           recorded_at: datetime = RECORDED) -> CaseRecord:
    """A record made by ``U0X`` for case 123456."""
    return CaseRecord("123456", kind, on, team, "U0X", recorded_at, at=at, ends_on=ends_on)


def due(pack: str, clock: str, r: CaseRecord, now: datetime = RECORDED) -> tuple[date, datetime | None]:
    """The first occurrence of a pack's record clock on a record."""
    p = builtin_pack(pack)
    d = occurrences(r, next(c for c in p.record_clocks if c.name == clock), CAL, now.date())[0]
    return d.due_on, d.due_at


def test_every_record_clock_quotes_its_seed_word_for_word() -> None:
    """Every record clock's and case record's source is the seed's own words."""
    if not SEEDS.exists():
        pytest.skip("the seeds are not on this machine")
    text = _norm(" ".join(p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")))
    for p in all_builtin_packs().values():
        for c in p.record_clocks:
            assert _norm(c.source) in text, (p.name, c.name)
        for k in p.case_records:
            assert _norm(k.source) in text, (p.name, k.id)


def test_bury_s20_runs_five_months_from_the_accommodation_record() -> None:
    """BURY: "no later than 5 months following accommodation": from the record, no request needed."""
    assert due("bury", "s20_to_cypic", record("accommodated", date(2026, 10, 1), "bury-assessment")) == (
        date(2027, 3, 1), None)


def test_leicestershire_urgent_iva_is_due_48_elapsed_hours_after_the_time_recorded() -> None:
    """LEICS: "In the case of urgent placement IVA's these need to be completed within 48 hours":
    a Friday 14:30 referral is due 14:30 Sunday (hours count weekends), said with its time."""
    r = record("viability_referral", date(2026, 12, 4), "leics-frcd",
               at=datetime(2026, 12, 4, 14, 30, tzinfo=UK_TIME))
    on, at = due("leicestershire", "urgent_iva", r)
    assert (on, at) == (date(2026, 12, 6), datetime(2026, 12, 6, 14, 30, tzinfo=UK_TIME))
    pack = builtin_pack("leicestershire")
    now = datetime(2026, 12, 6, 9, 30, tzinfo=UK_TIME)
    ob = obligations.of_record(r, pack, None, CAL, now)[0]
    words = obligations.deadline_words(ob.deadline, CAL, now.date(), now)
    assert words.endswith("by 14:30 Sun 6 Dec 2026 (5 hours left)")


def test_leicestershire_frcd_oversight_is_24_hours_and_owed_by_the_managers(org: Org) -> None:
    """LEICS: "manager oversight to incoming contact information within 24 hours": the team's
    managers owe it and are told when it is recorded; at the breach the next level hears too."""
    pack = builtin_pack("leicestershire")
    at = datetime(2026, 12, 7, 16, 0, tzinfo=UK_TIME)
    r = record("frcd_contact", at.date(), "leics-frcd", at=at)
    (clock, d), = running(r, pack.record_clocks, CAL, at)
    assert d.due_at == at + timedelta(hours=24)
    assert [s.kind for s in record_steps(clock, d, CAL)] == [
        RecordStepKind.asked, RecordStepKind.reminder, RecordStepKind.breach]
    ob = obligations.of_record(r, pack, org, CAL, at)[0]
    assert obligations.record_people(ob, r, pack, org) == list(org.team("leics-frcd").managers)


def test_rochdale_interim_core_group_is_due_5_days_after_the_icpc() -> None:
    """ROCH: "interim position is at responsibility will transfer at Core Group within 5 days of
    the ICPC" (days: the seed never says working days)."""
    assert due("rochdale", "interim_core_group", record("icpc", date(2026, 12, 4), "roch-frt-1"))[0] == date(
        2026, 12, 9)


def test_rochdale_cwd_notice_at_16_and_transfer_on_the_18th_birthday() -> None:
    """ROCH: "Notification referral to Adults to be made at 16 yrs" / "Transfer point in on 18th
    birthday unless C4C": a 29 February birthday falls on 28 February."""
    r = record("date_of_birth", date(2012, 2, 29), "roch-frt-1")
    assert due("rochdale", "cwd_adults_notice", r)[0] == date(2028, 2, 29)
    assert due("rochdale", "cwd_adults_transfer", r)[0] == date(2030, 2, 28)


def test_bury_cin_review_is_convened_two_months_before_the_supervision_order_ends() -> None:
    """BURY: "Two months prior to the end of the Order a CIN review will be convened"."""
    r = record("supervision_order_ends", date(2027, 3, 31), "bury-cin")
    assert due("bury", "so_cin_review", r)[0] == date(2027, 1, 31)


def test_three_month_cin_clocks_after_a_cp_plan_ends_and_after_leaving_care() -> None:
    """BURY: "at least 3 months under a CIN Plan"; LEICS: "Case retained by the Children in Care
    Service to continue work with the family for 3 months"."""
    assert due("bury", "cin_after_cp", record("cp_plan_ended", date(2026, 11, 30), "bury-cin"))[0] == date(
        2027, 2, 28)
    assert due("leicestershire", "cic_keeps_cin",
               record("left_care_cin", date(2026, 11, 30), "leics-cic"))[0] == date(2027, 2, 28)


def test_probation_monthly_contact_repeats_until_the_move_ends_with_the_video_call_advice() -> None:
    """FAQ: "Minimum monthly face to face contact must be maintained in line with National
    Standards ... via a three way video call": each month to the end date; done moves it on."""
    pack = builtin_pack("probation")
    r = record("temporary_move", date(2026, 10, 1), "pdu-north", ends_on=date(2027, 1, 15))
    clock = pack.record_clocks[0]
    assert [d.due_on for d in occurrences(r, clock, CAL, date(2027, 6, 1))] == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]
    now = datetime(2026, 12, 7, 10, tzinfo=UTC)
    ob = obligations.of_record(r, pack, None, CAL, now)[0]
    assert ob.due_on == date(2026, 11, 1) and "three-way video call" in ob.verb
    done = CaseRecord(**{**r.__dict__, "done": ("monthly_contact@2026-11-01",)})
    assert obligations.of_record(done, pack, None, CAL, now)[0].due_on == date(2026, 12, 1)


def test_s2_leaving_care_co_work_at_16_and_full_transfer_at_18() -> None:
    """S2: "LCS allocates a personal advisor to co work at 16 and child fully transfers to LCS at 18"."""
    r = record("date_of_birth", date(2010, 6, 1), "s2-fsp")
    assert due("council-s2", "pa_cowork_16", r)[0] == date(2026, 6, 1)
    assert due("council-s2", "leaving_care_18", r)[0] == date(2028, 6, 1)


def test_a_transfer_clock_cannot_count_hours(tmp_path: Path) -> None:
    """Hours belong to a case record's time; a transfer clock in hours is refused, named."""
    text = Path("policies/bury.yml").read_text(encoding="utf-8").replace(
        "unit: months\n    starts: accommodated", "unit: hours\n    starts: accommodated")
    bad = tmp_path / "bury.yml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match="an hours clock runs from a case record"):
        load_pack(bad)


def test_the_policy_tables_list_each_record_clock_with_its_seed() -> None:
    """`baton policy tables`: each record clock, its record, length in hours or days, and quote."""
    tables = pack_tables(all_builtin_packs())
    assert "| `urgent_iva`:" in tables and "48 hours" in tables and "2 months before" in tables
    assert "`record done`" in tables


@given(hour=st.integers(0, 23), minute=st.integers(0, 59), days=st.integers(0, 800),
       hours=st.sampled_from([24, 48]))
def test_an_hours_clock_is_due_exactly_its_hours_later_whatever_the_day(hour: int, minute: int, days: int,
                                                                        hours: int) -> None:
    """Hours count elapsed time: due = recorded moment + hours, weekends and bank holidays included."""
    at = datetime.combine(date(2026, 1, 1) + timedelta(days=days), time(hour, minute), tzinfo=UK_TIME)
    pack = builtin_pack("leicestershire")
    clock = next(c for c in pack.record_clocks if c.hours and c.length == hours)
    kind = clock.record
    d = occurrences(record(kind, at.date(), "leics-frcd", at=at), clock, CAL, at.date())[0]
    assert d.due_at is not None and d.due_at.astimezone(UTC) - at.astimezone(UTC) == timedelta(hours=hours)
    assert all(at < r < d.due_at for r in d.remind_at)
