"""The transfer repository in SQL: transfers, their timelines and clocks, the list and report
queries, bulk import and purge."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from bot.clocks import ClockStatus, Deadline
from bot.domain import State, TimelineEvent, Transfer, local_date
from bot.ports import (
    DuplicateOpenTransfer,
    StaleTransfer,
    TransferSummary,
)
from bot.reports import ReportRow
from store.db import id_in
from store.models import (
    DeadlineRow,
    NotificationRow,
    TimelineRow,
    TransferReadRow,
    TransferRow,
)

_SCALARS = (
    "case_ref", "policy", "holding_team", "receiving_team", "kind", "requested_by",
    "requested_on", "heads_up_on", "transfer_point", "transfer_point_date", "move_date",
    "move_end_date", "order_date", "accommodated_on", "funding_note", "named_worker", "agreed_date",
    "escalation_level", "work_due",
    "created_at", "closed_at", "restricted",
)


_TRANSFER: sa.Table = TransferRow.__table__  # type: ignore[attr-defined]
_TIMELINE: sa.Table = TimelineRow.__table__  # type: ignore[attr-defined]


def _row_values(t: Transfer, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {k: getattr(t, k) for k in _SCALARS}
    values.update(
        state=t.state.value,
        flags=list(t.flags),
        linked_refs=list(t.linked_refs),
        checklist=t.checklist,
        work_items=list(t.work_items),
        excluded=list(t.excluded),
        updated_at=now,
    )
    return values


def _to_domain(row: Any, timeline: list[Any]) -> Transfer:
    t = Transfer(
        **{k: getattr(row, k) for k in _SCALARS},
        state=State(row.state),
        flags=tuple(row.flags or ()),
        linked_refs=tuple(row.linked_refs or ()),
        checklist=dict(row.checklist or {}),
        work_items=tuple(row.work_items or ()),
        excluded=tuple(row.excluded or ()),
        id=row.id,
        version=row.version,
    )
    t.timeline = [
        TimelineEvent(
            at=ev.at, actor=ev.actor, kind=ev.kind, from_state=ev.from_state,
            to_state=ev.to_state, reason=ev.reason, detail=dict(ev.detail or {}),
        )
        for ev in timeline
    ]
    return t


def _json_list(value: Any) -> list[str]:
    """A JSON list column read through Core (SQLite may hand back its text)."""
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or ())


def _event_values(transfer_id: int, ev: TimelineEvent) -> dict[str, Any]:
    return {
        "transfer_id": transfer_id, "at": ev.at, "actor": ev.actor, "kind": ev.kind,
        "from_state": ev.from_state, "to_state": ev.to_state, "reason": ev.reason,
        "detail": ev.detail or None,
    }


def _deadline_values(transfer_id: int, d: Deadline) -> dict[str, Any]:
    return {
        "transfer_id": transfer_id, "clock": d.clock, "starts_on": d.starts_on,
        "due_on": d.due_on, "status": d.status.value, "next_step_on": d.next_step_on,
    }


def _is_open_case_violation(exc: IntegrityError) -> bool:
    text = str(exc.orig)
    return "uq_transfer_open_case" in text or "transfer.case_ref" in text


def _chunks(ids: Sequence[int], size: int = 5000) -> list[Sequence[int]]:
    """``ids`` in slices small enough for one IN list."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]



_DEADLINE: sa.Table = DeadlineRow.__table__  # type: ignore[attr-defined]
_NEXT_STEP = (sa.update(_DEADLINE)
              .where(_DEADLINE.c.transfer_id == sa.bindparam("tid"), _DEADLINE.c.clock == sa.bindparam("c"))
              .values(next_step_on=sa.bindparam("n")))

_NEXT_STEPS_PG = sa.text(
    "UPDATE deadline AS d SET next_step_on = v.n FROM unnest("
    "CAST(:tids AS integer[]), CAST(:clocks AS varchar[]), CAST(:days AS date[])) AS v(tid, c, n) "
    "WHERE d.transfer_id = v.tid AND d.clock = v.c")


