"""Importing open and past transfers from a CSV file."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.clocks import Deadline
from bot.domain import (
    UK_TIME,
    DomainError,
    State,
    TimelineEvent,
    Transfer,
    local_date,
    new_transfer,
    validate_case_ref,
)
from bot.org import Actor, Org, Role, UnknownTeam
from bot.policy import PolicyPack
from bot.ports import (
    Closure,
    UnitOfWork,
)
from bot.recipients import SYSTEM
from bot.states import states_text
from bot.usecases.common import transfer_deadlines, write_notices
from bot.usecases.raising import (
    _check_excluded,
    _unpaid_work_warning,
    _with_order_flag,
    case_refs,
    check_dates,
)

# ---- import -------------------------------------------------------------------------------------
IMPORT_COLUMNS = ("case_ref", "holding_team", "receiving_team", "requested_on", "kind")


IMPORT_OPTIONAL = ("transfer_point", "transfer_point_date", "state", "restricted", "excluded",
                   "closed_on", "accepted_on", "disputed_on", "agreed_date", "move_date",
                   "move_end_date", "order_date", "accommodated_on", "linked_refs", "flags")


# What an imported row says already happened, and the states it may say it of.
IMPORT_PAST = {
    "accepted_on": ("accepted", frozenset({State.accepted, State.allocated})),
    "disputed_on": ("disputed", frozenset({State.disputed, State.escalated})),
}


# The longest each cell may be (after trimming), like a form's fields: a tracker's free text
# never reaches the database whole, whatever the file holds.
IMPORT_LIMITS = {"case_ref": 32, "holding_team": 63, "receiving_team": 63, "requested_on": 10,
                 "kind": 32, "transfer_point": 64, "transfer_point_date": 10, "state": 32,
                 "restricted": 5, "excluded": 500, "closed_on": 10, "accepted_on": 10,
                 "disputed_on": 10, "agreed_date": 10, "move_date": 10, "move_end_date": 10,
                 "order_date": 10, "accommodated_on": 10, "linked_refs": 500, "flags": 200}


CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # NUL and other control characters, tabs, line breaks


IMPORTABLE_STATES = {
    State.heads_up, State.requested, State.under_assessment, State.accepted, State.allocated,
    State.disputed, State.escalated,
}


@dataclass
class ImportResult:
    """What ``baton import`` did: how many rows went in, or every row's problem."""

    imported: int = 0
    errors: list[str] = field(default_factory=list)
    closures: int = 0  # rows with closed_on: the case closed with its holding team that day


def _import_cells(raw: Mapping[str | None, Any], columns: int) -> dict[str, str]:
    """A tracker row's cells, trimmed; DomainError naming the column (never echoing the text)
    for a cell over its limit or holding a control character, or cells beyond the header."""
    if raw.get(None):
        raise DomainError(f"the row has more cells than the {columns} columns of the header "
                          "(a comma inside a cell needs the cell in double quotes)")
    row = {str(k).strip(): (v or "").strip() for k, v in raw.items() if k is not None}
    for column, value in row.items():
        limit = IMPORT_LIMITS.get(column, 64)
        if len(value) > limit:
            raise DomainError(f"{column}: keep it under {limit + 1} characters (it has {len(value):,})")
        if CONTROL.search(value):
            raise DomainError(f"{column}: remove the control character, tab or line break in it")
    return row


