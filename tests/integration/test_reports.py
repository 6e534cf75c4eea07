"""Reports over a seeded data set whose answers are known: counts, medians, RAG, exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date, datetime, time

import matplotlib.image as mpimg
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bot import services
from bot.domain import UK_TIME
from bot.org import Org
from bot.reports import rag
from bot.services import RaiseRequest
from handlers.charts import digest_chart, digest_figure
from scheduler.sweep import sweep
from store.repo import SqlUnitOfWork

UoW = Callable[[], SqlUnitOfWork]
MONDAY, SUNDAY = date(2026, 11, 16), date(2026, 11, 22)


def at(day: date, hour: int = 10) -> datetime:
    """``day`` at ``hour`` o'clock, UK time."""
    return datetime.combine(day, time(hour), tzinfo=UK_TIME)


@pytest.fixture
def seeded(uow: UoW, org: Org, engine: sa.Engine) -> None:
    """Six probation transfers, North -> South unless said:
    A raised 2 Nov, accepted and completed 12 Nov (8 working days);
    B raised 2 Nov, declined 20 Nov (14 working days);
    C raised 16 Nov, still open (due 14 Dec);
    D raised 19 Oct, open, breached (resolution due 16 Nov; swept 17 Nov) and its endorsement
      overdue on 22 Nov? (due 30 Nov: no);
    E raised 18 Nov South -> North, withdrawn 19 Nov (1 working day);
    F raised 1 Oct, open, resolution and endorsement both overdue."""
    def raise_(ref: str, day: date, user: str = "U0NPP1", to: str = "pdu-south") -> int:
        with uow() as u:
            t = services.raise_transfer(u, org, user, RaiseRequest(case_ref=ref, receiving_team=to),
                                        at(day))
        assert t.id is not None
        return t.id

    a = raise_("A000001", date(2026, 11, 2))
    with uow() as u:
        services.act(u, org, "U0SMGR", a, "accept", at(date(2026, 11, 10)))
    with uow() as u:
        services.act(u, org, "U0NMGR", a, "complete", at(date(2026, 11, 12)))
    b = raise_("B000002", date(2026, 11, 2))
    with uow() as u:
        services.act(u, org, "U0SMGR", b, "decline", at(date(2026, 11, 20)), rationale="risk",
                     reason_category="heightened_risk")
    raise_("C000003", date(2026, 11, 16))
    raise_("D000004", date(2026, 10, 19))
    e = raise_("E000005", date(2026, 11, 18), user="U0SPP1", to="pdu-north")
    with uow() as u:
        services.act(u, org, "U0SPP1", e, "withdraw", at(date(2026, 11, 19)), reason="stays put")
    raise_("F000006", date(2026, 10, 1))
    sweep(engine, org, at(date(2026, 11, 17)))


def test_weekly_summary_counts_and_median(seeded: None, uow: UoW, org: Org) -> None:
    """16-22 Nov: opened C and E; resolved B (14) and E (1): median 7.5; breached D (and F's
    address and resolution clocks before the period don't count); two open overdue."""
    with uow() as u:
        s = services.report(u, org, start=MONDAY, end=SUNDAY)
    assert (s.opened, s.resolved) == (2, 2)
    assert s.median_days_to_resolution == 7.5
    assert s.breached == 2  # D and F were first swept (and breached) on 17 Nov
    assert s.open_now == 3 and s.overdue_now == 2
    assert s.awaiting_endorsement == 1  # F: endorsement due 12 Nov
    south = next(t for t in s.by_team if t.team == "pdu-south")
    assert (south.open, south.opened, south.resolved) == (3, 1, 1)
    assert s.by_state == {"requested": 3}


def test_rag_by_working_days(org: Org) -> None:
    """Overdue is red; within three working days amber; further out green; no clock green."""
    cal = services.calendar(org)
    today = date(2026, 11, 23)
    assert rag(date(2026, 11, 20), today, cal) == "red"
    assert rag(date(2026, 11, 26), today, cal) == "amber"
    assert rag(date(2026, 11, 30), today, cal) == "green"
    assert rag(None, today, cal) == "green"


