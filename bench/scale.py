"""Benchmark: a whole probation service in one Baton (issue 24), beside the demo org in the same run.

The national org is generated (sandbox/national.py): 250 teams in 12 regions and 15,000 people,
with 50,000 open transfers, a fifth of them to or from the busiest manager's team. Measured for
each org, on SQLite and PostgreSQL where it touches the store:

- org load (the YAML file read and validated) and reload (LiveOrg after the file changed);
- the raise form built (Slack modal and Teams card), and one type-ahead answer on each platform
  (Slack's block_suggestion options, Teams' application/search results);
- App Home for the busiest manager (the lists read and the home tab / home card rendered), with
  the size of what is sent beside the platform's limit;
- the weekly digest (the figures read and rendered for Slack and Teams, with the chart);
- the sweep over 250,000 open transfers with 1,000 steps due, then again with nothing due.

Medians of repeated runs, in milliseconds (the sweep and loads once: seconds). Not a timed test:
run by hand, ``make bench-scale`` or ``python -m bench.scale``. ``--smoke`` (or ``BENCH_SMOKE=1``)
runs tiny sizes to check the bench itself in seconds. ``BENCH_STORES`` picks stores (default
``sqlite,postgresql``); ``BENCH_PG_URL`` is the PostgreSQL database (emptied first).
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from bench.core import PG, ensure_pg_database
from bot import services
from bot.domain import UK_TIME
from bot.liveorg import LiveOrg
from bot.org import DEMO_ORG, Org, load_org
from handlers.charts import digest_chart
from handlers.slack import blocks, teampicker
from handlers.teams import cards, fit
from handlers.teams import search as teams_search
from handlers.teams.delivery import small_chart
from sandbox.national import national_data
from scheduler.sweep import sweep
from store.db import make_engine, upgrade
from store.repo import SqlUnitOfWork

SWEEP_AT = datetime(2026, 12, 2, 10, tzinfo=UK_TIME)  # Wednesday
DUE_ON = date(2026, 11, 11)  # requested then, the resolution clock reminds on Wed 2 Dec
TODAY = SWEEP_AT.date()


@dataclass(frozen=True)
class Size:
    """One run's sizes."""

    teams: int
    people: int
    open: int  # transfers open for App Home and the digest
    sweep_open: int  # transfers open for the sweep
    due: int  # of which have a step due at the sweep
    runs: int  # repeats of each timed render (median)
    template: int = 2_000  # imported through Baton; the rest copied (see load)


NATIONAL = Size(250, 15_000, 50_000, 250_000, 1_000, 9)
SMOKE = Size(30, 600, 600, 2_000, 50, 3, template=200)


def smoke() -> bool:
    """Tiny sizes: ``--smoke`` or BENCH_SMOKE=1 (the benches' shared convention)."""
    return "--smoke" in sys.argv[1:] or os.environ.get("BENCH_SMOKE", "") not in ("", "0")


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    """Median wall time of ``fn()`` in milliseconds."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out)


def once_s(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of one ``fn()`` in seconds, and what it returned."""
    gc.collect()
    t0 = time.perf_counter()
    got = fn()
    return time.perf_counter() - t0, got


def ref(i: int) -> str:
    """The i-th case reference (a CRN: a letter and six digits)."""
    return f"{chr(ord('A') + i // 1_000_000)}{i % 1_000_000:06d}"


def tracker(org: Org, n: int, due: int, *, busy_share: float = 0.2) -> str:
    """``n`` open transfers between the org's probation teams: ``busy_share`` of them to or
    from its first team (the busiest manager's), ``due`` requested on 11 Nov (a reminder due
    at the sweep), the rest over the week before it."""
    teams = [t.id for t in org.teams if (t.policy or org.policy) == "probation"]
    busy, rest = teams[0], teams[1:]
    lines = ["case_ref,holding_team,receiving_team,requested_on,kind"]
    every = max(1, round(1 / busy_share)) if busy_share else 0
    for i in range(n):
        other = rest[i % len(rest)]
        if every and i % every == 0:
            a, b = (busy, other) if i % 2 else (other, busy)
        else:
            a, b = other, rest[(i * 7 + 1) % len(rest)]
            if a == b:
                b = busy
        day = DUE_ON if i < due else TODAY - timedelta(days=1 + i % 7)
        lines.append(f"{ref(i)},{a},{b},{day},permanent")
    return "\n".join(lines) + "\n"


def fresh(url: str) -> sa.Engine:
    """An empty, migrated database at ``url``."""
    engine = make_engine(url)
    with engine.begin() as c:
        if c.dialect.name == "postgresql":
            c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)
    return engine


TEMPLATE = 2_000  # transfers imported through Baton; the rest are copies of its not-due ones
COPIED = ("transfer", "deadline", "timeline_event")


