"""``baton doctor`` against the Web API stand-in, with each fault injected there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bot.org import load_org
from handlers.cli import app
from sandbox.slack_api import DEFAULT_SCOPES, SlackStandIn

runner = CliRunner()
TOKEN = "xoxb-doctor"


@pytest.fixture
def api() -> Iterator[SlackStandIn]:
    """A workspace where every person and channel of the demo org is fine and Baton is in each
    channel; the token may read channels (the doctor's optional scopes)."""
    with SlackStandIn(tokens={TOKEN}) as stand_in:
        stand_in.set_scopes([*DEFAULT_SCOPES, "channels:read", "groups:read"])
        for channel in load_org().channels():
            stand_in.add_channel(channel, channel.lower())
        yield stand_in


@pytest.fixture
def env(api: SlackStandIn, db_url: str, engine: sa.Engine) -> dict[str, str]:
    """Settings for a doctor run: the stand-in, a token it knows, the migrated test database."""
    return {"DATABASE_URL": db_url, "BATON_ORG": "", "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": "secret", "SLACK_API_URL": api.api_url}


def doctor(env: dict[str, str], **changes: str) -> tuple[int, str]:
    """Run baton doctor; exit code and what it printed."""
    r = runner.invoke(app, ["doctor"], env={**env, **changes})
    return r.exit_code, r.stdout + r.stderr


def rows(out: str, check: str) -> list[str]:
    """The table rows of one check."""
    return [line for line in out.splitlines() if line.split()[1:2] == [check]]


def test_a_workspace_that_matches_the_org_file_is_ready_for_go_live(env: dict[str, str]) -> None:
    """Nothing wrong: exit 0 and one line saying what was checked."""
    code, out = doctor(env)
    assert code == 0, out
    assert out.startswith("Ready for go-live: 10 teams, ")


def test_a_wrong_token_blocks_go_live_saying_where_to_copy_the_right_one(env: dict[str, str]) -> None:
    """invalid_auth is named, with the fix; people are not checked one by one with a bad token."""
    code, out = doctor(env, SLACK_BOT_TOKEN="xoxb-wrong")
    assert code == 1
    [row] = rows(out, "token")
    assert "BLOCKS" in row and "Slack does not accept this token (invalid_auth)" in row
    assert "Bot User OAuth Token" in row
    assert "not checked: the token does not work" in out


def test_a_revoked_token_says_reinstall(api: SlackStandIn, env: dict[str, str]) -> None:
    """token_revoked (an uninstall) asks for a reinstall and the new token."""
    api.revoke_tokens()
    code, out = doctor(env)
    assert code == 1 and "token_revoked" in out and "Reinstall" in out


def test_a_missing_scope_blocks_go_live_naming_the_scope(api: SlackStandIn, env: dict[str, str]) -> None:
    """The granted scopes come from X-OAuth-Scopes and are compared with manifest.yml's."""
    api.set_scopes([s for s in DEFAULT_SCOPES if s != "files:write"] + ["channels:read"])
    code, out = doctor(env)
    assert code == 1
    [row] = rows(out, "scopes")
    assert row.split()[:3] == ["BLOCKS", "scopes", "files:write"]
    assert "Bot Token Scopes" in row


@pytest.mark.parametrize(("fault", "problem"), [
    ("deleted", "the account is deactivated"),
    ("guest", "this is a guest account"),
    ("bot", "this is a bot, not a person"),
    ("gone", "no such user in this workspace"),
])
def test_a_person_who_cannot_act_is_named_with_where_the_org_file_puts_them(
        api: SlackStandIn, env: dict[str, str], fault: str, problem: str) -> None:
    """North PDU's only manager fails users.info: their row, and the team nobody can now accept for."""
    if fault == "gone":
        api.remove_user("U0NMGR")
    else:
        api.add_user("U0NMGR", deleted=fault == "deleted", is_restricted=fault == "guest",
                     is_bot=fault == "bot")
    code, out = doctor(env)
    assert code == 1
    [row] = rows(out, "person")
    assert "U0NMGR (pdu-north manager)" in row and problem in row
    [reach] = rows(out, "escalation")
    assert "team pdu-north" in reach and "no manager of this team can be reached" in reach


def test_a_channel_baton_is_not_in_or_that_is_gone_is_named_with_the_fix(
        api: SlackStandIn, env: dict[str, str]) -> None:
    """is_member false: /invite @Baton; channel_not_found and archived are named too."""
    api.add_channel("C0NORTH", "north-pdu", is_member=False)
    api.remove_channel("C0SOUTH")
    api.add_channel("C0HOS", "hos", is_archived=True)
    code, out = doctor(env)
    assert code == 1
    found = {r.split()[2]: r for r in rows(out, "channel")}
    assert "Baton is not in #north-pdu" in found["C0NORTH"] and "/invite @Baton" in found["C0NORTH"]
    assert "no such channel" in found["C0SOUTH"]
    assert "#hos is archived" in found["C0HOS"]


def test_without_channel_scopes_channels_are_a_warning_not_a_block(
        api: SlackStandIn, env: dict[str, str]) -> None:
    """Baton's manifest does not ask for channels:read; the doctor says it could not look."""
    api.set_scopes(DEFAULT_SCOPES)
    code, out = doctor(env)
    assert code == 0
    [row] = rows(out, "channel")
    assert row.startswith("warn") and "lacks channels:read" in row


def test_an_escalation_level_nobody_hears_blocks_go_live(env: dict[str, str], tmp_path: Path) -> None:
    """Probation's SMT level with no contact: named per team, with where to add it."""
    org = tmp_path / "org.yml"
    org.write_text("teams:\n"
                   "  - {id: north, name: North, managers: [U0NMGR], channel: C0NORTH}\n"
                   "  - {id: south, name: South, managers: [U0SMGR]}\n")
    code, out = doctor(env, BATON_ORG=str(org))
    assert code == 1
    reach = rows(out, "escalation")
    assert len(reach) == 2 and all("nobody hears this escalation level" in r for r in reach)


def test_a_database_behind_the_code_or_unreachable_blocks_go_live(env: dict[str, str],
                                                                   tmp_path: Path) -> None:
    """An unmigrated database says run baton db upgrade; an unreachable one says check DATABASE_URL."""
    code, out = doctor(env, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    assert code == 1
    [row] = rows(out, "database")
    assert "the database schema is at nothing, not 0" in row and "baton db upgrade" in row
    code, out = doctor(env, DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    [row] = rows(out, "database")
    assert code == 1 and "the database is unreachable" in row and "nobody@127.0.0.1:1" in row


def test_a_bad_org_file_and_missing_settings_are_named(env: dict[str, str], tmp_path: Path) -> None:
    """The org file's own message, and an unset token beside a signing secret (Slack half set up)."""
    org = tmp_path / "org.yml"
    org.write_text("teams: []\n")
    code, out = doctor(env, BATON_ORG=str(org), SLACK_BOT_TOKEN="")
    assert code == 1
    assert "org.yml" in rows(out, "org")[0]
    assert "not set, so nothing in Slack was checked" in rows(out, "token")[0]


def test_with_no_platform_configured_the_doctor_names_both_ways_to_configure_one(
        env: dict[str, str]) -> None:
    """Neither Slack nor Teams settings: one blocking settings row naming both."""
    code, out = doctor(env, SLACK_SIGNING_SECRET="", SLACK_BOT_TOKEN="")
    assert code == 1
    [row] = rows(out, "settings")
    assert "neither Slack nor Microsoft Teams is configured" in row and "MICROSOFT_APP_ID" in row


def test_with_a_bad_org_file_the_token_is_still_checked(env: dict[str, str], tmp_path: Path) -> None:
    """Both problems in one run: the org file's message and the refused token."""
    org = tmp_path / "org.yml"
    org.write_text("teams: []\n")
    code, out = doctor(env, BATON_ORG=str(org), SLACK_BOT_TOKEN="xoxb-wrong")
    assert code == 1
    assert rows(out, "org") and "invalid_auth" in rows(out, "token")[0]
