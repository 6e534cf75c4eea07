"""The ``baton`` command line: database schema (db upgrade)."""

from __future__ import annotations

from typing import Annotated

import typer

from handlers.cli.base import (
    _redact,
    db_app,
)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply schema migrations to DATABASE_URL."""
    from bot.settings import get_settings
    from store.db import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    typer.echo(f"Database at {_redact(url)} is at {revision}.")
