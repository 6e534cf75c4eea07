"""The ``baton`` command line: policy packs (policy obligations, tables, check) and the actions table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.policy import PolicyError, load_pack
from handlers.cli.base import (
    app,
    fail,
    policy_app,
)


@policy_app.command("obligations")
def policy_obligations() -> None:
    """Print every pack's obligations, state by state, as the README's Markdown tables."""
    from bot.obligation_table import obligation_tables
    from bot.policy import all_builtin_packs

    typer.echo(obligation_tables(all_builtin_packs()), nl=False)


@policy_app.command("tables")
def policy_tables() -> None:
    """Print every pack's clocks and ladders as the README's Markdown tables."""
    from bot.pack_tables import pack_tables
    from bot.policy import all_builtin_packs

    typer.echo(pack_tables(all_builtin_packs()))


@policy_app.command("check")
def policy_check(file: Annotated[Path, typer.Argument(help="A policy pack YAML file")]) -> None:
    """Validate a policy pack file."""
    try:
        pack = load_pack(file)
    except PolicyError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{file}: OK: {pack.name}: {len(pack.clocks)} clocks "
               f"({', '.join(c.name for c in pack.clocks)}), "
               f"ladder {' -> '.join(lv.name for lv in pack.escalation.levels)}")


@app.command("actions")
def actions_table() -> None:
    """Every step of a transfer: who may take it, from which states, under which packs (Markdown)."""
    from bot.actions import catalogue_table
    from bot.policy import all_builtin_packs

    typer.echo(catalogue_table(all_builtin_packs()))
