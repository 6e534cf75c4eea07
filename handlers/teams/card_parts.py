"""What every Teams card is built from: the cards' limits and words, markdown escaping, people
as @mentions or words, text blocks, the card itself and its buttons. Moved out of
handlers/teams/cards.py, which re-exports them. Pure: no Bot Framework calls, no SQL, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from microsoft_teams.cards import (
    AdaptiveCard,
    ExecuteAction,
    Mention,
    MentionedEntity,
    RefreshDefinition,
    SubmitAction,
    TeamsCardProperties,
    TextBlock,
)
from microsoft_teams.cards.core import CardElement

from bot import card_facts, views
from bot.org import Org
from bot.pickers import trim

CARD = "application/vnd.microsoft.card.adaptive"
NO_NAMES = "Do not write names, dates of birth or addresses: the case reference is enough."
PEOPLE = "graph.microsoft.com/users"  # Teams' people picker: the value is an Entra object id
EXCLUDED_LISTED = 100  # people listed on the raise card; beyond it, Teams' people picker
RAISE, HEADSUP = "raise", "headsup"  # verbs of the raise and heads-up forms
_MD = re.compile(r"([\\`*_\[\]])")  # what the cards' markdown subset acts on
FACT_MAX = 600  # a fact on a card, cut at a word (the history has it in full)
LIST_ROWS, HOME_ROWS, HISTORY_EVENTS = 50, 10, 60  # at most, before Teams' message size cuts more
Resolver = Callable[[str], str | None]  # a person id -> their Teams user id (for refresh.userIds)


def escape(text: str) -> str:
    """User text made inert for the cards' markdown."""
    return _MD.sub(r"\\\1", text)


def person_words(p: views.Person, org: Org | None) -> str:
    """A person as a Teams card shows them: their display name from the org file, else their
    role and team ("South PDU's Team Manager"); never an e-mail or an id."""
    found = org.person(p.id) if org is not None else None
    if found is not None and found.name:
        return found.name
    return p.role or card_facts.role_of(p.id, org) or "someone Baton does not know"


def rich(parts: views.Rich, org: Org | None = None, mentions: list[Mention] | None = None) -> str:
    """Neutral rich text as card markdown, text escaped; people by display name (or role and
    team), and as an @mention (added to ``mentions``) when the org file gives their Entra id."""
    out: list[str] = []
    for p in parts:
        if isinstance(p, views.Person):
            person = org.person(p.id) if org is not None else None
            who = escape(person_words(p, org))
            if mentions is not None and person is not None and person.entra_id:
                tag = f"<at>{who}</at>"
                if not any(m.text == tag for m in mentions):
                    mentions.append(Mention(text=tag,
                                            mentioned=MentionedEntity(id=person.entra_id, name=who)))
                out.append(tag)
            else:
                out.append(who)
        else:
            out.append(escape(p))
    return "".join(out)


def _text(text: str, **kw: Any) -> TextBlock:
    return TextBlock(text=text, wrap=True, **kw)


def _card(body: list[CardElement], *, actions: list[ExecuteAction | SubmitAction] | None = None,
          refresh: RefreshDefinition | None = None, fallback: str = "") -> AdaptiveCard:
    return AdaptiveCard(version="1.5", body=body, actions=actions or None, refresh=refresh,
                        fallback_text=trim(fallback, 200) or None)


def button(b: views.Button, *, secondary: bool = False) -> ExecuteAction:
    """A catalogue action's button: asks Baton for the action's form; the primary "positive",
    destructive steps "destructive"; a ``secondary`` one waits in Teams' "..." menu."""
    return ExecuteAction(title=b.label[:40], verb=f"open:{b.action}", data={"transfer_id": b.transfer_id},
                         style="destructive" if b.style == "danger" else
                         ("positive" if b.style == "primary" else None),
                         mode="secondary" if secondary else None)


def buttons(bs: Iterable[views.Button]) -> list[ExecuteAction]:
    """A card's buttons: three at most in sight (the primary first), the rest in the "..." menu."""
    sight, more = views.arrange(list(bs))
    return [*(button(b) for b in sight), *(button(b, secondary=True) for b in more)]


def _mentioning(card: AdaptiveCard, mentions: list[Mention]) -> AdaptiveCard:
    """The card with its @mentions' entities (Teams renders <at>…</at> only with them)."""
    if mentions:
        card.msteams = TeamsCardProperties(entities=mentions)
    return card
