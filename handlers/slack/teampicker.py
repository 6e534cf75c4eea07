"""The raise form's *Receiving team* on Slack at any size of org.

Up to 100 choosable teams: a static select (grouped by the org file's ``group:`` when it gives
one). Beyond that, Slack's cap on a static select, an ``external_select`` whose options Baton
sends from ``block_suggestion`` (Bolt's ``app.options``) as the person types: at most 100 a
time (Slack's cap for an options response), the holding team's group first. The hint under it
says how many teams there are and how to find one, so nothing is left out without a word.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ExternalDataSelectElement,
    InputBlock,
    Option,
    OptionGroup,
    StaticSelectElement,
)

from bot import teampick
from bot.org import Org
from bot.pickers import trim
from handlers.slack import ids

OPTIONS_MAX = 100  # options in a static select, and in one block_suggestion answer
TEXT_MAX = 75  # an option's text and description, an option group's label
LABEL = "Receiving team"


def _clip(text: str) -> str:
    return trim(text, TEXT_MAX)  # at a word, like every other option Baton shortens


def option(c: teampick.TeamChoice) -> Option:
    """A team as an option: its name (cut to Slack's 75 characters, the id then given as its
    description), valued by its id."""
    cut = len(c.name) > TEXT_MAX
    return Option(value=c.id, text=_clip(c.name),
                  description=_clip(f"{c.id}" + ("" if c.eligible else " (another policy)"))
                  if cut or not c.eligible else None)


def _grouped(groups: list[tuple[str, list[teampick.TeamChoice]]]) -> bool:
    return len(groups) > 1 or (bool(groups) and groups[0][0] != teampick.OTHER_GROUP)


def block(org: Org, holding: str, initial: str | None = None) -> InputBlock:
    """The Receiving team input: a static select for a small org, a type-ahead beyond 100."""
    teams = teampick.receiving_teams(org, holding)
    picked = teampick.chosen(org, holding, initial)
    first = option(picked) if picked is not None and picked.eligible else None
    if len(teams) <= OPTIONS_MAX:
        found = teampick.Found(tuple(teams), len(teams))
        groups = found.groups()
        element = StaticSelectElement(
            action_id=ids.RECEIVING_TEAM, placeholder="Choose a team", initial_option=first,
            **({"option_groups": [OptionGroup(label=_clip(g), options=[option(c) for c in cs])
                                  for g, cs in groups]} if _grouped(groups)
               else {"options": [option(c) for c in teams]}))
        return InputBlock(block_id=ids.RECEIVING_TEAM, label=LABEL, element=element)
    return InputBlock(
        block_id=ids.RECEIVING_TEAM, label=LABEL,
        hint=(f"{len(teams)} teams can take a transfer from yours: type part of a team's name, "
              f"its id or its region or service. The list shows {OPTIONS_MAX} at a time, "
              "your own area first."),
        element=ExternalDataSelectElement(action_id=ids.RECEIVING_TEAM, min_query_length=0,
                                          placeholder="Type a team's name", initial_option=first))


def suggestions(org: Org, holding: str, query: str) -> dict[str, Any]:
    """The answer to a block_suggestion for the Receiving team: the matching teams (at most 100,
    grouped as the form groups them) as ``options`` or ``option_groups`` for Bolt's ack."""
    found = teampick.search(org, holding, query, limit=OPTIONS_MAX)
    groups = found.groups()
    if not _grouped(groups):
        return {"options": [option(c).to_dict() for c in found.choices]}
    return {"option_groups": [OptionGroup(label=_clip(g), options=[option(c) for c in cs]).to_dict()
                              for g, cs in groups]}
