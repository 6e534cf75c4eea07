"""``baton doctor`` for a Teams-only council against the Entra stand-in (sandbox/teams/entra.py),
each fault injected there: Entra's documented client-credentials refusals, the tenant, people
Teams cannot reach, channels; and no Slack setting asked for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from handlers.cli import app
from sandbox.teams.entra import Certificate, EntraStandIn
from sandbox.teams.standin import APP_ID, APP_PASSWORD, TENANT
from store import conversations
from store.conversations import ConversationRef
from tests.conftest import NOW

runner = CliRunner()
MANAGER_N = "north.manager@probation.example.gov.uk"
MANAGER_S = "south.manager@probation.example.gov.uk"
PRACTITIONER = "north.practitioner@probation.example.gov.uk"
SMT = "smt.lead@probation.example.gov.uk"


def org_data(entra: EntraStandIn) -> dict[str, object]:
    """A Teams-only probation org: people by work e-mail with their Entra ids, Teams channels."""
    return {
        "name": "Teams Probation", "policy": "probation", "tenants": [TENANT],
        "teams": [
            {"id": "pdu-north", "name": "North PDU", "managers": [MANAGER_N], "members": [PRACTITIONER],
             "teams_channel": "19:0a1b2c3d4e5f60718293a4b5c6d7e8f9@thread.tacv2"},
            {"id": "pdu-south", "name": "South PDU", "managers": [MANAGER_S],
             "teams_channel": "19:f9e8d7c6b5a40918273a6b5c4d3e2f10@thread.tacv2"}],
        "escalation": {"smt": {"users": [SMT],
                               "teams_channel": "19:5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a@thread.tacv2"}},
        "people": [{"id": e, "entra_id": entra.add_user(e)}
                   for e in (MANAGER_N, MANAGER_S, PRACTITIONER, SMT)],
    }


@pytest.fixture
def entra() -> Iterator[EntraStandIn]:
    """The bot's tenant and app registration, with a client secret (on the tests' clock)."""
    with EntraStandIn(clock=lambda: NOW) as stand_in:
        yield stand_in


def write_org(tmp_path: Path, data: dict[str, object]) -> str:
    """The org file on disk; its path."""
    f = tmp_path / "org.yml"
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(f)


@pytest.fixture
def env(entra: EntraStandIn, db_url: str, engine: sa.Engine, tmp_path: Path) -> dict[str, str | None]:
    """Teams settings only (no Slack variable at all), the migrated test database, the org file."""
    return {"DATABASE_URL": db_url, "BATON_ORG": write_org(tmp_path, org_data(entra)),
            "BATON_NOW": NOW.isoformat(), "SLACK_BOT_TOKEN": None, "SLACK_SIGNING_SECRET": None,
            "MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
            "MICROSOFT_APP_TENANT_ID": TENANT, "MICROSOFT_APP_SECRET_EXPIRES": "2027-06-30",
            "TEAMS_TOKEN_URL": entra.token_url}


def doctor(env: dict[str, str | None], **changes: str | None) -> tuple[int, str]:
    """Run baton doctor; exit code and what it printed."""
    r = runner.invoke(app, ["doctor"], env={**env, **changes})
    return r.exit_code, r.stdout + r.stderr


def rows(out: str, check: str) -> list[str]:
    """The table rows of one check."""
    return [line for line in out.splitlines() if line.split()[1:2] == [check]]


def test_a_teams_only_council_is_ready_for_go_live_with_no_slack_settings(env: dict[str, str | None]) -> None:
    """A token from Entra, the tenant named, everyone with an Entra id, Teams channels: exit 0,
    and nothing about Slack."""
    code, out = doctor(env)
    assert code == 0, out
    assert out.startswith("Ready for go-live: 2 teams, 4 people and 3 channels checked in Microsoft Teams")
    assert "SLACK" not in out


@pytest.mark.parametrize(("change", "code", "subject", "words"), [
    ({"MICROSOFT_APP_PASSWORD": "7Qb8Q~secret-id-not-value"}, "AADSTS7000215", "MICROSOFT_APP_PASSWORD",
     "its Value in MICROSOFT_APP_PASSWORD"),
    ({"MICROSOFT_APP_ID": "00000000-0000-4000-8000-0000000bad01"}, "AADSTS700016", "MICROSOFT_APP_ID",
     "Microsoft App ID"),
    ({"MICROSOFT_APP_TENANT_ID": "00000000-0000-4000-8000-0000000bad02"}, "AADSTS90002",
     "MICROSOFT_APP_TENANT_ID", "App Tenant ID"),
])
def test_each_entra_refusal_blocks_go_live_naming_the_aadsts_code_and_the_fix(
        env: dict[str, str | None], change: dict[str, str], code: str, subject: str, words: str) -> None:
    """Entra's documented errors for a client-credentials request, each with the setting to mend."""
    exit_code, out = doctor(env, **change)
    assert exit_code == 1
    [row] = rows(out, "token")
    assert row.split()[:3] == ["BLOCKS", "token", subject]
    assert code in row and words in row
    assert "7Qb8Q~secret-id-not-value" not in out


