"""What every benchmark shares: smoke sizes, waits that give up and say what they waited for,
served apps, the PostgreSQL database a bench may empty, and the headline ``make bench`` gathers.

Smoke size (``--smoke`` on the command line or ``BENCH_SMOKE=1``): each bench runs its whole
path (start, measure, print its table) at a size that takes seconds, so CI proves the benches
still run; its figures are not the targets' sizes. Full sizes are the defaults.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
SMOKE = "--smoke" in sys.argv[1:] or os.environ.get("BENCH_SMOKE") == "1"
T = TypeVar("T")


class BenchTimeout(SystemExit):
    """A wait in a bench ran out; the message names what it waited for."""


def args() -> list[str]:
    """The command line's positional arguments (sizes), without ``--smoke``."""
    return [a for a in sys.argv[1:] if a != "--smoke"]


def size(position: int, full: int, smoke: int) -> int:
    """The size given at ``position`` on the command line, else the smoke or the full default."""
    given = args()
    if len(given) > position:
        return int(given[position])
    return smoke if SMOKE else full


def wait_until(check: Callable[[], T], *, what: str, timeout: float, poll: float = 0.05) -> T:
    """Poll ``check`` until it returns something true and return that; after ``timeout`` seconds
    raise :class:`BenchTimeout` naming ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise BenchTimeout(f"bench: gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def start(cmd: list[str], env: dict[str, str], *, workers: int,
          timeout: float = 90.0) -> tuple[subprocess.Popen[str], list[str]]:
    """Start a gunicorn-served app and wait (at most ``timeout`` s) until all ``workers`` have
    logged "Booting worker"; also returns the list its log lines keep going to (read all along,
    so a full pipe never blocks the server). If they never come, the app is stopped and the
    error names what was awaited and quotes the app's last lines."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    stderr = proc.stderr
    log: list[str] = []
    booted = threading.Semaphore(0)

    def read() -> None:
        for line in stderr:
            log.append(line)
            if "Booting worker" in line:
                booted.release()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    for n in range(workers):
        while not booted.acquire(timeout=0.2):
            if proc.poll() is not None or time.monotonic() > deadline:
                why = (f"it exited with {proc.returncode}" if proc.returncode is not None
                       else f"gave up after {timeout:.0f} s")
                stop(proc)
                raise BenchTimeout(f"bench: {why} waiting for gunicorn's 'Booting worker' line of "
                                   f"worker {n + 1} of {workers} from {' '.join(cmd[1:4])} ...; "
                                   f"its last lines:\n{''.join(log[-30:])}")
    return proc, log


def stop(proc: subprocess.Popen[str], timeout: float = 20.0) -> None:
    """Terminate a served app and wait for it (killing it after ``timeout`` s)."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def pg_url() -> str:
    """The PostgreSQL database a bench may empty: ``BENCH_PG_URL``, else the test database's URL
    (``PG_TEST_URL``, as ``make test`` uses) with ``_bench`` after its name, else ``baton_bench``
    on the local server; with ``BENCH_DB_SUFFIX`` (benches run side by side) that after it too."""
    suffix = os.environ.get("BENCH_DB_SUFFIX", "")
    if os.environ.get("BENCH_PG_URL"):
        return os.environ["BENCH_PG_URL"] + suffix
    base = os.environ.get("PG_TEST_URL")
    return (base + "_bench" if base else "postgresql+psycopg://postgres@127.0.0.1:5432/baton_bench") + suffix


def ensure_pg_database(url: str) -> bool:
    """Create the benchmark database on its server if needed; False if unreachable."""
    base, name = url.rsplit("/", 1)
    try:
        admin = sa.create_engine(base + "/postgres", isolation_level="AUTOCOMMIT",
                                 connect_args={"connect_timeout": 10})
        with admin.connect() as c:
            if not c.execute(sa.text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name}).first():
                c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return True
    except Exception as exc:  # the benchmark reports and carries on without PostgreSQL
        print(f"PostgreSQL unreachable ({type(exc).__name__}); skipping it")
        return False


@dataclass
class Headline:
    """A bench's one figure for ``make bench``'s table: what was measured, its value, the
    target (None: no stated target) and whether the bench's own aim was met."""

    bench: str
    figure: str
    measured: float
    target: float | None
    unit: str
    met: bool | None

    @property
    def ratio(self) -> float | None:
        """Measured over target (at most 1 meets it), when there is a target."""
        return self.measured / self.target if self.target else None


def headline(h: Headline) -> None:
    """Print the bench's headline and, under ``make bench``, hand it over (``BENCH_HEADLINES``)."""
    target = f"{h.target:g} {h.unit}" if h.target is not None else "none stated"
    print(f"\nheadline: {h.figure}: {h.measured:.2f} {h.unit} (target {target})"
          f"{' [smoke size]' if SMOKE else ''}")
    out = os.environ.get("BENCH_HEADLINES")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(h)) + "\n")
