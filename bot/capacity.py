"""Capacity is never a reason to decline where the seed says so.

ROCH: "Demand and capacity within individual service areas will not be a barrier to a case
transferring to the relevant team." S2: "any issues of service area capacity are then addressed
to the Senior Leadership team, capacity should not override skills base in the need for
transfer." Under a pack with a capacity route, a decline whose reason category or rationale is
about capacity is refused on its field, and the capacity route is offered in its place.
"""

from __future__ import annotations

import re

# The words of a capacity reason: the team's staffing, workload or demand, not the child's needs.
_CAPACITY = re.compile(
    r"\b(?:"
    r"(?:no|not\s+(?:enough|the|any)|lack\s+of|limited|insufficient|without|zero|little)\s+capacity"
    r"|capacity\s+(?:issues?|pressures?|problems?|concerns?|constraints?|reasons?)"
    r"|(?:over|at|beyond|above)\s+capacity|capacity\s+is\s+(?:full|stretched|exceeded)"
    r"|vacanc(?:y|ies)|vacant\s+posts?|case\s?loads?|work\s?loads?"
    r"|(?:under|short)[-\s]?staffed|short\s+of\s+staff|staff(?:ing)?\s+(?:shortages?|levels?|issues?|pressures?)"
    r"|staff\s+(?:are\s+|is\s+|on\s+)?(?:on\s+)?(?:annual\s+)?(?:leave|sick|off)"
    r"|(?:\w+\s+)?(?:workers?|practitioners?|colleagues?|managers?|staff)\s+(?:are\s+|is\s+)?(?:on\s+(?:annual\s+)?leave|off\s+sick)"
    r"|(?:two|three|four|five|\d+)\s+(?:people\s+|staff\s+|workers?\s+)?(?:are\s+)?on\s+(?:annual\s+)?leave"
    r"|no(?:\s+one|body)\s+(?:to|who\s+can)\s+(?:allocate|take|hold)"
    r"|(?:unable|cannot|can't|can\s+not|not\s+able)\s+to\s+allocate|cannot\s+allocate|can't\s+allocate"
    r"|no\s+(?:social\s+)?workers?\s+(?:available|free|to\s+allocate)"
    r"|(?:high|too\s+much|demand)\s+(?:demand|pressures?)|demand\s+and\s+capacity|resources?\s+(?:issues?|pressures?)"
    r")\b",
    re.IGNORECASE,
)

# A decline category's id or words that are about capacity (no shipped pack has one; an org's
# custom reason might).
_CATEGORY = re.compile(r"capacity|vacanc|caseload|staffing|workload|demand", re.IGNORECASE)


def capacity_words(rationale: str | None, category: str | None = None,
                   category_label: str = "") -> str | None:
    """The words that make a decline's reason about capacity (its category, or its rationale),
    or None when it is not."""
    for text in (category or "", category_label):
        if text and _CATEGORY.search(text):
            return text
    m = _CAPACITY.search(rationale or "")
    return m.group(0).strip() if m else None
