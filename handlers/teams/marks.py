"""The red / amber / green marker Slack's cards and lists show, drawn in Teams' own colours."""

from __future__ import annotations

from datetime import date

from microsoft_teams.cards import RichTextBlock, TextRun

from bot import views
from bot.calendar import WorkingCalendar
from bot.clocks import rag
from bot.org import Org
from bot.ports import TransferSummary

RAG_WORDS = {"red": "Overdue", "amber": "Due soon", "green": "On track"}  # as Slack's card says
RAG_COLOURS = {"red": "Attention", "amber": "Warning", "green": "Good"}  # Teams' TextBlock colours
MARK = "\u25cf"


def marked_row(r: TransferSummary, today: date, org: Org | None, cal: WorkingCalendar) -> RichTextBlock:
    """One transfer of a list as App Home shows it: its coloured marker (none once closed), the
    case reference in bold, then state, teams and deadline in words."""
    state, teams, due = views.summary_parts(r, org, today, cal)
    runs = [TextRun(text=f"{MARK} ", color=RAG_COLOURS[rag(r.due_on, today, cal)], weight="Bolder")
            if r.due_on is not None else None,
            TextRun(text=r.case_ref, weight="Bolder"), TextRun(text=f" · {state} · {teams} · {due}")]
    return RichTextBlock(inlines=[x for x in runs if x is not None])
