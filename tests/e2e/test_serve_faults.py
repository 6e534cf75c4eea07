"""Faults through real `baton serve` processes: a PostgreSQL cut in the middle of a burst of
raises (through a TCP forwarder the test cuts, so the shared server is never touched), and races
between two served processes on one database, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from bot import services
from bot.org import Org
from bot.policy import builtin_pack
from handlers.slack import ids
from handlers.slack.app import SAVE_LATER, UNSURE
from sandbox.slack_api import SlackStandIn
from store.repo import SqlUnitOfWork
from tests.conftest import NOW
from tests.e2e.slack import SECRET, TOKEN, SlackDriver
from tests.e2e.test_serve import ROOT, free_port, ready

PP, SMGR = "U0NPP1", "U0SMGR"
ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith("postgresql")


# ---- the pieces ---------------------------------------------------------------------------------
class Forwarder:
    """A TCP forwarder between Baton and PostgreSQL that the test can cut: ``cut`` closes every
    connection through it and refuses new ones (the port stops listening); ``mend`` listens on
    the same port again. Only this test's connections pass through it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.mend()

    def mend(self) -> None:
        """Accept connections again, on the same port."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Close the listening port and every connection through it."""
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._open = self._open, []
        for s in [listener, *conns]:
            if s is not None:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    return
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@dataclass
class Served:
    """A `baton serve` process, the lines it logged, and a driver for it."""

    proc: subprocess.Popen[str]
    url: str
    slack: SlackDriver
    log: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """Stop it (SIGTERM) and wait."""
        self.proc.terminate()
        self.proc.wait(timeout=30)