def test_an_expired_secret_is_named_as_expired(entra: EntraStandIn, env: dict[str, str | None]) -> None:
    """AADSTS7000222: the secret Entra knows has expired (whatever the settings say of it)."""
    entra.secrets[APP_PASSWORD] = NOW - timedelta(days=1)
    code, out = doctor(env)
    assert code == 1
    [row] = rows(out, "token")
    assert "AADSTS7000222" in row and "expired" in row and "MICROSOFT_APP_SECRET_EXPIRES" in row


def test_a_secret_near_its_expiry_is_a_warning_and_an_unknown_expiry_asks_for_it(
        env: dict[str, str | None]) -> None:
    """MICROSOFT_APP_SECRET_EXPIRES within 30 days: warned with the date; unset: warned to set it."""
    code, out = doctor(env, MICROSOFT_APP_SECRET_EXPIRES="2026-12-03")
    assert code == 0
    [row] = rows(out, "token")
    assert row.startswith("warn") and "expires on 03 Dec 2026, in 10 day(s)" in row
    code, out = doctor(env, MICROSOFT_APP_SECRET_EXPIRES=None)
    assert code == 0 and "MICROSOFT_APP_SECRET_EXPIRES" in rows(out, "settings")[0]


def test_a_registered_certificate_gets_a_token_and_an_unregistered_one_is_refused(
        entra: EntraStandIn, env: dict[str, str | None], tmp_path: Path) -> None:
    """The certificate (PEM: key and certificate) signs MSAL's client assertion; Entra checks it
    against the certificates uploaded to the app registration (AADSTS700027 otherwise)."""
    cert = Certificate.make(days=365, now=NOW)
    pem = tmp_path / "baton.pem"
    pem.write_text(cert.pem())
    with_cert = {"MICROSOFT_APP_PASSWORD": None, "MICROSOFT_APP_CERTIFICATE": str(pem),
                 "MICROSOFT_APP_SECRET_EXPIRES": None}
    code, out = doctor(env, **with_cert)
    assert code == 1
    [row] = rows(out, "token")
    assert row.split()[2] == "MICROSOFT_APP_CERTIFICATE" and "AADSTS700027" in row
    entra.register(cert)
    code, out = doctor(env, **with_cert)
    assert code == 0, out
    assert out.startswith("Ready for go-live")


def test_a_certificate_close_to_expiry_is_warned_from_the_certificate_itself(
        entra: EntraStandIn, env: dict[str, str | None], tmp_path: Path) -> None:
    """No setting needed: the certificate's notAfter gives the date."""
    cert = Certificate.make(days=12, now=NOW)
    entra.register(cert)
    pem = tmp_path / "baton.pem"
    pem.write_text(cert.pem())
    code, out = doctor(env, MICROSOFT_APP_PASSWORD=None, MICROSOFT_APP_CERTIFICATE=str(pem))
    assert code == 0
    assert "the client certificate expires on 05 Dec 2026" in rows(out, "token")[0]


def test_entra_not_answering_is_named_and_blocks(env: dict[str, str | None]) -> None:
    """No token can be had: go-live is blocked, saying it is not a refusal."""
    code, out = doctor(env, TEAMS_TOKEN_URL="http://127.0.0.1:1/{tenant}/oauth2/v2.0/token")
    assert code == 1
    assert "not an auth refusal" in rows(out, "token")[0]


