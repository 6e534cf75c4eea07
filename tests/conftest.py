"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when DATABASE_URL is set),
the demo org, and a fixed clock."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.org import Org, load_org
from store.db import make_engine, upgrade
from store.repo import SqlUnitOfWork

TABLES = ("transfer_read", "message_ref", "notification", "timeline_event", "deadline", "transfer",
          "cover", "processed_event", "install_event", "case_closure",
          "freetext_warning", "teams_conversation", "teams_pending_file", "teams_service_url")

# Monday 23 November 2026, 10:00 UTC: every test's "now" unless it says otherwise.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


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
    """Empty every table (the schema stays)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for t in TABLES:
                conn.execute(sa.text(f"DELETE FROM {t}"))


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
