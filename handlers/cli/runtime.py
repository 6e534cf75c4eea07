"""The ``baton`` command line: running Baton (serve, run in Socket Mode, sweep, sandbox)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer

from handlers.cli.base import (
    _baton,
    app,
    fail,
    now,
)


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port")] = 3000,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "0.0.0.0",
    workers: Annotated[int, typer.Option(help="gunicorn worker processes")] = 2,
    threads: Annotated[int, typer.Option(help="Threads per worker")] = 8,
    scheduler: Annotated[bool, typer.Option(help="Run the sweep in this process (off: use cron "
                                                 "and `baton sweep`)")] = True,
) -> None:
    """Serve Slack (/slack/events), Microsoft Teams (/api/messages) or both, with /healthz and
    /readyz, over HTTP with gunicorn; run several behind a balancer."""
    import threading

    from bot.liveorg import LiveOrg, on_sighup
    from handlers.bootstrap import build, serve_platforms
    from handlers.server import parse_bind, run_gunicorn, wsgi_app

    first = _baton()  # migrate once and read the org file, before the workers fork
    metrics_bind = first.settings.metrics_bind
    try:
        metrics_port = parse_bind(metrics_bind)[1] if metrics_bind else None
    except ValueError as exc:
        raise fail(str(exc)) from None
    live = first.live
    first.engine.dispose()

    def factory() -> Any:
        # in the worker: start from the master's last good org; the watcher reloads at once if
        # the file changed since the master read it
        mine = LiveOrg(live.current, first.settings.org_file, region=first.settings.region, seen=live.seen)
        b = build(first.settings, migrate=False, live=mine)
        from handlers.metrics import metrics_for

        served = serve_platforms(b, now)
        if scheduler:
            _start_scheduler(b, served.delivery)
        mine.watch(b.settings.org_poll_seconds, threading.Event())
        on_sighup(mine)
        from handlers.teams.credentials import probes
        from store.db import readiness

        ready, figures = probes(lambda: readiness(b.engine), metrics_for(b.engine),
                                served.teams.chat.client.source if served.teams else None)
        return wsgi_app(served.slack.bolt if served.slack else None, metrics=figures, readiness=ready,
                        teams=served.teams.app if served.teams else None, metrics_port=metrics_port)

    run_gunicorn(factory, host=host, port=port, workers=workers, threads=threads,
                 on_hup=lambda: live.reload().problem is None, also_bind=metrics_bind)


@app.command("run")
def run_socket_mode() -> None:
    """Connect to Slack in Socket Mode (needs SLACK_APP_TOKEN; no public URL needed)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from handlers.bootstrap import slack

    b = _baton()
    if not b.settings.slack_app_token:
        raise fail("Set SLACK_APP_TOKEN (an xapp- token with connections:write) for Socket Mode.")
    runtime = slack(b, now)
    _start_scheduler(b, runtime.delivery)
    import threading

    from bot.liveorg import on_sighup

    b.live.watch(b.settings.org_poll_seconds, threading.Event())
    on_sighup(b.live)
    SocketModeHandler(runtime.bolt, b.settings.slack_app_token).start()


def _start_scheduler(b: Any, delivery: Any) -> Any:
    from scheduler.jobs import start
    from scheduler.sweep import WorkingHours, parse_weekly

    return start(b.engine, b.live, delivery, now, seconds=b.settings.sweep_seconds,
                 hours=WorkingHours.parse(b.settings.working_hours, b.settings.timezone),
                 weekly=parse_weekly(b.settings.weekly_digest))


@app.command()
def sweep(
    at: Annotated[str | None, typer.Option("--now", help="Sweep as if it were this ISO date-time")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run",
                                          help="List what would be sent; change nothing")] = False,
    batch: Annotated[int, typer.Option("--batch", min=1,
                                       help="Send at most this many outbox rows in this pass")] = 1000,
) -> None:
    """One sweep of reminders and escalations, then delivery; for cron and for trying things out."""
    from handlers.bootstrap import delivery_for
    from scheduler.sweep import WorkingHours, tick
    from scheduler.sweep import sweep as do_sweep

    moment = now()
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise fail(f"--now: {at!r} is not an ISO date-time (e.g. 2026-12-22T09:30)") from None
        if moment.tzinfo is None:
            from bot.domain import UK_TIME

            moment = moment.replace(tzinfo=UK_TIME)
    b = _baton()
    hours = WorkingHours.parse(b.settings.working_hours, b.settings.timezone)
    if dry_run:
        from scheduler.record_sweep import sweep_records

        result = do_sweep(b.engine, b.org, moment, hours=hours, dry_run=True)
        sweep_records(b.engine, b.org, moment, hours.next_open(moment, b.org), dry_run=True,
                      lines=result.lines)  # case records' duties: reminders and breaches too
        for line in result.lines:
            typer.echo(line)
        typer.echo(f"Would send {len(result.lines)} notification(s); nothing was changed.")
        return
    from scheduler.jobs import housekeeping

    housekeeping(b.engine, moment)
    delivery = delivery_for(b, now)
    if delivery is None:
        from scheduler.record_sweep import sweep_records

        result = do_sweep(b.engine, b.org, moment, hours=hours)
        result.notifications += sweep_records(b.engine, b.org, moment, hours.next_open(moment, b.org))
        typer.echo(f"Wrote {result.notifications} notification(s); neither SLACK_BOT_TOKEN nor "
                   "MICROSOFT_APP_ID is set, so none was delivered.")
        return
    from scheduler.sweep import parse_weekly

    counts = tick(b.engine, b.org, delivery, moment, hours=hours,
                  weekly=parse_weekly(b.settings.weekly_digest), batch=batch)
    typer.echo(json.dumps(counts))


@app.command()
def sandbox(
    port: Annotated[int, typer.Option(help="TCP port of the page")] = 3000,
    host: Annotated[str, typer.Option(help="Interface to bind (keep it local)")] = "127.0.0.1",
    database: Annotated[str | None, typer.Option(help="SQLite file or URL (default: a new temporary "
                                                     "file; DATABASE_URL is never used)")] = None,
    at: Annotated[str | None, typer.Option("--now", help="ISO date-time the sandbox clock starts at "
                                                        "(default: BATON_NOW or the wall clock)")] = None,
) -> None:
    """Try Baton without Slack: a local Slack stand-in, the bot, the demo org and a page to drive them."""
    from sandbox.server import run

    try:
        start = datetime.fromisoformat(at) if at else now()
    except ValueError:
        raise fail(f"--now: {at!r} is not an ISO date-time (e.g. 2026-11-23T10:00:00+00:00)") from None
    try:
        run(host=host, port=port, database=database, start=start)
    except OSError as exc:
        raise fail(f"cannot start the sandbox on {host}:{port}: {exc.strerror or exc}") from None
