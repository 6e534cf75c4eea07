"""The raise card's *Receiving team* on Teams at any size of org.

Up to 100 choosable teams: a plain ``Input.ChoiceSet`` (its titles carry the team's region or
service). Beyond that, Teams' dynamic type-ahead: the ChoiceSet's ``choices.data`` is a
``Data.Query`` whose dataset names the holding team, and Teams asks Baton for the choices as the
person types with an ``invoke`` named ``application/search`` (value: ``queryText``, ``dataset``,
``queryOptions`` ``{skip, top}``), answered with status 200 and a
``application/vnd.microsoft.search.searchResponse`` of ``{title, value}`` results
(Microsoft Learn, "Typeahead search in Adaptive Cards"). The label says how many teams there are
and how to find one, so nothing is left out without a word.
"""

from __future__ import annotations

from typing import Any

from microsoft_teams.cards import Choice, ChoiceSetInput, QueryData

from bot import teampick
from bot.org import Org, UnknownTeam

INVOKE = "application/search"
RESPONSE = "application/vnd.microsoft.search.searchResponse"
DATASET = "baton.receiving_team:"  # + the holding team's id
TITLE_MAX = 75
TOP_DEFAULT = 15  # Teams shows at most 15 options of a dynamic search at once
TOP_MAX = 50
SEEDED = 15  # choices carried in the card itself beside the query (the first in picker order)


def _choice(c: teampick.TeamChoice) -> Choice:
    title = c.title if c.eligible else f"{c.title}: another policy"
    return Choice(title=title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…", value=c.id)


def receiving_team_input(org: Org, holding: str, value: str | None, error: str | None = None
                         ) -> ChoiceSetInput:
    """The Receiving team input: every choosable team up to 100, a type-ahead beyond."""
    teams = teampick.receiving_teams(org, holding)
    common: dict[str, Any] = {"id": "receiving_team", "is_required": True, "value": value or None,
                              "error_message": error}
    if len(teams) <= teampick.STATIC_MAX:
        return ChoiceSetInput(label="Receiving team", choices=[_choice(c) for c in teams],
                              style="compact", placeholder="Choose a team", **common)
    seeded = teams[:SEEDED]
    picked = teampick.chosen(org, holding, value)
    if picked is not None and picked not in seeded:
        seeded = [picked, *seeded]
    return ChoiceSetInput(
        label=f"Receiving team: type part of its name, id, region or service ({len(teams)} teams)",
        choices=[_choice(c) for c in seeded], choices_data=QueryData(dataset=DATASET + holding),
        placeholder="Type a team's name", **common)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def answer(org: Org, person: str | None, value: Any) -> dict[str, Any]:
    """The invoke response to an ``application/search`` for the Receiving team: the teams
    matching what was typed, a page of ``top`` after ``skip``; an empty result for anything
    else (an unknown dataset, a person the org file does not name)."""
    value = value if isinstance(value, dict) else {}
    dataset = str(value.get("dataset") or "")
    holding = dataset.removeprefix(DATASET) if dataset.startswith(DATASET) else ""
    results: list[dict[str, str]] = []
    if person is not None and org.knows(person) and org.has_team(holding):
        options = value.get("queryOptions") if isinstance(value.get("queryOptions"), dict) else {}
        top = min(max(1, _int(options.get("top"), TOP_DEFAULT)), TOP_MAX)
        found = teampick.search(org, holding, str(value.get("queryText") or ""), limit=top,
                                skip=_int(options.get("skip"), 0))
        results = [_choice(c).model_dump(mode="json", exclude_none=True, by_alias=True)
                   for c in found.choices]
    return {"statusCode": 200, "type": RESPONSE, "value": {"results": results}}


def typed_team(org: Org, holding: str, words: list[str]) -> str | tuple[str] | None:
    """The receiving team typed after ``transfer new`` (its name or id): its id, None when
    none was typed, or (why not,) when it is no team or cannot take a transfer from ``holding``."""
    if not words:
        return None
    try:
        team = org.find_team(" ".join(words)).id
    except UnknownTeam as exc:
        return (str(exc).capitalize() + ".",)
    why = teampick.why_not(org, holding, team)
    return (why,) if why else team
