"""The ``baton`` command line, run with typer's CliRunner against the test database."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bot import services
from bot.org import Org
from handlers.cli import app
from store.repo import SqlUnitOfWork

runner = CliRunner()


@pytest.fixture
def env(db_url: str, engine: sa.Engine) -> dict[str, str]:
    """Environment for a CLI run: the (emptied) test database and a fixed 'now'."""
    return {"DATABASE_URL": db_url, "BATON_NOW": "2026-11-23T10:00:00+00:00", "BATON_ORG": ""}


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run baton with ``args``; returns exit code, stdout and stderr."""
    r = runner.invoke(app, list(args), env=env)
    return r.exit_code, r.stdout, r.stderr


def test_deadlines_json_gives_each_clock_with_its_iso_due_date(env: dict[str, str]) -> None:
    """Probation from Fri 18 Dec 2026: 20 working days over Christmas lands on 20 Jan 2027."""
    code, out, _ = run(env, "deadlines", "--policy", "probation", "--start", "2026-12-18", "--json")
    assert code == 0
    rows = {r["clock"]: r for r in json.loads(out)}
    assert rows["resolution"]["due"] == "2027-01-20"
    assert rows["resolution"]["working_days"] == 20
    assert rows["address_assessment"]["due"] == "2027-01-06"
    assert rows["endorsement"]["due"] == "2027-02-03"


def test_deadlines_in_scotland_use_scottish_holidays(env: dict[str, str]) -> None:
    """SCT has 2 January, so a clock over New Year ends a day later than in England."""
    _, eng, _ = run(env, "deadlines", "--policy", "probation", "--start", "2026-12-18", "--json")
    _, sct, _ = run(env, "deadlines", "--policy", "probation", "--start", "2026-12-18",
                    "--region", "SCT", "--json")
    assert json.loads(eng)[0]["due"] < json.loads(sct)[0]["due"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("deadlines", "--policy", "probation", "--start", "18/12/2026"),
         "--start: '18/12/2026' is not a date"),
        (("deadlines", "--policy", "nope", "--start", "2026-12-18"), "no policy pack called 'nope'"),
        (("deadlines", "--policy", "bury", "--start", "2026-12-18", "--region", "XX"), "unknown region 'XX'"),
    ],
)
def test_deadlines_bad_input_is_named(env: dict[str, str], args: tuple[str, ...], message: str) -> None:
    """A bad date, pack or region exits 1 with a specific message."""
    code, _, err = run(env, *args)
    assert code == 1 and message in err


def test_import_then_list_overdue_as_json(env: dict[str, str], tmp_path: Path) -> None:
    """Imported transfers are listed; --overdue keeps only those past a running deadline (an
    import carries no flags, so no address assessment: the 20-day clock is the one due)."""
    f = tmp_path / "tracker.csv"
    f.write_text("case_ref,holding_team,receiving_team,requested_on,kind\n"
                 "X000001,pdu-north,pdu-south,2026-10-01,permanent\n"
                 "X000002,pdu-south,pdu-north,2026-11-20,permanent\n")
    code, out, _ = run(env, "import", str(f))
    assert (code, out.strip()) == (0, "Imported 2 transfer(s).")
    code, out, _ = run(env, "transfers", "list", "--json")
    rows = json.loads(out)
    assert {r["case_ref"] for r in rows} == {"X000001", "X000002"}
    assert set(rows[0]) >= {"case_ref", "state", "holding_team", "receiving_team", "due"}
    code, out, _ = run(env, "transfers", "list", "--overdue", "--json")
    assert [(r["case_ref"], r["due"]) for r in json.loads(out)] == [("X000001", "2026-10-29")]
    code, out, _ = run(env, "transfers", "list")
    assert "X000002" in out and "resolution" in out and "address_assessment" not in out


