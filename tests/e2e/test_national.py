"""A whole probation service in one Baton (issue 24): with a generated 250-team, 15,000-person
org, a practitioner raises to the 250th team on Slack (the Receiving team an external select
whose options Baton sends from block_suggestion) and on Teams (a ChoiceSet whose choices.data
Teams fills from Baton's answer to the application/search invoke), through the same signed
ingress the other end-to-end tests drive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot import services
from bot.org import Org
from bot.ports import UnitOfWork
from sandbox.driver import SlackDriver, external, select, text_input, wait
from sandbox.national import national_org
from sandbox.teams.driver import TeamsDriver
from sandbox.teams.standin import card_of, card_text
from tests.e2e.platforms import SlackSide, TeamsSide

UoW = Callable[[], UnitOfWork]


@pytest.fixture(scope="module")
def org() -> Org:
    """The generated national org (250 teams in 12 regions, 15,004 people)."""
    return national_org(teams=250, people=15_000)


@pytest.fixture(scope="module")
def teams_demo_org(org: Org) -> Org:
    """The same org on Teams (it names every team's Teams channel and everyone's Entra id)."""
    return org


def _practitioner(org: Org) -> str:
    return org.teams[0].members[0]


def _receiving_team(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return next(b for b in blocks if b.get("block_id") == "receiving_team")


def test_slack_raises_to_the_250th_team_found_by_typing_its_name(slack: SlackDriver, org: Org,
                                                                 uow: UoW) -> None:
    pp, last = _practitioner(org), org.teams[-1]
    assert len(org.teams) == 250 and len(org.people) >= 15_000
    slack.command(pp, "new")
    modal = wait(slack.api, lambda: slack.api.modal_stack(pp))[-1]
    picker = _receiving_team(modal.blocks)
    assert picker["element"]["type"] == "external_select"
    assert "249 teams" in picker["hint"]["text"]  # says how many and how to find them

    status, opened = slack.suggest(pp, "receiving_team", "")  # the menu opened, nothing typed
    assert status == 200
    groups = opened["option_groups"]
    assert sum(len(g["options"]) for g in groups) == 100  # Slack's cap for one answer
    assert groups[0]["label"]["text"] == org.teams[0].group  # the practitioner's own region first

    status, found = slack.suggest(pp, "receiving_team", last.name[-7:])  # "PDU 250"
    assert status == 200
    options = [o for g in found["option_groups"] for o in g["options"]]
    assert [o["value"] for o in options] == [last.id]
    assert options[0]["text"]["text"] == last.name

    errors = SlackSide(slack, org).submit(pp, {"case_ref": text_input("X250250"),
                                               "receiving_team": external(last.id, last.name),
                                               "kind": select("permanent")})
    assert not errors, errors
    with uow() as u:
        t = services.load(u, case_ref="X250250")
    assert (t.holding_team, t.receiving_team, t.state.value) == (org.teams[0].id, last.id, "requested")
    assert "X250250" in SlackSide(slack, org).delivered(last.managers[0], "X250250")


def test_slack_new_with_a_team_name_opens_the_form_with_that_team_chosen(slack: SlackDriver,
                                                                         org: Org) -> None:
    pp, last = _practitioner(org), org.teams[-1]
    slack.command(pp, f"new {last.name.lower()}")
    modal = wait(slack.api, lambda: slack.api.modal_stack(pp))[-1]
    assert _receiving_team(modal.blocks)["element"]["initial_option"]["value"] == last.id


def test_teams_raises_to_the_250th_team_found_by_typing_its_name(teams: TeamsDriver, org: Org,
                                                                 uow: UoW) -> None:
    pp, last = _practitioner(org), org.teams[-1]
    card = card_of(teams.ask(pp, "transfer new"))
    assert card is not None
    picker = next(el for el in card["body"] if el.get("id") == "receiving_team")
    assert picker["type"] == "Input.ChoiceSet" and "249 teams" in picker["label"]
    dataset = picker["choices.data"]["dataset"]
    assert picker["choices.data"]["type"] == "Data.Query"

    first = teams.search(pp, dataset, "")
    assert len(first) == 15  # a page of the size Teams asked for
    assert teams.search(pp, dataset, "", skip=15)[0] != first[0]  # and the next page after it

    found = teams.search(pp, dataset, "pdu 250")
    assert [r["value"] for r in found] == [last.id]
    assert last.name in found[0]["title"]

    side = TeamsSide(teams, org)
    side.shown[pp] = card
    raise_button = next(a for a in card["actions"] if a["type"] == "Action.Execute")
    answer = teams.execute(pp, raise_button["verb"], {**raise_button["data"], "case_ref": "X250251",
                                                      "receiving_team": found[0]["value"],
                                                      "kind": "permanent"})
    assert "X250251" in card_text(answer)
    with uow() as u:
        t = services.load(u, case_ref="X250251")
    assert (t.holding_team, t.receiving_team, t.state.value) == (org.teams[0].id, last.id, "requested")
    assert "X250251" in side.delivered(last.managers[0], "X250251")


def test_teams_search_answers_nothing_to_a_stranger_or_an_unknown_dataset(teams: TeamsDriver,
                                                                          org: Org) -> None:
    pp = _practitioner(org)
    assert teams.search(pp, "baton.receiving_team:no-such-team", "pdu") == []
    assert teams.search(pp, "npm", "pdu") == []


def test_teams_new_with_a_team_name_fills_it_in_and_an_unknown_name_names_the_closest(
        teams: TeamsDriver, org: Org) -> None:
    pp, last = _practitioner(org), org.teams[-1]
    card = card_of(teams.ask(pp, f"transfer new {last.name}"))
    assert card is not None
    picker = next(el for el in card["body"] if el.get("id") == "receiving_team")
    assert picker["value"] == last.id and any(c["value"] == last.id for c in picker["choices"])
    said = card_text(card_of(teams.ask(pp, "transfer new Greater Manchester PDU 2500")) or {})
    assert "among 250 teams" in said and "pdu-250" in said and "transfer new alone" in said
