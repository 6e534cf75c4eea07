"""Case records (bot/record_clocks.py) in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from bot.record_clocks import CaseRecord
from store.models import CaseRecordRow

_T: sa.Table = CaseRecordRow.__table__  # type: ignore[attr-defined]


def _record(row: Any) -> CaseRecord:
    return CaseRecord(case_ref=row.case_ref, kind=row.kind, on=row.on_date, team=row.team,
                      recorded_by=row.recorded_by, recorded_at=row.recorded_at, at=row.at,
                      ends_on=row.ends_on, done=tuple(row.done or ()), ended=tuple(row.ended or ()),
                      id=row.id, closed_at=row.closed_at)


class SqlCaseRecords:
    """Case records in SQL: the open ones of a case, and those whose next step has come."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, r: CaseRecord, next_step_at: datetime | None) -> CaseRecord:
        """Store a new record; returns it with its id."""
        row = CaseRecordRow(case_ref=r.case_ref, kind=r.kind, team=r.team, on_date=r.on, at=r.at,
                            ends_on=r.ends_on, recorded_by=r.recorded_by, recorded_at=r.recorded_at,
                            done=list(r.done), ended=list(r.ended), closed_at=r.closed_at,
                            next_step_at=next_step_at)
        self.s.add(row)
        self.s.flush()
        return _record(row)

    def save(self, r: CaseRecord, next_step_at: datetime | None) -> None:
        """Store what was done or ended on a record, and the next moment a sweep looks at it."""
        self.s.execute(sa.update(_T).where(_T.c.id == r.id).values(
            done=list(r.done), ended=list(r.ended), closed_at=r.closed_at, ends_on=r.ends_on,
            next_step_at=next_step_at))

    def open_of_case(self, case_ref: str) -> list[CaseRecord]:
        """The case's records whose clocks still run, oldest first."""
        rows = self.s.execute(sa.select(_T).where(_T.c.case_ref == case_ref, _T.c.closed_at.is_(None))
                              .order_by(_T.c.id)).all()
        return [_record(r) for r in rows]

    def open_of_teams(self, teams: Sequence[str], limit: int = 500) -> list[CaseRecord]:
        """The open records of these teams, oldest first (at most ``limit``)."""
        if not teams:
            return []
        rows = self.s.execute(sa.select(_T).where(_T.c.team.in_(list(teams)), _T.c.closed_at.is_(None))
                              .order_by(_T.c.id).limit(limit)).all()
        return [_record(r) for r in rows]

    def due(self, now: datetime, limit: int = 1000) -> list[CaseRecord]:
        """Open records whose next step has come (an index range scan on next_step_at)."""
        rows = self.s.execute(sa.select(_T).where(_T.c.next_step_at <= now, _T.c.closed_at.is_(None))
                              .order_by(_T.c.next_step_at, _T.c.id).limit(limit)).all()
        return [_record(r) for r in rows]

    def purge_closed_before(self, moment: datetime) -> int:
        """Delete records whose clocks all ended before ``moment``; returns how many."""
        result = self.s.execute(sa.delete(_T).where(_T.c.closed_at.is_not(None), _T.c.closed_at < moment))
        return int(getattr(result, "rowcount", 0) or 0)
