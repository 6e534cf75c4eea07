"""The outbox in SQL: the only module that writes, claims and finishes notification rows, keeps
message references, and knows the format of outbox keys (notices and the sweep's step markers).

Delivery semantics: a row is claimed (attempts + 1, copies + 1, committed) with a conditional
UPDATE just before it is sent, so two instances never send one row; it is marked sent only after
the chat platform answered ok. ``copies`` counts sends that may have reached the platform: a
refusal or a 429 takes its copy back; a claim left behind (a crash, a database fault after the
post) or a timeout keeps it. A row is never claimed with two copies out: a claim whose lease ran
out goes back to pending once (at most one resend); a row in flight twice is marked failed for a
person to check.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.notices import Notice
from store.models import MessageRefRow, NotificationRow

INSTANCE = f"{socket.gethostname()}:{id(object())}"
LEASE = timedelta(minutes=5)
MAX_IN_FLIGHT = 2
UNCERTAIN = "uncertain:"  # last_error of a send whose outcome is unknown (timeout, dropped line)


# ---- keys ------------------------------------------------------------------------------------------
def notice_key(transfer_id: int | None, topic: str, recipient: str) -> str:
    """The outbox key of one recipient's copy of a notice."""
    return f"t{transfer_id or 0}:{topic}:{recipient}"


def step_key(transfer_id: int, clock: str, step: str) -> str:
    """The marker key of one step (reminder, breach, escalation) of a clock on a transfer."""
    return f"t{transfer_id}:{clock}:{step}"


def item_key(transfer_id: int, clock: str, step: str, recipient: str) -> str:
    """The key of one recipient's digest line for a step."""
    return f"{step_key(transfer_id, clock, step)}:{recipient}"


def weekly_key(due_on: str, channel: str) -> str:
    """The key of one channel's weekly digest."""
    return f"weekly:{due_on}:{channel}"


def failure_key(recipient: str, error: str, target: str) -> str:
    """The key of the one report that ``recipient`` cannot be reached."""
    return f"failure:{recipient}:{error}:{target}"


# ---- writing ---------------------------------------------------------------------------------------
def add_row(session: Session, *, key: str, transfer_id: int | None, kind: str, recipient: str,
            payload: dict[str, Any], not_before: datetime, now: datetime) -> bool:
    """Write an outbox row unless one with ``key`` exists; True when written."""
    exists = session.execute(
        sa.select(col(NotificationRow.id)).where(col(NotificationRow.key) == key)).first()
    if exists:
        return False
    session.add(NotificationRow(key=key, transfer_id=transfer_id, kind=kind, recipient=recipient,
                                payload=payload, not_before=not_before, created_at=now))
    session.flush()
    return True


def add_notice(session: Session, notice: Notice, *, now: datetime, not_before: datetime) -> int:
    """Write one row per recipient of a notice (once each); returns how many were new."""
    return sum(add_row(session, key=notice_key(notice.transfer_id, notice.topic, r),
                       transfer_id=notice.transfer_id, kind=notice.kind, recipient=r,
                       payload=notice.payload(r), not_before=not_before, now=now)
               for r in notice.audience)


def keys_of(conn: sa.Connection, transfer_id: int) -> set[str]:
    """Every outbox key already written for a transfer (step markers and notices)."""
    return set(conn.execute(
        sa.select(col(NotificationRow.key)).where(col(NotificationRow.transfer_id) == transfer_id)
    ).scalars())


