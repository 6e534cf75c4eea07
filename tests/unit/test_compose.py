"""compose.yml starts for a Teams-only, a Slack-only and a both-platform council: no variable is
required (Compose refuses to start on a missing ``${VAR:?...}``), and what it passes Baton
configures exactly the platforms the council's .env sets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "compose.yml"
VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
TEAMS = {"MICROSOFT_APP_ID": "00000000-0000-4000-8000-0000000ba701",
         "MICROSOFT_APP_TENANT_ID": "00000000-0000-4000-8000-00000000b470",
         "MICROSOFT_APP_PASSWORD": "a-secret", "MICROSOFT_APP_SECRET_EXPIRES": "2027-06-30"}
SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret"}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}."""
    def one(m: re.Match[str]) -> str:
        name, op, arg = m["name"], m["op"], m["arg"] or ""
        given = env.get(name)
        unset = given is None or (op is not None and op.startswith(":") and given == "")
        if op in (":?", "?") and unset:
            raise ValueError(f"required variable {name} is missing a value: {arg}")
        if op in (":-", "-") and unset:
            return arg
        return given or ""
    return VAR.sub(one, value)


def baton_environment(env: dict[str, str]) -> dict[str, str]:
    """The environment Compose gives the baton service for a council whose .env holds ``env``."""
    service: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]["baton"]
    return {k: interpolate(str(v), env) for k, v in service["environment"].items()}


@pytest.mark.parametrize(("env", "slack", "teams"), [(TEAMS, False, True), (SLACK, True, False),
                                                     ({**TEAMS, **SLACK}, True, True)])
def test_compose_starts_for_each_kind_of_council_with_only_its_own_settings(
        env: dict[str, str], slack: bool, teams: bool) -> None:
    given = baton_environment(env)  # raises as Compose would on a required variable left unset
    s = Settings(**given)  # type: ignore[arg-type]
    assert bool(s.slack_bot_token) == slack and bool(s.slack_signing_secret) == slack
    assert bool(s.microsoft_app_id) == teams
    assert given["BATON_ORG"] == "/config/org.yml" and given["DATABASE_URL"].startswith("postgresql://")


def test_a_teams_certificate_can_be_given_instead_of_the_secret() -> None:
    env = {k: v for k, v in TEAMS.items() if k != "MICROSOFT_APP_PASSWORD"}
    given = baton_environment({**env, "MICROSOFT_APP_CERTIFICATE": "/config/baton.pem"})
    s = Settings(**given)  # type: ignore[arg-type]
    assert s.microsoft_app_password is None and str(s.microsoft_app_certificate) == "/config/baton.pem"


def test_no_variable_is_required() -> None:
    text = COMPOSE.read_text()
    assert not [m.group(0) for m in VAR.finditer(text) if (m["op"] or "").endswith("?")]


def test_the_image_installs_every_runtime_dependency_at_a_locked_version_with_its_hashes() -> None:
    """requirements.lock (pip-compile --generate-hashes) pins each dependency pyproject.toml names,
    with hashes, and scripts/install (the Dockerfile's and CI's install) installs from it."""
    import re
    import tomllib

    root = Path(__file__).resolve().parents[2]
    lock = (root / "requirements.lock").read_text()
    pinned = {m.group(1).lower().replace("_", "-") for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", lock, re.M)}
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        name = re.match(r"[A-Za-z0-9_.-]+", dep)
        assert name and name.group(0).lower().replace("_", "-") in pinned, dep
    assert lock.count("--hash=sha256:") >= len(pinned)
    assert "--require-hashes -r requirements.lock" in (root / "scripts" / "install").read_text()
    assert "requirements.lock" in (root / "Dockerfile").read_text()
