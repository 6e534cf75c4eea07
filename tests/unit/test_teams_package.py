"""`baton teams package`: the manifest validates against Microsoft's published Teams manifest
schema, taken from the @microsoft/app-manifest package on the npm registry (installed by
`make install` into sandbox/teams/web), and its icons have the sizes Teams asks for."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

from handlers.teams.package import COMMANDS, MANIFEST_VERSION, package

SCHEMAS = (Path(__file__).resolve().parents[2] / "sandbox" / "teams" / "web" / "node_modules" / "@microsoft"
           / "app-manifest" / "build" / "json-schemas" / "teams")
APP_ID = "00000000-0000-4000-8000-0000000ba701"


def _schema() -> dict[str, object]:
    path = SCHEMAS / f"v{MANIFEST_VERSION}" / "MicrosoftTeams.schema.json"
    if not path.exists():
        if os.environ.get("CI") == "true":
            raise AssertionError(f"{path} is missing: `make install` installs it from the npm registry")
        pytest.skip("run `make install` (npm install in sandbox/teams/web) for Microsoft's manifest schema")
    schema: dict[str, object] = json.loads(path.read_text())
    return schema


def test_the_manifest_validates_against_microsofts_schema() -> None:
    with zipfile.ZipFile(io.BytesIO(package(app_id=APP_ID))) as z:
        manifest = json.loads(z.read("manifest.json"))
    jsonschema.Draft4Validator(_schema(), format_checker=jsonschema.FormatChecker()).validate(manifest)
    assert manifest["bots"][0]["botId"] == APP_ID


def test_a_manifest_schema_violation_is_caught() -> None:
    with zipfile.ZipFile(io.BytesIO(package(app_id="not-a-guid"))) as z:
        manifest = json.loads(z.read("manifest.json"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(_schema()).validate(manifest)


def test_the_icons_are_192_and_32_pixels_and_the_commands_fit_teams_limits() -> None:
    with zipfile.ZipFile(io.BytesIO(package(app_id=APP_ID))) as z:
        assert Image.open(io.BytesIO(z.read("color.png"))).size == (192, 192)
        assert Image.open(io.BytesIO(z.read("outline.png"))).size == (32, 32)
    assert len(COMMANDS) <= 10 and all(len(t) <= 32 and len(d) <= 128 for t, d in COMMANDS)