def insert_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Many prepared rows in one statement; the unique key makes a racing copy fail whole."""
    if rows:
        session.execute(sa.insert(NotificationRow), list(rows))


def prepared(key: str, transfer_id: int, kind: str, recipient: str, payload: dict[str, Any],
             status: str, not_before: datetime, now: datetime) -> dict[str, Any]:
    """A row for :func:`insert_rows`."""
    return {"key": key, "transfer_id": transfer_id, "kind": kind, "recipient": recipient,
            "payload": payload, "status": status, "not_before": not_before, "attempts": 0,
            "copies": 0, "created_at": now}


# ---- delivering ------------------------------------------------------------------------------------
def reclaim(engine: sa.Engine, now: datetime) -> None:
    """Rows claimed by an instance that died before finishing go back to pending once their
    lease ran out; a row already in flight twice is marked failed instead (never a third copy)."""
    stale = now - LEASE
    with engine.begin() as conn:
        conn.execute(sa.update(NotificationRow).where(
            col(NotificationRow.status) == "claimed", col(NotificationRow.claimed_at) < stale,
            col(NotificationRow.copies) < MAX_IN_FLIGHT,
        ).values(status="pending", claimed_by=None))
        conn.execute(sa.update(NotificationRow).where(
            col(NotificationRow.status) == "claimed", col(NotificationRow.claimed_at) < stale,
        ).values(status="failed", last_error="in flight twice when an instance stopped; not resent"))


def due(engine: sa.Engine, now: datetime, limit: int) -> list[Any]:
    """Pending rows whose time has come, oldest first."""
    with engine.connect() as conn:
        return list(conn.execute(
            sa.select(NotificationRow).where(
                col(NotificationRow.status) == "pending", col(NotificationRow.not_before) <= now
            ).order_by(col(NotificationRow.id)).limit(limit)).all())


def claim(engine: sa.Engine, now: datetime, ids: Iterable[int]) -> list[Any]:
    """Claim rows one by one with a conditional UPDATE (still pending, due, and fewer than two
    copies out); only the winner sends a row. A row with two copies out is failed instead, never
    sent a third time. Returns the rows won, as they are now."""
    won: list[int] = []
    for nid in ids:
        with engine.begin() as conn:
            if conn.execute(
                sa.update(NotificationRow)
                .where(col(NotificationRow.id) == nid, col(NotificationRow.status) == "pending",
                       col(NotificationRow.not_before) <= now,
                       col(NotificationRow.copies) < MAX_IN_FLIGHT)
                .values(status="claimed", claimed_by=INSTANCE, claimed_at=now,
                        attempts=NotificationRow.attempts + 1, copies=NotificationRow.copies + 1)
            ).rowcount == 1:
                won.append(nid)
            else:
                conn.execute(sa.update(NotificationRow).where(
                    col(NotificationRow.id) == nid, col(NotificationRow.status) == "pending",
                    col(NotificationRow.copies) >= MAX_IN_FLIGHT,
                ).values(status="failed", last_error="may be in chat twice already; not sent again"))
    if not won:
        return []
    with engine.connect() as conn:
        return list(conn.execute(sa.select(NotificationRow).where(col(NotificationRow.id).in_(won))
                                 .order_by(col(NotificationRow.id))).all())


def finish(engine: sa.Engine, ids: list[int], **values: Any) -> None:
    """Set the outcome of sent (or failed) rows."""
    with engine.begin() as conn:
        conn.execute(sa.update(NotificationRow).where(col(NotificationRow.id).in_(ids)).values(**values))


def sent(engine: sa.Engine, ids: list[int], now: datetime, where: tuple[str, str] | None) -> None:
    """Rows the platform accepted."""
    finish(engine, ids, status="sent", sent_at=now, last_error=None,
           channel=where[0] if where else None, ts=where[1] if where else None)


def pending_updates(engine: sa.Engine, transfer_id: int) -> list[int]:
    """Redraw rows of a transfer waiting to be sent (all committed before this read)."""
    with engine.connect() as conn:
        return [int(i or 0) for i in conn.execute(sa.select(col(NotificationRow.id)).where(
            col(NotificationRow.transfer_id) == transfer_id, col(NotificationRow.status) == "pending",
            col(NotificationRow.kind).in_(("update", "update_all")))).scalars()]


def covered(engine: sa.Engine, ids: list[int], now: datetime, by: int) -> None:
    """Redraw rows made unnecessary by the redraw of row ``by`` (it showed their changes too)."""
    if ids:
        with engine.begin() as conn:
            conn.execute(sa.update(NotificationRow).where(
                col(NotificationRow.id).in_(ids), col(NotificationRow.status) == "pending",
            ).values(status="sent", sent_at=now, last_error=f"covered by the redraw of {by}"))


def rate_limited(engine: sa.Engine, ids: list[int], recipient: str, until: datetime) -> None:
    """Rows put back until ``until`` (Retry-After), with every other pending row of the recipient."""
    finish(engine, ids, status="pending", last_error="ratelimited",
           attempts=NotificationRow.attempts - 1, copies=NotificationRow.copies - 1, not_before=until)
    with engine.begin() as conn:
        conn.execute(sa.update(NotificationRow).where(
            col(NotificationRow.recipient) == recipient,
            col(NotificationRow.status) == "pending", col(NotificationRow.not_before) < until,
        ).values(not_before=until))


def retry_later(engine: sa.Engine, ids: list[int], error: str, at: datetime, *,
                refused: bool = True) -> None:
    """Rows that failed in a way a later try may mend; ``refused`` when the platform said no (so
    nothing arrived and the copy is taken back), False when it may have the message."""
    extra: dict[str, Any] = {"copies": NotificationRow.copies - 1} if refused else {}
    finish(engine, ids, status="pending", last_error=error, not_before=at, **extra)


def refused(engine: sa.Engine, ids: list[int], error: str) -> None:
    """Rows the platform refused for good (nothing arrived)."""
    finish(engine, ids, status="failed", last_error=error, copies=NotificationRow.copies - 1)


def failed(engine: sa.Engine, ids: list[int], error: str) -> None:
    """Rows that will not be sent."""
    finish(engine, ids, status="failed", last_error=error)


def next_due(engine: sa.Engine) -> datetime | None:
    """When the earliest pending notification may be sent (None when nothing is pending)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.min(NotificationRow.not_before)).where(
            col(NotificationRow.status) == "pending")).scalar()


