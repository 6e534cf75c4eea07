"""The outbox in SQL: the only module that writes, claims and finishes notification rows, keeps
message references, and knows the format of outbox keys (notices and the sweep's step markers).

Delivery semantics: a row is claimed (attempts + 1, copies + 1, committed) with a conditional
UPDATE just before it is sent, so two instances never send one row; it is marked sent only after
the chat platform answered ok. ``copies`` counts sends that may have reached the platform: a
refusal or a 429 takes its copy back; a claim left behind (a crash, a database fault after the
post) or a timeout keeps it. A row is never claimed with two copies out: a claim whose lease ran
out goes back to pending once (at most one resend); a row in flight twice is marked failed for a
person to check.

Retries (:func:`retry_delay`): a try that failed in a way a later try may mend (a 5xx, a
timeout, a card update Slack refused for now) waits 2 s after the first failure, doubling after
each further one (4 s, 8 s, ...) up to 5 minutes, less a random part of up to half ("equal
jitter"), so rows that failed together do not all come back together. A 429 waits exactly its
Retry-After instead, counted from the platform's answer, and puts back the recipient's other rows.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.notices import Notice
from store.db import id_in
from store.models import MessageRefRow, NotificationRow

INSTANCE = f"{socket.gethostname()}:{id(object())}"
LEASE = timedelta(minutes=5)
MAX_IN_FLIGHT = 2
RETRY_FIRST = timedelta(seconds=2)  # the wait after a first failed try
RETRY_CAP = timedelta(minutes=5)  # the longest wait, however many tries failed
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
    """Write an outbox row unless one with ``key`` exists; True when written. Two writers of one
    key at once (two workers' schedulers writing the weekly digest) leave one row and no error:
    the insert does nothing on a key already there, committed or about to be."""
    row = prepared(key, transfer_id or 0, kind, recipient, payload, "pending", not_before, now)
    row["transfer_id"] = transfer_id
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = NotificationRow.__table__  # type: ignore[attr-defined]
    stmt = (upsert(table).values(**row).on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.key))  # rowcount is not to be trusted for an ORM insert on psycopg
    return session.execute(stmt).first() is not None


def add_notice(session: Session, notice: Notice, *, now: datetime, not_before: datetime) -> int:
    """Write one row per recipient of a notice (once each); returns how many were new. The
    request that wrote it (bot/logs.py) is kept in the payload, for the log line of its sending."""
    from bot.logs import current_request_id

    rid = current_request_id()
    return sum(add_row(session, key=notice_key(notice.transfer_id, notice.topic, r),
                       transfer_id=notice.transfer_id, kind=notice.kind, recipient=r,
                       payload={**notice.payload(r), **({"request_id": rid} if rid else {})},
                       not_before=not_before, now=now)
               for r in notice.audience)


def _insert_new(session: Session, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Insert prepared rows, skipping any whose key exists (``ON CONFLICT DO NOTHING``: on
    PostgreSQL a racing transaction's copy waits for it and is then skipped); the keys written."""
    if not rows:
        return []
    table = NotificationRow.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    stmt = insert.on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)
    return list(session.execute(stmt, list(rows)).scalars())


def add_notices(session: Session, notices: Iterable[tuple[Notice, datetime]], *, now: datetime) -> int:
    """Write many (notice, deliver-from) pairs, one row per recipient, in one statement; a row
    whose key exists is left as it is. Returns how many rows were new."""
    rows: dict[str, dict[str, Any]] = {}
    for notice, not_before in notices:
        for r in notice.audience:
            key = notice_key(notice.transfer_id, notice.topic, r)
            rows.setdefault(key, prepared(key, notice.transfer_id, notice.kind, r, notice.payload(r),
                                          "pending", not_before, now))
    return len(_insert_new(session, list(rows.values())))


def step_keys_of(conn: sa.Connection, transfer_ids: Sequence[int]) -> dict[int, set[str]]:
    """The sweep's marker and digest-line keys already written, per transfer, for many
    transfers in one statement (per 5,000)."""
    out: dict[int, set[str]] = {t: set() for t in transfer_ids}
    ids = list(transfer_ids)
    pg = conn.dialect.name == "postgresql"
    for i in range(0, len(ids), 5000):
        for tid, key in conn.execute(
                sa.select(col(NotificationRow.transfer_id), col(NotificationRow.key)).where(
                    id_in(col(NotificationRow.transfer_id), ids[i : i + 5000], pg),
                    col(NotificationRow.kind).in_(("step", "item")))):
            out[int(tid or 0)].add(key)
    return out


def keys_of(conn: sa.Connection, transfer_id: int) -> set[str]:
    """Every outbox key already written for a transfer (step markers and notices)."""
    return set(conn.execute(
        sa.select(col(NotificationRow.key)).where(col(NotificationRow.transfer_id) == transfer_id)
    ).scalars())


_COPY_COLUMNS = ("key", "transfer_id", "kind", "recipient", "payload", "status", "not_before",
                 "attempts", "copies", "created_at")
COPY_FROM = 200  # rows; fewer go in one INSERT


