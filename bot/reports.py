"""Reports: how the service is doing over a period, from plain rows (no SQL, no Slack)."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.calendar import WorkingCalendar
from bot.clocks import rag
from bot.domain import CLOSED, State, local_date

__all__ = ["ReportRow", "Summary", "TeamLine", "rag", "summarise", "table",
           "working_days_to_resolution"]

RESOLVED = frozenset({State.completed, State.declined, State.withdrawn, State.decided})


@dataclass(frozen=True)
class ReportRow:
    """One transfer as reports see it."""

    id: int
    case_ref: str
    policy: str
    holding_team: str
    receiving_team: str
    kind: str
    state: str
    requested_on: date | None
    closed_at: datetime | None
    next_due: date | None
    breached_on: date | None  # the first breach a sweep recorded, if any
    endorsement_overdue: bool = False
    restricted: bool = False


@dataclass
class TeamLine:
    """Counts for one team (as receiver)."""

    team: str
    open: int = 0
    opened: int = 0
    resolved: int = 0
    breached: int = 0
    overdue: int = 0


@dataclass
class Summary:
    """The period's figures: what the weekly digest and `baton report` show."""

    start: date
    end: date
    opened: int = 0
    resolved: int = 0
    breached: int = 0
    awaiting_endorsement: int = 0
    open_now: int = 0
    overdue_now: int = 0
    median_days_to_resolution: float | None = None
    by_team: list[TeamLine] = field(default_factory=list)
    by_state: dict[str, int] = field(default_factory=dict)
    # For one escalation channel's digest: the overdue transfers put to its level, the same
    # ones its people's `/transfer list overdue` shows (None: not a channel's digest).
    overdue_reached: int | None = None


def _in(d: date | None, start: date, end: date) -> bool:
    return d is not None and start <= d <= end


def working_days_to_resolution(row: ReportRow, cal: WorkingCalendar) -> int | None:
    """Working days from the request to closing (day 1 is the next working day after it)."""
    if row.requested_on is None or row.closed_at is None:
        return None
    return cal.working_days_between(row.requested_on, local_date(row.closed_at))


def summarise(rows: list[ReportRow], *, start: date, end: date, cal: WorkingCalendar) -> Summary:
    """Opened, resolved, breached and awaiting endorsement in [start, end]; medians; by team."""
    s = Summary(start=start, end=end)
    teams: dict[str, TeamLine] = {}
    durations: list[int] = []
    states: Counter[str] = Counter()
    for r in rows:
        line = teams.setdefault(r.receiving_team, TeamLine(r.receiving_team))
        is_open = State(r.state) not in CLOSED
        if is_open:
            s.open_now += 1
            line.open += 1
            states[r.state] += 1
            if r.next_due is not None and r.next_due < end:
                s.overdue_now += 1
                line.overdue += 1
            if r.endorsement_overdue:
                s.awaiting_endorsement += 1
        if _in(r.requested_on, start, end):
            s.opened += 1
            line.opened += 1
        closed = local_date(r.closed_at) if r.closed_at else None
        if State(r.state) in RESOLVED and _in(closed, start, end):
            s.resolved += 1
            line.resolved += 1
            days = working_days_to_resolution(r, cal)
            if days is not None:
                durations.append(days)
        if _in(r.breached_on, start, end):
            s.breached += 1
            line.breached += 1
    s.median_days_to_resolution = statistics.median(durations) if durations else None
    s.by_team = sorted(teams.values(), key=lambda t: t.team)
    s.by_state = dict(sorted(states.items()))
    return s


def table(s: Summary) -> str:
    """The summary as a plain-text table for the terminal."""
    med = "-" if s.median_days_to_resolution is None else f"{s.median_days_to_resolution:g}"
    lines = [
        f"Transfers {s.start:%d %b %Y} to {s.end:%d %b %Y}",
        f"  opened {s.opened}   resolved {s.resolved}   breached {s.breached}   "
        f"awaiting endorsement {s.awaiting_endorsement}",
        f"  open now {s.open_now}   overdue now {s.overdue_now}   "
        f"median working days to resolution {med}",
        "",
        f"  {'receiving team':<22}{'open':>6}{'opened':>8}{'resolved':>10}{'breached':>10}{'overdue':>9}",
    ]
    for t in s.by_team:
        lines.append(f"  {t.team:<22}{t.open:>6}{t.opened:>8}{t.resolved:>10}{t.breached:>10}{t.overdue:>9}")
    return "\n".join(lines)
