"""Rewrite the README's generated tables (catalogue, packs, obligations) from the code.

Run from the repository root: ``.venv/bin/python scripts/regen_readme.py``. tests/unit/test_readme.py
checks that the README holds exactly what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.actions import catalogue_table
from bot.obligation_table import obligation_tables
from bot.pack_tables import pack_tables
from bot.policy import all_builtin_packs

README = Path(__file__).resolve().parents[1] / "README.md"


def splice(text: str, name: str, body: str) -> str:
    """``text`` with what lies between the ``name`` markers replaced by ``body``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body.strip()}\n{end}{tail}"


def main() -> None:
    """Write the three generated tables into README.md."""
    packs = all_builtin_packs()
    text = README.read_text(encoding="utf-8")
    text = splice(text, "catalogue", catalogue_table(packs))
    text = splice(text, "packs", pack_tables(packs))
    text = splice(text, "obligations", obligation_tables(packs))
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