def serve(api: SlackStandIn, db_url: str, *, workers: int = 2, threads: int = 8) -> Served:
    """Start `baton serve` on ``db_url`` (this checkout first on the path) and wait until every
    worker has booted (gunicorn says so: no sleeping)."""
    port = free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": api.api_url, "DATABASE_URL": db_url,
           "BATON_NOW": NOW.isoformat(), "PYTHONPATH": str(ROOT)}
    env.pop("BATON_ORG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "handlers.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--threads", str(threads)],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line)
        if sum("Booting worker" in x for x in seen) == workers:
            break
    else:
        raise AssertionError("baton serve did not start:\n" + "".join(seen[-20:]))
    url = f"http://127.0.0.1:{port}"
    served = Served(proc, url, SlackDriver(base_url=url, api=api), seen)
    err = proc.stderr
    threading.Thread(target=lambda: served.log.extend(iter(err.readline, "")), daemon=True).start()
    try:
        ready(url)
    except BaseException:
        served.stop()
        raise
    return served


def status_of(url: str) -> int:
    """The HTTP status of a GET (0 when nothing answered)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def until(predicate: Callable[[], Any], what: str, within: float = 30.0) -> Any:
    """Poll ``predicate`` until it is true or the deadline passes (a real process's pace)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"not within {within} s: {what}")


def submission(slack: SlackDriver, user: str, callback_id: str, view_id: str, metadata: str,
               values: dict[str, dict[str, Any]]) -> str:
    """The signed body of a form submission (state {block: {element: state}})."""
    view = {"id": view_id, "type": "modal", "callback_id": callback_id,
            "private_metadata": metadata,
            "state": {"values": {b: {f"{b}_input": el} for b, el in values.items()}}}
    return urllib.parse.urlencode({"payload": json.dumps({
        "type": "view_submission", "team": {"id": slack.team}, "user": {"id": user, "team_id": slack.team},
        "api_app_id": slack.api.app_id, "trigger_id": slack.api.new_trigger_id(user), "view": view})})


def raise_body(slack: SlackDriver, n: int) -> str:
    """The signed raise-form submission for case number ``n`` (view id VRn: one per case)."""
    return submission(slack, PP, ids.RAISE_VIEW, f"VR{n:06d}", "pdu-north", {
        ids.CASE_REF: {"type": "plain_text_input", "value": f"X{n:06d}"},
        ids.RECEIVING_TEAM: {"type": "static_select", "selected_option": {"value": "pdu-south"}},
        ids.KIND: {"type": "static_select", "selected_option": {"value": "permanent"}}})


def post(slack: SlackDriver, body: str) -> tuple[int, str]:
    """POST a signed body; (0, error name) when nothing answered."""
    try:
        return slack.post(body)
    except OSError as exc:
        return 0, type(exc).__name__


def stored_refs(engine: sa.Engine) -> list[str]:
    """Case references of every stored transfer."""
    with engine.connect() as c:
        return [r[0] for r in c.execute(sa.text("SELECT case_ref FROM transfer"))]


# ---- a database cut mid-burst --------------------------------------------------------------------
@pytest.fixture
def forwarded(api: SlackStandIn, db_url: str, engine: sa.Engine) -> Iterator[tuple[Served, Forwarder]]:
    """`baton serve` reaching the test's PostgreSQL database through a forwarder it can cut."""
    url = sa.engine.make_url(db_url)
    fwd = Forwarder((url.host or "127.0.0.1", url.port or 5432))
    served = serve(api, url.set(host="127.0.0.1", port=fwd.port).render_as_string(hide_password=False))
    yield served, fwd
    fwd.cut()  # first: a worker waiting on the database fails at once rather than at its timeout
    served.stop()


@pytest.mark.slow
@pytest.mark.skipif(not ON_POSTGRESQL, reason="cuts a PostgreSQL connection (the suite's PostgreSQL run)")
def test_a_database_cut_mid_burst_answers_no_500_and_no_false_error_and_readyz_follows(
        forwarded: tuple[Served, Forwarder], engine: sa.Engine) -> None:
    """20 clients raise while PostgreSQL is cut away under `baton serve` and let back: no 500,
    every answer a plain ack (then the transfer is stored), "cannot save right now" on the form
    (then it is not) or, for a raise whose COMMIT was cut off, "may have been saved" (either);
    /readyz 503 while cut and 200 after, with no restart; the raises not acknowledged, sent
    again afterwards, are answered as saved and stored, each case once."""
    served, fwd = forwarded
    slack = served.slack
    answers: dict[int, list[tuple[int, str]]] = {}
    lock = threading.Lock()
    counter = iter(range(1, 100_000))
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            with lock:
                n = next(counter)
            got = post(slack, raise_body(slack, n))
            with lock:
                answers.setdefault(n, []).append(got)

    def said(pred: Callable[[int, str], bool]) -> int:
        with lock:
            return sum(1 for a in answers.values() for s, t in a if pred(s, t))

    def later(status: int, text: str) -> bool:
        return status == 200 and SAVE_LATER in text

    assert status_of(served.url + "/readyz") == 200
    with ThreadPoolExecutor(20) as pool:
        for _ in range(20):
            pool.submit(client)
        try:
            until(lambda: said(lambda s, t: s == 200 and not t) >= 20, "20 raises saved before the cut")
            fwd.cut()
            until(lambda: status_of(served.url + "/readyz") == 503, "/readyz 503 while cut")
            until(lambda: said(later) >= 10, "raises answered 'cannot save right now' while cut")
            assert status_of(served.url + "/healthz") == 200
            fwd.mend()
            until(lambda: status_of(served.url + "/readyz") == 200, "/readyz 200 once mended")
            after = said(lambda s, t: s == 200 and not t)
            until(lambda: said(lambda s, t: s == 200 and not t) >= after + 20, "raises saved again")
        finally:
            stop.set()

    stored = set(stored_refs(engine))
    statuses = {s for a in answers.values() for s, _ in a}
    assert statuses == {200}, statuses  # no 500, nothing unanswered
    refused = [n for n, a in answers.items() if later(*a[0])]
    saved = [n for n, a in answers.items() if a[0] == (200, "")]
    unsure = [n for n, a in answers.items() if a[0][0] == 200 and UNSURE in a[0][1]]
    assert refused and saved and len(refused) + len(saved) + len(unsure) == len(answers), [
        a for a in answers.values() if a[0] != (200, "") and not later(*a[0])][:3]
    assert {f"X{n:06d}" for n in saved} <= stored  # a plain ack: it was saved
    assert not {f"X{n:06d}" for n in refused} & stored  # "cannot save": it was not
    for n in refused + unsure:  # the person presses Raise again once it is back: saved, once
        assert post(slack, raise_body(slack, n)) == (200, "")
    refs = stored_refs(engine)
    assert len(refs) == len(set(refs)) == len(answers)
    traced = [i for i, line in enumerate(served.log) if "Traceback" in line]
    assert not traced, "".join(served.log[traced[0] - 3:traced[0] + 40])


# ---- races between two served processes ----------------------------------------------------------
@pytest.fixture
def two_served(api: SlackStandIn, db_url: str, engine: sa.Engine) -> Iterator[tuple[Served, Served]]:
    """Two `baton serve` processes on the test database (SQLite or PostgreSQL)."""
    first = serve(api, db_url, workers=1)
    try:
        second = serve(api, db_url, workers=1)
    except BaseException:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


def _raised(uow: Callable[[], SqlUnitOfWork], org: Org, n: int) -> list[int]:
    out = []
    for i in range(n):
        with uow() as u:
            t = services.raise_transfer(u, org, PP, services.RaiseRequest(
                case_ref=f"X{500_000 + i:06d}", receiving_team="pdu-south"), NOW)
        out.append(t.id or 0)
    return out


def _events(engine: sa.Engine, kinds: tuple[str, ...]) -> list[tuple[int, str]]:
    with engine.connect() as c:
        return [(int(r[0]), str(r[1])) for r in c.execute(sa.text(
            "SELECT transfer_id, kind FROM timeline_event WHERE kind IN :k ORDER BY id").bindparams(
                sa.bindparam("k", expanding=True)), {"k": list(kinds)})]


@pytest.mark.slow
def test_accept_and_decline_pressed_at_once_in_two_processes_make_one_decision_and_a_friendly_loser(
        two_served: tuple[Served, Served], engine: sa.Engine, org: Org,
        uow: Callable[[], SqlUnitOfWork]) -> None:
    """On 8 transfers the receiving manager's Accept (to one `baton serve`) and Decline (to the
    other) arrive together: each transfer is decided exactly once; the winner's form closes, the
    loser's gives way to what happened, by whom and when ("was accepted by @... at 10:00 while
    you were deciding"); no 500, no traceback."""
    first, second = two_served
    tids = _raised(uow, org, 8)
    reason = builtin_pack("probation").decline_reasons[0].id
    bodies: list[tuple[Served, int, str]] = []
    for tid in tids:
        accept = submission(first.slack, SMGR, ids.form("accept"), f"VA{tid}", str(tid), {})
        bodies.append((first, tid, accept))
        bodies.append((second, tid, submission(second.slack, SMGR, ids.form("decline"), f"VD{tid}",
                                               str(tid), {
            "reason_category": {"type": "static_select", "selected_option": {"value": reason}},
            "rationale": {"type": "plain_text_input",
                          "value": "The receiving area has no record of the address given."}})))
    barrier = threading.Barrier(len(bodies))

    def send(item: tuple[Served, int, str]) -> tuple[int, int, str]:
        served, tid, body = item
        barrier.wait(timeout=30)
        status, text = post(served.slack, body)
        return tid, status, text

    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(send, bodies))
    assert {s for _, s, _ in answers} == {200}
    decisions = _events(engine, ("accepted", "declined"))
    assert sorted(t for t, _ in decisions) == sorted(tids)  # one decision per transfer
    for tid in tids:
        mine = [text for t, _, text in answers if t == tid]
        won = [x for x in mine if not x]
        lost = [json.loads(x) for x in mine if x]
        assert len(won) == 1 and len(lost) == 1, mine
        kind = next(k for t, k in decisions if t == tid)
        told = json.dumps(lost[0]["view"])
        assert lost[0]["response_action"] == "update", told
        assert f"was {kind} by <@{SMGR}> at 10:00 while you were deciding" in told, told
    for served in (first, second):
        assert not [line for line in served.log if "Traceback" in line]


@pytest.mark.slow
def test_delay_reasons_sent_at_once_to_two_processes_are_all_kept(
        two_served: tuple[Served, Served], engine: sa.Engine, org: Org,
        uow: Callable[[], SqlUnitOfWork]) -> None:
    """24 delay reasons on one transfer, half to each `baton serve`, all at once: every one is
    stored (steps that do not conflict are never lost) and each answered with a plain ack."""
    first, second = two_served
    (tid,) = _raised(uow, org, 1)
    bodies = [(first if i % 2 else second, submission(
        first.slack, PP, ids.form("record_delay"), f"VL{i:04d}", str(tid), {
            "reason": {"type": "plain_text_input", "value": f"Waiting for the court report, part {i}."},
            "actions": {"type": "plain_text_input", "value": f"Chased the court, note {i}."}}))
        for i in range(24)]
    barrier = threading.Barrier(len(bodies))

    def send(item: tuple[Served, str]) -> tuple[int, str]:
        barrier.wait(timeout=30)
        return post(item[0].slack, item[1])

    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(send, bodies))
    assert answers == [(200, "")] * len(bodies), [a for a in answers if a != (200, "")][:3]
    assert len(_events(engine, ("delay_recorded",))) == len(bodies)
