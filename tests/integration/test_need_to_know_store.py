"""Need to know against a real database: neutral answers, the audit of reads, restricted
transfers' notices, lists, lastteam, export and a purge that leaves nothing naming the case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bot import access, services
from bot.domain import DomainError, NotPermitted, State
from bot.org import Org
from bot.services import RaiseRequest
from handlers.cli import app
from store.repo import SqlUnitOfWork
from tests.conftest import NOW

UoW = Callable[[], SqlUnitOfWork]
PP, PP2, NMGR, SMGR, SPP = "U0NPP1", "U0NPP2", "U0NMGR", "U0SMGR", "U0SPP1"
OUTSIDER, AUDITOR = "U0BASW1", "U0AUDIT"


def raise_one(uow: UoW, org: Org, ref: str = "X123456", **kw: object) -> int:
    """Raise North -> South as U0NPP1; returns the id."""
    with uow() as u:
        t = services.raise_transfer(u, org, PP, RaiseRequest(case_ref=ref, receiving_team="pdu-south",
                                                             **kw), NOW)  # type: ignore[arg-type]
    assert t.id is not None
    return t.id


def notices(engine: sa.Engine) -> list[tuple[str, str, str]]:
    """(kind, recipient, payload as text) of every outbox row."""
    with engine.connect() as c:
        return [(r[0], r[1], str(r[2])) for r in c.execute(
            sa.text("SELECT kind, recipient, payload FROM notification ORDER BY id"))]


def refusal(fn: Callable[[], object]) -> str:
    """The message of the DomainError ``fn`` raises."""
    with pytest.raises(DomainError) as exc:
        fn()
    return str(exc.value)


def test_outsider_gets_the_same_answer_for_an_existing_and_an_unknown_case(uow: UoW, org: Org) -> None:
    """Status and history of an existing case, asked by someone not on it, read exactly like
    those of a case Baton never heard of, but for the reference."""
    raise_one(uow, org)
    with uow() as u:
        for ask in (services.status_card, services.history):
            known = refusal(lambda ask=ask: ask(u, org, OUTSIDER, "X123456", NOW))  # type: ignore[misc]
            unknown = refusal(lambda ask=ask: ask(u, org, OUTSIDER, "X999999", NOW))  # type: ignore[misc]
            assert known == "No transfer you can see has the reference X123456."
            assert known.replace("X123456", "X999999") == unknown


def test_every_read_is_recorded_with_who_and_when_and_refusals_too(uow: UoW, org: Org) -> None:
    """A status and a history read by people on the transfer, and an outsider's refused look,
    are each recorded; the audit prints the changes beside them."""
    tid = raise_one(uow, org)
    with uow() as u:
        services.status_card(u, org, SMGR, "X123456", NOW)
        services.history(u, org, PP, "x123456", NOW + timedelta(minutes=1))
        with pytest.raises(access.NotVisible):
            services.status_card(u, org, OUTSIDER, "X123456", NOW + timedelta(minutes=2))
    with uow() as u:
        found = services.audit(u, "X123456")
    assert found is not None
    assert [(r.reader, r.surface, r.granted) for r in found.reads] == [
        (SMGR, "status", True), (PP, "history", True), (OUTSIDER, "status", False)]
    assert found.reads[0].at == NOW and found.reads[0].transfer_id == tid
    assert [ev.kind for _, ev in found.changes] == ["requested"]


def test_crafted_form_for_a_transfer_not_yours_is_refused_neutrally_and_changes_nothing(
        uow: UoW, org: Org) -> None:
    """An outsider submitting a decline for another team's transfer gets the neutral answer; the
    transfer is unchanged and the attempt is recorded."""
    tid = raise_one(uow, org)
    with uow() as u:
        msg = refusal(lambda: services.submit(u, org, OUTSIDER, tid, "decline",
                                              {"rationale": "Crafted by someone else"}, NOW))
        assert msg == "No transfer you can see matches that button or form."
        with pytest.raises(access.NotVisible):
            services.form_for(u, org, OUTSIDER, tid, "accept", NOW)
    with uow() as u:
        t = services.load(u, transfer_id=tid)
        reads = u.reads.of_transfer(tid)
    assert t.state == State.requested and len(t.timeline) == 1
    assert [(r.reader, r.granted) for r in reads] == [(OUTSIDER, False), (OUTSIDER, False)]


def test_lists_agenda_and_home_leave_out_what_the_person_may_not_see(uow: UoW, org: Org) -> None:
    """A restricted transfer is in its managers' lists but not in other members' team lists,
    agenda or App Home; an outsider's lists are empty."""
    raise_one(uow, org, ref="X111111")
    raise_one(uow, org, ref="X222222", restricted=True)
    today = NOW.date()
    with uow() as u:
        assert {r.case_ref for r in services.list_for(u, org, SMGR, "team", today)} == {"X111111", "X222222"}
        assert {r.case_ref for r in services.list_for(u, org, SPP, "team", today)} == {"X111111"}
        assert {t.case_ref for t, _ in services.agenda(u, org, PP2, today)} == {"X111111"}
        home = services.home(u, org, PP2, NOW)
        assert {r.case_ref for r in home.outbound} == {"X111111"}
        assert services.list_for(u, org, OUTSIDER, "team", today) == []


