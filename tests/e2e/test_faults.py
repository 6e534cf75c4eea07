"""Delivery under faults: 429s, 5xx, errors retrying cannot mend, kill -9 mid-send, a weekend
down and two instances on one PostgreSQL; real `baton` processes against the Web API stand-in."""

from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from slack_sdk import WebClient
from sqlmodel import col

from bot.org import Org
from sandbox.slack_api import SlackStandIn
from store.models import NotificationRow
from store.outbox import LEASE
from store.repo import SqlUnitOfWork
from tests.conftest import NOW
from tests.e2e.slack import TOKEN, slack_delivery

ROOT = Path(__file__).resolve().parents[2]
POST = "chat.postMessage"
SECTION = re.compile(r"^\*(?P<case>[^*]+)\*: (?P<text>.*)$", re.S)
HEADER = "case_ref,holding_team,receiving_team,requested_on,kind\n"


def deliver(engine: sa.Engine, client: WebClient, org: Org, _load: object, now: datetime) -> int:
    """One delivery pass to Slack through Baton's delivery and its Slack client."""
    from handlers.slack.delivery import SlackChat
    from scheduler.delivery import Delivery
    from store.repo import SqlUnitOfWork

    return Delivery(engine, org, SlackChat(client), lambda: SqlUnitOfWork(engine)).deliver(now)


def _loader(engine: sa.Engine) -> object:
    """Delivery loads transfers itself now."""
    return None



# ---- helpers -----------------------------------------------------------------------------------
def client(api: SlackStandIn) -> WebClient:
    """A Web API client as `baton sweep` builds one (the SDK's default retry handlers)."""
    return WebClient(token=TOKEN, base_url=api.api_url)


def add_item(uow: Callable[[], SqlUnitOfWork], key: str, recipient: str, case_ref: str = "X000001",
             now: datetime = NOW) -> None:
    """One reminder in the outbox for ``recipient``, due now."""
    with uow() as u:
        u.add_notification(key=key, transfer_id=None, kind="item", recipient=recipient,
                           payload={"case_ref": case_ref, "transfer_id": None, "clock": "resolution",
                                    "step": "remind", "text": f"Transfer resolved: reminder {key}.",
                                    "button": None},
                           not_before=now, now=now)
        u.commit()


def rows(engine: sa.Engine, kind: str | None = None) -> list[Any]:
    """Outbox rows (of one kind), oldest first."""
    q = sa.select(NotificationRow).order_by(col(NotificationRow.id))
    if kind:
        q = q.where(col(NotificationRow.kind) == kind)
    with engine.connect() as c:
        return list(c.execute(q).all())


def row(engine: sa.Engine, key: str) -> Any:
    """The outbox row with ``key``."""
    return next(r for r in rows(engine) if r.key == key)


def sections(api: SlackStandIn, recipients: Iterable[str]) -> Counter[tuple[str, str, str]]:
    """(recipient, case, text) of every digest section the stand-in holds for the recipients."""
    out: Counter[tuple[str, str, str]] = Counter()
    for r in set(recipients):
        for m in api.messages(r):
            for b in m.blocks or []:
                match = SECTION.match(b.get("text", {}).get("text", "")) if b["type"] == "section" else None
                if match:  # one line per case; each of its due steps on a line of its own
                    for text in match["text"].split("\n"):
                        if not text.startswith("Adopted from the tracker"):  # the import's digest
                            out[(r, match["case"], html.unescape(text))] += 1
    return out


def expected(engine: sa.Engine) -> Counter[tuple[str, str, str]]:
    """(recipient, case, text) of every reminder and escalation item in the outbox, once each
    (not the import's own digest of adopted transfers)."""
    return Counter((r.recipient, r.payload["case_ref"], r.payload["text"]) for r in rows(engine, "item")
                   if ":imported:" not in r.key)


def baton_env(api: SlackStandIn, db_url: str, now: str) -> dict[str, str]:
    """Environment for a real `baton` process pointed at the stand-in and the test database."""
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": api.api_url,
           "DATABASE_URL": db_url, "BATON_NOW": now,
           "BATON_WEEKLY_DIGEST": "off"}  # these tests are about reminders and escalations
    for k in ("BATON_ORG", "BATON_REGION", "BATON_TIMEZONE", "BATON_WORKING_HOURS"):
        env.pop(k, None)
    return env


