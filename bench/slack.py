"""Benchmark: Baton's Slack request path over HTTP against a bare Bolt app making the same calls.

Both apps run under the same gunicorn settings (2 workers x 8 gthreads), one after the other,
against the in-process Web API stand-in (sandbox/slack_api.py). For each request the bare app
(bench/bare_app.py) acks and makes the one Web API call Baton makes: ``/transfer help`` answers
through the response URL with the same static help, ``/transfer new`` and a catalogue button
(``transfer_accept``) open, with ``views.open``, the same form Baton opens (built once). Baton
does its real work: reads the org and the database, builds the form (or, for a second press by
the same person on an unchanged transfer, sends the one it built), then the same call. "Accept,
1st press" presses Accept each time on a transfer nobody has pressed yet.

Measured at 1 client and at 20 concurrent clients (``BENCH_CLIENTS``): median and p99 HTTP
latency (until Slack would have its ack) in ms per operation for both apps, and the median ratio
Baton/bare; the aim is a ratio <= 1.3 at 20 clients. A second table gives the time until the
follow-up Web API call reached the stand-in, which is where work done after the ack shows.
Every follow-up call is checked to have arrived and succeeded.

Run with ``make bench-slack`` or ``python -m bench.slack [requests-per-op-at-20 [at-1]]``
(default 2000 and 400: about two minutes in all; ``--smoke``: 80 and 20, seconds).
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
from dataclasses import dataclass
from datetime import datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

import sqlalchemy as sa

from bench.common import SMOKE, Headline, headline, size, start, stop
from bot import services
from bot.org import load_org
from sandbox.slack_api import RESPONSE_URL, SlackStandIn
from store.db import make_engine, upgrade
from store.repo import SqlUnitOfWork
from tests.e2e.slack import SECRET, TOKEN, SlackDriver
from tests.e2e.test_serve import free_port

ROOT = Path(__file__).resolve().parents[1]
WORKERS, THREADS = 2, 8
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "20"))
ROUNDS = 4  # turns each app takes per operation and concurrency
TARGET = 1.3  # median Baton/bare at CLIENTS clients
NOW = "2026-11-23T10:00:00+00:00"
USER, MANAGER = "U0NPP1", "U0SMGR"  # who raises; the receiving team's manager, who may accept


@dataclass
class Sent:
    """One request: its HTTP status, when it was sent (wall clock) and how long the HTTP call took,
    and the key (trigger id or response URL) its follow-up Web API call carries."""

    status: int
    at: float
    ms: float
    key: str


@dataclass
class Op:
    """A measured operation: how to send one, and which Web API call should follow it."""

    name: str
    send: Callable[[], tuple[int, str]]  # (HTTP status, key of the follow-up call)
    follow_up: str  # stand-in method name

    def key_of(self, params: dict[str, object]) -> str:
        """The key of a follow-up call, as in :attr:`Sent.key`."""
        return str(params.get("response_url" if self.follow_up == RESPONSE_URL else "trigger_id"))


@dataclass
class Result:
    """One operation at one concurrency: HTTP latencies, time to the follow-up, failures."""

    http: list[float]
    done: list[float]
    failed: int

    def __add__(self, other: Result) -> Result:
        return Result(self.http + other.http, self.done + other.done, self.failed + other.failed)


def operations(slack: SlackDriver, api: SlackStandIn, tid: int, fresh: list[int]) -> list[Op]:
    """The measured requests; each send returns its HTTP status and its follow-up's key."""
    def command(text: str, key: str) -> Callable[[], tuple[int, str]]:
        def send() -> tuple[int, str]:
            fields = {"token": "legacy", "team_id": slack.team, "channel_id": "C0GENERAL",
                      "user_id": USER, "command": "/transfer", "text": text,
                      "response_url": api.new_response_url("C0GENERAL", USER),
                      "trigger_id": api.new_trigger_id(USER)}
            return slack.post(urllib.parse.urlencode(fields))[0], fields[key]
        return send

    queue = iter(fresh)
    lock = threading.Lock()

    def accept_first() -> tuple[int, str]:
        with lock:  # a transfer nobody has pressed yet: Baton builds its form from the database
            target = next(queue)
        return accept(target)

    def accept(target: int = tid) -> tuple[int, str]:
        trigger = api.new_trigger_id(MANAGER)
        payload = {"type": "block_actions", "user": {"id": MANAGER}, "team": {"id": slack.team},
                   "api_app_id": api.app_id, "trigger_id": trigger, "channel": {"id": f"D{MANAGER}"},
                   "actions": [{"type": "button", "action_id": "transfer_accept", "value": str(target),
                                "block_id": "b", "action_ts": "1"}]}
        return slack.post(urllib.parse.urlencode({"payload": json.dumps(payload)}))[0], trigger

    return [Op("/transfer help", command("help", "response_url"), RESPONSE_URL),
            Op("open raise form", command("new", "trigger_id"), "views.open"),
            Op("press Accept", accept, "views.open"),
            Op("Accept, 1st press", accept_first, "views.open")]


