"""The ``baton`` command line: Microsoft Teams (teams package)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handlers.cli.base import (
    fail,
    teams_app,
)


@teams_app.command("package")
def teams_package(
    out: Annotated[Path, typer.Option("--out", help="Where to write the zip")] = Path("baton-teams.zip"),
    version: Annotated[str, typer.Option(help="The app's version")] = "1.0.0",
    website: Annotated[str, typer.Option(help="Your organisation's page about Baton")] = "https://example.org/baton",
) -> None:
    """Write the Teams app package (manifest and icons) for the bot in MICROSOFT_APP_ID."""
    from bot.settings import get_settings
    from handlers.teams.package import package

    app_id = get_settings().microsoft_app_id
    if not app_id:
        raise fail("Set MICROSOFT_APP_ID to the Azure Bot's app id (see README: Run on Microsoft Teams).")
    out.write_bytes(package(app_id=app_id, version=version, website=website))
    typer.echo(f"{out}: Teams app package for bot {app_id}; upload it in the Teams admin centre.")
