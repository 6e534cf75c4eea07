"""PostgreSQL operations an administrator runs: replicas migrating at once (an advisory lock
serialises them), a failed migration reported in one line, and a backup taken with pg_dump
restored with pg_restore (README: Back up and restore). Each PostgreSQL test works in a schema of
its own inside DATABASE_URL's database and drops it after; they are skipped on SQLite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import services
from bot.org import Org
from store.db import head_revision, make_engine, readiness, upgrade
from store.repo import SqlUnitOfWork

ROOT = Path(__file__).resolve().parents[2]
URL = os.environ.get("DATABASE_URL", "")
postgres_only = pytest.mark.skipif(not URL.startswith("postgres"), reason="PostgreSQL only (DATABASE_URL)")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _in_schema(schema: str) -> str:
    """DATABASE_URL with ``schema`` first on the search path (tables are made and found there)."""
    return URL + ("&" if "?" in URL else "?") + f"options=-csearch_path%3D{schema}"


def _libpq(url: str) -> str:
    """The URL as pg_dump and psql take it (no SQLAlchemy driver name)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def schema() -> Iterator[str]:
    """An empty schema of this test's own, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    engine = make_engine(URL)
    with engine.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {name}"))
    try:
        yield name
    finally:
        with engine.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        engine.dispose()


def _baton(*args: str, url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.Popen([sys.executable, "-m", "handlers.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@postgres_only
def test_three_upgrades_started_at_once_on_an_empty_database_all_succeed(schema: str) -> None:
    """Replicas starting together each migrate on start: one migrates, the others wait on the
    advisory lock, then find the schema current."""
    url = _in_schema(schema)
    runs = [_baton("db", "upgrade", url=url) for _ in range(3)]
    outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in runs]
    assert [rc for rc, _ in outcomes] == [0, 0, 0], [err[-300:] for _, err in outcomes]
    assert not [err for _, err in outcomes if "Traceback" in err]
    engine = make_engine(url)
    try:
        assert readiness(engine) is None
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    finally:
        engine.dispose()


def test_a_migration_that_cannot_reach_its_database_fails_in_one_line() -> None:
    """Nothing listens on port 1: the answer is one line naming the error, no traceback."""
    run = _baton("db", "upgrade", url="postgresql://postgres@127.0.0.1:1/nothing")
    assert run.wait(timeout=60) != 0
    err = (run.stderr.read() if run.stderr else "").strip()
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "migration to head failed: OperationalError" in lines[0]


@postgres_only
@pytest.mark.skipif(not shutil.which("pg_dump") or not shutil.which("pg_restore"), reason="needs pg_dump")
def test_a_backup_taken_with_pg_dump_restores_the_audit_trail(schema: str, org: Org, tmp_path: Path) -> None:
    """README, Back up and restore: pg_dump -Fc, the schema lost, pg_restore; the transfer and
    its timeline come back whole and the restored database is ready (schema at head)."""
    url = _in_schema(schema)
    upgrade(url)
    engine = make_engine(url)
    try:
        with SqlUnitOfWork(engine) as u:
            raised = services.raise_transfer(u, org, "U0NPP1", services.RaiseRequest(
                case_ref="X654321", receiving_team="pdu-south"), NOW)
        with SqlUnitOfWork(engine) as u:
            before = services.audit(u, "X654321")
        assert before is not None and before.changes
        dump = tmp_path / "baton.dump"
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--schema={schema}",
                        f"--file={dump}", _libpq(URL)], check=True, timeout=120)
        with engine.begin() as c:  # the disaster
            c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={_libpq(URL)}", str(dump)],
                       check=True, timeout=120)
        assert readiness(engine) is None
        with SqlUnitOfWork(engine) as u:
            after = services.audit(u, "X654321")
        assert after is not None
        assert [(tid, ev.kind, ev.actor) for tid, ev in after.changes] == [
            (tid, ev.kind, ev.actor) for tid, ev in before.changes]
        with SqlUnitOfWork(engine) as u:
            assert u.transfers.get(raised.id or 0) is not None
    finally:
        engine.dispose()
