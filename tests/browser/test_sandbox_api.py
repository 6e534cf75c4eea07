"""The sandbox without a browser: its clock, its personas, its JSON endpoints and `baton sandbox`.

These need no Chromium, so they run everywhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.org import Org
from handlers.slack import ids
from sandbox.driver import SlackDriver
from sandbox.server import FEATURED, STATIC, Sandbox, SandboxClock, personas
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]


def call(sandbox: Sandbox, path: str, body: Any = None, *,
         content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
    """GET (no body) or POST JSON to the sandbox page server; returns status and decoded JSON."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(sandbox.url + path, data=data, headers={"Content-Type": content_type},
                                 method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_clock_moves_by_working_days_and_lands_at_ten_london_time() -> None:
    """+20 from Monday 23 Nov is Monday 21 Dec; Christmas and Boxing Day (Monday 28th) are skipped;
    in summer 10:00 London is 09:00 UTC."""
    clock = SandboxClock(NOW)
    assert clock.advance(20) == datetime(2026, 12, 21, 10, 0, tzinfo=UTC)
    assert clock.advance(3) == datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
    assert clock.advance(1) == datetime(2026, 12, 29, 10, 0, tzinfo=UTC)
    summer = SandboxClock(datetime(2026, 6, 1, 15, 30, tzinfo=UTC))
    assert summer.advance(1) == datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
    assert summer.describe()["label"] == "Tue 02 Jun 2026, 10:00 BST"


def test_personas_are_everyone_in_the_org_by_role_and_id(org: Org) -> None:
    """Every person in the demo org is offered, described by role and team, featured ones first."""
    people = {p.id: p for p in personas(org)}
    everyone = {u for t in org.teams for u in (*t.managers, *t.members, *t.service_representatives)}
    everyone |= {u for c in org.escalation.values() for u in c.users}
    assert set(people) == everyone
    assert set(FEATURED) <= set(people)
    assert people["U0NPP1"].label == "Practitioner, North PDU"
    assert people["U0SMGR"].label == "Manager, South PDU"
    assert people["U0RCMGR"].label == "Manager, Child Protection Team 1 (buddy of First Response Team 1)"
    assert people["U0HOS"].label == "Head of service"
    assert people["U0RCREP"].label == "Service representative, Child Protection Team 1"
    assert people["U0SMT1"].label == "SMT member"
    order = [p.id for p in personas(org)]
    assert order[:4] == ["U0NPP1", "U0NMGR", "U0SMGR", "U0SPP1"]


def test_state_shows_personas_channels_clock_and_the_stand_in(sandbox: Sandbox) -> None:
    """GET /api/state: the page's one source, with the team and escalation channels registered."""
    status, state = call(sandbox, "/api/state")
    assert status == 200
    assert state["clock"]["label"] == "Mon 23 Nov 2026, 10:00 GMT"
    channels = {c["id"]: c["name"] for c in state["channels"]}
    assert channels["C0NORTH"] == "pdu-north" and channels["C0SMT"] == "smt"
    assert {c["id"] for c in state["slack"]["channels"]} >= set(channels)
    assert any(p["id"] == "U0SMT1" for p in state["personas"])


def test_a_command_from_the_page_reaches_the_bot_signed_and_opens_the_form(sandbox: Sandbox) -> None:
    """/transfer new from the page opens the raise form; the bot refuses the same request signed
    with any other secret, so the page's requests are signed as Slack signs them."""
    status, answer = call(sandbox, "/api/command", {"user": "U0NPP1", "channel": "DU0NPP1",
                                                    "text": "/transfer new"})
    assert status == 200 and answer["status"] == 200
    view = sandbox.api.wait_for(lambda: sandbox.api.modal_stack("U0NPP1"))[-1]
    assert view.callback_id == ids.RAISE_VIEW
    forged = SlackDriver(base_url=sandbox.driver.base_url, api=sandbox.api, secret="not-the-secret")
    assert forged.command("U0NPP1", "help")[0] == 401