def measure(api: SlackStandIn, op: Op, n: int, clients: int) -> Result:
    """Send op n times over ``clients`` threads, then wait for (and check) every follow-up call.
    The stand-in starts empty each time: its state only grows, and it copies what it records."""
    api.reset()

    def one(_: int) -> Sent:
        at, t0 = time.time(), time.perf_counter()
        status, key = op.send()
        return Sent(status, at, (time.perf_counter() - t0) * 1000, key)

    with ThreadPoolExecutor(clients) as pool:
        sent = list(pool.map(one, range(n)))
    deadline = time.monotonic() + 30
    while len(api.calls_to(op.follow_up)) < n:
        if time.monotonic() > deadline:  # counted below as failed, each one never came
            print(f"  {op.name}: gave up after 30 s waiting for {n} {op.follow_up} follow-up calls "
                  f"(came: {len(api.calls_to(op.follow_up))})", file=sys.stderr)
            break
        time.sleep(0.05)  # polled, not api.wait_for: that re-scans every call on every call
    calls = {op.key_of(dict(c.params)): c for c in api.calls_to(op.follow_up)}
    done, failed = [], 0
    for s in sent:
        call = calls.get(s.key)
        if s.status != 200 or call is None or call.status != 200 or not call.response.get("ok"):
            failed += 1
            if failed == 1:
                print(f"  {op.name}: HTTP {s.status}, follow-up "
                      f"{dict(call.response) if call else 'never came'}", file=sys.stderr)
        else:
            done.append((call.at - s.at) * 1000)
    return Result([s.ms for s in sent if s.status == 200], done, failed)


def p99(xs: list[float]) -> float:
    """The 99th percentile (nan for fewer than two samples)."""
    return statistics.quantiles(xs, n=100)[98] if len(xs) > 1 else float("nan")


def median(xs: list[float]) -> float:
    """The median (nan when empty)."""
    return statistics.median(xs) if xs else float("nan")


def table(results: dict[str, dict[int, dict[str, Result]]], levels: tuple[int, ...],
          counts: dict[int, int], ops: list[str]) -> Headline:
    """Print HTTP latency side by side, the target verdict, then time to the follow-up call."""
    bare, baton = results["bare"], results["Baton"]
    print(f"\nSlack request path, gunicorn {WORKERS} workers x {THREADS} threads, latency in ms "
          f"(requests per operation: {', '.join(f'{counts[c]} at {c}' for c in levels)})")
    head = (f"{'operation':<17}{'clients':>8}{'bare p50':>10}{'Baton p50':>11}{'ratio':>7}"
            f"{'bare p99':>10}{'Baton p99':>11}{'failed':>8}")
    print(head)
    print("-" * len(head))
    met, worst, worst_op = True, 0.0, ops[0]
    for c in levels:
        for op in ops:
            b, z = bare[c][op], baton[c][op]
            ratio = median(z.http) / median(b.http)
            if c == CLIENTS:
                met = met and ratio <= TARGET and not (b.failed or z.failed)
                if ratio > worst or ratio != ratio:  # nan (nothing answered) is the worst
                    worst, worst_op = ratio, op
            print(f"{op:<17}{c:>8}{median(b.http):>10.1f}{median(z.http):>11.1f}{ratio:>7.2f}"
                  f"{p99(b.http):>10.1f}{p99(z.http):>11.1f}{f'{b.failed}/{z.failed}':>8}")
    print("failed: bare/Baton requests whose follow-up Web API call never came or was refused")
    print(f"\nTarget: median ratio Baton/bare <= {TARGET} at {CLIENTS} clients: "
          f"{'MET' if met else 'NOT MET'}")
    print("\nFrom sending the request to its follow-up Web API call reaching the stand-in, ms")
    head = (f"{'operation':<17}{'clients':>8}{'bare p50':>10}{'Baton p50':>11}{'bare p99':>10}"
            f"{'Baton p99':>11}")
    print(head)
    print("-" * len(head))
    for c in levels:
        for op in ops:
            b, z = bare[c][op], baton[c][op]
            print(f"{op:<17}{c:>8}{median(b.done):>10.1f}{median(z.done):>11.1f}"
                  f"{p99(b.done):>10.1f}{p99(z.done):>11.1f}")
    return Headline("slack", f"Baton/bare p50 at {CLIENTS} clients, worst ({worst_op})", worst, TARGET,
                    "x", met)


