"""APScheduler wiring: the sweep and delivery every BATON_SWEEP_SECONDS, inside the bot process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient

from bot.org import Org
from handlers.metrics import SWEEP_DURATION
from scheduler.sweep import WorkingHours, tick

log = logging.getLogger("baton.scheduler")


def start(engine: sa.Engine, org: Org, client: WebClient, clock: Callable[[], datetime], *,
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
            with SWEEP_DURATION.time():
                counts = tick(engine, org, client, clock(), hours=hours, weekly=weekly)
            if counts["notifications"] or counts["sent"]:
                log.info("sweep: %s", counts)
        except Exception:
            log.exception("sweep failed; the next run tries again")

    scheduler.add_job(job, "interval", seconds=seconds, id="baton-sweep", next_run_time=clock())
    scheduler.start()
    return scheduler
