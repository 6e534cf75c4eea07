"""``baton org build`` for Teams: work e-mails resolved to Entra object ids through Microsoft
Graph (the Entra and Graph stand-in, sandbox/teams/entra.py), with no Slack token; with both
platforms, both ids."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.org import load_org
from bot.orgbuild import NotResolved
from handlers.cli import app
from handlers.teams.credentials import Credential
from handlers.teams.directory import Directory, GraphRefused
from sandbox.slack_api import DEFAULT_SCOPES, SlackStandIn
from sandbox.teams.entra import EntraStandIn
from sandbox.teams.standin import APP_ID, APP_PASSWORD, TENANT

runner = CliRunner()
NORTH_MGR = "practitioner.manager.north@probation.example.gov.uk"
SOUTH = "19:0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c@thread.tacv2"
STAFF = f"""team,team_name,role,email,channel
pdu-north,North PDU,manager,{NORTH_MGR},19%3a5a1e0c0d9a1f4e2b8c3d7e6f5a4b3c2d%40thread.tacv2
pdu-north,,member,north.practitioner@probation.example.gov.uk,
pdu-south,South PDU,manager,south.manager@probation.example.gov.uk,{SOUTH}
,,smt,smt.lead@probation.example.gov.uk,
"""
EMAILS = [NORTH_MGR, "north.practitioner@probation.example.gov.uk", "south.manager@probation.example.gov.uk",
          "smt.lead@probation.example.gov.uk"]


@pytest.fixture
def entra() -> Iterator[EntraStandIn]:
    """A tenant with the staff list's people in its directory, and Baton's app with User.Read.All."""
    with EntraStandIn() as stand_in:
        for email in EMAILS:
            stand_in.add_user(email)
        yield stand_in


def teams_env(entra: EntraStandIn, **more: str | None) -> dict[str, str | None]:
    """Teams settings pointing at the stand-in, and no Slack settings at all."""
    return {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
            "MICROSOFT_APP_TENANT_ID": TENANT, "TEAMS_TOKEN_URL": entra.token_url,
            "MICROSOFT_GRAPH_URL": entra.graph_url, "SLACK_BOT_TOKEN": None, "SLACK_SIGNING_SECRET": None,
            **more}


def build(tmp_path: Path, staff: str, env: dict[str, str | None]) -> tuple[int, str, str]:
    """Run baton org build on ``staff``; exit code, stdout, stderr."""
    f = tmp_path / "staff.csv"
    f.write_text(staff, encoding="utf-8")
    r = runner.invoke(app, ["org", "build", str(f), "--name", "Teams Probation"], env=env)
    return r.exit_code, r.stdout, r.stderr


def test_a_teams_only_council_gets_entra_ids_from_graph_with_no_slack_token(
        entra: EntraStandIn, tmp_path: Path) -> None:
    """Each person is named by work e-mail with their Entra object id under people:, the tenant
    under tenants:, and Teams channel ids (pasted as Teams' link encodes them) as teams_channel."""
    code, out, err = build(tmp_path, STAFF, teams_env(entra))
    assert code == 0, err
    (tmp_path / "org.yml").write_text(out)
    org = load_org(tmp_path / "org.yml")
    assert org.tenants == (TENANT,)
    north = org.team("pdu-north")
    assert north.managers == (NORTH_MGR,)
    assert north.teams_channel == "19:5a1e0c0d9a1f4e2b8c3d7e6f5a4b3c2d@thread.tacv2"
    assert north.channel is None
    by_mail = {u.mail: u.id for u in entra.users.values()}
    assert {p.id: p.entra_id for p in org.people} == {e: by_mail[e] for e in EMAILS}
    assert org.unreachable() == [] or all("Slack" in line for line in org.unreachable())


def test_an_email_that_is_not_the_sign_in_name_is_found_by_mail(entra: EntraStandIn, tmp_path: Path) -> None:
    """Graph's GET /users/{upn} answers 404 when the work e-mail is not the sign-in name; the
    lookup then asks by mail and finds them."""
    oid = entra.add_user("late.joiner@probation.example.gov.uk", upn="ljoiner@tenant.onmicrosoft.com")
    staff = STAFF + "pdu-south,,member,late.joiner@probation.example.gov.uk,\n"
    code, out, err = build(tmp_path, staff, teams_env(entra))
    assert code == 0, err
    assert f"entra_id: {oid}" in out


def test_unknown_and_disabled_people_are_named_by_line_and_nothing_is_written(
        entra: EntraStandIn, tmp_path: Path) -> None:
    """A 404 from Graph is that line's problem, as is a disabled account; the exit status is 1."""
    entra.add_user("gone@probation.example.gov.uk", enabled=False)
    staff = STAFF + ("pdu-south,,member,nobody@probation.example.gov.uk,\n"
                     "pdu-south,,member,gone@probation.example.gov.uk,\n")
    code, out, err = build(tmp_path, staff, teams_env(entra))
    assert code == 1 and out == ""
    assert "line 6: nobody@probation.example.gov.uk: no Entra user in the tenant has this e-mail" in err
    assert "line 7: gone@probation.example.gov.uk: the Entra account is disabled" in err


def test_a_wrong_secret_stops_the_build_naming_the_aadsts_code(entra: EntraStandIn, tmp_path: Path) -> None:
    """Entra's AADSTS7000215 (invalid client secret) stops the build at once, with the fix."""
    code, out, err = build(tmp_path, STAFF, teams_env(entra, MICROSOFT_APP_PASSWORD="the-secret-id"))
    assert code == 1 and out == ""
    assert "AADSTS7000215" in err and "client secret" in err and "Nothing was written" in err
    assert "the-secret-id" not in err


def test_without_user_read_all_the_build_says_which_permission_to_grant(
        entra: EntraStandIn, tmp_path: Path) -> None:
    """Graph's 403 Authorization_RequestDenied: the build names User.Read.All and admin consent."""
    entra.roles.clear()
    code, _, err = build(tmp_path, STAFF, teams_env(entra))
    assert code == 1
    assert "User.Read.All" in err and "admin consent" in err


def test_graph_throttling_is_waited_out_for_its_retry_after(entra: EntraStandIn) -> None:
    """Graph's 429 carries Retry-After: the lookup waits that long (the injected sleep) and asks again."""
    naps: list[float] = []
    credential = Credential(app_id=APP_ID, tenant=TENANT, secret=APP_PASSWORD, token_url=entra.token_url)
    directory = Directory(credential, entra.graph_url, sleep=naps.append)
    entra.throttle(7, 3)
    assert directory.lookup(NORTH_MGR) == next(u.id for u in entra.users.values() if u.mail == NORTH_MGR)
    assert naps == [7.0, 3.0]
    with pytest.raises(NotResolved):
        directory.lookup("nobody@probation.example.gov.uk")
    entra.throttle(*[1] * 10)
    with pytest.raises(GraphRefused, match="too many requests"):
        directory.lookup(NORTH_MGR)


def test_with_slack_and_teams_both_ids_are_filled(entra: EntraStandIn, tmp_path: Path) -> None:
    """Both platforms configured: people are named by Slack user id, with their work e-mail and
    Entra object id under people:; someone only on Teams is named by e-mail, with a warning."""
    slack_ids = {NORTH_MGR: "U0NMGR", EMAILS[1]: "U0NPP1", EMAILS[2]: "U0SMGR"}
    with SlackStandIn(tokens={"xoxb-both"}) as slack:
        slack.set_scopes([*DEFAULT_SCOPES, "users:read.email"])
        for email, user in slack_ids.items():
            slack.add_user(user, email=email)
        code, out, err = build(tmp_path, STAFF, teams_env(entra, SLACK_BOT_TOKEN="xoxb-both",
                                                          SLACK_API_URL=slack.api_url))
    assert code == 0, err
    (tmp_path / "org.yml").write_text(out)
    org = load_org(tmp_path / "org.yml")
    assert org.team("pdu-north").managers == ("U0NMGR",)
    people = {p.id: p for p in org.people}
    assert people["U0NMGR"].email == NORTH_MGR and people["U0NMGR"].entra_id
    assert "smt.lead@probation.example.gov.uk" in people  # on Teams only: named by e-mail
    assert "line 5: smt.lead@probation.example.gov.uk: on Teams only" in err


def test_org_check_on_a_teams_only_council_counts_who_teams_can_reach(
        entra: EntraStandIn, tmp_path: Path) -> None:
    """Built from the staff list, everyone is reachable on Teams; a person added by e-mail alone is
    named as one Teams can neither recognise nor message, and Slack is not mentioned."""
    code, out, err = build(tmp_path, STAFF, teams_env(entra))
    assert code == 0, err
    org_file = tmp_path / "org.yml"
    data = yaml.safe_load(out)
    data["teams"][0]["members"].append("added.by.hand@probation.example.gov.uk")
    org_file.write_text(yaml.safe_dump(data))
    r = runner.invoke(app, ["org", "check", str(org_file)], env=teams_env(entra))
    assert r.exit_code == 0, r.stderr
    assert "Teams: 4 of 5 people reachable; tenants: " + TENANT in r.stdout
    assert ("unreachable: person added.by.hand@probation.example.gov.uk: not reachable on Teams: Teams can "
            "neither recognise nor message them without their Entra object id") in r.stderr
    assert "Slack" not in r.stdout + r.stderr
