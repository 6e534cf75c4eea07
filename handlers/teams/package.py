"""The Teams app package: manifest.json (schema 1.22) and its two icons, zipped, ready to upload
to the Teams admin centre (or sideload) for a single-tenant Azure Bot."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

MANIFEST_VERSION = "1.22"
SCHEMA = (f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/"
          "MicrosoftTeams.schema.json")
ACCENT = "#1F4E79"
# The typed commands of the 1:1 chat, as Teams lists them (at most 10; title 32, description 128).
COMMANDS = (
    ("transfer new", "Raise a case transfer request"),
    ("transfer headsup", "Give an early heads up (where the policy has one)"),
    ("transfer status", "Where a case stands: transfer status X123456"),
    ("transfer history", "Who did what, and when: transfer history X123456"),
    ("transfer list", "Transfers you are on: transfer list [mine|team|overdue]"),
    ("transfer accept", "Accept a transfer: transfer accept X123456"),
    ("transfer decline", "Decline with a rationale: transfer decline X123456"),
    ("transfer complete", "Complete a transfer: transfer complete X123456"),
    ("transfer export", "Report readers: the period's transfers as a CSV file"),
    ("transfer help", "Everything Baton can do"),
)


def manifest(*, app_id: str, version: str = "1.0.0", website: str = "https://example.org/baton",
             developer: str = "Baton", domain: str | None = None) -> dict[str, Any]:
    """The manifest of Baton's Teams app for the bot registered with ``app_id``."""
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {"name": developer, "websiteUrl": website, "privacyUrl": f"{website}/privacy",
                      "termsOfUseUrl": f"{website}/terms"},
        "name": {"short": "Baton", "full": "Baton: case transfers"},
        "description": {
            "short": "Case transfers between teams, run by their policy.",
            "full": "Baton runs case transfers between probation or children's services teams under "
                    "the organisation's written policy: requests, decisions with their rationale, "
                    "reminders and escalations on working-day clocks. Messages carry case references, "
                    "never names."},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "bots": [{
            "botId": app_id, "scopes": ["personal", "team"], "supportsFiles": True,  # exports
            "isNotificationOnly": False,
            "commandLists": [{"scopes": ["personal"], "commands": [
                {"title": title, "description": description} for title, description in COMMANDS]}],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [domain] if domain else [],
    }


def _icon(size: int, *, outline: bool) -> bytes:
    """A square icon: a white baton on the accent colour (colour), or white on transparent (outline)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (size, size), (0, 0, 0, 0) if outline else ACCENT)
    draw = ImageDraw.Draw(img)
    w = max(2, size // 8)
    draw.line([(size * 0.25, size * 0.75), (size * 0.75, size * 0.25)], fill=(255, 255, 255, 255), width=w)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def package(**kw: Any) -> bytes:
    """The app package (a zip of manifest.json, color.png 192x192, outline.png 32x32)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest(**kw), indent=2))
        z.writestr("color.png", _icon(192, outline=False))
        z.writestr("outline.png", _icon(32, outline=True))
    return out.getvalue()
