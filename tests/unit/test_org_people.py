"""People and places on both platforms: the org file names people by Slack id or work e-mail,
with their e-mail and Entra object id beside; teams and levels name a Teams channel."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.org import Contact, Org, load_org
from bot.recipients import channels

AAD = "11111111-2222-4333-8444-555555555555"


def _org(**extra: object) -> Org:
    base = {"teams": [
        {"id": "a", "name": "A", "managers": ["U0AMGR"], "channel": "C0A"},
        {"id": "b", "name": "B", "managers": ["sam@b.example.gov.uk"], "teams_channel": "19:b@thread.tacv2"},
    ]}
    return Org.model_validate({**base, **extra})


def test_a_person_is_found_by_entra_id_or_email_whatever_the_case() -> None:
    org = _org(people=[{"id": "U0AMGR", "email": "Ann@a.example.gov.uk", "entra_id": AAD}])
    assert org.person_by(entra_id=AAD.upper()) == "U0AMGR"
    assert org.person_by(email="ann@A.example.gov.uk") == "U0AMGR"
    assert org.person_by(email="sam@b.example.gov.uk") == "sam@b.example.gov.uk"  # named by e-mail
    assert org.person_by(email="nobody@b.example.gov.uk") is None


def test_org_check_says_who_cannot_be_reached_on_which_platform() -> None:
    org = _org()
    gaps = org.unreachable()
    assert ("person U0AMGR: not reachable on Teams: Teams can neither recognise nor message them "
            "without their Entra object id (an e-mail alone is not enough); run baton org build on the "
            "staff list, or add {id: U0AMGR, entra_id: OBJECT-ID} under people:") in gaps
    assert any(g.startswith("person sam@b.example.gov.uk: not reachable on Slack or Teams") for g in gaps)
    assert "team a: no channel on Teams" in gaps and "team b: no channel on Slack" in gaps


def test_org_check_does_not_call_someone_with_only_an_email_reachable_on_teams() -> None:
    """An e-mail is not how Teams knows anyone: only the Entra object id (sent with every
    activity, and what a 1:1 chat is opened with) reaches them."""
    org = _org(people=[{"id": "U0AMGR", "email": "ann@a.example.gov.uk"}])
    teams_gaps = org.unreachable(("Teams",))
    assert any(g.startswith("person U0AMGR: not reachable on Teams") for g in teams_gaps)
    assert any(g.startswith("person sam@b.example.gov.uk: not reachable on Teams") for g in teams_gaps)
    org = _org(people=[{"id": "sam@b.example.gov.uk", "entra_id": AAD}])
    assert not [g for g in org.unreachable(("Teams",)) if g.startswith("person sam")]
    assert org.unreachable(("Slack",)) == ["person sam@b.example.gov.uk: not reachable on Slack (named by "
                                           "e-mail, not a Slack user id)", "team b: no channel on Slack"]


def test_a_team_posts_to_its_slack_and_its_teams_channel() -> None:
    org = _org()
    assert channels(org, "a") == ("C0A",)
    assert channels(org, "b") == ("19:b@thread.tacv2",)
    assert Contact(teams_channel="19:smt@thread.tacv2").places == ("19:smt@thread.tacv2",)


def test_a_repeated_entra_id_or_a_bad_teams_channel_is_refused() -> None:
    with pytest.raises(ValidationError, match="entra_id repeats"):
        _org(people=[{"id": "U0AMGR", "entra_id": AAD}, {"id": "U0BMGR", "entra_id": AAD}])
    with pytest.raises(ValidationError):
        Contact(teams_channel="general")


def test_the_demo_org_names_everyone_for_teams_and_one_tenant() -> None:
    org = load_org()
    assert len(org.tenants) == 1
    assert not [g for g in org.unreachable() if g.startswith("person")]
