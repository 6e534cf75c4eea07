"""The outbox in SQL: rows written in bulk read back as rows written one at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from store import outbox
from store.models import NotificationRow

AT = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)


TEXT = "Due «soon», 2 days \u2013 a tab\there, a backslash \\ and a quote \""  # COPY escapes these


def _rows(prefix: str, n: int) -> list[dict[str, object]]:
    return [outbox.prepared(f"{prefix}:{i}", None, "item", f"U0P{i % 7}",
                            {"case_ref": f"X{i:06d}", "text": TEXT, "actions": []},
                            "pending", AT + timedelta(minutes=i % 3), AT) for i in range(n)]


def _read(engine: sa.Engine, prefix: str) -> list[tuple[object, ...]]:
    with Session(engine) as s:
        got = s.exec(select(NotificationRow).where(col(NotificationRow.key).startswith(f"{prefix}:"))
                     .order_by(col(NotificationRow.id))).all()
    return [(r.key.split(":", 1)[1], r.recipient, r.payload, r.status, r.not_before, r.created_at,
             r.attempts, r.copies) for r in got]


def test_many_rows_written_at_once_read_back_as_rows_written_few_at_a_time(engine: sa.Engine) -> None:
    """Above ``COPY_FROM`` rows the outbox writes straight to the driver (a COPY on PostgreSQL);
    payloads, UTC moments and counters come back exactly as from the ordinary INSERT."""
    many = outbox.COPY_FROM + 50
    with Session(engine) as s:
        outbox.insert_rows(s, _rows("bulk", many))
        for i in range(0, many, 10):  # ten at a time: the ordinary INSERT
            outbox.insert_rows(s, _rows("few", many)[i : i + 10])
        s.commit()
    bulk, few = _read(engine, "bulk"), _read(engine, "few")
    assert len(bulk) == many and bulk == few
    moment = bulk[1][4]
    assert isinstance(moment, datetime) and moment == AT + timedelta(minutes=1) and moment.tzinfo


def test_a_bulk_write_meeting_a_key_already_there_fails_whole(engine: sa.Engine) -> None:
    """A racing copy of one key among many rolls the whole write back (IntegrityError)."""
    with Session(engine) as s:
        outbox.insert_rows(s, _rows("race", 1))
        s.commit()
    with Session(engine) as s, pytest.raises(sa.exc.IntegrityError):
        outbox.insert_rows(s, _rows("race", outbox.COPY_FROM + 5))
    assert len(_read(engine, "race")) == 1