def test_a_person_with_only_an_email_cannot_be_reached_and_blocks_until_a_chat_is_stored(
        entra: EntraStandIn, env: dict[str, str | None], tmp_path: Path, engine: sa.Engine) -> None:
    """No Entra object id and no stored conversation: Baton can neither recognise nor message
    them on Teams. Once the app is installed for them (a stored 1:1 chat), they pass."""
    data = org_data(entra)
    newcomer = "sam@probation.example.gov.uk"
    data["teams"][1]["members"] = [newcomer]  # type: ignore[index]
    path = write_org(tmp_path, data)
    code, out = doctor(env, BATON_ORG=path)
    assert code == 1
    [row] = rows(out, "person")
    assert row.startswith("BLOCKS") and newcomer in row and "pdu-south member" in row
    assert "neither recognise nor message" in row and "entra_id" in row
    conversations.save(engine, ConversationRef(person=newcomer, conversation_id="a:1xyz",
                                               service_url="https://smba.trafficmanager.net/teams/",
                                               tenant_id=TENANT, user_id="29:1abc"), NOW)
    code, out = doctor(env, BATON_ORG=path)
    assert code == 0, out


def test_an_org_file_without_the_tenant_blocks_go_live(entra: EntraStandIn, env: dict[str, str | None],
                                                       tmp_path: Path) -> None:
    """No tenants: every activity would be refused (403); another tenant: the bot's own refused."""
    data = org_data(entra)
    data["tenants"] = []
    code, out = doctor(env, BATON_ORG=write_org(tmp_path, data))
    assert code == 1 and "tenants: [" + TENANT + "]" in rows(out, "tenant")[0]
    data["tenants"] = ["00000000-0000-4000-8000-00000000aaaa"]
    code, out = doctor(env, BATON_ORG=write_org(tmp_path, data))
    assert code == 1 and any("not one of the org file's tenants" in r for r in rows(out, "tenant"))
    data["tenants"] = [TENANT, "00000000-0000-4000-8000-00000000aaaa"]  # another tenant: a warning
    code, out = doctor(env, BATON_ORG=write_org(tmp_path, data))
    [row] = rows(out, "tenant")
    assert code == 0 and row.startswith("warn") and "single-tenant" in row


def test_slack_channels_and_missing_teams_channels_are_named_for_a_teams_only_council(
        entra: EntraStandIn, env: dict[str, str | None], tmp_path: Path) -> None:
    """A team with a Slack channel and no Teams channel: warned (its posts go nowhere); an
    escalation level whose only place is a Slack channel blocks (nobody hears it)."""
    data = org_data(entra)
    del data["teams"][0]["teams_channel"]  # type: ignore[index]
    data["teams"][0]["channel"] = "C0NORTH"  # type: ignore[index]
    data["escalation"] = {"smt": {"channel": "C0SMT"}}
    code, out = doctor(env, BATON_ORG=write_org(tmp_path, data))
    assert code == 1
    channel_rows = rows(out, "channel")
    assert any("team pdu-north" in r and "no Teams channel" in r for r in channel_rows)
    assert any("C0SMT" in r and "Slack is not configured" in r for r in channel_rows)
    assert any(r.startswith("BLOCKS") and "smt" in r for r in rows(out, "escalation"))


def test_with_both_platforms_the_doctor_checks_both_halves(entra: EntraStandIn, db_url: str,
                                                           engine: sa.Engine) -> None:
    """Slack and Teams configured on the demo org (Slack ids with e-mails and Entra ids under
    people:): ready on both; a refused Teams secret blocks go-live though Slack is fine."""
    from bot.org import load_org
    from sandbox.slack_api import DEFAULT_SCOPES, SlackStandIn

    with SlackStandIn(tokens={"xoxb-both"}) as slack:
        slack.set_scopes([*DEFAULT_SCOPES, "channels:read", "groups:read"])
        for channel in load_org().channels():
            slack.add_channel(channel, channel.lower())
        env: dict[str, str | None] = {
            "DATABASE_URL": db_url, "BATON_ORG": "", "BATON_NOW": NOW.isoformat(),
            "SLACK_BOT_TOKEN": "xoxb-both", "SLACK_SIGNING_SECRET": "secret", "SLACK_API_URL": slack.api_url,
            "MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
            "MICROSOFT_APP_TENANT_ID": TENANT, "MICROSOFT_APP_SECRET_EXPIRES": "2027-06-30",
            "TEAMS_TOKEN_URL": entra.token_url}
        code, out = doctor(env)
        assert code == 0, out
        assert "checked in Slack and Microsoft Teams" in out
        code, out = doctor(env, MICROSOFT_APP_PASSWORD="wrong")
    assert code == 1
    [row] = rows(out, "token")
    assert "AADSTS7000215" in row and not rows(out, "scopes")
