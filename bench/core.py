"""Benchmark: import 100,000 transfers from CSV, then find the overdue ones, on SQLite and PostgreSQL.

Prints each figure beside its target. Run with ``make bench-core`` or ``python -m bench.core [N]``
(``--smoke``: 2,000 transfers). PostgreSQL: the database ``bench.common.pg_url`` names (emptied).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from bench.common import Headline, ensure_pg_database, headline, pg_url, size
from bot import services
from bot.org import load_org
from store.db import make_engine, upgrade
from store.repo import SqlUnitOfWork

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
PG = pg_url()
TARGET_IMPORT_S, TARGET_OVERDUE_MS = 30.0, 50.0
T = TypeVar("T")


def tracker_csv(n: int) -> str:
    """``n`` open probation transfers: 1% requested 40-60 days ago (overdue), the rest this week.

    A realistic tracker is mostly in time; what the overdue query must do is find the few late
    ones among many without reading them all.
    """
    lines = ["case_ref,holding_team,receiving_team,requested_on,kind"]
    today = NOW.date()
    for i in range(n):
        a, b = ("pdu-north", "pdu-south") if i % 2 else ("pdu-south", "pdu-north")
        back = 40 + i % 21 if i % 100 == 0 else i % 7
        lines.append(f"X{i:06d},{a},{b},{today - timedelta(days=back)},permanent")
    return "\n".join(lines) + "\n"


def run(url: str, n: int) -> tuple[float, float, int]:
    """Import n transfers into a fresh schema at url; returns (import s, overdue median ms, count)."""
    engine = make_engine(url)
    with engine.begin() as c:
        if c.dialect.name == "postgresql":
            c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)
    org = load_org()
    text = tracker_csv(n)
    t0 = time.perf_counter()
    with SqlUnitOfWork(engine) as uow:
        result = services.import_csv(uow, org, text, NOW)
    t_import = time.perf_counter() - t0
    assert result.imported == n, result.errors[:3]
    with engine.begin() as c:
        c.execute(sa.text("ANALYZE"))
    timings, found = [], 0
    for _ in range(20):
        t0 = time.perf_counter()
        with SqlUnitOfWork(engine) as uow:
            found = len(services.list_transfers(uow, today=date(2026, 11, 23), overdue=True))
        timings.append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    return t_import, statistics.median(timings), found


def on_both_stores(fn: Callable[[str], T]) -> list[tuple[str, T]]:
    """Run ``fn(url)`` on a fresh SQLite file and, when reachable, on PostgreSQL."""
    out = []
    with tempfile.TemporaryDirectory() as d:
        out.append(("SQLite", fn(f"sqlite:///{Path(d) / 'bench.db'}")))
    if ensure_pg_database(PG):
        out.append(("PostgreSQL", fn(PG)))
    return out


def main() -> None:
    """Run on SQLite and PostgreSQL and print a table against the targets."""
    n = size(0, 100_000, 2_000)
    rows = [(name, *r) for name, r in on_both_stores(lambda url: run(url, n))]
    print(f"\n{n:,} open transfers (probation; 1% overdue, the rest requested this week)")
    print(f"{'store':<12}{'import s':>10}{'target':>9}{'overdue ms':>12}{'target':>9}{'overdue':>9}")
    for name, imp, q, found in rows:
        print(f"{name:<12}{imp:>10.1f}{TARGET_IMPORT_S:>9.0f}{q:>12.1f}{TARGET_OVERDUE_MS:>9.0f}{found:>9,}")
    figures = [(imp / TARGET_IMPORT_S, f"import {n:,} ({name})", imp, TARGET_IMPORT_S, "s")
               for name, imp, _, _ in rows]
    figures += [(q / TARGET_OVERDUE_MS, f"overdue among {n:,} ({name})", q, TARGET_OVERDUE_MS, "ms")
                for name, _, q, _ in rows]
    _, figure, measured, target, unit = max(figures)
    headline(Headline("core", f"worst against its target: {figure}", measured, target, unit,
                      all(r <= 1 for r, *_ in figures)))


if __name__ == "__main__":
    main()
