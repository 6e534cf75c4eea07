"""The ``baton`` command line (typer): one module per command group; importing them registers them."""

from __future__ import annotations

from handlers.cli import data, db, org, policy, runtime, teams, transfers  # noqa: F401  (registers commands)
from handlers.cli.base import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point for ``python -m handlers.cli``."""
    app()
