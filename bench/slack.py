"""Benchmark: Baton's Slack surface over HTTP against a bare Bolt app that only acks.

Both run under gunicorn (2 workers x 8 threads) on this machine in the same run; 20 concurrent
clients send signed requests. Prints median and p99 per operation and Baton/bare ratios.
Run with ``make bench-slack`` or ``python -m bench.slack [requests-per-op]``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot import services
from bot.org import load_org
from sandbox.slack_api import SlackStandIn
from store.db import make_engine, upgrade
from store.repo import SqlUnitOfWork
from tests.e2e.slack import SECRET, TOKEN, SlackDriver
from tests.e2e.test_serve import free_port

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "20"))
NOW = "2026-11-23T10:00:00+00:00"


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """Start a gunicorn-served app and wait until both workers are booted."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    booted = 0
    for line in proc.stderr:
        booted += "Booting worker" in line
        if booted == 2:
            break
    # keep reading what it logs, so a full pipe never blocks the server
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    return proc


def timed(n: int, fn: Callable[[int], int]) -> list[float]:
    """Run fn(i) n times over CLIENTS threads; latencies in ms of the successful calls."""
    def one(i: int) -> float:
        t0 = time.perf_counter()
        status = fn(i)
        assert status == 200, status
        return (time.perf_counter() - t0) * 1000

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(one, range(n)))


def p99(xs: list[float]) -> float:
    """The 99th percentile."""
    return statistics.quantiles(xs, n=100)[98]


def operations(slack: SlackDriver, api: SlackStandIn, tid: int) -> dict[str, Callable[[int], int]]:
    """The three measured requests, each returning its HTTP status."""
    def accept(_: int) -> int:
        payload = {"type": "block_actions", "user": {"id": "U0SMGR"}, "team": {"id": "T0BATON00"},
                   "trigger_id": api.new_trigger_id("U0SMGR"), "channel": {"id": "DU0SMGR"},
                   "actions": [{"type": "button", "action_id": "transfer_accept", "value": str(tid),
                                "block_id": "b", "action_ts": "1"}]}
        return slack.post(urllib.parse.urlencode({"payload": json.dumps(payload)}))[0]

    return {
        "/transfer help": lambda _: slack.command("U0NPP1", "help")[0],
        "open raise form": lambda _: slack.command("U0NPP1", "new")[0],
        "press Accept": accept,
    }


def main() -> None:
    """Measure both apps and print the table."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    with SlackStandIn() as api, tempfile.TemporaryDirectory() as d:
        db = f"sqlite:///{Path(d) / 'bench.db'}"
        upgrade(db)
        org = load_org()
        engine = make_engine(db)
        tid = 0
        with SqlUnitOfWork(engine) as u:
            t = services.raise_transfer(u, org, "U0NPP1",
                                        services.RaiseRequest(case_ref="X123456", receiving_team="pdu-south"),
                                        services.datetime.fromisoformat(NOW))
            tid = t.id or 0
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": api.api_url, "DATABASE_URL": db, "BATON_NOW": NOW}
        results: dict[str, dict[str, list[float]]] = {}
        for name, cmd in (
            ("bare Bolt", [sys.executable, "-m", "bench.bare_app"]),
            ("Baton", [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--workers", "2",
                       "--threads", "8", "--port"]),
        ):
            port = free_port()
            proc = start([*cmd, str(port)], env)
            try:
                slack = SlackDriver(base_url=f"http://127.0.0.1:{port}", api=api)
                ops = operations(slack, api, tid)
                timed(40, ops["/transfer help"])  # warm up both workers
                results[name] = {op: timed(n, fn) for op, fn in ops.items()}
            finally:
                proc.terminate()
                proc.wait(timeout=20)
    print(f"\n{n} requests per operation, {CLIENTS} concurrent clients, gunicorn 2x8 threads, ms")
    print(f"{'operation':<18}{'bare p50':>10}{'Baton p50':>11}{'ratio':>7}{'bare p99':>10}"
          f"{'Baton p99':>11}   targets: ratio <= 1.5, Baton p99 < 50")
    for op in results["Baton"]:
        b, z = results["bare Bolt"][op], results["Baton"][op]
        print(f"{op:<18}{statistics.median(b):>10.1f}{statistics.median(z):>11.1f}"
              f"{statistics.median(z) / statistics.median(b):>7.2f}{p99(b):>10.1f}{p99(z):>11.1f}")


if __name__ == "__main__":
    main()
