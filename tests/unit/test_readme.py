"""The README's table of actions is the catalogue's own."""

from __future__ import annotations

from pathlib import Path

from bot.actions import catalogue_table
from bot.pack_tables import pack_tables
from bot.policy import all_builtin_packs

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_action_as_the_catalogue_declares_it() -> None:
    """`baton actions` and the README agree, so the table people read is the rule Baton runs."""
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- catalogue:start -->") + len("<!-- catalogue:start -->")
    end = text.index("<!-- catalogue:end -->")
    assert text[start:end].strip() == catalogue_table(all_builtin_packs())


def test_readme_tables_of_each_packs_clocks_and_ladders_are_the_packs_own() -> None:
    """`baton policy tables` and the README agree: every clock's start, stops, reminders, breach
    and who hears, every ladder and route, each citing its seed and noting its settings."""
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- packs:start -->") + len("<!-- packs:start -->")
    end = text.index("<!-- packs:end -->")
    table = pack_tables(all_builtin_packs())
    assert text[start:end].strip() == table
    for pack in all_builtin_packs().values():
        for clock in pack.clocks:
            assert f"`{clock.name}`" in table and clock.source[:40] in table


def test_readme_obligations_state_by_state_are_the_models_own() -> None:
    """The lifecycle section's obligation tables are `baton policy obligations`' output: what
    bot/obligations.py answers for each pack at each state."""
    from bot.obligation_table import obligation_tables

    text = README.read_text()
    start = text.index("<!-- obligations:start -->") + len("<!-- obligations:start -->")
    end = text.index("<!-- obligations:end -->")
    assert text[start:end].strip() == obligation_tables(all_builtin_packs()).strip()
