"""A running Baton picks up a changed org file without a restart, and keeps its last good one
when the new file is bad: in process against the stand-in, and `baton serve` on SIGHUP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.liveorg import LiveOrg
from bot.org import load_org
from bot.settings import Settings
from handlers.bootstrap import build
from handlers.bootstrap import slack as slack_runtime
from handlers.server import serve_in_thread, wsgi_app
from sandbox.slack_api import SlackStandIn
from store.repo import SqlUnitOfWork
from tests.e2e.slack import SECRET, TOKEN, Clock, SlackDriver, wait
from tests.e2e.test_serve import ROOT, free_port, ready
from tests.integration.test_liveorg import BAD, GOOD, touch

NEWCOMER = "U0NEW"
WITH_NEWCOMER = GOOD.replace("members: [U0NPP1, U0NPP2]", f"members: [U0NPP1, U0NPP2, {NEWCOMER}]")


def raise_form_opened(slack: SlackDriver, user: str) -> bool:
    """Whether /transfer new opened the raise form for ``user`` (not the help for strangers)."""
    before = len(slack.api.calls_to("views.open"))
    answered = len([r for r in slack.api.responses if r.user == user])
    slack.command(user, "new")
    wait(slack.api, lambda: len(slack.api.calls_to("views.open")) > before or len(
        [r for r in slack.api.responses if r.user == user]) > answered, timeout=10)
    return len(slack.api.calls_to("views.open")) > before


@pytest.fixture
def live_slack(api: SlackStandIn, engine: sa.Engine, clock: Clock, tmp_path: Path,
               uow: Callable[[], SqlUnitOfWork]) -> Iterator[tuple[SlackDriver, LiveOrg, Path]]:
    """Baton on Slack whose org comes from a file that the test changes."""
    org_file = tmp_path / "org.yml"
    org_file.write_text(GOOD)
    live = LiveOrg(load_org(org_file), org_file)
    baton = build(Settings(DATABASE_URL=str(engine.url)), live=live, engine=engine)
    rt = slack_runtime(baton, clock, token=TOKEN, signing_secret=SECRET, api_url=api.api_url, idle=0.2)
    server, url = serve_in_thread(wsgi_app(rt.bolt))
    yield SlackDriver(base_url=url, api=api), live, org_file
    server.shutdown()
    server.server_close()
    rt.stop()


def test_a_newcomer_added_to_the_file_can_raise_a_transfer_after_the_check(
        live_slack: tuple[SlackDriver, LiveOrg, Path]) -> None:
    """Before: a stranger gets the help. The file gains them; the next check swaps the org and
    the same running app opens the raise form for them (its cached forms are per org)."""
    slack, live, org_file = live_slack
    assert not raise_form_opened(slack, NEWCOMER)
    touch(org_file, WITH_NEWCOMER, 1)
    assert live.check() is not None and live.generation == 1
    assert raise_form_opened(slack, NEWCOMER)


def test_a_bad_file_leaves_the_running_app_on_its_last_good_org(
        live_slack: tuple[SlackDriver, LiveOrg, Path]) -> None:
    """The newcomer is added, then the file is broken: refused, and the newcomer still works."""
    slack, live, org_file = live_slack
    touch(org_file, WITH_NEWCOMER, 1)
    live.check()
    touch(org_file, BAD.replace("members: [U0NPP1, U0NPP2]", f"members: [U0NPP1, {NEWCOMER}]"), 2)
    result = live.check()
    assert result is not None and result.problem and "duplicate key 'managers'" in result.problem
    assert raise_form_opened(slack, NEWCOMER)


@pytest.mark.slow
def test_baton_serve_reloads_on_sighup_and_refuses_a_bad_file(
        api: SlackStandIn, db_url: str, engine: sa.Engine, tmp_path: Path) -> None:
    """SIGHUP to the gunicorn master: a bad file is refused (logged, workers untouched, still
    serving the old org); a good one reaches every worker, with no worker restarted."""
    org_file = tmp_path / "org.yml"
    org_file.write_text(GOOD)
    port = free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": api.api_url, "DATABASE_URL": db_url, "BATON_ORG": str(org_file),
           "BATON_ORG_POLL_SECONDS": "0", "BATON_LOG_FORMAT": "json",
           "BATON_NOW": "2026-11-23T10:00:00+00:00"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "handlers.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2", "--no-scheduler"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines: list[str] = []
    seen = threading.Condition()
    booted = 0
    for line in proc.stderr:
        booted += "Booting worker" in line
        if booted == 2:
            break
    err = proc.stderr

    def pump() -> None:
        for line in iter(err.readline, ""):
            with seen:
                lines.append(line)
                seen.notify_all()

    threading.Thread(target=pump, daemon=True).start()
    ready(f"http://127.0.0.1:{port}")

    def logged(event: str, count: int) -> None:
        with seen:
            said = f'"event": "{event}"'
            assert seen.wait_for(lambda: sum(said in x for x in lines) >= count, 20), "".join(lines)

    slack = SlackDriver(base_url=f"http://127.0.0.1:{port}", api=api)
    try:
        touch(org_file, BAD, 1)
        proc.send_signal(signal.SIGHUP)
        logged("org_file_refused", 1)
        assert not raise_form_opened(slack, NEWCOMER)
        touch(org_file, WITH_NEWCOMER, 2)
        proc.send_signal(signal.SIGHUP)
        logged("org_file_reloaded", 3)  # the master and both workers
        assert raise_form_opened(slack, NEWCOMER) and raise_form_opened(slack, NEWCOMER)
        assert not [x for x in lines if "Booting worker" in x or "Traceback" in x]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