def test_import_with_a_bad_row_exits_nonzero_and_imports_nothing(env: dict[str, str],
                                                                 tmp_path: Path) -> None:
    """One bad row: the file is refused with the line number, and the list stays empty."""
    f = tmp_path / "tracker.csv"
    f.write_text("case_ref,holding_team,receiving_team,requested_on,kind\n"
                 "X000001,pdu-north,pdu-south,2026-10-01,permanent\n"
                 "X000002,pdu-south,mars,2026-11-20,permanent\n")
    code, _, err = run(env, "import", str(f))
    assert code == 1
    assert "line 3: unknown team 'mars'" in err and "Nothing imported" in err
    assert json.loads(run(env, "transfers", "list", "--json")[1]) == []


def test_list_refuses_an_unknown_team(env: dict[str, str]) -> None:
    """--team with a team not in the org file is named in the error."""
    code, _, err = run(env, "transfers", "list", "--team", "atlantis")
    assert code == 1 and "unknown team 'atlantis'" in err


def test_org_check_accepts_the_demo_org_and_names_a_bad_buddy(env: dict[str, str], tmp_path: Path) -> None:
    """A good org file passes; a buddy that is not a team is refused, naming it."""
    demo = Path(__file__).parents[2] / "policies" / "demo-org.yml"
    code, out, _ = run(env, "org", "check", str(demo))
    assert code == 0 and "10 teams" in out
    bad = tmp_path / "org.yml"
    bad.write_text(demo.read_text().replace("buddy: roch-cp-1", "buddy: roch-cp-9"))
    code, _, err = run(env, "org", "check", str(bad))
    assert code == 1 and "names buddy 'roch-cp-9'" in err and str(bad) in err


def test_org_check_names_the_key_of_a_typo(env: dict[str, str], tmp_path: Path) -> None:
    """A misspelt key is reported with its path in the file."""
    bad = tmp_path / "org.yml"
    bad.write_text("policy: probation\nteams:\n  - id: a\n    name: A\n    managers: [U0A]\n"
                   "    chanel: C0A\n  - id: b\n    name: B\n    managers: [U0B]\n")
    code, _, err = run(env, "org", "check", str(bad))
    assert code == 1 and "teams.0.chanel: unknown key" in err


def test_policy_check_reports_yaml_syntax_errors_with_the_line(env: dict[str, str], tmp_path: Path) -> None:
    """A broken pack names the file and line."""
    bad = tmp_path / "pack.yml"
    bad.write_text("name: x\nclocks: [\n")
    code, _, err = run(env, "policy", "check", str(bad))
    assert code == 1 and str(bad) in err and "line" in err


def test_policy_check_passes_each_shipped_pack(env: dict[str, str]) -> None:
    """Every pack in policies/ checks clean."""
    for f in sorted((Path(__file__).parents[2] / "policies").glob("*.yml")):
        if f.name == "demo-org.yml":
            continue
        code, out, err = run(env, "policy", "check", str(f))
        assert code == 0, err
        assert "OK" in out


def test_purge_refuses_future_dates_and_removes_closed(env: dict[str, str]) -> None:
    """--closed-before in the future is refused; today is accepted."""
    code, _, err = run(env, "purge", "--closed-before", "2027-01-01")
    assert code == 1 and "future" in err
    code, out, _ = run(env, "purge", "--closed-before", "2026-11-23")
    assert code == 0 and "Purged 0" in out


def test_every_command_has_help(env: dict[str, str]) -> None:
    """--help works for each command a user can type."""
    for args in (["--help"], ["deadlines", "--help"], ["import", "--help"],
                 ["transfers", "list", "--help"], ["org", "check", "--help"],
                 ["policy", "check", "--help"], ["db", "upgrade", "--help"], ["purge", "--help"]):
        code, out, _ = run(env, *args)
        assert code == 0 and "Usage" in out


