"""APScheduler wiring: the sweep and delivery every BATON_SWEEP_SECONDS, inside the bot process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time
from time import monotonic, sleep

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import CollectorRegistry, Histogram

from bot.liveorg import LiveOrg, current
from bot.logs import Timer
from bot.org import Org
from scheduler.delivery import Delivery
from scheduler.sweep import WorkingHours, tick
from store import outbox, repo
from store.db import is_outage

SWEEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
SWEEP_REGISTRY = CollectorRegistry()  # served at /metrics beside the store's figures
SWEEP_DURATION = Histogram("baton_sweep_duration_seconds", "Time one sweep and delivery took",
                           buckets=SWEEP_BUCKETS, registry=SWEEP_REGISTRY)

log = logging.getLogger("baton.scheduler")


def housekeeping(engine: sa.Engine, now: datetime) -> None:
    """Forget what Baton no longer needs to remember (form submissions and event ids past the
    replay window and its margin); run after each sweep, apart from it."""
    gone = repo.forget_processed(engine, now)
    if gone:
        log.info("housekeeping: %d processed submission(s) and event(s) forgotten", gone)


def drain(engine: sa.Engine, delivery: Delivery, clock: Callable[[], datetime], *,
          within: float, wait_for: Callable[[float], None] = sleep,
          elapsed: Callable[[], float] = monotonic) -> int:
    """Keep delivering what becomes due in the next ``within`` seconds (rows held back by a
    429's Retry-After), so a rate-limited backlog drains at Slack's pace, not one message a
    sweep. Returns how many were sent."""
    sent = 0
    stop = elapsed() + within
    while True:
        due = outbox.next_due(engine)
        if due is None:
            return sent
        wait = (due - clock()).total_seconds()
        if elapsed() + max(wait, 0) >= stop:
            return sent
        if wait > 0:
            wait_for(wait)
        sent += delivery.deliver(clock())


def start(engine: sa.Engine, org: Org | LiveOrg, delivery: Delivery, clock: Callable[[], datetime], *,
          seconds: int, hours: WorkingHours, weekly: tuple[int, time] | None = None,
          ) -> BackgroundScheduler:
    """Start a background scheduler running one tick every ``seconds``.

    Runs never overlap (max_instances=1) and missed runs coalesce into one: a sweep catches
    up by dates, not by counting runs, so a late or skipped run loses nothing.
    """
    scheduler = BackgroundScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})

    def job() -> None:
        try:
            timer = Timer()
            with SWEEP_DURATION.time():
                counts = tick(engine, current(org), delivery, clock(), hours=hours, weekly=weekly)
            housekeeping(engine, clock())
            if counts["notifications"] or counts["sent"]:
                log.info("sweep_done", extra={**counts, "duration_ms": timer.ms()})
            drain(engine, delivery, clock, within=seconds * 0.8)
        except Exception as exc:
            if is_outage(exc):  # one line, no traceback: it mends itself when the database is back
                log.warning("sweep_skipped", extra={"error": type(exc).__name__,
                                                    "reason": "database unreachable",
                                                    "next": "the next run tries again"})
            else:
                log.exception("sweep_failed", extra={"next": "the next run tries again"})

    scheduler.add_job(job, "interval", seconds=seconds, id="baton-sweep", next_run_time=clock())
    scheduler.start()
    return scheduler