def _parse_date(value: str, column: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise DomainError(f"{column} {value!r} is not a date (use YYYY-MM-DD)") from None


def parse_import(
    uow: UnitOfWork, org: Org, text: str, now: datetime
) -> tuple[list[tuple[Transfer, list[Deadline]]], list[str], list[Closure]]:
    """Check every row of a tracker CSV; returns the transfers, a list of row errors and the
    case closures (a row with ``closed_on`` says the case closed with its holding team that
    day; it opens no transfer, and its receiving_team, requested_on and kind may be empty)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        return [], [f"line 1: missing column(s) {', '.join(missing)}; "
                    f"expected {','.join(IMPORT_COLUMNS)} (optional {','.join(IMPORT_OPTIONAL)})"], []
    unknown = [c for c in header if c not in IMPORT_COLUMNS + IMPORT_OPTIONAL]
    if unknown:
        return [], [f"line 1: unknown column(s) {', '.join(unknown)}"], []
    closures: list[Closure] = []
    out: list[tuple[Transfer, list[Deadline]]] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    actor = Actor(SYSTEM, frozenset({Role.system}))
    rows = iter(reader)
    while True:
        try:
            raw = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:  # a cell past the csv module's own limit, a broken quote
            errors.append(f"line {reader.line_num + 1}: not readable as CSV ({exc}); "
                          "nothing after it was read")
            break
        line = reader.line_num
        try:
            row = _import_cells(raw, len(header))
            if row.get("closed_on"):
                closures.append(_import_closure(org, row, now))
                continue
            holding, receiving = row["holding_team"], row["receiving_team"]
            org.team(holding)
            org.team(receiving)
            pack = org.pack_for(holding)
            if not org.may_transfer(holding, receiving):
                raise DomainError(f"{receiving} works under another policy than {holding}; the org "
                                  "file does not allow transfers between them (cross_policy)")
            requested_on = _parse_date(row["requested_on"], "requested_on")
            if requested_on > local_date(now):
                raise DomainError(f"requested_on {requested_on.isoformat()} is in the future")
            tp_date = row.get("transfer_point_date")
            state_text = row.get("state") or "requested"
            try:
                state = State(state_text)
            except ValueError:
                raise DomainError(f"state {state_text!r} is not one of "
                                  f"{', '.join(sorted(s.value for s in IMPORTABLE_STATES))}") from None
            if state not in IMPORTABLE_STATES:
                raise DomainError(f"state {state_text!r} is closed; import open transfers only")
            dates = {c: _parse_date(row[c], c) if row.get(c) else None
                     for c in ("agreed_date", "move_date", "move_end_date", "order_date",
                               "accommodated_on", *IMPORT_PAST)}
            t = new_transfer(
                case_ref=row["case_ref"], pack=pack, holding_team=holding, receiving_team=receiving,
                kind=row["kind"] or "permanent", actor=actor, now=now,
                transfer_point=row.get("transfer_point") or None,
                transfer_point_date=_parse_date(tp_date, "transfer_point_date") if tp_date else None,
                agreed_date=dates["agreed_date"], move_date=dates["move_date"],
                move_end_date=dates["move_end_date"], order_date=dates["order_date"],
                accommodated_on=dates["accommodated_on"], linked_refs=case_refs(row.get("linked_refs")),
                flags=_with_order_flag(pack, case_refs(row.get("flags")), dates["order_date"]),
            )
            check_dates(pack, t, local_date(now))
            flag = (row.get("restricted") or "").lower()
            if flag not in ("", "yes", "no", "true", "false", "1", "0"):
                raise DomainError(f"restricted {row['restricted']!r} is not yes or no")
            t.excluded = tuple(x for x in (row.get("excluded") or "").replace(";", " ").split() if x)
            if any(not org.knows(x) for x in t.excluded):
                raise DomainError("excluded: give the Slack user ids of people in the org file "
                                  "(U...), separated by spaces or semicolons")
            t.restricted = flag in ("yes", "true", "1") or bool(t.excluded)
            _check_excluded(org, t, field=None)
            if t.case_ref in seen:
                raise DomainError(f"{t.case_ref} appears again (first on line {seen[t.case_ref]})")
            seen[t.case_ref] = line
            t.requested_on = requested_on
            if state == State.heads_up:
                t.heads_up_on = requested_on
            _import_past(pack, t, state, dates, requested_on, local_date(now))
            t.state = state
            _unpaid_work_warning(org, pack, t, actor, now)
            t._record(actor, now, "imported", to=state, requested_on=requested_on.isoformat())
            out.append((t, transfer_deadlines(org, t)))
        except UnknownTeam as exc:
            errors.append(f"line {line}: {exc}")
        except DomainError as exc:
            errors.append(f"line {line}: {str(exc).rstrip('.')}")
    if not out and not errors and not closures:
        errors.append("the file has no rows to import")
    lines = {t.case_ref: n for t, n in ((t, seen[t.case_ref]) for t, _ in out)}
    for ref, tid in uow.transfers.open_case_refs(list(lines)).items():
        errors.append(f"line {lines[ref]}: {ref} already has an open transfer (#{tid})")
    errors.sort(key=lambda e: int(e.split(":")[0].split()[1]))
    return out, errors, closures


def _import_past(pack: PolicyPack, t: Transfer, state: State, dates: Mapping[str, date | None],
                 requested_on: date, today: date) -> None:
    """The steps an imported row says already happened, on its timeline on their days, so the
    clocks run from them: an accepted transfer no longer waits for a decision (its acceptance
    stops the clocks that stop there), a dispute's clock starts on ``disputed_on`` (else today)
    and an escalated one stands at the ladder's second level."""
    for column, (_, states) in IMPORT_PAST.items():
        day = dates[column]
        if day is None:
            continue
        if state not in states:
            raise DomainError(f"{column} is for a transfer that is {states_text(states)}, not "
                              f"{state.value.replace('_', ' ')}")
        if day > today:
            raise DomainError(f"{column} {day.isoformat()} is in the future")
        if day < requested_on:
            raise DomainError(f"{column} {day.isoformat()} is before requested_on {requested_on.isoformat()}")

    def happened(kind: str, day: date, to: State, **detail: Any) -> None:
        ev = TimelineEvent(at=datetime.combine(day, datetime.min.time().replace(hour=12), tzinfo=UK_TIME),
                           actor=SYSTEM, kind=kind, from_state=t.state.value, to_state=to.value,
                           detail={"imported": True, **{k: v for k, v in detail.items() if v is not None}})
        t.state = to
        t.timeline.append(ev)
        t.new_events.append(ev)

    t.state = State.requested
    if state in (State.accepted, State.allocated):
        happened("accepted", dates["accepted_on"] or today, State.accepted,
                 agreed_date=t.agreed_date.isoformat() if t.agreed_date else None)
    if state in (State.disputed, State.escalated):
        happened("disputed", dates["disputed_on"] or today, State.disputed)
        t.escalation_level = pack.escalation.levels[0].name
        if state == State.escalated:
            t.escalation_level = pack.escalation.levels[1].name
            happened("escalated", dates["disputed_on"] or today, State.escalated,
                     level=t.escalation_level)


def _import_closure(org: Org, row: Mapping[str, str], now: datetime) -> Closure:
    """A tracker row with ``closed_on``: the case closed with its holding team on that day."""
    team = row["holding_team"]
    org.team(team)
    day = _parse_date(row["closed_on"], "closed_on")
    if day > local_date(now):
        raise DomainError(f"closed_on {day.isoformat()} is in the future")
    if (row.get("state") or "closed") != "closed":
        raise DomainError("a row with closed_on records a closed case; leave state empty")
    return Closure(validate_case_ref(row["case_ref"], org.pack_for(team)), team, day, SYSTEM, now)


def import_csv(uow: UnitOfWork, org: Org, text: str, now: datetime) -> ImportResult:
    """Adopt open transfers (and case closures) from a tracker CSV: all rows or none."""
    rows, errors, closures = parse_import(uow, org, text, now)
    if errors:
        return ImportResult(0, errors)
    n = uow.transfers.bulk_import(rows) if rows else 0
    for t, _ in rows:
        write_notices(uow, org, t, list(t.timeline), now)
    for c in closures:
        uow.closures.add(c)
    uow.commit()
    return ImportResult(n, [], len(closures))
