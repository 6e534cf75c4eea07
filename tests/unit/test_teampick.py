"""Choosing a receiving team at any size (issue 24): the teams a transfer can go to first, the
holding team's own region or service first, a search by name, id or group, and a team typed by
its name."""

from __future__ import annotations

import pytest

from bot import teampick
from bot.org import Org, UnknownTeam, load_org
from handlers.common import closure_args
from handlers.slack import teampicker
from sandbox.national import national_org

NATIONAL = national_org(teams=250, people=2_500)


def test_a_transfer_goes_first_to_teams_of_the_holding_teams_own_group() -> None:
    holding = NATIONAL.teams[-1]  # Greater Manchester
    teams = teampick.receiving_teams(NATIONAL, holding.id)
    assert len(teams) == 249 and holding.id not in {c.id for c in teams}
    own = [c for c in teams if c.group == holding.group]
    assert teams[: len(own)] == own
    assert teams[len(own)].group == NATIONAL.teams[0].group  # then the file's order of groups


def test_search_matches_every_word_in_name_id_or_group_and_pages() -> None:
    found = teampick.search(NATIONAL, "pdu-001", "greater manchester 25", limit=100)
    assert [c.id for c in found.choices] == ["pdu-250"]
    assert teampick.search(NATIONAL, "pdu-001", "PDU-250", limit=5).choices[0].id == "pdu-250"
    page = teampick.search(NATIONAL, "pdu-001", "", limit=100, skip=200)
    assert (len(page.choices), page.total, page.more) == (49, 249, 0)
    assert teampick.search(NATIONAL, "pdu-001", "", limit=100).more == 149


def test_teams_under_another_policy_come_only_when_typed_and_last() -> None:
    """The org file's cross_policy: "Pairs of teams under different policy packs that may still
    transfer between them"; others cannot be chosen, but a search for one says why."""
    org = load_org()
    assert [c.id for c in teampick.receiving_teams(org, "pdu-north")] == ["pdu-south"]
    assert teampick.search(org, "pdu-north", "", limit=100).total == 1
    found = teampick.search(org, "pdu-north", "team", limit=100)
    assert found.choices and all(not c.eligible for c in found.choices)
    assert found.choices[0].group == teampick.ELSEWHERE
    why = teampick.why_not(org, "pdu-north", "roch-cp-1")
    assert why is not None and "cross_policy" in why
    assert teampick.why_not(org, "pdu-north", "pdu-south") is None


def test_slack_offers_a_static_select_up_to_100_teams_and_a_type_ahead_beyond() -> None:
    small = national_org(teams=101, people=202)
    static = teampicker.block(small, "pdu-001").to_dict()["element"]
    assert static["type"] == "static_select"
    assert sum(len(g["options"]) for g in static["option_groups"]) == 100  # all 100 others
    assert teampicker.block(NATIONAL, "pdu-001").to_dict()["element"]["type"] == "external_select"
    chosen = teampicker.block(NATIONAL, "pdu-001", "pdu-250").to_dict()["element"]["initial_option"]
    assert chosen["value"] == "pdu-250"


def test_a_team_is_found_by_its_id_or_its_name_and_an_unknown_one_names_the_closest() -> None:
    assert NATIONAL.find_team("  greater   MANCHESTER pdu 250 ").id == "pdu-250"
    assert NATIONAL.find_team("PDU-017").id == "pdu-017"
    with pytest.raises(UnknownTeam) as exc:
        NATIONAL.find_team("pdu-2500")
    said = str(exc.value)
    assert "among 250 teams" in said and "pdu-250" in said and len(said) < 200


def test_typed_commands_take_a_team_of_several_words() -> None:
    day, team = closure_args(["2026-11-02", "North", "PDU"])
    assert (str(day), team) == ("2026-11-02", "North PDU")
    assert closure_args(["pdu-north"]) == (None, "pdu-north")
    assert closure_args([]) == (None, None)


def test_a_national_org_file_validates_and_knows_its_people_quickly() -> None:
    org: Org = NATIONAL
    last = org.teams[-1]
    assert org.teams_of(last.members[-1]) == [last] and org.managed_by(last.managers[0]) == [last]
    p = org.person(last.members[-1])
    assert org.person_by(entra_id=p.entra_id) == p.id and org.person_by(email=p.email) == p.id
