"""A check that typed text looks like it holds personal data (a name, a date of birth, an
address or a phone number), so the form can warn before saving and the person may rephrase or
confirm. A heuristic: it warns, it never refuses."""

from __future__ import annotations

import hashlib
import re

_CHECKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a phone number", re.compile(
        r"(?<!\w)(?:\+44\s?7\d{3}|07\d{3}|0[12]\d{2,3})[\s-]?\d{3}[\s-]?\d{3,4}(?!\w)")),
    ("a date of birth", re.compile(
        r"\b(?:d\.?o\.?b\.?|date of birth|born)\b|\b\d{1,2}[/.]\d{1,2}[/.](?:19|20)\d{2}\b", re.I)),
    ("an address", re.compile(
        r"\b\d{1,4}[a-z]?\s+(?:[A-Z][a-z]+\s+){1,3}(?:Road|Rd|Street|St|Lane|Avenue|Ave|Close|Drive|"
        r"Way|Court|Crescent|Gardens|Terrace|Place|Grove)\b"
        r"|\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")),
    ("a person's name", re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+[A-Z][a-z]+")),
)


def looks_personal(text: str | None) -> list[str]:
    """What the text seems to hold ('a phone number', 'an address' ...), in order; [] when nothing."""
    if not text:
        return []
    return [what for what, pattern in _CHECKS if pattern.search(text)]


def confirmation_key(user: str, form: str, field: str, text: str) -> str:
    """What is kept of a warning: a hash of who, which form and field, and the text (never the text)."""
    return hashlib.sha256("\0".join((user, form, field, text)).encode()).hexdigest()


def warning(found: list[str]) -> str:
    """The warning shown on the field."""
    what = " and ".join(found)
    return (f"This looks like it holds {what}. Write case references only: rephrase it, or submit "
            "again unchanged to keep it as written.")