def test_org_check_refuses_a_duplicate_key_naming_it_and_its_line(env: dict[str, str],
                                                                  tmp_path: Path) -> None:
    """`managers` given twice (YAML would keep the last: an outsider as North's manager) is
    refused, naming the key, the file and the line."""
    demo = Path(__file__).parents[2] / "policies" / "demo-org.yml"
    bad = tmp_path / "org.yml"
    bad.write_text(demo.read_text().replace("    managers: [U0NMGR]\n",
                                            "    managers: [U0NMGR]\n    managers: [U0OUTSIDER]\n", 1))
    code, _, err = run(env, "org", "check", str(bad))
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if "U0OUTSIDER" in text)
    assert code == 1 and f"{bad}: line {line}, column 5: not valid YAML: duplicate key 'managers'" in err


@pytest.mark.parametrize(("text", "problem"), [
    ("[" * 20000 + "]" * 20000, "nested more than 40 levels deep"),
    ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [" + ", ".join(["*a"] * 60) + "]\n"
     "c: [" + ", ".join(["*b"] * 60) + "]\n", "more than 100 aliases"),
])
def test_policy_check_gives_one_line_for_deep_nesting_and_alias_bombs(
        env: dict[str, str], tmp_path: Path, text: str, problem: str) -> None:
    """20,000-deep nesting or an alias bomb is one line naming file and line, not a traceback."""
    bad = tmp_path / "pack.yml"
    bad.write_text(text)
    code, _, err = run(env, "policy", "check", str(bad))
    assert code == 1 and problem in err and str(bad) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_baton_closed_records_a_case_closure_from_which_lastteam_answers(
        env: dict[str, str], engine: sa.Engine, org: Org) -> None:
    """LEICS: "Cases closed for less than 3 months | Last allocated team": `baton closed 100005
    --on 2026-11-02 --team leics-cic` records it; an unknown team or a future date is refused."""
    code, out, _ = run(env, "closed", "100005", "--on", "2026-11-02", "--team", "leics-cic")
    assert code == 0 and "100005 closed with leics-cic on 2026-11-02" in out
    assert run(env, "closed", "100006", "--team", "nowhere")[0] == 1
    code, _, err = run(env, "closed", "100006", "--on", "2026-12-01", "--team", "leics-cic")
    assert code == 1 and "in the future" in err
    with SqlUnitOfWork(engine) as u:
        last = services.last_team_answer(u, org, "100005", date(2027, 2, 2))
    assert last is not None and (last.team, last.goes_back) == ("leics-cic", True)


def test_import_closed_on_rows_record_closures_and_open_no_transfer(
        env: dict[str, str], engine: sa.Engine, org: Org, tmp_path: Path) -> None:
    """An import row with closed_on says the case closed with its holding team that day (BURY
    re-referrals run from it); it opens no transfer."""
    f = tmp_path / "t.csv"
    f.write_text("case_ref,holding_team,receiving_team,requested_on,kind,closed_on\n"
                 "100007,bury-cin,,,,2026-10-01\n"
                 "X123456,pdu-north,pdu-south,2026-11-20,permanent,\n")
    code, out, err = run(env, "import", str(f))
    assert code == 0, err
    assert "Imported 1 transfer(s) and 1 case closure(s)." in out
    with SqlUnitOfWork(engine) as u:
        last = services.last_team_answer(u, org, "100007", date(2026, 12, 24))
        assert u.transfers.latest_by_case("100007") is None
    assert last is not None and (last.team, last.closed_on, last.goes_back) == (
        "bury-cin", date(2026, 10, 1), True)


def test_policy_tables_prints_each_packs_clocks_and_routes(env: dict[str, str]) -> None:
    """`baton policy tables` prints what the README carries: Rochdale's dispute ladder and its
    separate capacity route, each with the seed's words."""
    code, out, _ = run(env, "policy", "tables")
    assert code == 0
    assert "| disputes | Practice Manager (PM) → Head of Service (HoS) |" in out
    assert ("| capacity (never a decline) | Head of Service (HoS) → Senior Management Team (SMT) → "
            "Assistant Director (AD) |") in out
    assert "`s20_five_months` (kinds children_in_care)" in out
