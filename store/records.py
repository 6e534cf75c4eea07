"""Covers, the audit of reads and case closures in SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, delete

from bot.ports import (
    Closure,
    Cover,
    Read,
)
from store.models import (
    CaseClosureRow,
    CoverRow,
    TransferReadRow,
    TransferRow,
)

_TRANSFER: sa.Table = TransferRow.__table__  # type: ignore[attr-defined]
_COVER: sa.Table = CoverRow.__table__  # type: ignore[attr-defined]


class SqlCovers:
    """Managers' leave and cover in SQL."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._on: dict[date, list[Cover]] = {}  # read once per day in a unit of work

    def add(self, cover: Cover, now: datetime) -> None:
        """Record leave/cover, replacing any overlapping entry for that manager."""
        self._on.clear()
        self.s.execute(
            delete(CoverRow).where(
                col(CoverRow.manager) == cover.manager,
                col(CoverRow.ends_on) >= cover.starts_on,
                col(CoverRow.starts_on) <= cover.ends_on,
            )
        )
        self.s.add(CoverRow(manager=cover.manager, cover=cover.cover, starts_on=cover.starts_on,
                            ends_on=cover.ends_on, created_at=now))

    def active_on(self, day: date) -> list[Cover]:
        """Covers in force on ``day`` (read once per unit of work and day)."""
        if day not in self._on:
            c = _COVER.c
            rows = self.s.execute(sa.select(c.manager, c.cover, c.starts_on, c.ends_on)
                                  .where(c.starts_on <= day, c.ends_on >= day)).all()
            self._on[day] = [Cover(r.manager, r.cover, r.starts_on, r.ends_on) for r in rows]
        return list(self._on[day])


_READ: sa.Table = TransferReadRow.__table__  # type: ignore[attr-defined]


class SqlReads:
    """The audit of reads in SQL (rows go with their transfer when it is purged)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, read: Read) -> None:
        """Record one read."""
        self.s.execute(sa.insert(_READ).values(
            transfer_id=read.transfer_id, reader=read.reader, surface=read.surface,
            granted=read.granted, restricted=read.restricted,
            at=read.at.astimezone(UTC).replace(tzinfo=None)))

    def _select(self) -> sa.Select[Any]:
        r = _READ.c
        return (sa.select(r.transfer_id, _TRANSFER.c.case_ref, r.reader, r.surface, r.granted,
                          r.restricted, r.at)
                .join_from(_READ, _TRANSFER, _TRANSFER.c.id == r.transfer_id).order_by(r.at, r.id))

    @staticmethod
    def _read(row: Any) -> Read:
        return Read(row.transfer_id, row.case_ref, row.reader, row.surface, bool(row.granted),
                    bool(row.restricted), row.at.replace(tzinfo=UTC))

    def of_transfer(self, transfer_id: int) -> list[Read]:
        """Every read of one transfer, oldest first."""
        return [self._read(r) for r in self.s.execute(
            self._select().where(_READ.c.transfer_id == transfer_id))]

    def restricted_between(self, start: datetime, end: datetime) -> list[Read]:
        """Reads of restricted transfers in a period, oldest first."""
        lo, hi = (x.astimezone(UTC).replace(tzinfo=None) for x in (start, end))
        return [self._read(r) for r in self.s.execute(
            self._select().where(_READ.c.restricted.is_(True), _READ.c.at >= lo, _READ.c.at < hi))]


_CLOSURE: sa.Table = CaseClosureRow.__table__  # type: ignore[attr-defined]


class SqlClosures:
    """Case closures in SQL."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, closure: Closure) -> None:
        """Record one closure."""
        self.s.execute(sa.insert(_CLOSURE).values(
            case_ref=closure.case_ref, team=closure.team, closed_on=closure.closed_on,
            recorded_by=closure.recorded_by,
            recorded_at=closure.recorded_at.astimezone(UTC).replace(tzinfo=None)))

    def latest(self, case_ref: str) -> Closure | None:
        """The case's most recent closure (latest day, then latest recorded)."""
        c = _CLOSURE.c
        row = self.s.execute(sa.select(c.case_ref, c.team, c.closed_on, c.recorded_by, c.recorded_at)
                             .where(c.case_ref == case_ref)
                             .order_by(c.closed_on.desc(), c.id.desc()).limit(1)).first()
        if row is None:
            return None
        return Closure(row.case_ref, row.team, row.closed_on, row.recorded_by,
                       row.recorded_at.replace(tzinfo=UTC))

    def purge_before(self, day: date) -> int:
        """Delete closures of cases closed before ``day``; returns how many."""
        result = self.s.execute(sa.delete(_CLOSURE).where(_CLOSURE.c.closed_on < day))
        return int(getattr(result, "rowcount", 0) or 0)
