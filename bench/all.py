"""Every benchmark, one after another, then one table of their headlines.

Each bench runs as its own process (``python -m bench.NAME``, what its ``make bench-NAME`` runs),
prints its own tables as it goes, and hands over one headline (bench/common.py): its figure
against its target. ``make bench`` runs them at full size (tens of minutes); ``--smoke`` or
``BENCH_SMOKE=1`` (CI) at smoke size, seconds each. A bench that fails, or outlives its time
limit, is named in the table and makes the run fail.

``python -m bench.all [--smoke] [NAME ...]`` runs only the benches named. At smoke size the
benches run two at a time (``BENCH_JOBS``; 1 at full size, so that no bench's figures are taken
beside another's), each on its own PostgreSQL database, and each one's output is printed whole
when it ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import ROOT, SMOKE, Headline, args

BENCHES = ("core", "tracker", "scheduler", "slack", "teams", "writes", "raises", "scale")
LIMIT_S = 300 if SMOKE else 3600  # for one bench, start to end


def run(name: str, out: Path, *, alone: bool = True) -> tuple[str, float]:
    """Run one bench; (how it ended, seconds it took). Beside others (``alone`` False) its output
    is kept and printed whole when it ends, and it uses a database of its own."""
    cmd = [sys.executable, "-m", f"bench.{name}", *(["--smoke"] if SMOKE else [])]
    env = {**os.environ, "BENCH_HEADLINES": str(out)}
    if not alone:
        env["BENCH_DB_SUFFIX"] = f"_{name}"
    log = out.with_suffix(".log")
    t0 = time.monotonic()
    try:
        with log.open("w", encoding="utf-8") as sink:
            if alone:
                print(f"\n==== bench {name}: {' '.join(cmd[1:])}", flush=True)
            code = subprocess.run(cmd, cwd=ROOT, env=env, timeout=LIMIT_S, check=False,
                                  stdout=None if alone else sink,
                                  stderr=None if alone else subprocess.STDOUT).returncode
        ended = "ok" if code == 0 else f"FAILED (exit {code})"
    except subprocess.TimeoutExpired:
        ended = f"gave up after {LIMIT_S} s waiting for bench.{name} to finish"
    took = time.monotonic() - t0
    if not alone:
        print(f"\n==== bench {name}: {' '.join(cmd[1:])} ({ended}, {took:.0f} s)\n"
              + log.read_text(encoding="utf-8"), end="", flush=True)
    return ended, took


def table(rows: list[tuple[str, str, float, Headline | None]]) -> None:
    """One line a bench: its headline figure, the target, measured/target, verdict, run time."""
    smoke = " at SMOKE size (proof that they run: the figures are not at the targets' sizes)"
    print(f"\nBenchmarks{smoke if SMOKE else ''}")
    head = (f"{'bench':<10}{'headline':<62}{'measured':>11}{'target':>10}{'ratio':>7}  {'aim':<8}"
            f"{'took s':>7}")
    print(head)
    print("-" * len(head))
    for name, ended, took, h in rows:
        if h is None:
            print(f"{name:<10}{ended:<62}{'':>11}{'':>10}{'':>7}  {'':<8}{took:>7.0f}")
            continue
        target = f"{h.target:g}" if h.target is not None else "none"
        ratio = f"{h.ratio:.2f}" if h.ratio is not None else "-"
        aim = {True: "met", False: "NOT met", None: "-"}[h.met]
        figure = h.figure if ended == "ok" else f"{ended}: {h.figure}"
        print(f"{name:<10}{figure[:61]:<62}{f'{h.measured:.2f} {h.unit}':>11}{target:>10}{ratio:>7}  "
              f"{aim:<8}{took:>7.0f}")
    print("ratio: measured / target (at most 1 meets it); slack and teams measure a ratio "
          "themselves (x: Baton/bare, Teams/Slack medians)")


def main() -> None:
    """Run the benches named (default: all), then print the headline table."""
    names = args() or list(BENCHES)
    unknown = sorted(set(names) - set(BENCHES))
    if unknown:
        raise SystemExit(f"no such bench: {', '.join(unknown)} (choose from {', '.join(BENCHES)})")
    jobs = max(1, int(os.environ.get("BENCH_JOBS") or (2 if SMOKE else 1)))
    rows: list[tuple[str, str, float, Headline | None]] = []
    with tempfile.TemporaryDirectory() as d:
        def one(name: str) -> tuple[str, str, float, Headline | None]:
            out = Path(d) / f"{name}.json"
            ended, took = run(name, out, alone=jobs == 1)
            lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
            return name, ended, took, Headline(**json.loads(lines[-1])) if lines else None

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            rows = list(pool.map(one, names))
    table(rows)
    if any(ended != "ok" for _, ended, _, _ in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