# ---- message references ----------------------------------------------------------------------------
def add_ref(engine: sa.Engine, transfer_id: int, purpose: str, where: tuple[str, str]) -> None:
    """Remember a posted card so later changes can redraw it in place."""
    with engine.begin() as conn:
        conn.execute(sa.insert(MessageRefRow).values(
            transfer_id=transfer_id, purpose=purpose, channel=where[0], ts=where[1]))


def refs_of(engine: sa.Engine, transfer_id: int) -> list[Any]:
    """Every card posted about a transfer (purpose, channel, ts)."""
    with engine.connect() as conn:
        return list(conn.execute(sa.select(MessageRefRow).where(
            col(MessageRefRow.transfer_id) == transfer_id).order_by(col(MessageRefRow.id))).all())


def drop_ref(engine: sa.Engine, ref_id: int) -> None:
    """Forget a card that no longer exists (someone deleted it)."""
    with engine.begin() as conn:
        conn.execute(sa.delete(MessageRefRow).where(col(MessageRefRow.id) == ref_id))


def items_at(engine: sa.Engine, channel: str, ts: str) -> list[Any]:
    """The digest lines (item rows) sent as the one message at (channel, ts), oldest first."""
    with engine.connect() as conn:
        return list(conn.execute(sa.select(NotificationRow).where(
            col(NotificationRow.kind) == "item", col(NotificationRow.channel) == channel,
            col(NotificationRow.ts) == ts).order_by(col(NotificationRow.id))).all())


def find_ref(engine: sa.Engine, channel: str, ts: str) -> Any:
    """The card posted at (channel, ts), if Baton posted one there."""
    with engine.connect() as conn:
        return conn.execute(sa.select(MessageRefRow).where(
            col(MessageRefRow.channel) == channel, col(MessageRefRow.ts) == ts)).first()
