"""The fields of Baton's forms and the rules every typed value meets: the field kinds, the
longest free text, the days a form may name, and the raise form's policy-specific fields. Pure:
no chat platform, no SQL; :mod:`bot.actions` builds each step's form from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.errors import DomainError
from bot.policy import PolicyPack

MAX_TEXT = 3000  # the longest free text Baton keeps (Slack's limit for a plain-text input)
NO_NAMES = "Case references only: do not write names, dates of birth or addresses."


class FieldKind(StrEnum):
    """What a form field asks for."""

    text = "text"
    date = "date"
    person = "person"
    choice = "choice"
    items = "items"  # several choices at once: checklist items
    yes_no = "yes_no"


@dataclass(frozen=True)
class FormField:
    """One field of an action's form; ``name`` is also the command value it fills."""

    name: str
    label: str
    kind: FieldKind
    required: bool = True
    min_length: int = 0
    max_length: int = MAX_TEXT
    multiline: bool = False
    hint: str = ""
    lines: bool = False  # text: one item per line, as a tuple


FIRST_DAY = date(1900, 1, 1)  # before it no day on a form is a typo Baton can count from
YEARS_AHEAD = 25  # a day on a form further ahead than this from the transfer's start is a typo


def day_in_range(day: date, since: date, label: str, field: str) -> date:
    """``day`` when it is one Baton can count working days to; else DomainError on ``field``
    asking for the year to be checked (a date picker lets people pick year 9999)."""
    last = date(since.year + YEARS_AHEAD, since.month, 28 if since.month == 2 else since.day)
    if day < FIRST_DAY or day > last:
        raise DomainError(f"{label}: check the year; {day:%d %b %Y} is "
                          + (f"more than {YEARS_AHEAD} years ahead." if day > last else "before 1900."),
                          field=field)
    return day


def clean_text(value: str) -> str:
    """Free text as Baton keeps it: trimmed, without NUL or other control characters but tabs
    and line breaks."""
    return "".join(ch for ch in value if ch in "\t\n" or (ch >= " " and ch != "\x7f")).strip()


F = FieldKind

# ---- the raise form's policy-specific fields --------------------------------------------------
RAISE_FIELDS: tuple[FormField, ...] = (
    FormField("move_date", "Temporary move: the move date", F.date, required=False,
              hint="Needed for a temporary move; a residential placement is reviewed 12 weeks after it."),
    FormField("move_end_date", "Temporary move: the end date the responsible officer set", F.date,
              required=False, hint="Needed for a temporary move other than a residential placement "
                                   "(Approved Premises, residential treatment)."),
    FormField("order_date", "Unpaid work: the date of the order", F.date, required=False,
              hint="Unpaid work should be completed within 12 months of it; if they run out before "
                   "the transfer can complete, apply to court to extend, as a priority."),
    FormField("accommodated_on", "S20: the date the child was accommodated", F.date, required=False,
              hint="The transfer to CYPiC is due no later than 5 months after it."),
    FormField("linked_refs", "Linked case references (siblings)", F.text, required=False,
              max_length=500, hint="Case references only, separated by spaces. Siblings are held in the "
                                   "same team unless there are exceptional circumstances."),
    FormField("siblings_reason", "If siblings go to different teams: the exceptional circumstances",
              F.text, required=False, multiline=True, max_length=1000, hint=NO_NAMES),
)


def raise_fields(pack: PolicyPack) -> tuple[FormField, ...]:
    """The raise form's fields this pack asks for beyond the common ones (move and order dates
    for probation, the accommodation date and siblings for Bury)."""
    anchors = {c.starts.value for c in pack.clocks}
    wanted = {
        "move_date": "temporary" in pack.kind_ids,
        "move_end_date": "move_ends" in anchors,
        "order_date": "order_made" in anchors,
        "accommodated_on": "accommodated" in anchors,
        "linked_refs": pack.siblings_together is not None,
        "siblings_reason": pack.siblings_together is not None,
    }
    return tuple(f for f in RAISE_FIELDS if wanted[f.name])
