"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when DATABASE_URL is set),
the demo org, and a fixed clock; and the rules that let the suite run in parallel (pytest-xdist).

Parallel runs (``make test`` runs ``pytest -n auto``, one worker per core):
- SQLite: each worker's database is a file in its own temporary directory (``db_url``).
- PostgreSQL: each worker uses its own database, named after ``DATABASE_URL``'s with the worker's
  id after it (``.../test`` gives ``test_gw0``, ``test_gw1``), created here if missing; the
  worker's ``DATABASE_URL`` is set to it, so the ``baton`` processes tests start use it too.
- Ports: every server binds a port the kernel picks (port 0) or ``free_port()``.
- Tests that start real processes (marked ``slow``) run one at a time, all on one worker
  (``xdist_group("processes")`` with ``--dist loadgroup``), beside the other worker's in-process
  tests: two of them at once (four gunicorn workers, bursts of concurrent requests) starve
  each other on two cores.

Which tests the store matters to (marker ``store``, applied here, never by hand): every test in
``tests/integration`` and ``tests/e2e`` (the store, the outbox, the sweep, migrations and the
end-to-end paths), and any other test that asks for the database (a fixture in ``STORE_FIXTURES``).
``make test`` runs every test on SQLite, then the ``store`` tests again on PostgreSQL; the rest
(pure unit tests, and the browser tests, whose sandbox has its own SQLite) need not run twice.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.org import Org, load_org
from store.db import make_engine, upgrade
from store.repo import SqlUnitOfWork

TABLES = ("transfer_read", "message_ref", "notification", "timeline_event", "deadline", "transfer",
          "cover", "processed_event", "install_event", "case_closure", "case_record",
          "freetext_warning", "teams_conversation", "teams_pending_file", "teams_service_url")

# Monday 23 November 2026, 10:00 UTC: every test's "now" unless it says otherwise.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

STORE_DIRS = ("integration", "e2e")  # under tests/: every test there runs on PostgreSQL too
STORE_FIXTURES = frozenset({"db_url", "_engine", "engine", "uow"})  # asking for one: runs there too


def worker_database(url: str, worker: str) -> str:
    """``url`` with the xdist worker's id after the database name, the database created if missing."""
    u = sa.engine.make_url(url)
    mine = u.set(database=f"{u.database}_{worker}")
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(5):
            try:
                with admin.connect() as c:
                    if not c.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                     {"n": mine.database}).first():
                        c.execute(sa.text(f'CREATE DATABASE "{mine.database}"'))
                break
            except sa.exc.OperationalError:  # another session was copying template1 right then
                if attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))
    finally:
        admin.dispose()
    return mine.render_as_string(hide_password=False)


def _worker_database_url() -> None:
    """Under pytest-xdist on PostgreSQL, point this worker (and what it starts) at its own database."""
    url, worker = os.environ.get("DATABASE_URL", ""), os.environ.get("PYTEST_XDIST_WORKER")
    if worker and url.startswith("postgresql") and not os.environ.get("BATON_TEST_WORKER_DB"):
        os.environ["DATABASE_URL"] = worker_database(url, worker)
        os.environ["BATON_TEST_WORKER_DB"] = worker  # once: a test's subprocess inherits it as is


_worker_database_url()


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``store`` every test the store matters to, and put the tests that start processes in
    one xdist group (see the module's docstring)."""
    tests = Path(__file__).resolve().parent
    xdist = config.pluginmanager.hasplugin("xdist")
    for item in items:
        if xdist and item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.xdist_group("processes"))
        path = item.path.resolve()
        top = path.relative_to(tests).parts[0] if path.is_relative_to(tests) else ""
        if top in STORE_DIRS or STORE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.store)


def database_url(tmp_dir: Path) -> str:
    """DATABASE_URL when set (PostgreSQL runs), else a SQLite file in ``tmp_dir``."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_dir / 'baton-test.db'}"


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head once per test session."""
    url = database_url(tmp_path_factory.mktemp("db"))
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def _engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def wipe(engine: sa.Engine) -> None:
    """Empty every table (the schema stays). On PostgreSQL a connection an earlier test left
    open (a read never closed) would block TRUNCATE for ever: after 10 s waiting, unreachable
    objects are collected (which returns such a connection to its pool) and it tries again."""
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            for t in TABLES:
                conn.execute(sa.text(f"DELETE FROM {t}"))
        return
    truncate = sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(truncate)
    except sa.exc.OperationalError:
        import gc

        gc.collect()
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL lock_timeout = '60s'"))
            conn.execute(truncate)


@pytest.fixture
def engine(_engine: sa.Engine) -> sa.Engine:
    """The test database, emptied before the test."""
    wipe(_engine)
    return _engine


@pytest.fixture
def uow(engine: sa.Engine) -> Callable[[], SqlUnitOfWork]:
    """A unit-of-work factory over the empty test database."""
    return lambda: SqlUnitOfWork(engine)


@pytest.fixture(autouse=True)
def _no_log_handler_left() -> Iterator[None]:
    """A CLI run configures Baton's log handler on the root logger; take it away after each test,
    so threads a later test leaves running do not write log lines past pytest's capture."""
    yield
    root = logging.getLogger()
    for h in [h for h in root.handlers if getattr(h, "_baton", False)]:
        root.removeHandler(h)


@pytest.fixture(scope="session")
def org() -> Org:
    """The demo organisation shipped in policies/demo-org.yml."""
    return load_org()
