"""What a person's home shows (Slack's App Home, Teams' home card), platform-neutral, so both
say the same things in the same order: what waits on them, what is overdue, what reached
their level, their teams' case record duties, their teams' inbound and outbound transfers. A
section with nothing in it is left out (no "(0)" headers); a home with nothing at all says so
once.

Pure: no SQL, no clock (``today`` is given).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.ports import TransferSummary
from bot.usecases.record_lists import RecordDuty
from bot.views import Button

NOTHING = "Nothing waits on you, and your teams have no open transfers."
START = ("new", "raise a transfer"), ("status X123456", "where a case stands"), ("help", "everything else")


@dataclass(frozen=True)
class Section:
    """One section of the home: its title (with how many), its rows, and their buttons."""

    title: str
    rows: tuple[TransferSummary, ...]
    buttons: dict[int, tuple[Button, ...]] = field(default_factory=dict)
    cap: int = 10
    scope: str = "team"  # the list that shows them all: /transfer list SCOPE
    records: tuple[RecordDuty, ...] = ()  # a case record section's duties (its rows are none)

    @property
    def size(self) -> int:
        """How many rows it has (transfers or record duties)."""
        return len(self.rows) + len(self.records)


def sections(*, waiting: Sequence[tuple[TransferSummary, tuple[Button, ...]]],
             holding: Sequence[TransferSummary], receiving: Sequence[TransferSummary], today: date,
             escalated: Sequence[TransferSummary] = (), records: Sequence[RecordDuty] = ()
             ) -> list[Section]:
    """The home's non-empty sections, in order. Each transfer is listed once, in the first
    section that says what it asks of the person: "Waiting on you" (with its buttons), else
    "Overdue", else "Reached your level", else inbound ("Other inbound" when some inbound
    transfers wait on them), else "Outbound". Open case record duties of their teams
    (bot/usecases/record_lists.py) have their own section after what reached their level."""
    shown: set[int] = set()

    def once(rows: Sequence[TransferSummary]) -> tuple[TransferSummary, ...]:
        out = tuple({r.id: r for r in rows if r.id not in shown}.values())
        shown.update(r.id for r in out)
        return out

    mine = once([r for r, _ in waiting])
    overdue = once([r for r in [*receiving, *holding, *escalated]
                    if r.due_on is not None and r.due_on < today and r.closed_at is None])
    reached = once(escalated)
    inbound = once(receiving)
    moved = any(r.id in {x.id for x in mine} for r in receiving)
    out = [
        Section("Waiting on you", mine, {r.id: b for r, b in waiting}, 12, "mine"),
        Section("Overdue", overdue, scope="overdue"),
        Section("Reached your level", reached, scope="overdue"),
        Section("Case record duties", (), records=tuple(records)),
        Section("Other inbound" if moved else "Inbound", inbound),
        Section("Outbound", once(holding)),
    ]
    return [Section(f"{s.title} ({s.size})", s.rows, s.buttons, s.cap, s.scope, s.records)
            for s in out if s.size]