def load(engine: sa.Engine, org: Org, n: int, due: int, template: int = TEMPLATE) -> float:
    """``n`` open transfers, ``due`` of them with a step due at the sweep; the seconds it took.

    Importing a quarter of a million rows through ``baton import`` would take this shared
    machine most of an hour, so a template of at most 2,000 is imported through Baton (its
    checks, clocks and timeline), then its transfers with nothing due are copied in SQL, with
    their deadlines and timelines, under fresh ids and case references, until there are ``n``.
    """
    t0 = time.perf_counter()
    first = min(n, max(template, due + 1))
    with SqlUnitOfWork(engine) as u:
        got = services.import_csv(u, org, tracker(org, first, due), SWEEP_AT - timedelta(hours=1))
    assert got.imported == first, got.errors[:3]
    meta = sa.MetaData()
    meta.reflect(engine, only=COPIED)
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as c:
        top = int(c.execute(sa.text("SELECT max(id) FROM transfer")).scalar() or 0)
        seed = sorted(i for (i,) in c.execute(sa.text("SELECT id FROM transfer WHERE requested_on <> :d"),
                                              {"d": DUE_ON}))
        crn = ("chr(65 + (id + :off) / 1000000) || lpad(((id + :off) % 1000000)::text, 6, '0')" if pg
               else "substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ', (id + :off) / 1000000 + 1, 1) || "
                    "printf('%06d', (id + :off) % 1000000)")
        made, copy = first, 1
        while made < n:
            take = seed[: n - made]
            ids = ",".join(str(i) for i in take)
            for name in COPIED:
                key = "id" if name == "transfer" else "transfer_id"
                cols = [col.name for col in meta.tables[name].columns if col.name != "id" or key == "id"]
                pick = ", ".join(crn if col == "case_ref" else (f"{col} + :off" if col == key else col)
                                 for col in cols)
                c.execute(sa.text(f"INSERT INTO {name} ({', '.join(cols)}) SELECT {pick} FROM {name} "
                                  f"WHERE {key} IN ({ids})"), {"off": copy * top})
            made += len(take)
            copy += 1
        if pg:
            c.execute(sa.text("SELECT setval(pg_get_serial_sequence('transfer', 'id'), "
                              "(SELECT max(id) FROM transfer))"))
        c.execute(sa.text("ANALYZE"))
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM transfer WHERE closed_at IS NULL")).scalar() == n
    return time.perf_counter() - t0


def org_times(path: Path) -> dict[str, float]:
    """Org load and reload (after the file changed), in ms (medians of three)."""
    live = LiveOrg(load_org(path), path)

    def reload() -> None:
        path.write_text(path.read_text() + f"\n# touched {time.perf_counter_ns()}\n")
        live.reload()

    return {"load": median_ms(lambda: load_org(path), 3), "reload": median_ms(reload, 3)}


def form_times(org: Org, runs: int) -> dict[str, float]:
    """The raise form built on both platforms, and one type-ahead answer on each, in ms."""
    holding = org.teams[0].id
    pack = org.pack_for(holding)
    person = org.teams[0].members[0]
    return {
        "slack form": median_ms(lambda: blocks.raise_modal(pack, org, holding).to_dict(), runs),
        "teams form": median_ms(lambda: cards.attachment(cards.raise_card(pack, org, holding, token="t")),
                                runs),
        "slack type-ahead": median_ms(lambda: teampicker.suggestions(org, holding, "pdu 2"), runs),
        "teams type-ahead": median_ms(lambda: teams_search.answer(org, person, {
            "dataset": teams_search.DATASET + holding, "queryText": "pdu 2",
            "queryOptions": {"skip": 0, "top": 15}}), runs),
    }


def store_times(url: str, org: Org, size: Size) -> dict[str, float]:
    """App Home for the busiest manager and the weekly digest over ``size.open`` transfers."""
    engine = fresh(url)
    out: dict[str, float] = {"import s": load(engine, org, size.open, 0, size.template)}
    manager = org.teams[0].managers[0]
    cal = services.calendar(org)
    now = SWEEP_AT

    def home_lists() -> services.HomeLists:
        with SqlUnitOfWork(engine) as u:
            return services.home(u, org, manager, now)

    lists = home_lists()
    slack_home = blocks.home_view(waiting=lists.waiting, holding=lists.outbound, receiving=lists.inbound,
                                  today=TODAY, cal=cal, escalated=lists.escalated, org=org).to_dict()
    teams_home = cards.home_card(waiting=lists.waiting, holding=lists.outbound, receiving=lists.inbound,
                                 today=TODAY, org=org, cal=cal)
    out["home rows"] = len(lists.outbound) + len(lists.inbound)
    out["home read"] = median_ms(home_lists, size.runs)
    out["slack home"] = median_ms(lambda: blocks.home_view(
        waiting=lists.waiting, holding=lists.outbound, receiving=lists.inbound, today=TODAY, cal=cal,
        escalated=lists.escalated, org=org).to_dict(), size.runs)
    out["teams home"] = median_ms(lambda: cards.home_card(
        waiting=lists.waiting, holding=lists.outbound, receiving=lists.inbound, today=TODAY, org=org,
        cal=cal), size.runs)
    out["slack home blocks"] = len(slack_home["blocks"])
    out["teams home bytes"] = fit.size(teams_home)

    start, end = TODAY - timedelta(days=6), TODAY

    def summary() -> Any:
        with SqlUnitOfWork(engine) as u:
            return services.weekly_summary(u, org, start=start, end=end)

    s = summary()
    out["digest read"] = median_ms(summary, size.runs)
    out["slack digest"] = median_ms(lambda: blocks.weekly_digest(s), size.runs)
    out["teams digest"] = median_ms(lambda: cards.weekly_card(s), size.runs)
    out["chart"] = median_ms(lambda: digest_chart(s), 3)
    png = small_chart(s)
    out["slack digest blocks"] = len(blocks.weekly_digest(s))
    out["teams digest bytes"] = fit.size(cards.weekly_card(s, png))
    engine.dispose()
    return out


