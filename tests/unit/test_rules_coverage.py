"""docs/rules-coverage.md: each of the 126 rules read out of the seeds appears once, with a known
status, counts that are the table's own, and tests that exist."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "rules-coverage.md"
STATUSES = ("enforced", "advice at the step", "documented setting", "partial", "missing")


def _rows() -> list[list[str]]:
    out = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| R") and re.fullmatch(r"R\d+", cells[0]):
            out.append(cells)
    return out


def test_every_rule_appears_once_with_a_known_status() -> None:
    """R1 to R126, each once, in order, each with one of the five statuses and where it lives."""
    rows = _rows()
    assert [r[0] for r in rows] == [f"R{i}" for i in range(1, 127)]
    assert all(r[2] in STATUSES and r[3] for r in rows)


def test_the_counts_are_the_tables_own() -> None:
    """The counts line says what the table holds (and how many are enforced, advice or a setting)."""
    counts = Counter(r[2] for r in _rows())
    text = DOC.read_text(encoding="utf-8")
    done = counts["enforced"] + counts["advice at the step"] + counts["documented setting"]
    assert (f"Counts: enforced {counts['enforced']}, advice at the step {counts['advice at the step']}, "
            f"documented setting {counts['documented setting']}, partial {counts['partial']}, "
            f"missing {counts['missing']} ({done} of 126 enforced, advice or a setting).") in text


def test_every_named_test_exists() -> None:
    """A row's test is a test function somewhere under tests/ (or '-' where there is none yet)."""
    names = {m for p in (ROOT / "tests").rglob("test_*.py")
             for m in re.findall(r"def (test_\w+)", p.read_text(encoding="utf-8"))}
    for r in _rows():
        test = r[4].strip("`")
        assert test == "-" or test in names, (r[0], test)
        assert test != "-" or r[2] in ("missing", "partial"), r[0]