def insert_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Many prepared rows in one statement (PostgreSQL: one COPY for many); the unique key makes
    a racing copy fail whole (IntegrityError)."""
    if not rows:
        return
    conn = session.connection()
    table: sa.Table = NotificationRow.__table__  # type: ignore[attr-defined]
    if len(rows) < COPY_FROM:
        conn.execute(sa.insert(table), list(rows))
        return
    if conn.dialect.name != "postgresql":
        # Many rows: each column's own bind processor (JSON, UTC datetimes) applied here, a
        # moment once however many rows share it, then one executemany straight to the driver.
        procs = {c: table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
                 for c in _COPY_COLUMNS}
        seen: dict[tuple[str, Any], Any] = {}

        def bound(c: str, v: Any) -> Any:
            proc = procs[c]
            if proc is None or v is None:
                return v
            if isinstance(v, datetime):
                if (c, v) not in seen:
                    seen[(c, v)] = proc(v)
                return seen[(c, v)]
            return proc(v)

        marks = ", ".join("?" for _ in _COPY_COLUMNS)
        conn.exec_driver_sql(f"INSERT INTO notification ({', '.join(_COPY_COLUMNS)}) VALUES ({marks})",
                             [tuple(bound(c, r[c]) for c in _COPY_COLUMNS) for r in rows])
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    import psycopg

    naive: dict[datetime, datetime] = {}  # a sweep's rows share two or three moments

    def utc(v: datetime) -> datetime:
        if v not in naive:
            naive[v] = v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo else v
        return naive[v]

    try:
        copy = f"COPY notification ({', '.join(_COPY_COLUMNS)}) FROM STDIN"
        with raw.cursor() as cur, cur.copy(copy) as cp:
            for r in rows:
                cp.write_row((r["key"], r["transfer_id"], r["kind"], r["recipient"],
                              json.dumps(r["payload"]), r["status"], utc(r["not_before"]),
                              r["attempts"], r["copies"], utc(r["created_at"])))
    except psycopg.errors.UniqueViolation as exc:
        raise sa.exc.IntegrityError("COPY notification", None, exc) from exc


def prepared(key: str, transfer_id: int | None, kind: str, recipient: str, payload: dict[str, Any],
             status: str, not_before: datetime, now: datetime) -> dict[str, Any]:
    """A row for :func:`insert_rows`."""
    return {"key": key, "transfer_id": transfer_id, "kind": kind, "recipient": recipient,
            "payload": payload, "status": status, "not_before": not_before, "attempts": 0,
            "copies": 0, "created_at": now}


def retry_delay(attempts: int, jitter: float) -> timedelta:
    """How long a row waits after its ``attempts``-th failed try (1 for the first): 2 s doubled
    per further try, capped at 5 minutes, less ``jitter`` (0 to 1) times half of it."""
    full = min(RETRY_CAP, RETRY_FIRST * 2 ** min(max(attempts, 1) - 1, 20))
    return full * (1 - min(max(jitter, 0.0), 1.0) / 2)


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


def due_items_of(engine: sa.Engine, now: datetime, transfer_ids: Iterable[int], *, after: int) -> list[Any]:
    """Pending digest lines of these transfers whose time has come, written after row ``after``."""
    ids = sorted(transfer_ids)
    out: list[Any] = []
    with engine.connect() as conn:
        for i in range(0, len(ids), 5000):
            out += conn.execute(sa.select(NotificationRow).where(
                col(NotificationRow.status) == "pending", col(NotificationRow.not_before) <= now,
                col(NotificationRow.kind) == "item", col(NotificationRow.id) > after,
                col(NotificationRow.transfer_id).in_(ids[i : i + 5000]),
            ).order_by(col(NotificationRow.id))).all()
    return out


def claim(engine: sa.Engine, now: datetime, ids: Iterable[int]) -> list[Any]:
    """Claim rows with one conditional UPDATE (still pending, due, and fewer than two copies out);
    only the winner sends a row. On PostgreSQL rows another instance is claiming right now are
    skipped (``FOR UPDATE SKIP LOCKED``), never waited for; SQLite runs one writer at a time. A
    row with two copies out is failed instead, never sent a third time. Returns the rows won,
    as they are now, in id order."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    won: list[int] = []
    with engine.begin() as conn:
        for i in range(0, len(wanted), 5000):
            chunk = wanted[i : i + 5000]
            free = (sa.select(col(NotificationRow.id))
                    .where(col(NotificationRow.id).in_(chunk), col(NotificationRow.status) == "pending",
                           col(NotificationRow.not_before) <= now,
                           col(NotificationRow.copies) < MAX_IN_FLIGHT)
                    .order_by(col(NotificationRow.id))
                    .with_for_update(skip_locked=True))
            won += [int(n or 0) for n in conn.execute(
                sa.update(NotificationRow)
                .where(col(NotificationRow.id).in_(free.scalar_subquery()),
                       col(NotificationRow.status) == "pending",
                       col(NotificationRow.not_before) <= now,
                       col(NotificationRow.copies) < MAX_IN_FLIGHT)
                .values(status="claimed", claimed_by=INSTANCE, claimed_at=now,
                        attempts=NotificationRow.attempts + 1, copies=NotificationRow.copies + 1)
                .returning(col(NotificationRow.id))
            ).scalars()]
            conn.execute(sa.update(NotificationRow).where(
                col(NotificationRow.id).in_(chunk), col(NotificationRow.status) == "pending",
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


def rate_limited(engine: sa.Engine, ids: list[int], recipient: str, until: datetime,
                 error: str = "ratelimited") -> None:
    """Rows put back until ``until`` (Retry-After), with every other pending row of the recipient."""
    finish(engine, ids, status="pending", last_error=error,
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


def refs_of_many(engine: sa.Engine, transfer_ids: Iterable[int]) -> list[Any]:
    """Every card posted about these transfers, oldest first (chunks of 5,000 ids)."""
    ids = sorted(set(transfer_ids))
    out: list[Any] = []
    with engine.connect() as conn:
        for i in range(0, len(ids), 5000):
            out += conn.execute(sa.select(MessageRefRow).where(
                col(MessageRefRow.transfer_id).in_(ids[i : i + 5000])).order_by(col(MessageRefRow.id))).all()
    return sorted(out, key=lambda r: r.id)


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