def test_submit_returns_the_bots_field_errors_and_cancel_closes_the_form(sandbox: Sandbox) -> None:
    """A bad case reference comes back as the bot's error on its field; Cancel pops the modal."""
    call(sandbox, "/api/command", {"user": "U0NPP1", "channel": "DU0NPP1", "text": "/transfer new"})
    view = sandbox.api.wait_for(lambda: sandbox.api.modal_stack("U0NPP1"))[-1]
    values = {ids.CASE_REF: {ids.CASE_REF: {"type": "plain_text_input", "value": "John Smith"}},
              ids.RECEIVING_TEAM: {ids.RECEIVING_TEAM: {"type": "static_select",
                                                        "selected_option": {"value": "pdu-south"}}},
              ids.KIND: {ids.KIND: {"type": "static_select", "selected_option": {"value": "permanent"}}}}
    status, answer = call(sandbox, "/api/submit", {"user": "U0NPP1", "view_id": view.id, "values": values})
    assert status == 200 and set(answer["errors"]) == {ids.CASE_REF}
    assert "John" not in answer["errors"][ids.CASE_REF]
    assert sandbox.api.modal_stack("U0NPP1")
    assert call(sandbox, "/api/cancel", {"user": "U0NPP1", "view_id": view.id})[0] == 200
    assert sandbox.api.modal_stack("U0NPP1") == []
    assert call(sandbox, "/api/cancel", {"user": "U0NPP1", "view_id": view.id})[0] == 409


def test_the_page_endpoints_refuse_what_the_page_would_never_send(sandbox: Sandbox) -> None:
    """Only JSON (so other sites' forms cannot post), only known personas and conversations, only
    /transfer, only the files in sandbox/static."""
    body = {"user": "U0NPP1", "channel": "DU0NPP1", "text": "/transfer help"}
    assert call(sandbox, "/api/command", body, content_type="text/plain")[0] == 415
    assert call(sandbox, "/api/command", {**body, "user": "U0NOBODY"})[0] == 400
    assert call(sandbox, "/api/command", {**body, "channel": "DU0SMGR"})[0] == 400
    status, answer = call(sandbox, "/api/command", {**body, "text": "/remind me"})
    assert status == 400 and "/transfer" in answer["error"]
    assert call(sandbox, "/api/clock", {"advance": "later"})[0] == 400
    assert call(sandbox, "/api/clock", {"advance": 0})[0] == 400
    assert call(sandbox, "/static/..%2Fserver.py")[0] == 404
    assert call(sandbox, "/api/state", {})[0] == 404


def test_the_page_is_plain_files_with_nothing_from_outside(sandbox: Sandbox) -> None:
    """index.html, app.js and style.css are served as they are; no CDN, no inline script."""
    with urllib.request.urlopen(sandbox.url + "/", timeout=10) as resp:
        html = resp.read().decode()
        csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert '<script src="/static/app.js"' in html
    for name in ("index.html", "app.js", "style.css"):
        text = (STATIC / name).read_text()
        assert "https://" not in text and "http://" not in text, name
    assert "innerHTML" not in (STATIC / "app.js").read_text()


def test_the_clock_endpoint_runs_the_sweep_at_the_new_time(sandbox: Sandbox) -> None:
    """POST /api/clock moves the sandbox clock and sweeps at that moment."""
    status, answer = call(sandbox, "/api/clock", {"advance": 5})
    assert status == 200
    assert answer["clock"]["now"] == "2026-11-30T10:00:00+00:00"
    assert answer["sweep"]["at"] == "2026-11-30T10:00:00+00:00"
    assert sandbox.clock() == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.mark.slow
def test_baton_sandbox_prints_its_address_and_serves_until_interrupted(tmp_path: Path) -> None:
    """`baton sandbox --port 0` prints "Baton sandbox: http://127.0.0.1:P", serves the page, and
    stops cleanly on Ctrl-C."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "handlers.cli", "sandbox", "--port", "0", "--now", "2026-11-23T10:00:00+00:00",
         "--database", str(tmp_path / "sandbox.db")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    try:
        first = proc.stdout.readline()
        assert first.startswith("Baton sandbox: http://127.0.0.1:"), first
        url = first.split(": ", 1)[1].strip()
        with urllib.request.urlopen(url + "/api/state", timeout=10) as resp:
            assert json.loads(resp.read())["clock"]["label"] == "Mon 23 Nov 2026, 10:00 GMT"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
