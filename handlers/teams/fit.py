"""Teams' message size: every card Baton sends stays inside it, cutting what does not fit and
saying how much was left out and where to see it.

Microsoft publishes the limit differently by route: about 28 KB per message for posted cards
(the Teams connector's and Workflows' documented limit, and what a card with 30 teams' weekly
lines already broke), 40 KB encoded as UTF-16 and lately 100 KB in the bot formatting page;
over it the Bot Connector answers 413 ``MessageSizeTooBig``. Baton keeps to the strictest in
bytes: the whole activity under 28 KB, the card itself under :data:`CARD_BUDGET` so the
activity around it (ids, serviceUrl, conversation) has room.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from microsoft_teams.cards import AdaptiveCard

MESSAGE_MAX = 28 * 1024  # bytes of one activity Baton sends (the stand-in refuses more)
CARD_BUDGET = 26 * 1024  # bytes of the card's attachment within it


def size(card: AdaptiveCard) -> int:
    """The card's bytes as an attachment of a message (its JSON, UTF-8)."""
    content = card.model_dump(mode="json", exclude_none=True, by_alias=True)
    return len(json.dumps({"contentType": "application/vnd.microsoft.card.adaptive",
                           "content": content}).encode())


def fits(card: AdaptiveCard, budget: int = CARD_BUDGET) -> bool:
    """Whether the card fits Teams' message size with room for the activity around it."""
    return size(card) <= budget


def largest(build: Callable[[int], AdaptiveCard], n: int, budget: int = CARD_BUDGET) -> AdaptiveCard:
    """``build(n)`` when it fits, else ``build(k)`` for the largest ``k`` below ``n`` that does
    (``build(k)`` shows the first ``k`` items and says how many more there are); ``build(0)``
    when nothing else fits."""
    card = build(n)
    if n <= 0 or fits(card, budget):
        return card
    lo, hi = 0, n - 1  # build(lo) is assumed to fit; find the largest that does
    best = build(0)
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = build(mid)
        if fits(candidate, budget):
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best