class SqlTransfers:
    """Transfers in SQL."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def add(self, t: Transfer, deadlines: Sequence[Deadline]) -> Transfer:
        """Insert a new transfer with its timeline and deadlines; sets ``t.id``."""
        now = t.timeline[-1].at if t.timeline else t.created_at
        row = TransferRow(**_row_values(t, now), version=1)
        self.s.add(row)
        try:
            self.s.flush()
        except IntegrityError as exc:
            if _is_open_case_violation(exc):
                raise DuplicateOpenTransfer(t.case_ref) from exc
            raise
        assert row.id is not None
        t.id, t.version = row.id, 1
        self._append(t)
        self._replace_deadlines(row.id, deadlines)
        return t

    def _append(self, t: Transfer) -> None:
        assert t.id is not None
        if t.new_events:
            self.s.execute(sa.insert(TimelineRow), [_event_values(t.id, ev) for ev in t.new_events])
        t.new_events = []

    def _replace_deadlines(self, transfer_id: int, deadlines: Sequence[Deadline]) -> None:
        self.s.execute(delete(DeadlineRow).where(col(DeadlineRow.transfer_id) == transfer_id))
        if deadlines:
            self.s.execute(sa.insert(DeadlineRow),
                           [_deadline_values(transfer_id, d) for d in deadlines])

    def save(self, t: Transfer, deadlines: Sequence[Deadline]) -> None:
        """Write changes, append new events and replace deadlines; StaleTransfer on a lost race."""
        assert t.id is not None
        now = t.new_events[-1].at if t.new_events else self._now()
        values = _row_values(t, now)
        try:
            result = self.s.execute(
                sa.update(TransferRow)
                .where(col(TransferRow.id) == t.id, col(TransferRow.version) == t.version)
                .values(**values, version=t.version + 1)
            )
        except IntegrityError as exc:
            if _is_open_case_violation(exc):
                raise DuplicateOpenTransfer(t.case_ref) from exc
            raise
        if getattr(result, "rowcount", 1) != 1:
            raise StaleTransfer(t.case_ref)
        t.version += 1
        self._append(t)
        self._replace_deadlines(t.id, deadlines)

    def _load(self, row: Any) -> Transfer | None:
        if row is None:
            return None
        # Core rows, not ORM objects: a transfer is read on every button press.
        events = self.s.execute(
            sa.select(_TIMELINE).where(_TIMELINE.c.transfer_id == row.id).order_by(_TIMELINE.c.id)
        ).all()
        return _to_domain(row, list(events))

    def version_of(self, transfer_id: int) -> int | None:
        """A transfer's version (it goes up with every change), without loading it."""
        return self.s.execute(sa.select(_TRANSFER.c.version).where(_TRANSFER.c.id == transfer_id)).scalar()

    def lock(self, transfer_id: int) -> None:
        """Hold the transfer's row until this transaction ends (PostgreSQL's FOR UPDATE), so
        concurrent writers to one transfer queue instead of racing and retrying; SQLite already
        lets one writer in at a time."""
        if self.s.get_bind().dialect.name == "postgresql":
            self.s.execute(sa.select(_TRANSFER.c.id).where(_TRANSFER.c.id == transfer_id).with_for_update())

    def get(self, transfer_id: int) -> Transfer | None:
        """One transfer with its timeline."""
        return self._load(self.s.execute(
            sa.select(_TRANSFER).where(_TRANSFER.c.id == transfer_id)).first())

    def get_many(self, ids: Sequence[int], *, lock: bool = False) -> dict[int, Transfer]:
        """Many transfers with their timelines, by id, in two statements (per 5,000 ids). With
        ``lock`` this transaction holds their rows until it ends (PostgreSQL ``FOR UPDATE``, in id
        order so two sweeps never deadlock): a second instance sweeping the same transfers waits,
        then reads what the first wrote; writers to one of them queue behind it, as they queue
        behind each other. SQLite lets one writer in at a time already."""
        out: dict[int, Transfer] = {}
        pg = self.s.get_bind().dialect.name == "postgresql"
        for chunk in _chunks(sorted(ids)):
            stmt = sa.select(_TRANSFER).where(id_in(_TRANSFER.c.id, chunk, pg))
            if lock and pg:
                stmt = stmt.order_by(_TRANSFER.c.id).with_for_update()
            rows = self.s.execute(stmt).all()
            if not rows:
                continue
            held = [r.id for r in rows]
            events: dict[int, list[Any]] = {i: [] for i in held}
            for ev in self.s.execute(sa.select(_TIMELINE).where(id_in(_TIMELINE.c.transfer_id, held, pg))
                                     .order_by(_TIMELINE.c.transfer_id, _TIMELINE.c.id)):
                events[ev.transfer_id].append(ev)
            out.update({r.id: _to_domain(r, events[r.id]) for r in rows})
        return out

    def save_many(self, changed: Sequence[tuple[Transfer, Sequence[Deadline]]]) -> None:
        """Write many changed transfers at once: one versioned UPDATE run for all, their new
        events in one INSERT, their deadlines replaced in two statements; StaleTransfer (nothing
        kept by the caller) when any was changed elsewhere meanwhile."""
        if not changed:
            return
        values = []
        for t, _ in changed:
            assert t.id is not None
            now = t.new_events[-1].at if t.new_events else self._now()
            values.append({**{f"v_{k}": v for k, v in _row_values(t, now).items()},
                           "v_id": t.id, "v_version": t.version, "v_next": t.version + 1})
        cols = list(_row_values(changed[0][0], self._now()))
        stmt = (sa.update(_TRANSFER)
                .where(_TRANSFER.c.id == sa.bindparam("v_id"),
                       _TRANSFER.c.version == sa.bindparam("v_version"))
                .values({**{k: sa.bindparam(f"v_{k}") for k in cols}, "version": sa.bindparam("v_next")}))
        result = self.s.connection().execute(stmt, values)
        if result.rowcount not in (-1, len(values)):
            raise StaleTransfer(", ".join(t.case_ref for t, _ in changed))
        events: list[dict[str, Any]] = []
        deadlines: list[dict[str, Any]] = []
        for t, ds in changed:
            assert t.id is not None
            t.version += 1
            events += [_event_values(t.id, ev) for ev in t.new_events]
            t.new_events = []
            deadlines += [_deadline_values(t.id, d) for d in ds]
        if events:
            self.s.execute(sa.insert(TimelineRow), events)
        ids = [t.id for t, _ in changed]
        self.s.execute(delete(DeadlineRow).where(col(DeadlineRow.transfer_id).in_(ids)))
        if deadlines:
            self.s.execute(sa.insert(DeadlineRow), deadlines)

    def set_next_steps(self, updates: Sequence[tuple[int, str, date | None]]) -> None:
        """Move each (transfer, clock)'s ``next_step_on``: PostgreSQL in one UPDATE joined to the
        values as arrays, SQLite in one statement run for all."""
        if not updates:
            return
        conn = self.s.connection()
        if conn.dialect.name == "postgresql":
            tids, clocks, days = (list(x) for x in zip(*updates, strict=True))
            conn.execute(_NEXT_STEPS_PG, {"tids": tids, "clocks": clocks, "days": days})
        else:
            conn.execute(_NEXT_STEP, [{"tid": t, "c": c, "n": n} for t, c, n in updates])

    def get_open_by_case(self, case_ref: str) -> Transfer | None:
        """The open transfer for a case reference, if any."""
        row = self.s.exec(
            select(TransferRow).where(
                TransferRow.case_ref == case_ref, col(TransferRow.closed_at).is_(None)
            )
        ).first()
        return self._load(row)

    def latest_by_case(self, case_ref: str) -> Transfer | None:
        """The most recent transfer for a case, open or closed."""
        row = self.s.exec(
            select(TransferRow).where(TransferRow.case_ref == case_ref)
            .order_by(col(TransferRow.id).desc())
        ).first()
        return self._load(row)

    def last_closed_by_case(self, case_ref: str) -> Transfer | None:
        """The most recently closed transfer for a case."""
        row = self.s.exec(
            select(TransferRow)
            .where(TransferRow.case_ref == case_ref, col(TransferRow.closed_at).is_not(None))
            .order_by(col(TransferRow.closed_at).desc())
        ).first()
        return self._load(row)

    def ids_of_case(self, case_ref: str) -> list[int]:
        """Ids of every transfer of a case, open or closed, oldest first."""
        return list(self.s.execute(sa.select(_TRANSFER.c.id).where(_TRANSFER.c.case_ref == case_ref)
                                   .order_by(_TRANSFER.c.id)).scalars())

    def open_case_refs(self, refs: Iterable[str]) -> dict[str, int]:
        """Of ``refs``, those with an open transfer, mapped to its id."""
        out: dict[str, int] = {}
        refs = list(refs)
        for i in range(0, len(refs), 5000):
            chunk = refs[i : i + 5000]
            rows = self.s.execute(
                sa.select(col(TransferRow.case_ref), col(TransferRow.id)).where(
                    col(TransferRow.case_ref).in_(chunk), col(TransferRow.closed_at).is_(None)
                )
            ).all()
            out.update({r[0]: r[1] for r in rows})
        return out

    def summaries(
        self,
        *,
        overdue_on: date | None = None,
        teams: Iterable[str] | None = None,
        open_only: bool = True,
        limit: int | None = None,
        state: str | None = None,
        closed_since: datetime | None = None,
    ) -> list[TransferSummary]:
        """Transfers for lists, each with the running deadline that falls due first."""
        dt: sa.Table = DeadlineRow.__table__  # type: ignore[attr-defined]
        tt: sa.Table = TransferRow.__table__  # type: ignore[attr-defined]
        d, t = dt.c, tt.c
        running = sa.and_(d.transfer_id == t.id, d.status == ClockStatus.running.value)
        if overdue_on is not None:
            # Driven by the (status, due_on) index: reads only what is overdue.
            source = dt.join(tt, t.id == d.transfer_id)
            where = [d.status == ClockStatus.running.value, d.due_on < overdue_on]
        else:
            source = tt.outerjoin(dt, running)
            where = []
        stmt = sa.select(
            t.id, t.case_ref, t.policy, t.state, t.holding_team, t.receiving_team, t.kind,
            t.requested_on, t.closed_at, t.requested_by, t.named_worker, t.restricted, t.excluded,
            d.clock, d.due_on,
        ).select_from(source).where(*where)
        if open_only:
            stmt = stmt.where(t.closed_at.is_(None))
        if state is not None:
            stmt = stmt.where(t.state == state)
        if closed_since is not None:
            stmt = stmt.where(t.closed_at >= closed_since)
        if teams is not None:
            ts = list(teams)
            stmt = stmt.where(sa.or_(t.holding_team.in_(ts), t.receiving_team.in_(ts)))
        first: dict[int, sa.Row[Any]] = {}
        for row in self.s.execute(stmt):
            seen = first.get(row.id)
            if seen is None or (row.due_on is not None and (seen.due_on is None or row.due_on < seen.due_on)):
                first[row.id] = row
        ordered = sorted(first.values(), key=lambda r: (r.due_on is None, r.due_on or date.max, r.id))
        if limit is not None:
            ordered = ordered[:limit]
        return [
            TransferSummary(
                id=r.id, case_ref=r.case_ref, policy=r.policy, state=r.state,
                holding_team=r.holding_team, receiving_team=r.receiving_team, kind=r.kind,
                requested_on=r.requested_on, due_on=r.due_on,
                due_clock=r.clock if r.due_on is not None else None,
                closed_at=r.closed_at.replace(tzinfo=UTC) if r.closed_at else None,
                requested_by=r.requested_by, named_worker=r.named_worker,
                restricted=bool(r.restricted), excluded=tuple(_json_list(r.excluded)),
            )
            for r in ordered
        ]

    def report_rows(self, *, since: date, today: date) -> list[ReportRow]:
        """Transfers open now, or requested or closed since ``since``, with their deadlines and
        the first breach a sweep recorded."""
        tt: sa.Table = TransferRow.__table__  # type: ignore[attr-defined]
        dt: sa.Table = DeadlineRow.__table__  # type: ignore[attr-defined]
        nt: sa.Table = NotificationRow.__table__  # type: ignore[attr-defined]
        t, d, n = tt.c, dt.c, nt.c
        running = d.status == ClockStatus.running.value
        next_due = (sa.select(sa.func.min(d.due_on)).where(d.transfer_id == t.id, running)
                    .scalar_subquery())
        endorse = (sa.select(sa.func.count()).where(d.transfer_id == t.id, running,
                                                    d.clock == "endorsement", d.due_on < today)
                   .scalar_subquery())
        breached = (sa.select(sa.func.min(n.created_at)).where(
            n.transfer_id == t.id, n.kind == "step", n.key.like("%:breach")).scalar_subquery())
        since_dt = datetime(since.year, since.month, since.day, tzinfo=UTC)
        stmt = sa.select(
            t.id, t.case_ref, t.policy, t.holding_team, t.receiving_team, t.kind, t.state,
            t.requested_on, t.closed_at, t.restricted, next_due.label("next_due"), endorse.label("endorse"),
            breached.label("breached"),
        ).where(sa.or_(t.closed_at.is_(None), t.closed_at >= since_dt.replace(tzinfo=None),
                       t.requested_on >= since)).order_by(t.id)
        out = []
        for r in self.s.execute(stmt):
            breached_at = r.breached
            if isinstance(breached_at, str):  # SQLite returns aggregates of datetimes as text
                breached_at = datetime.fromisoformat(breached_at)
            out.append(ReportRow(
                id=r.id, case_ref=r.case_ref, policy=r.policy, holding_team=r.holding_team,
                receiving_team=r.receiving_team, kind=r.kind, state=r.state,
                requested_on=r.requested_on,
                closed_at=r.closed_at.replace(tzinfo=UTC) if r.closed_at else None,
                next_due=date.fromisoformat(r.next_due) if isinstance(r.next_due, str) else r.next_due,
                breached_on=local_date(breached_at.replace(tzinfo=UTC)) if breached_at else None,
                endorsement_overdue=bool(r.endorse), restricted=bool(r.restricted),
            ))
        return out

    def bulk_import(self, rows: Sequence[tuple[Transfer, Sequence[Deadline]]]) -> int:
        """Insert many new transfers at once (one transaction); returns how many."""
        conn = self.s.connection()
        if conn.dialect.name == "postgresql":
            return self._copy_import(conn, rows)
        batch = 2000
        for i in range(0, len(rows), batch):
            chunk = rows[i : i + batch]
            values = [
                {**_row_values(t, t.created_at), "version": 1} for t, _ in chunk
            ]
            ids = conn.execute(
                sa.insert(TransferRow).returning(col(TransferRow.id), sort_by_parameter_order=True),
                values,
            ).scalars().all()
            events: list[dict[str, Any]] = []
            dls: list[dict[str, Any]] = []
            for tid, (t, ds) in zip(ids, chunk, strict=True):
                assert tid is not None
                t.id, t.version = tid, 1
                events += [_event_values(tid, ev) for ev in t.new_events]
                t.new_events = []
                dls += [_deadline_values(tid, d) for d in ds]
            if events:
                conn.execute(sa.insert(TimelineRow), events)
            if dls:
                conn.execute(sa.insert(DeadlineRow), dls)
        return len(rows)

    def _copy_import(self, conn: sa.Connection,
                     rows: Sequence[tuple[Transfer, Sequence[Deadline]]]) -> int:
        """PostgreSQL: reserve ids from the sequence, then COPY the three tables."""
        ids = conn.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence('transfer', 'id')) FROM generate_series(1, :n)"),
            {"n": len(rows)},
        ).scalars().all()
        raw = conn.connection.driver_connection
        assert raw is not None
        cols = [*_row_values(rows[0][0], rows[0][0].created_at), "version", "id"] if rows else []
        json_cols = {"flags", "linked_refs", "checklist", "work_items", "excluded"}

        def cell(k: str, v: Any) -> Any:
            if k in json_cols:
                return json.dumps(v)
            if isinstance(v, datetime):
                return v.astimezone(UTC).replace(tzinfo=None)
            return v

        with raw.cursor() as cur:
            with cur.copy(f"COPY transfer ({', '.join(cols)}) FROM STDIN") as cp:
                for tid, (t, _) in zip(ids, rows, strict=True):
                    vals = _row_values(t, t.created_at)
                    vals.update(version=1, id=tid)
                    cp.write_row([cell(k, vals[k]) for k in cols])
            ev_cols = ["transfer_id", "at", "actor", "kind", "from_state", "to_state", "reason", "detail"]
            with cur.copy(f"COPY timeline_event ({', '.join(ev_cols)}) FROM STDIN") as cp:
                for tid, (t, _) in zip(ids, rows, strict=True):
                    for ev in t.new_events:
                        v = _event_values(tid, ev)
                        cp.write_row([cell("detail" if k == "detail" else k, v[k]) if k != "detail"
                                      else json.dumps(v[k]) for k in ev_cols])
            dl_cols = ["transfer_id", "clock", "starts_on", "due_on", "status", "next_step_on"]
            with cur.copy(f"COPY deadline ({', '.join(dl_cols)}) FROM STDIN") as cp:
                for tid, (_, ds) in zip(ids, rows, strict=True):
                    for d in ds:
                        v = _deadline_values(tid, d)
                        cp.write_row([v[k] for k in dl_cols])
        for tid, (t, _) in zip(ids, rows, strict=True):
            t.id, t.version, t.new_events = tid, 1, []
        return len(rows)

    def closed_before(self, when: datetime) -> list[int]:
        """Ids of transfers closed before ``when``, oldest first."""
        return list(self.s.execute(sa.select(col(TransferRow.id)).where(
            col(TransferRow.closed_at).is_not(None), col(TransferRow.closed_at) < when
        ).order_by(col(TransferRow.id))).scalars())

    def posted_messages(self, transfer_id: int) -> list[tuple[str, str]]:
        """Every chat message Baton posted about a transfer (cards, posts, texts, digest lines),
        as (channel, ts), each once."""
        from store.models import MessageRefRow

        refs = self.s.execute(sa.select(col(MessageRefRow.channel), col(MessageRefRow.ts)).where(
            col(MessageRefRow.transfer_id) == transfer_id).order_by(col(MessageRefRow.id))).all()
        sent = self.s.execute(sa.select(col(NotificationRow.channel), col(NotificationRow.ts)).where(
            col(NotificationRow.transfer_id) == transfer_id, col(NotificationRow.channel).is_not(None),
            col(NotificationRow.ts).is_not(None)).order_by(col(NotificationRow.id))).all()
        return list(dict.fromkeys((str(c), str(t)) for c, t in [*refs, *sent]))

    def purge(self, ids: Sequence[int]) -> int:
        """Delete these transfers with their timelines, clocks, notifications, message
        references and reads; returns how many."""
        from store.models import MessageRefRow

        if not ids:
            return 0
        for table in (TimelineRow, DeadlineRow, NotificationRow, TransferReadRow, MessageRefRow):
            self.s.execute(sa.delete(table).where(col(table.transfer_id).in_(list(ids))))
        result = self.s.execute(sa.delete(TransferRow).where(col(TransferRow.id).in_(list(ids))))
        return int(getattr(result, "rowcount", 0) or 0)

    def purge_closed_before(self, when: datetime) -> int:
        """Delete transfers closed before ``when`` with their timelines; returns how many."""
        return self.purge(self.closed_before(when))
