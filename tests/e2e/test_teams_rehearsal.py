"""The go-live rehearsal's Teams side (sandbox/teams/rehearsal.py): the staff list's e-mails go
into the stand-in directory, and its first transfer, played in Teams' activities, reaches the
receiving manager and the team's channel."""

from __future__ import annotations

from pathlib import Path

from sandbox.teams.driver import TeamsDriver
from sandbox.teams.entra import EntraStandIn
from sandbox.teams.rehearsal import emails, first_transfer, settings
from sandbox.teams.standin import BotConnectorStandIn


def test_the_staff_lists_emails_are_read_from_its_email_column(tmp_path: Path) -> None:
    staff = tmp_path / "staff.csv"
    staff.write_text("Team,Team name,Role,Work e-mail,Channel\n"
                     "pdu-north,North PDU,manager,Jo.Spencer@probation.example.gov.uk,\n"
                     ",,smt,,19:abc@thread.tacv2\n", encoding="utf-8")
    assert emails(staff) == ["jo.spencer@probation.example.gov.uk"]


def test_the_settings_point_baton_at_the_stand_ins() -> None:
    connector = BotConnectorStandIn()
    with EntraStandIn(connector_tokens=connector.issued) as entra:
        lines = dict(line.split("=", 1) for line in settings(entra, connector).splitlines()
                     if line and not line.startswith("#"))
    assert lines["TEAMS_TOKEN_URL"] == entra.token_url and lines["MICROSOFT_GRAPH_URL"] == entra.graph_url
    assert lines["TEAMS_OPENID_METADATA"] == connector.openid_metadata_url
    assert "SLACK_BOT_TOKEN" not in lines


def test_the_rehearsals_first_transfer_reaches_the_receiving_manager_and_channel(teams: TeamsDriver) -> None:
    done = first_transfer(teams, "X123456")
    assert done[-2].endswith("(receiving manager) got the transfer's card with its buttons")
    assert done[-1] == "South PDU's Teams channel got the post"
