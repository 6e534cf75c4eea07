"""The SQL unit of work: one session and its repositories (``store.transfers``, ``store.records``),
and what it remembers itself: processed events, form submissions, warnings, install events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.errors import CommitUncertain
from bot.notices import Notice
from bot.ports import AlreadySubmitted
from store import outbox
from store.case_records import SqlCaseRecords
from store.db import is_outage
from store.records import SqlClosures, SqlCovers, SqlReads
from store.transfers import SqlTransfers

__all__ = ["PROCESSED_KEPT", "WARNING_KEPT", "SqlClosures", "SqlCovers", "SqlReads", "SqlTransfers",
           "SqlUnitOfWork", "forget_processed"]

# Form submissions (``form:`` + view id) and Slack event ids are kept this long, then forgotten:
# Slack's signatures are refused after 5 minutes, so a replay cannot come later, and a day
# covers Slack's event retries and a form left open after an answer that was lost.
PROCESSED_KEPT = timedelta(days=1)
WARNING_KEPT = timedelta(days=1)  # a warned text submitted again later than this is warned again


class SqlUnitOfWork:
    """A session and its repositories; rolls back unless committed."""

    session: Session
    transfers: SqlTransfers
    covers: SqlCovers
    reads: SqlReads
    closures: SqlClosures
    case_records: SqlCaseRecords

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def __enter__(self) -> SqlUnitOfWork:
        self.session = Session(self.engine, expire_on_commit=False)
        self.transfers = SqlTransfers(self.session)
        self.covers = SqlCovers(self.session)
        self.reads = SqlReads(self.session)
        self.closures = SqlClosures(self.session)
        self.case_records = SqlCaseRecords(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        self.session.close()

    def commit(self) -> None:
        """Make the work durable. The work is flushed first, so a failure then means nothing was
        saved; a lost connection during the COMMIT itself raises CommitUncertain (the server
        may have committed before the line went)."""
        self.session.flush()
        try:
            self.session.commit()
        except sa.exc.DBAPIError as exc:
            local = self.session.bind is None or self.session.bind.dialect.name == "sqlite"
            if not local and is_outage(exc):  # SQLite's file commits or not: never in doubt
                raise CommitUncertain("the database stopped answering during a commit") from exc
            raise

    def rollback(self) -> None:
        """Discard the work."""
        self.session.rollback()

    def first_warning(self, key: str, now: datetime) -> bool:
        """Record a warning's key; False when it was already recorded. Keys older than a day go."""
        from store.models import FreetextWarningRow

        at = now.astimezone(UTC).replace(tzinfo=None)
        t = FreetextWarningRow.__table__  # type: ignore[attr-defined]
        try:
            self.session.execute(sa.delete(t).where(t.c.at < at - WARNING_KEPT))
            self.session.execute(sa.insert(t).values(key=key, at=at))
            self.session.commit()
        except IntegrityError:
            self.session.rollback()
            return False
        return True

    def add_install_event(self, kind: str, team_id: str | None, now: datetime) -> None:
        """Record a Slack lifecycle event; the caller commits."""
        from store.models import InstallEventRow

        self.session.execute(sa.insert(InstallEventRow).values(
            kind=kind, team_id=team_id, at=now.astimezone(UTC).replace(tzinfo=None)))

    def install_state(self) -> str | None:
        """The latest Slack lifecycle event's kind (None when there was none)."""
        from store.models import InstallEventRow

        t = InstallEventRow.__table__  # type: ignore[attr-defined]
        return self.session.execute(  # Slack's events only: Teams' are per team (store/conversations.py)
            sa.select(t.c.kind).where(~t.c.kind.startswith("teams_"))
            .order_by(t.c.id.desc()).limit(1)).scalar_one_or_none()

    def first_delivery(self, event_id: str, now: datetime) -> bool:
        """Record a Slack event id; False when it was already recorded (a redelivery)."""
        from store.models import ProcessedEventRow

        try:
            self.session.execute(sa.insert(ProcessedEventRow).values(event_id=event_id, at=now))
            self.session.commit()
        except IntegrityError:
            self.session.rollback()
            return False
        return True

    def submitted(self, token: str) -> bool:
        """Whether a form submission with this token was saved."""
        from store.models import ProcessedEventRow

        return self.session.get(ProcessedEventRow, f"form:{token}"[:64]) is not None

    def record_submission(self, token: str, now: datetime) -> None:
        """Record a form submission in this transaction; a second one (even from a concurrent
        transaction, which waits for the first) raises AlreadySubmitted."""
        from store.models import ProcessedEventRow

        try:
            self.session.execute(sa.insert(ProcessedEventRow).values(event_id=f"form:{token}"[:64], at=now))
        except IntegrityError as exc:
            self.session.rollback()
            raise AlreadySubmitted(token) from exc

    def add_notification(self, *, key: str, transfer_id: int | None, kind: str, recipient: str,
                         payload: dict[str, Any], not_before: datetime, now: datetime) -> bool:
        """Write an outbox row unless one with ``key`` exists; True when written."""
        return outbox.add_row(self.session, key=key, transfer_id=transfer_id, kind=kind,
                              recipient=recipient, payload=payload, not_before=not_before, now=now)

    def add_notice(self, notice: Notice, *, now: datetime, not_before: datetime) -> int:
        """Write a notice to the outbox, one row per recipient; returns how many were new."""
        return outbox.add_notice(self.session, notice, now=now, not_before=not_before)

    def add_notices(self, notices: Iterable[tuple[Notice, datetime]], *, now: datetime) -> int:
        """Write many (notice, deliver-from) pairs in one statement; returns how many rows were new."""
        return outbox.add_notices(self.session, notices, now=now)

def forget_processed(engine: sa.Engine, now: datetime) -> int:
    """Delete form submissions and event ids recorded more than PROCESSED_KEPT before ``now``
    (they can no longer be replayed); returns how many were deleted."""
    from store.models import ProcessedEventRow

    with engine.begin() as conn:
        return int(conn.execute(sa.delete(ProcessedEventRow).where(
            col(ProcessedEventRow.at) < now - PROCESSED_KEPT)).rowcount or 0)
