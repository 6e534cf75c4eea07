"""The README's table of actions is the catalogue's own."""

from __future__ import annotations

from pathlib import Path

from bot.actions import catalogue_table
from bot.policy import all_builtin_packs

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_action_as_the_catalogue_declares_it() -> None:
    """`baton actions` and the README agree, so the table people read is the rule Baton runs."""
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- catalogue:start -->") + len("<!-- catalogue:start -->")
    end = text.index("<!-- catalogue:end -->")
    assert text[start:end].strip() == catalogue_table(all_builtin_packs())