def test_export_csv_and_json_carry_case_refs_only(seeded: None, db_url: str) -> None:
    """The export lists each transfer touching the period with working days to resolution."""
    runner = CliRunner()
    env = {"DATABASE_URL": db_url, "BATON_NOW": "2026-11-23T10:00:00+00:00"}
    from handlers.cli import app

    out = runner.invoke(app, ["export", "--format", "csv", "--from", "2026-11-16", "--to",
                              "2026-11-22"], env=env)
    assert out.exit_code == 0, out.stderr
    rows = {r["case_ref"]: r for r in csv.DictReader(io.StringIO(out.stdout))}
    assert set(rows) == {"B000002", "C000003", "D000004", "E000005", "F000006"}
    assert rows["B000002"]["working_days_to_resolution"] == "14"
    assert rows["D000004"]["breached_on"] == "2026-11-17" and rows["D000004"]["rag"] == "red"
    js = json.loads(runner.invoke(app, ["export", "--format", "json", "--from", "2026-11-16",
                                        "--to", "2026-11-22"], env=env).stdout)
    assert {r["case_ref"] for r in js} == set(rows)
    assert runner.invoke(app, ["export", "--format", "xml"], env=env).exit_code == 1


def test_report_table_prints_the_same_summary(seeded: None, db_url: str) -> None:
    """`baton report` prints the period's counts and the median as a table."""
    from handlers.cli import app

    out = CliRunner().invoke(app, ["report", "--from", "2026-11-16", "--to", "2026-11-22"],
                             env={"DATABASE_URL": db_url})
    assert out.exit_code == 0
    assert "opened 2   resolved 2   breached 2" in out.stdout
    assert "median working days to resolution 7.5" in out.stdout
    assert "pdu-south" in out.stdout


def test_last_team_answers_re_referrals_within_the_policy_window(uow: UoW, org: Org) -> None:
    """Bury: transferred 12 Nov, the case closed with bury-cin that day; on 1 Dec a re-referral
    goes back; after 12 weeks it does not."""
    with uow() as u:
        gate = org.pack_for("bury-assessment").gating("request")[0]
        t = services.raise_transfer(u, org, "U0BAMGR", RaiseRequest(
            case_ref="100001", receiving_team="bury-cin",
            confirmed=tuple((gate.id, i.id) for i in gate.items)), at(date(2026, 11, 2)))
    assert t.id
    with uow() as u:
        services.act(u, org, "U0BCMGR", t.id, "accept", at(date(2026, 11, 10)),
                     named_worker=org.team("bury-cin").members[0])
    with uow() as u:
        services.act(u, org, "U0BAMGR", t.id, "complete", at(date(2026, 11, 12)))
    with uow() as u:
        services.record_closure(u, org, "U0BCMGR", "100001", at(date(2026, 11, 12)))
    with uow() as u:
        soon = services.last_team_answer(u, org, " 100001 ", date(2026, 12, 1))
        late = services.last_team_answer(u, org, "100001", date(2027, 2, 5))
        none = services.last_team_answer(u, org, "100002", date(2026, 12, 1))
    assert soon is not None and (soon.team, soon.closed_on, soon.goes_back) == (
        "bury-cin", date(2026, 11, 12), True)
    assert late is not None and late.goes_back is False and late.rule == "12 weeks"
    assert none is None


def test_agenda_lists_open_cases_with_checklist_progress(seeded: None, uow: UoW, org: Org) -> None:
    """The agenda has the open, undecided cases of my teams with each checklist's count."""
    with uow() as u:
        items = services.agenda(u, org, "U0SMGR", date(2026, 11, 23))
    assert [t.case_ref for t, _ in items] == ["C000003", "D000004", "F000006"]
    labels = [label for label, _, _ in items[0][1]]
    assert "Transferring area's initial assessment" in labels
    assert all(done == 0 for _, done, _ in items[0][1])


def test_digest_chart_is_a_labelled_800_by_450_png(seeded: None, uow: UoW, org: Org,
                                                   tmp_path: object) -> None:
    """The chart is a PNG of the right size, not blank, titled with the period and median."""
    with uow() as u:
        s = services.report(u, org, start=MONDAY, end=SUNDAY)
    png = digest_chart(s)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(io.BytesIO(png), format="png")
    assert img.shape[:2] == (450, 800)
    assert (img[..., :3] < 0.9).any()  # something is drawn
    fig = digest_figure(s)
    ax = fig.axes[0]
    assert "median 7.5 working days" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["pdu-north", "pdu-south"]
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["Opened", "Resolved", "Breached"]


def test_digest_chart_of_a_quiet_week_has_no_negative_axis(org: Org) -> None:
    """With nothing opened, resolved or breached the axis runs from 0, not below it."""
    from bot.reports import Summary, TeamLine

    fig = digest_figure(Summary(start=MONDAY, end=SUNDAY, by_team=[TeamLine("pdu-south", open=1)]))
    low, high = fig.axes[0].get_ylim()
    assert low == 0 and high >= 1
