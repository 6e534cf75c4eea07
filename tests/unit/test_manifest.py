"""manifest.yml is a valid Slack app manifest with exactly the features Baton needs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sandbox.slack_api import DEFAULT_SCOPES

REPO = Path(__file__).parents[2]
MANIFEST_PATH = REPO / "manifest.yml"
SCHEMA_PATH = REPO.parent / "shared" / "slack" / "manifest.schema.1.0.0.json"
EVENTS_URL = "https://baton.example.org/slack/events"
MINIMAL_BOT_SCOPES = {"commands", "chat:write", "im:write", "users:read", "files:write"}
USAGE_HINT = (
    "new | headsup | list [mine|team|overdue] | status CASE | history CASE | cover @user until DATE | help"
)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), "manifest.yml must be a YAML mapping"
    return loaded


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    if not SCHEMA_PATH.is_file():
        pytest.fail(f"Slack manifest schema missing at {SCHEMA_PATH}; it is required, not optional")
    loaded = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def transfer_command(manifest: dict[str, Any]) -> dict[str, Any]:
    commands = manifest["features"]["slash_commands"]
    matches = [c for c in commands if c["command"] == "/transfer"]
    assert len(matches) == 1, "exactly one /transfer command expected"
    return dict(matches[0])


def test_manifest_validates_against_slack_schema(manifest: dict[str, Any], schema: dict[str, Any]) -> None:
    """manifest.yml passes Slack's published JSON schema for app manifests."""
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    errors = sorted(validator_cls(schema).iter_errors(manifest), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_schema_rejects_a_broken_manifest(manifest: dict[str, Any], schema: dict[str, Any]) -> None:
    """The schema check has teeth: an unknown feature key or a command without '/' fails."""
    broken = copy.deepcopy(manifest)
    broken["features"]["home_tab"] = True
    broken["features"]["slash_commands"][0]["command"] = "transfer"
    validator_cls = jsonschema.validators.validator_for(schema)
    assert len(list(validator_cls(schema).iter_errors(broken))) >= 2


def test_transfer_command_has_description_and_usage_hint(manifest: dict[str, Any]) -> None:
    """/transfer exists, points at the events endpoint and documents its subcommands."""
    command = transfer_command(manifest)
    assert command["description"]
    assert command["usage_hint"] == USAGE_HINT
    assert command["url"] == EVENTS_URL


def test_transfer_command_escapes_mentions(manifest: dict[str, Any]) -> None:
    """should_escape makes "cover @user" arrive with a user id rather than a display name."""
    assert transfer_command(manifest)["should_escape"] is True


def test_home_tab_is_enabled(manifest: dict[str, Any]) -> None:
    """The App Home tab is on, and the Messages tab is read-only (Baton never reads DMs)."""
    app_home = manifest["features"]["app_home"]
    assert app_home["home_tab_enabled"] is True
    assert app_home.get("messages_tab_read_only_enabled", False) or not app_home.get(
        "messages_tab_enabled", True
    )


def test_bot_events_are_app_home_and_the_lifecycle_events_only(manifest: dict[str, Any]) -> None:
    """Baton subscribes to app_home_opened, app_uninstalled and tokens_revoked, and to nothing
    that would need extra scopes."""
    events = manifest["settings"]["event_subscriptions"]
    assert events["request_url"] == EVENTS_URL
    assert events["bot_events"] == ["app_home_opened", "app_uninstalled", "tokens_revoked"]
    assert "user_events" not in events


def test_bot_scopes_are_exactly_the_minimal_set(manifest: dict[str, Any]) -> None:
    """Bot scopes are exactly commands, chat:write, im:write, users:read and files:write."""
    scopes = manifest["oauth_config"]["scopes"]
    assert set(scopes["bot"]) == MINIMAL_BOT_SCOPES
    assert len(scopes["bot"]) == len(MINIMAL_BOT_SCOPES), "duplicate scope"
    assert set(scopes) == {"bot"}, "no user or optional scopes"


def test_stand_in_reports_the_manifest_scopes(manifest: dict[str, Any]) -> None:
    """The Slack stand-in's X-OAuth-Scopes header matches the manifest."""
    assert set(DEFAULT_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])


def test_doctor_checks_the_token_for_the_manifest_scopes(manifest: dict[str, Any]) -> None:
    """baton doctor's list of the scopes Baton needs is manifest.yml's."""
    from handlers.slack.workspace import REQUIRED_SCOPES

    assert set(REQUIRED_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])


def test_settings_use_http_with_interactivity(manifest: dict[str, Any]) -> None:
    """HTTP mode (no Socket Mode), interactivity on (its select menus' options loaded from the same
    URL, for the Receiving team's type-ahead), no org deploy or token rotation."""
    settings = manifest["settings"]
    assert settings["interactivity"] == {"is_enabled": True, "request_url": EVENTS_URL,
                                         "message_menu_options_url": EVENTS_URL}
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_display_and_bot_name_are_baton(manifest: dict[str, Any]) -> None:
    """The app and its bot user are both called Baton."""
    assert manifest["display_information"]["name"] == "Baton"
    assert manifest["features"]["bot_user"]["display_name"] == "Baton"
