"""Engines and schema migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects.postgresql import ARRAY

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def id_in(column: Any, ids: Sequence[int], postgresql: bool) -> Any:
    """``column IN (ids)``; on PostgreSQL ``column = ANY(:array)``, one parameter however many
    ids (a thousand placeholders cost more to send and parse than the rows they find)."""
    if postgresql:
        return column == sa.any_(sa.bindparam(None, list(ids), type_=ARRAY(sa.Integer)))
    return column.in_(list(ids))


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgres:// and postgresql:// URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout. Errors never
    print SQL parameters (they hold case references and rationales)."""
    url = normalise_url(url)
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # an unreachable server is reported in seconds, not after the operating system gives up
    kwargs.setdefault("connect_args", {"connect_timeout": CONNECT_TIMEOUT})
    return sa.create_engine(url, **kwargs)


CONNECT_TIMEOUT = 3  # seconds to reach PostgreSQL


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached (rather than a fault in Baton)."""
    from bot.errors import CommitUncertain

    if isinstance(exc, CommitUncertain):
        return True
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and bool(exc.connection_invalidated)


def reachable(engine: sa.Engine) -> bool:
    """Whether the database answers a trivial query now (the readiness probe)."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except (sa.exc.SQLAlchemyError, OSError):
        return False


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at Baton's migrations and ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


MIGRATION_LOCK = 0x62617430  # the PostgreSQL advisory lock migrations hold ('bat0')


class MigrationFailed(SystemExit):
    """Migrating failed: one line saying why (its error type and first line), never a traceback."""


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (creating a SQLite file if needed). On
    PostgreSQL one process migrates at a time (an advisory lock; see migrations/env.py), so
    replicas that start together all succeed; a failure is MigrationFailed, one line."""
    try:
        command.upgrade(alembic_config(url), revision)
    except Exception as exc:
        cause = getattr(exc, "orig", None) or exc
        first = (str(cause).strip().splitlines() or [""])[0][:200]
        raise MigrationFailed(f"baton: the database migration to {revision} failed: "
                              f"{type(cause).__name__}: {first}") from None


def current_revision(engine: sa.Engine) -> str | None:
    """The migration the database is at, or None before the first."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration Baton ships."""
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def readiness(engine: sa.Engine) -> str | None:
    """Why this instance should not take traffic (the database does not answer, or its schema is
    behind this code), or None when it is ready."""
    try:
        current = current_revision(engine)
    except (sa.exc.SQLAlchemyError, OSError):
        return "the database is unreachable"
    head = head_revision()
    if current != head:
        return f"the database schema is at {current or 'nothing'}, not {head} (this code's)"
    return None