IMPORT_HEADER = "case_ref,holding_team,receiving_team,requested_on,kind,transfer_point,excluded\n"
GOOD_ROW = "X000001,pdu-north,pdu-south,2026-10-01,permanent,,\n"


def _counts(engine: sa.Engine) -> tuple[int, int, int]:
    with engine.connect() as c:
        return tuple(int(c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one())  # type: ignore[return-value]
                     for t in ("transfer", "timeline_event", "notification"))


@pytest.mark.parametrize(("row", "message"), [
    ("X000002,pdu-south,pdu-north,2026-11-20," + "k" * 28_000 + ",,\n",
     "line 3: kind: keep it under 33 characters (it has 28,000)"),
    ("X000002,pdu-south,pdu-north,2026-11-20,permanent,,U0NMGR " + "U0SPP1 " * 100 + "\n",
     "line 3: excluded: keep it under 501 characters"),
    ("X000002,pdu-south,pdu-north,2026-11-20,perm\x00anent,,\n",
     "line 3: kind: remove the control character"),
    ("X000002,pdu-south,pdu-north,2026-11-20,permanent,court_order,\n",
     "line 3: The Probation Service case transfer (Case Transfer Policy Framework) policy has "
     "no transfer points"),
    ("X000002,pdu-south,pdu-north,2026-11-20,permanent,,Jane Smith\n",
     "line 3: excluded: give the Slack user ids of people in the org file"),
    ("X000002,pdu-south,pdu-north,2026-11-20,permanent,,,Jane Smith was here\n",
     "line 3: the row has more cells than the 7 columns"),
    ('X000002,pdu-south,pdu-north,2026-11-20,"' + "x" * 140_000 + '",,\n',
     "line 3: not readable as CSV"),
])
def test_import_bounds_every_cell_names_the_line_and_writes_nothing(
        env: dict[str, str], tmp_path: Path, engine: sa.Engine, row: str, message: str) -> None:
    """A 28 KB cell, an over-long excluded list, a NUL, a transfer point the policy does not have,
    a name where user ids go, cells beyond the header and a cell past the CSV reader's own limit:
    each is refused with its line and column, without echoing the text, and nothing is written
    (the good row before it included)."""
    f = tmp_path / "tracker.csv"
    f.write_text(IMPORT_HEADER + GOOD_ROW + row, encoding="utf-8")
    code, out, err = run(env, "import", str(f))
    assert code == 1 and "Nothing imported" in err, (out, err)
    assert message in err, err
    assert "kkkkkkkk" not in err and "Jane Smith" not in err and "xxxxxxxx" not in err
    assert len(err) < 1000 and "Traceback" not in err
    assert _counts(engine) == (0, 0, 0)


def test_sweep_dry_run_lists_case_record_duties_and_writes_nothing(
        env: dict[str, str], engine: sa.Engine, org: Org) -> None:
    """LEICS: "In the case of urgent placement IVA's these need to be completed within 48 hours":
    a referral recorded Monday 09:30 is missed by Wednesday 10:00; `baton sweep --dry-run` then
    lists its breach lines, worded as a case record, and the outbox stays empty."""
    from datetime import datetime, time

    from bot.domain import UK_TIME

    now = datetime.combine(date(2026, 11, 23), time(10), tzinfo=UK_TIME)
    with SqlUnitOfWork(engine) as u:
        services.record_case(u, org, "U0LFSW1", ["123456", "viability_referral", "2026-11-23", "09:30"], now)
    code, out, _ = run(env, "sweep", "--dry-run", "--now", "2026-11-25T10:00")
    assert code == 0
    lines = [x for x in out.splitlines() if "123456" in x]
    assert lines and all("Missed: case record Urgent placement" in x for x in lines)
    assert {x.split(":")[0] for x in lines} >= {"U0LFSW1", "U0LFMGR"}
    assert "nothing was changed" in out
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM notification")).scalar_one() == 0