def sweep_times(url: str, org: Org, size: Size) -> dict[str, float]:
    """Import ``size.sweep_open`` open transfers, sweep once with ``size.due`` due, again with none."""
    engine = fresh(url)
    imported = load(engine, org, size.sweep_open, size.due, size.template)
    first_s, first = once_s(lambda: sweep(engine, org, SWEEP_AT))
    again_s, again = once_s(lambda: sweep(engine, org, SWEEP_AT + timedelta(minutes=1)))
    assert first.transfers == size.due and again.transfers == 0, (first.as_dict(), again.as_dict())
    engine.dispose()
    return {"import s": imported, "sweep s": first_s, "due": first.transfers, "again s": again_s}


def stores() -> list[tuple[str, str | None]]:
    """The stores to run on: (name, url; None for a fresh SQLite file)."""
    wanted = os.environ.get("BENCH_STORES", "sqlite,postgresql").split(",")
    out: list[tuple[str, str | None]] = []
    if "sqlite" in wanted:
        out.append(("SQLite", None))
    pg = os.environ.get("BENCH_PG_URL", PG)
    if "postgresql" in wanted and ensure_pg_database(pg):
        out.append(("PostgreSQL", pg))
    return out


def _table(title: str, rows: dict[str, dict[str, float]], fmt: str = ".1f") -> None:
    print(f"\n{title}")
    names = list(rows)
    keys = list(dict.fromkeys(k for r in rows.values() for k in r))
    print(f"{'':<22}" + "".join(f"{n:>24}" for n in names))
    for k in keys:
        print(f"{k:<22}" + "".join(f"{rows[n].get(k, float('nan')):>24{fmt}}" for n in names))


def main() -> None:
    """Run everything for the demo org and the national one; print the figures side by side."""
    size = SMOKE if smoke() else NATIONAL
    demo = Size(10, 0, size.open, size.sweep_open, size.due, size.runs, size.template)
    with tempfile.TemporaryDirectory() as d:
        national = Path(d) / "national.yml"
        national.write_text(yaml.safe_dump(national_data(size.teams, size.people), sort_keys=False))
        demo_copy = Path(d) / "demo.yml"
        demo_copy.write_text(DEMO_ORG.read_text())
        orgs = {"demo org": (load_org(demo_copy), demo_copy, demo),
                f"national ({size.teams} teams)": (load_org(national), national, size)}
        print(f"bench.scale{' (smoke)' if smoke() else ''}: national org {size.teams} teams, "
              f"{len(load_org(national).people):,} people; {size.open:,} open for home and digest; "
              f"sweep over {size.sweep_open:,} open with {size.due:,} due")
        _table("org file, ms (median of 3)", {n: org_times(p) for n, (_, p, _) in orgs.items()})
        _table("raise form and type-ahead, ms (median)",
               {n: form_times(o, s.runs) for n, (o, _, s) in orgs.items()})
        for store, url in stores():
            with tempfile.TemporaryDirectory() as db:
                named = list(orgs.items())
                where = [url or f"sqlite:///{Path(db) / f's{i}.db'}" for i in range(len(named))]
                _table(f"{store}: App Home (busiest manager) and weekly digest, {size.open:,} open; ms, "
                       "sizes in blocks and bytes",
                       {n: store_times(w, o, s) for w, (n, (o, _, s)) in zip(where, named, strict=True)})
                where = [url or f"sqlite:///{Path(db) / f'w{i}.db'}" for i in range(len(named))]
                _table(f"{store}: sweep, {size.sweep_open:,} open, {size.due:,} due; seconds",
                       {n: sweep_times(w, o, s) for w, (n, (o, _, s)) in zip(where, named, strict=True)},
                       ".2f")
    print("\nlimits: Slack 50 blocks a message, 100 a home tab; Teams about 28 KB a message "
          f"(card budget {fit.CARD_BUDGET:,} bytes)")
    print(json.dumps({"smoke": smoke(), "size": size.__dict__}))


if __name__ == "__main__":
    main()
