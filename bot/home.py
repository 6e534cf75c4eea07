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
    """The home's non-empty sections, in order. Inbound transfers waiting on the person are
    under "Waiting on you" only: the inbound section then lists the others ("Other inbound").
    Open case record duties of their teams (bot/usecases/record_lists.py) have their own section
    after what reached their level."""
    waiting_ids = {r.id for r, _ in waiting}
    inbound = [r for r in receiving if r.id not in waiting_ids]
    overdue = [r for r in [*receiving, *holding, *escalated]
               if r.due_on is not None and r.due_on < today and r.closed_at is None]
    overdue = list({r.id: r for r in overdue}.values())
    moved = len(inbound) < len(receiving)
    out = [
        Section("Waiting on you", tuple(r for r, _ in waiting), {r.id: b for r, b in waiting}, 12, "mine"),
        Section("Overdue", tuple(overdue), scope="overdue"),
        Section("Reached your level", tuple(escalated), scope="overdue"),
        Section("Case record duties", (), records=tuple(records)),
        Section("Other inbound" if moved else "Inbound", tuple(inbound)),
        Section("Outbound", tuple(holding)),
    ]
    return [Section(f"{s.title} ({s.size})", s.rows, s.buttons, s.cap, s.scope, s.records)
            for s in out if s.size]