def baton(api: SlackStandIn, db_url: str, *args: str, now: str = "2026-11-23T10:00:00+00:00",
          ) -> subprocess.Popen[str]:
    """Start `baton ARGS` as its own process."""
    return subprocess.Popen([sys.executable, "-m", "handlers.cli", *args], cwd=ROOT,
                            env=baton_env(api, db_url, now), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> str:
    """Wait for a `baton` process to exit cleanly; returns its stdout."""
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    return out


def sweep_at(api: SlackStandIn, db_url: str, at: str) -> dict[str, int]:
    """Run `baton sweep --now AT` to the end; returns the counts it printed."""
    out = finish(baton(api, db_url, "sweep", "--now", at))
    counts: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    return counts


def import_csv(api: SlackStandIn, db_url: str, tmp_path: Path, lines: list[str], *, now: str) -> None:
    """`baton import` a tracker with BATON_NOW at ``now``."""
    f = tmp_path / "tracker.csv"
    f.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    assert "Imported" in finish(baton(api, db_url, "import", str(f), now=now))
    # The import tells each receiving manager of their adopted transfers with a card; those go
    # out at import time, before the sweeps these tests are about.
    from bot.org import load_org
    from store.db import make_engine

    engine = make_engine(db_url)
    deliver(engine, client(api), load_org(), None, datetime.fromisoformat(now))
    engine.dispose()


def overdue(n: int, requested: date = date(2026, 10, 1)) -> list[str]:
    """``n`` probation transfers requested long ago, both ways between the two PDUs."""
    return [f"X{i:06d},{'pdu-north,pdu-south' if i % 2 else 'pdu-south,pdu-north'},{requested},permanent"
            for i in range(n)]


# ---- Slack answers badly -----------------------------------------------------------------------
def test_a_429_waits_for_retry_after_then_sends_once(api: SlackStandIn, engine: sa.Engine, org: Org,
                                                     uow: Callable[[], SqlUnitOfWork]) -> None:
    """A 429 with Retry-After 1 puts the row back for 1 s from Slack's answer; then it goes out once."""
    add_item(uow, "n1", "U0SMGR")
    api.fail_next(POST, status=429, retry_after=1)
    load = _loader(engine)
    assert deliver(engine, client(api), org, load, NOW) == 0
    r = row(engine, "n1")
    assert (r.status, r.last_error, r.attempts) == ("pending", "ratelimited", 0)
    # now + 1 s, plus the (real) moments between the start of delivery and Slack's answer
    assert NOW + timedelta(seconds=1) <= r.not_before < NOW + timedelta(seconds=2)
    assert deliver(engine, client(api), org, load, NOW + timedelta(milliseconds=999)) == 0
    assert len(api.calls_to(POST)) == 1  # nothing asked of Slack before Retry-After passed
    assert deliver(engine, client(api), org, load, r.not_before) == 1
    assert row(engine, "n1").status == "sent"
    assert len(api.messages("U0SMGR")) == 1


def test_a_5xx_is_retried_with_backoff_and_sent_once(api: SlackStandIn, engine: sa.Engine, org: Org,
                                                     uow: Callable[[], SqlUnitOfWork]) -> None:
    """An HTTP 500 leaves the row pending with a backoff; a later delivery sends it once."""
    add_item(uow, "n1", "U0SMGR")
    api.fail_next(POST, status=500)
    load = _loader(engine)
    assert deliver(engine, client(api), org, load, NOW) == 0
    r = row(engine, "n1")
    assert r.status == "pending" and r.last_error == "internal_error" and r.not_before > NOW
    backoff = r.not_before - NOW
    assert deliver(engine, client(api), org, load, NOW + backoff / 2) == 0
    assert len(api.calls_to(POST)) == 1  # not hammered while backing off
    assert deliver(engine, client(api), org, load, NOW + backoff) == 1
    assert row(engine, "n1").status == "sent"
    assert len(api.messages("U0SMGR")) == 1
    assert len(api.calls_to(POST)) == 2


def test_channel_not_found_fails_once_is_not_retried_and_is_reported_once(
        api: SlackStandIn, engine: sa.Engine, org: Org, uow: Callable[[], SqlUnitOfWork]) -> None:
    """channel_not_found: the row fails, later deliveries leave it alone, and the escalation
    contact hears once, though a second notification to that channel fails later too."""
    api.remove_channel("C0GONE")
    add_item(uow, "n1", "C0GONE")
    load = _loader(engine)
    assert deliver(engine, client(api), org, load, NOW) == 0
    assert (row(engine, "n1").status, row(engine, "n1").last_error) == ("failed", "channel_not_found")
    assert deliver(engine, client(api), org, load, NOW + timedelta(minutes=1)) == 2  # the reports
    add_item(uow, "n2", "C0GONE", now=NOW + timedelta(days=1))
    for minutes in (0, 1, 60, 24 * 60):
        deliver(engine, client(api), org, load, NOW + timedelta(days=1, minutes=minutes))
    assert row(engine, "n2").status == "failed"
    gone = [c for c in api.calls_to(POST) if c.params.get("channel") == "C0GONE"]
    assert len(gone) == 2  # one try each, never again
    contact = org.contact("pdu-north", "smt")  # the org's first team: no transfer to go by
    assert contact is not None and contact.users
    for target in (*contact.users, contact.channel):
        assert target is not None
        reports = [m for m in api.messages(target) if "cannot deliver to C0GONE" in m.text]
        assert len(reports) == 1, target


# ---- the process dies ----------------------------------------------------------------------------
def kill_mid_send(api: SlackStandIn, db_url: str, at: str, recipient: str) -> None:
    """Run `baton sweep --now AT`, kill -9 it while Slack holds its message to ``recipient``, then
    let Slack finish that send (as the real one may, with nobody left to hear the answer)."""
    api.hang_next(POST, channel=recipient)
    before = len(api.messages(recipient))
    proc = baton(api, db_url, "sweep", "--now", at)
    api.wait_for(lambda: api.hung_requests == 1, timeout=60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    api.release_hung()
    api.wait_for(lambda: len(api.messages(recipient)) > before, timeout=10)


@pytest.mark.slow
def test_kill_9_mid_delivery_loses_nothing_and_resends_only_the_message_in_flight(
        api: SlackStandIn, db_url: str, engine: sa.Engine, tmp_path: Path) -> None:
    """`baton sweep` is killed -9 while Slack holds its first message; a sweep after the lease
    delivers everything, and only what was in flight can arrive twice.

    Why at most one duplicate: a row is claimed (committed, attempts + 1) before its send and
    marked sent only after Slack answered ok. A kill between the two leaves it claimed, and
    whether Slack kept the message is unknowable, so once the 5-minute lease has passed it is
    sent again: the only duplicate. Rows claimed but never sent were never in Slack, so sending
    them is not a duplicate. A row found in flight MAX_IN_FLIGHT (2) times is marked failed for
    a person to check rather than sent a third time.
    """
    import_csv(api, db_url, tmp_path, overdue(20), now="2026-11-20T12:00:00+00:00")
    kill_mid_send(api, db_url, "2026-11-23T10:00", "U0SMGR")
    in_flight = sections(api, ["U0SMGR"])
    assert in_flight
    assert not [r for r in rows(engine, "item") if r.recipient == "U0SMGR" and r.status == "sent"
                and ":imported:" not in r.key]

    assert timedelta(minutes=5) == LEASE
    counts = sweep_at(api, db_url, "2026-11-23T10:06")
    assert counts["notifications"] == 0  # the markers survived: nothing swept twice
    want = expected(engine)
    got = sections(api, (k[0] for k in want))
    assert all(r.status == "sent" for r in rows(engine, "item"))
    assert set(got) == set(want)  # none lost
    assert all(n <= 2 for n in got.values())  # none more than twice
    assert {k for k, n in got.items() if n == 2} == set(in_flight)  # and only the one in flight


@pytest.mark.slow
def test_down_for_a_weekend_each_missed_reminder_goes_out_once_on_monday(
        api: SlackStandIn, db_url: str, engine: sa.Engine, tmp_path: Path) -> None:
    """Reminders due Friday 11 Dec, no sweep Fri-Sun: Monday's sweep sends each once to every
    recipient, and a second Monday sweep sends nothing new."""
    import_csv(api, db_url, tmp_path, overdue(6, requested=date(2026, 11, 20)),
               now="2026-11-20T12:00:00+00:00")
    sweep_at(api, db_url, "2026-12-10T10:00")  # Thursday: earlier steps, out of the way
    before = len(api.calls_to(POST))
    assert not [r for r in rows(engine, "item") if ":resolution:" in r.key]

    monday = sweep_at(api, db_url, "2026-12-14T10:00")
    fri = [r for r in rows(engine, "item") if ":resolution:remind:2026-12-11:" in r.key]
    assert len(fri) == 6 * 2  # each case: holding and receiving managers
    assert monday["sent"] == len(fri) + 6  # and each case's cards redrawn once at the reminder
    assert {r.recipient for r in fri} == {"U0NMGR", "U0SMGR"}
    got = sections(api, ["U0NMGR", "U0SMGR"])
    for r in fri:
        assert got[(r.recipient, r.payload["case_ref"], r.payload["text"])] == 1
    assert all(r.status == "sent" for r in fri)

    calls = len(api.calls_to(POST))
    again = sweep_at(api, db_url, "2026-12-14T11:00")
    assert (again["notifications"], again["sent"]) == (0, 0)
    assert len(api.calls_to(POST)) == calls > before


# ---- two instances -------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="two instances share one PostgreSQL (the suite's PostgreSQL run)")
def test_two_instances_on_one_postgresql_send_every_notification_exactly_once(
        api: SlackStandIn, db_url: str, engine: sa.Engine, tmp_path: Path) -> None:
    """Two `baton sweep` processes started together, each minute until the outbox is empty, over
    60 overdue transfers, each pass sending at most 150 rows (`--batch`; 1,000 by default) so
    that, as at 300 transfers and 1,000, the rows take several passes: every reminder, breach
    and escalation reaches its recipient once."""
    n, batch = 60, 150
    import_csv(api, db_url, tmp_path, overdue(n), now="2026-11-20T12:00:00+00:00")
    counts: list[dict[str, int]] = []
    for minute in range(8):  # a pass delivers at most ``batch`` rows; the next minute's takes the rest
        procs = [baton(api, db_url, "sweep", "--now", f"2026-11-23T10:{minute:02d}", "--batch",
                       str(batch)) for _ in range(2)]
        counts += [json.loads(finish(p).strip().splitlines()[-1]) for p in procs]
        # every line, and every card redraw the sweep wrote at each step it passed (issue 15)
        if all(r.status == "sent" for r in [*rows(engine, "item"), *rows(engine, "update")]):
            break
    want = expected(engine)
    assert len(want) >= n * 3 and set(want.values()) == {1}
    assert all(r.status == "sent" for r in rows(engine, "item"))
    assert sections(api, (k[0] for k in want)) == want
    assert sum(c["notifications"] for c in counts) == len(want)  # each written by one sweep
    # each step passed redraws the transfer's cards, once; a redraw row still waiting when another
    # of the same transfer went out is covered by it (marked sent, not sent again)
    redraws = len([r for r in rows(engine, "update") if not (r.last_error or "").startswith("covered")])
    assert sum(c["sent"] for c in counts) == len(want) + redraws  # each claimed and sent by one instance
    # more rows than two passes take: in the first minute both instances must have sent some,
    # and it took more than one minute
    assert min(c["sent"] for c in counts[:2]) > 0 and len(counts) > 2


@pytest.mark.slow
def test_killed_twice_running_only_the_message_in_flight_both_times_is_held_back(
        api: SlackStandIn, db_url: str, engine: sa.Engine, tmp_path: Path) -> None:
    """Killed -9 mid-send, restarted and killed mid-send again: the third run delivers everything
    else once; the message in flight both times (so in Slack twice) is failed, not sent a third
    time. Rows waiting their turn when a process died were never in flight and are not held back."""
    import_csv(api, db_url, tmp_path, overdue(20), now="2026-11-20T12:00:00+00:00")
    kill_mid_send(api, db_url, "2026-11-23T10:00", "U0SMGR")
    kill_mid_send(api, db_url, "2026-11-23T10:06", "U0SMGR")
    sweep_at(api, db_url, "2026-11-23T10:12")
    want = expected(engine)
    got = sections(api, (k[0] for k in want))
    assert set(got) == set(want)  # none lost
    twice = {k for k, n in got.items() if n == 2}
    assert twice and {k[0] for k in twice} == {"U0SMGR"} and max(got.values()) == 2
    status = Counter(r.status for r in rows(engine, "item") if ":imported:" not in r.key)
    assert status == {"sent": len(want) - len(twice), "failed": len(twice)}


def test_a_timed_out_send_is_tried_once_more_and_then_held_back(api: SlackStandIn, engine: sa.Engine,
                                                               org: Org,
                                                               uow: Callable[[], SqlUnitOfWork]) -> None:
    """A send that times out may still have reached Slack: it is retried once; a second timeout
    marks it failed rather than risking a second duplicate."""
    add_item(uow, "n1", "U0SMGR")
    quick = WebClient(token=TOKEN, base_url=api.api_url, timeout=1)
    load = _loader(engine)
    api.hang_next(POST, seconds=None)
    assert deliver(engine, quick, org, load, NOW) == 0
    first = row(engine, "n1")
    assert first.status == "pending" and first.last_error.startswith("uncertain:")
    api.release_hung()  # the held post now lands: Slack had it after all
    api.hang_next(POST, seconds=None)
    assert deliver(engine, quick, org, load, first.not_before) == 0
    api.release_hung()
    assert row(engine, "n1").status == "failed"
    assert deliver(engine, quick, org, load, first.not_before + timedelta(hours=2)) == 0
    api.wait_for(lambda: len(api.messages("U0SMGR")) == 2)
    assert len(api.calls_to(POST)) == 2  # sent at most twice, never a third time


def test_a_rate_limited_backlog_drains_at_slacks_pace_within_one_interval(
        engine: sa.Engine, org: Org, uow: Callable[[], SqlUnitOfWork]) -> None:
    """Five messages to one channel limited to one a second: the scheduler's drain sends them
    all within the interval, waiting out each Retry-After (on a simulated clock: no sleeping)."""
    t = [0.0]
    with SlackStandIn(per_channel_rate_limit=1.0, clock=lambda: t[0]) as api:
        with uow() as u:
            for i in range(5):
                u.add_notification(key=f"dm{i}", transfer_id=None, kind="dm", recipient="C0SMT",
                                   payload={"text": f"message {i}"}, not_before=NOW, now=NOW)
            u.commit()

        def now() -> datetime:
            return NOW + timedelta(seconds=t[0])

        def wait(seconds: float) -> None:
            t[0] += seconds

        from scheduler.jobs import drain

        deliver(engine, client(api), org, _loader(engine), now())
        assert len(api.messages("C0SMT")) == 1
        drain(engine, slack_delivery(engine, org, client(api)), now, within=48, wait_for=wait,
              elapsed=lambda: t[0])
        assert [m.text for m in api.messages("C0SMT")] == [f"message {i}" for i in range(5)]
        assert 4 <= t[0] < 10  # about one a second, as the limit allows


# ---- card updates: the documented backoff ---------------------------------------------------------
def _redraw_pending(api: SlackStandIn, engine: sa.Engine, org: Org,
                    uow: Callable[[], SqlUnitOfWork]) -> tuple[Any, Any]:
    """A raised transfer whose cards are out, then accepted: its redraw row waits to be sent.
    Returns Baton's own Slack delivery (no 429 waiting in the client; jitter 0) and the row."""
    from bot import services
    from bot.settings import Settings
    from handlers.bootstrap import build
    from handlers.bootstrap import slack_delivery as baton_delivery

    with uow() as u:
        t = services.raise_transfer(u, org, "U0NPP1", services.RaiseRequest(
            case_ref="X123456", receiving_team="pdu-south"), NOW)
    delivery = baton_delivery(build(Settings(DATABASE_URL=str(engine.url)), org=org, engine=engine),
                              token=TOKEN, api_url=api.api_url)
    delivery.jitter = lambda: 0.0
    assert delivery.deliver(NOW) == 3
    with uow() as u:
        services.act(u, org, "U0SMGR", t.id or 0, "accept", NOW)
    return delivery, next(r for r in rows(engine, "update"))


def test_a_failed_card_update_is_retried_after_2_s_then_4_s_then_8_s_not_minutes(
        api: SlackStandIn, engine: sa.Engine, org: Org, uow: Callable[[], SqlUnitOfWork]) -> None:
    """chat.update answering 500 on three passes: the redraw waits 2 s, 4 s, then 8 s (on the
    delivery's clock, no sleeping), is not tried before its time, and then redraws the cards."""
    delivery, update = _redraw_pending(api, engine, org, uow)
    cards = 3  # the manager's DM, the requester's confirmation, the channel post
    at = NOW
    for wait in (2, 4, 8):
        api.fail_next("chat.update", status=500, times=cards)
        delivery.deliver(at)
        r = row(engine, update.key)
        assert (r.status, r.last_error) == ("pending", "internal_error")
        assert r.not_before == at + timedelta(seconds=wait)
        calls = len(api.calls_to("chat.update"))
        delivery.deliver(at + timedelta(seconds=wait - 0.5))
        assert len(api.calls_to("chat.update")) == calls  # not before its time
        at = r.not_before
    delivery.deliver(at)
    assert row(engine, update.key).status == "sent"
    assert [c.status for c in api.calls_to("chat.update")][-cards:] == [200] * cards


def test_a_rate_limited_card_update_waits_out_retry_after_without_the_client_sleeping(
        api: SlackStandIn, engine: sa.Engine, org: Org, uow: Callable[[], SqlUnitOfWork]) -> None:
    """chat.update answering 429 with Retry-After 7: one call (the client does not wait and try
    again), the redraw waits 7 s from Slack's answer, then goes out."""
    delivery, update = _redraw_pending(api, engine, org, uow)
    api.fail_next("chat.update", status=429, retry_after=7)
    delivery.deliver(NOW)
    assert len(api.calls_to("chat.update")) == 1
    r = row(engine, update.key)
    assert (r.status, r.last_error) == ("pending", "ratelimited")
    assert NOW + timedelta(seconds=7) <= r.not_before < NOW + timedelta(seconds=8)
    delivery.deliver(NOW + timedelta(seconds=6))
    assert len(api.calls_to("chat.update")) == 1
    delivery.deliver(r.not_before)
    assert row(engine, update.key).status == "sent"


def test_the_retry_backoff_doubles_from_2_s_caps_at_5_minutes_and_jitters_by_up_to_half() -> None:
    """outbox.retry_delay: 2, 4, 8 s ... capped at 300 s; jitter 1 halves it, 0 leaves it."""
    from store.outbox import retry_delay

    assert [retry_delay(n, 0.0).total_seconds() for n in range(1, 10)] == [
        2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert retry_delay(1000, 0.0) == timedelta(minutes=5)
    assert retry_delay(3, 1.0) == timedelta(seconds=4) and retry_delay(3, 0.5) == timedelta(seconds=6)


def test_a_card_update_that_times_out_is_retried_with_the_backoff_not_given_up(
        api: SlackStandIn, engine: sa.Engine, org: Org, uow: Callable[[], SqlUnitOfWork]) -> None:
    """chat.update timing out on three passes: a redraw makes no second copy, so unlike a post
    it is not held back after two; it waits 2, 4, 8 s and then the cards are redrawn."""
    from handlers.slack.delivery import SlackChat
    from scheduler.delivery import Delivery

    _, update = _redraw_pending(api, engine, org, uow)
    quick = WebClient(token=TOKEN, base_url=api.api_url, timeout=1, retry_handlers=[])
    delivery = Delivery(engine, org, SlackChat(quick), lambda: SqlUnitOfWork(engine), jitter=lambda: 0.0)
    at = NOW
    for wait in (2, 4, 8):
        api.hang_next("chat.update", seconds=None)
        delivery.deliver(at)
        api.release_hung()
        r = row(engine, update.key)
        assert r.status == "pending" and r.last_error.startswith("uncertain:"), r.last_error
        assert r.not_before == at + timedelta(seconds=wait)
        at = r.not_before
    delivery.deliver(at)
    assert row(engine, update.key).status == "sent"
