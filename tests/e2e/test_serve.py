"""`baton serve`: the production HTTP server (gunicorn) as a separate process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from sandbox.slack_api import SlackStandIn
from tests.e2e.slack import SECRET, TOKEN, SlackDriver, wait

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ready(url: str, within: float = 90.0) -> None:
    """Wait until a served process answers /healthz. gunicorn logs "Booting worker" before the
    worker builds the app, and a worker takes connections only once it has: on a busy machine
    (tests run in parallel) that can take longer than a request's own timeout."""
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}/healthz did not answer within {within:.0f} s")
        time.sleep(0.1)


LOGS: list[str] = []  # what the served process logged, line by line


@pytest.fixture
def served(api: SlackStandIn, db_url: str, engine: sa.Engine) -> Iterator[str]:
    """`baton serve` on a free port with two workers, pointed at the stand-in; yields its URL."""
    port = free_port()
    LOGS.clear()
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": api.api_url, "DATABASE_URL": db_url,
           "BATON_NOW": "2026-11-23T10:00:00+00:00"}
    env.pop("BATON_ORG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "handlers.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    booted = 0
    for line in proc.stderr:  # gunicorn says when each worker is up: no sleeping
        booted += "Booting worker" in line
        if booted == 2:
            break
    # keep reading what it logs (for tests to read), so a full pipe never blocks the server
    err = proc.stderr
    threading.Thread(target=lambda: LOGS.extend(iter(err.readline, "")), daemon=True).start()
    try:
        ready(f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow
def test_gunicorn_serves_health_and_signed_slack_requests(served: str, api: SlackStandIn) -> None:
    """/healthz answers; a signed /transfer help gets its private answer; a forged one 401."""
    with urllib.request.urlopen(served + "/healthz", timeout=10) as resp:
        assert resp.status == 200
    slack = SlackDriver(base_url=served, api=api)
    assert slack.command("U0NPP1", "help")[0] == 200
    wait(api, lambda: api.responses, timeout=10)
    assert api.responses[0].effect == "ephemeral"
    assert slack.post("command=/transfer&text=help", signature="v0=bad")[0] == 401


@pytest.mark.slow
def test_a_served_process_answers_malformed_requests_without_500s_or_tracebacks(
        served: str, api: SlackStandIn) -> None:
    """`baton serve` itself: `[]`, `payload=not-json` and a non-numeric timestamp, signed or
    not, answer 400 or 401 with one log line each and no traceback."""
    slack = SlackDriver(base_url=served, api=api)
    answers = [
        slack.post("[]", "application/json")[0],
        slack.post("payload=not-json")[0],
        slack.post("[]", "application/json", signature="v0=bad")[0],
        slack.post("payload=not-json", signature="v0=bad")[0],
    ]
    req = urllib.request.Request(served + "/slack/events", data=b"[]", method="POST", headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": "abc",
        "X-Slack-Signature": "v0=00"})
    try:
        urllib.request.urlopen(req, timeout=10)
    except urllib.error.HTTPError as exc:
        answers.append(exc.code)
    assert answers == [400, 400, 401, 401, 401]
    assert slack.command("U0NPP1", "help")[0] == 200
    wait(api, lambda: api.responses, timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sum("request_refused" in line for line in LOGS) < 5:
        time.sleep(0.05)  # the log is read from the process's stderr by a thread
    assert sum("request_refused" in line for line in LOGS) == 5
    assert not [line for line in LOGS if "Traceback" in line]