def test_restricted_transfer_posts_to_no_channel_tells_no_excluded_person_and_says_only_the_action(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """Raised restricted with the receiving team's practitioner excluded: no channel row, no row
    for the excluded person, and the managers' lines carry the case reference and the action only."""
    raise_one(uow, org, restricted=True, excluded=(SPP,), funding_note="Joint funding agreed")
    rows = notices(engine)
    assert rows and not any(access.is_channel(r) for _, r, _ in rows)
    assert SPP not in {r for _, r, _ in rows}
    to_manager = next(p for _, r, p in rows if r == SMGR)
    assert "X123456: a transfer request needs your decision." in to_manager
    assert "North PDU" not in to_manager and "Joint funding" not in to_manager


def test_excluding_yourself_is_refused_on_the_field(uow: UoW, org: Org) -> None:
    """The person raising a transfer cannot put themselves on its excluded list."""
    with uow() as u, pytest.raises(DomainError) as exc:
        services.raise_transfer(u, org, PP, RaiseRequest(case_ref="X123456", receiving_team="pdu-south",
                                                         excluded=(PP,)), NOW)
    assert exc.value.field == "excluded"


def test_excluding_every_receiving_manager_is_refused_on_the_field_naming_the_team(
        uow: UoW, org: Org, engine: sa.Engine) -> None:
    """South PDU's only manager on the excluded list would leave nobody to decide: refused on the
    excluded field, naming the team, and nothing is saved; the holding team's likewise."""
    for manager, team in ((SMGR, "South PDU"), (NMGR, "North PDU")):
        with uow() as u, pytest.raises(DomainError) as exc:
            services.raise_transfer(u, org, PP, RaiseRequest(
                case_ref="X123456", receiving_team="pdu-south", excluded=(manager, SPP)), NOW)
        assert exc.value.field == "excluded"
        assert f"excludes every manager of {team}" in str(exc.value)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM transfer")).scalar() == 0


def test_import_refuses_a_row_whose_excluded_list_leaves_a_team_no_manager(uow: UoW, org: Org) -> None:
    """An imported restricted row excluding South PDU's only manager is refused by line."""
    text = ("case_ref,holding_team,receiving_team,requested_on,kind,restricted,excluded\n"
            f"X123456,pdu-north,pdu-south,2026-11-20,permanent,yes,{SMGR}\n")
    with uow() as u:
        result = services.import_csv(u, org, text, NOW)
    assert result.imported == 0
    assert result.errors[0].startswith("line 2") and "every manager of South PDU" in result.errors[0]


def test_lastteam_answers_managers_and_front_door_only(uow: UoW, org: Org) -> None:
    """A completed case the receiving team then closed: the North manager and an auditor are
    told the team and date; a practitioner gets the neutral answer, the same as for a case
    never closed."""
    tid = raise_one(uow, org)
    with uow() as u:
        services.act(u, org, SMGR, tid, "accept", NOW)
    with uow() as u:
        services.act(u, org, NMGR, tid, "complete", NOW + timedelta(days=1))
    later = NOW + timedelta(days=2)
    with uow() as u:
        services.record_closure(u, org, SMGR, "X123456", later, on=date(2026, 11, 24))
    with uow() as u:
        answer = services.last_team_for(u, org, NMGR, "X123456", later)
        assert answer.team == "pdu-south" and answer.closed_on == date(2026, 11, 24)
        assert services.last_team_for(u, org, AUDITOR, "X123456", later).team == "pdu-south"
        told = refusal(lambda: services.last_team_for(u, org, PP, "X123456", later))
        never = refusal(lambda: services.last_team_for(u, org, NMGR, "X000000", later))
    assert told.replace("X123456", "X000000") == never


def test_export_from_chat_is_for_report_readers_and_every_row_read_is_recorded(uow: UoW, org: Org) -> None:
    """A practitioner may not export from chat (nothing is read); the report reader gets the rows
    (not the restricted one) and each exported transfer records the read."""
    open_id = raise_one(uow, org, ref="X111111")
    raise_one(uow, org, ref="X222222", restricted=True)
    with uow() as u:
        with pytest.raises(NotPermitted):
            services.export_rows(u, org, start=NOW.date(), end=NOW.date(), reader=PP, now=NOW, chat=True)
        rows = services.export_rows(u, org, start=NOW.date(), end=NOW.date(), reader="U0REPORT",
                                    now=NOW, chat=True)
    assert [r["case_ref"] for r in rows] == ["X111111"]
    with uow() as u:
        assert [(r.reader, r.surface) for r in u.reads.of_transfer(open_id)] == [("U0REPORT", "export")]


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(cell: str) -> None:
    """Formula-injection guard: such cells get a leading apostrophe; others pass unchanged."""
    assert services.csv_safe(cell) == "'" + cell
    assert services.csv_safe("X123456") == "X123456" and services.csv_safe(3) == 3


def test_purge_leaves_no_row_anywhere_naming_the_case(uow: UoW, org: Org, engine: sa.Engine) -> None:
    """Retention: a withdrawn transfer that was read and notified is purged, and so is a case
    closure recorded before the cutoff; afterwards no row of any table holds their case
    references (or the transfer's id in a transfer column), and the other case stays."""
    gone = raise_one(uow, org, ref="X111111")
    raise_one(uow, org, ref="X222222")
    with uow() as u:
        services.status_card(u, org, SMGR, "X111111", NOW)
        services.act(u, org, PP, gone, "withdraw", NOW, reason="The move fell through")
        services.record_closure(u, org, SMGR, "X333333", NOW, on=NOW.date() - timedelta(days=1))
    with uow() as u:
        assert services.purge(u, services.closed_cutoff(NOW.date() + timedelta(days=1))).transfers == 1
    leftovers = []
    with engine.connect() as c:
        for table in sa.inspect(engine).get_table_names():
            if table == "alembic_version":
                continue
            for row in c.execute(sa.text(f"SELECT * FROM {table}")).mappings():
                if ("X111111" in str(dict(row)) or "X333333" in str(dict(row))
                        or row.get("transfer_id") == gone):
                    leftovers.append((table, dict(row)))
    assert leftovers == []
    with uow() as u:
        assert services.load(u, case_ref="X222222").case_ref == "X222222"


def test_purge_defaults_to_the_org_retention_period(org: Org) -> None:
    """With no date, purge removes what closed more than retention_days (default six years) ago."""
    assert org.retention_days == 2190
    assert services.retention_cutoff(org, NOW).date() == NOW.date() - timedelta(days=2190)


def test_baton_audit_prints_changes_and_reads_and_the_restricted_report(
        uow: UoW, org: Org, db_url: str) -> None:
    """`baton audit CASE` lists the changes and the reads; `baton audit --restricted` lists who
    looked at restricted cases."""
    raise_one(uow, org, ref="X222222", restricted=True)
    with uow() as u:
        services.status_card(u, org, SMGR, "X222222", NOW)
    env = {"DATABASE_URL": db_url, "BATON_NOW": "2026-11-23T12:00:00+00:00", "BATON_ORG": ""}
    r = CliRunner().invoke(app, ["audit", "x222222"], env=env)
    assert r.exit_code == 0, r.stdout
    assert "Changes (1):" in r.stdout and "requested" in r.stdout
    assert "Reads (1):" in r.stdout and f"{SMGR}  status" in r.stdout
    r = CliRunner().invoke(app, ["audit", "--restricted"], env=env)
    assert r.exit_code == 0 and "X222222" in r.stdout and SMGR in r.stdout
