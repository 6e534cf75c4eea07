"""Reports: the summary, the weekly digest, and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

from bot import access, notices, views
from bot.domain import (
    DomainError,
    local_date,
)
from bot.errors import NotPermitted
from bot.org import Org
from bot.ports import (
    Read,
    TransferSummary,
    UnitOfWork,
)
from bot.reports import ReportRow, Summary, rag, summarise, working_days_to_resolution
from bot.usecases.common import calendar, transfer_deadlines
from bot.usecases.lists import list_transfers


# ---- reports ----------------------------------------------------------------------------------
def report_rows(uow: UnitOfWork, *, start: date, today: date) -> list[ReportRow]:
    """Rows for reports over the period starting ``start``."""
    return uow.transfers.report_rows(since=start, today=today)


def report(uow: UnitOfWork, org: Org, *, start: date, end: date) -> Summary:
    """The period's summary: opened, resolved, breached, awaiting endorsement, medians, by team."""
    rows = uow.transfers.report_rows(since=start, today=end)
    return summarise(rows, start=start, end=end, cal=calendar(org))


def weekly_summary(uow: UnitOfWork, org: Org, *, start: date, end: date,
                   channel: str | None = None) -> Summary:
    """The weekly digest's figures as people read them in chat: teams by name, never by id;
    for an escalation ``channel``, also how many overdue transfers were put to its level on the
    day after the period (what its people's `/transfer list overdue` lists that day)."""
    s = report(uow, org, start=start, end=end)
    for line in s.by_team:
        line.team = views.team_name(org, line.team)
    if channel is not None:
        s.overdue_reached = len(reached_channel(uow, org, channel, end + timedelta(days=1)))
    return s


def reached_channel(uow: UnitOfWork, org: Org, channel: str, today: date) -> list[TransferSummary]:
    """Overdue open transfers that reached a level whose contact is ``channel`` (for either team)."""
    covers = uow.covers.active_on(today)
    out = []
    for r in list_transfers(uow, today=today, overdue=True):
        t = uow.transfers.get(r.id)
        if t is None or not org.has_team(t.holding_team):
            continue
        pack = org.pack_for(t.holding_team)
        levels = access.reached_levels(org, t, pack, covers, transfer_deadlines(org, t), today)
        if any((c := org.contact(team, lv)) is not None and c.channel == channel
               for team in (t.holding_team, t.receiving_team) if org.has_team(team) for lv in levels):
            out.append(r)
    return out


EXPORT_COLUMNS = ("id", "case_ref", "policy", "holding_team", "receiving_team", "kind", "state",
                  "requested_on", "closed_on", "working_days_to_resolution", "next_due",
                  "breached_on", "rag")


def export_rows(uow: UnitOfWork, org: Org, *, start: date, end: date, reader: str | None = None,
                now: datetime | None = None, chat: bool = False) -> list[dict[str, Any]]:
    """Transfers open in or touching the period, as flat records for CSV or JSON. With a
    ``reader`` each exported transfer's read is recorded; from ``chat`` only report readers may
    export (NotPermitted otherwise, nothing read) and restricted transfers are left out unless
    the reader is an auditor."""
    if chat and (reader is None or not access.may_export(org, reader)):
        raise NotPermitted("Only the people the org file names as report readers can export.")
    cal = calendar(org)
    out = []
    read: list[Read] = []
    for r in uow.transfers.report_rows(since=start, today=end):
        if r.requested_on is not None and r.requested_on > end:
            continue
        if chat and r.restricted and reader not in org.auditors:
            continue
        if reader is not None and now is not None:
            read.append(Read(r.id, r.case_ref, reader, "export", True, r.restricted, now))
        out.append({
            "id": r.id, "case_ref": r.case_ref, "policy": r.policy, "holding_team": r.holding_team,
            "receiving_team": r.receiving_team, "kind": r.kind, "state": r.state,
            "requested_on": r.requested_on.isoformat() if r.requested_on else None,
            "closed_on": local_date(r.closed_at).isoformat() if r.closed_at else None,
            "working_days_to_resolution": working_days_to_resolution(r, cal),
            "next_due": r.next_due.isoformat() if r.next_due else None,
            "breached_on": r.breached_on.isoformat() if r.breached_on else None,
            "rag": rag(r.next_due, end, cal) if not r.closed_at else "",
        })
    if read:
        for x in read:
            uow.reads.add(x)
        uow.commit()
    return out


def request_export(uow: UnitOfWork, org: Org, reader: str, *, start: date, end: date,
                   now: datetime) -> None:
    """``/transfer export``: a report reader's CSV of the period, sent to their direct messages
    by delivery (which reads and records the rows then, leaving out restricted transfers unless
    the reader is an auditor). NotPermitted for anyone else; committed at once."""
    if not access.may_export(org, reader):
        raise NotPermitted("Only the people the org file names as report readers can export.")
    if start > end:
        raise DomainError(f"{start.isoformat()} is after {end.isoformat()}.")
    uow.add_notice(notices.Notice("export", f"export:{now.isoformat()}", None, (reader,), extra=(
        ("start", start.isoformat()), ("end", end.isoformat()))), now=now, not_before=now)
    uow.commit()


def export_csv(rows: list[dict[str, Any]]) -> str:
    """Export rows as CSV text, every cell guarded against spreadsheet formulas."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_safe(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @ tab or CR gets a
    leading apostrophe (the usual formula-injection guard); other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