def main() -> None:
    """Measure both apps at 1 and CLIENTS clients and print the tables."""
    many = size(0, 2000, 80)
    few = size(1, max(20, many // 5), 20)
    warm = (1 if SMOKE else 4) * WORKERS * THREADS  # requests per operation before measuring
    levels = (1, CLIENTS)
    counts = {1: few, CLIENTS: many}
    # The stand-in's HTTP server keeps the standard library's listen backlog of 5: with 20 clients
    # and 16 server threads calling it at once, connections overflow it and wait out a 1 s SYN
    # retransmit. A roomy backlog keeps that stand-in artefact out of both apps' numbers.
    ThreadingHTTPServer.request_queue_size = 256
    with SlackStandIn() as api, tempfile.TemporaryDirectory() as d:
        db = f"sqlite:///{Path(d) / 'bench.db'}"
        upgrade(db)
        org = load_org()
        engine = make_engine(db)
        with SqlUnitOfWork(engine) as u:
            t = services.raise_transfer(u, org, USER,
                                        services.RaiseRequest(case_ref="X123456", receiving_team="pdu-south"),
                                        datetime.fromisoformat(NOW))
            tid = t.id or 0
        per_app = 2 * (many + few + warm)  # every first press, warm-up included
        rows = "\n".join(f"Y{i:06d},pdu-north,pdu-south,2026-11-20,permanent" for i in range(2 * per_app))
        with SqlUnitOfWork(engine) as u:
            services.import_csv(u, org, "case_ref,holding_team,receiving_team,requested_on,kind\n" + rows,
                datetime.fromisoformat(NOW))
        with engine.connect() as conn:
            found = [r[0] for r in conn.execute(sa.text("SELECT id FROM transfer WHERE case_ref LIKE 'Y%' "
                                                     "ORDER BY id"))]
        fresh = {"bare": found[:per_app], "Baton": found[per_app:]}
        engine.dispose()
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": api.api_url, "DATABASE_URL": db, "BATON_NOW": NOW}
        gunicorn = ["--workers", str(WORKERS), "--threads", str(THREADS)]
        commands: dict[str, Callable[[int], list[str]]] = {
            "bare": lambda port: [sys.executable, "-m", "bench.bare_app", str(port), str(WORKERS),
                                  str(THREADS)],
            "Baton": lambda port: [sys.executable, "-m", "handlers.cli", "serve", "--host", "127.0.0.1",
                                   *gunicorn, "--port", str(port)],
        }
        results: dict[str, dict[int, dict[str, Result]]] = {n: {c: {} for c in levels} for n in commands}
        procs: list[subprocess.Popen[str]] = []
        try:
            apps: dict[str, tuple[list[Op], list[str]]] = {}
            for name, cmd in commands.items():
                port = free_port()
                proc, log = start(cmd(port), env, workers=WORKERS)
                procs.append(proc)
                apps[name] = (operations(SlackDriver(base_url=f"http://127.0.0.1:{port}", api=api), api, tid,
                                         fresh[name]), log)
            names = [op.name for op in apps["bare"][0]]
            for ops, _ in apps.values():
                for op in ops:  # warm up every worker on every path
                    measure(api, op, warm, CLIENTS)
            # Both apps are up all along and take turns, a slice at a time, so that whatever else
            # this machine is doing weighs on both alike.
            for c in levels:
                for k, op_name in enumerate(names):
                    for r in range(ROUNDS):
                        order = list(apps) if (r + k) % 2 == 0 else list(reversed(apps))
                        for name in order:
                            op = next(o for o in apps[name][0] if o.name == op_name)
                            got, acc = measure(api, op, counts[c] // ROUNDS, c), results[name][c]
                            acc[op_name] = acc[op_name] + got if op_name in acc else got
            for name, (_, log) in apps.items():
                if any(r.failed for by_op in results[name].values() for r in by_op.values()):
                    print(f"{name} logged (last 40 lines):\n{''.join(log[-40:])}", file=sys.stderr)
        finally:
            for proc in procs:
                stop(proc)
    headline(table(results, levels, counts, names))


if __name__ == "__main__":
    main()
