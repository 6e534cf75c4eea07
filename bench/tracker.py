"""Benchmark: build the weekly digest (summary + chart) and a manager's App Home in a
5,000-transfer organisation, on SQLite and PostgreSQL. Target: under 200 ms each.

Run with ``make bench-tracker`` or ``python -m bench.tracker [N]`` (``--smoke``: 300 transfers).
"""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta

import sqlalchemy as sa

from bench.common import Headline, headline, size
from bench.core import NOW, on_both_stores
from bot import services
from bot.org import load_org
from handlers.charts import digest_chart
from handlers.slack import blocks
from scheduler.sweep import sweep
from store.db import make_engine, upgrade
from store.repo import SqlUnitOfWork

TARGET_MS = 200.0


def tracker(n: int) -> str:
    """``n`` open transfers across the demo org's probation teams, requested over 60 days."""
    lines = ["case_ref,holding_team,receiving_team,requested_on,kind"]
    for i in range(n):
        a, b = ("pdu-north", "pdu-south") if i % 2 else ("pdu-south", "pdu-north")
        lines.append(f"X{i:06d},{a},{b},{NOW.date() - timedelta(days=i % 60)},permanent")
    return "\n".join(lines) + "\n"


def median_ms(fn: object, runs: int = 15) -> float:
    """Median wall time of ``fn()`` in milliseconds."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out)


def run(url: str, n: int) -> tuple[float, float, float]:
    """Load n transfers at url; returns (digest summary ms, digest with chart ms, App Home ms)."""
    engine = make_engine(url)
    with engine.begin() as c:
        if c.dialect.name == "postgresql":
            c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)
    org = load_org()
    with SqlUnitOfWork(engine) as u:
        assert services.import_csv(u, org, tracker(n), NOW).imported == n
    sweep(engine, org, NOW)
    end = NOW.date()
    start = end - timedelta(days=6)
    cal = services.calendar(org)

    def digest() -> None:
        with SqlUnitOfWork(engine) as u:
            s = services.report(u, org, start=start, end=end)
        blocks.weekly_digest(s)

    def digest_and_chart() -> None:
        with SqlUnitOfWork(engine) as u:
            s = services.report(u, org, start=start, end=end)
        blocks.weekly_digest(s)
        digest_chart(s)

    def home(user: str = "U0SMGR", today: date = end) -> None:
        with SqlUnitOfWork(engine) as u:
            holding, receiving = services.home_lists(u, org, user, today)
        blocks.home_view(waiting=[], holding=holding, receiving=receiving, today=today, cal=cal).to_dict()

    result = median_ms(digest), median_ms(digest_and_chart, 7), median_ms(home)
    engine.dispose()
    return result


def main() -> None:
    """Print both stores' figures beside the target."""
    n = size(0, 5000, 300)
    rows = [(name, *r) for name, r in on_both_stores(lambda url: run(url, n))]
    print(f"\n{n:,} transfers; medians in ms; target {TARGET_MS:.0f} ms each")
    print(f"{'store':<12}{'digest':>10}{'+ chart':>10}{'App Home':>10}")
    for name, dg, ch, hm in rows:
        print(f"{name:<12}{dg:>10.1f}{ch:>10.1f}{hm:>10.1f}")
    figures = [(ms, f"{what} ({name})") for name, *mss in rows
               for what, ms in zip(("digest", "digest + chart", "App Home"), mss, strict=True)]
    worst, figure = max(figures)
    headline(Headline("tracker", f"slowest of {n:,} transfers: {figure}", worst, TARGET_MS, "ms",
                      worst <= TARGET_MS))


if __name__ == "__main__":
    main()
