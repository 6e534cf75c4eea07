"""Benchmark: Teams ingress latency beside Slack's, on the same machine, in the same process.

One Baton serves Slack's ``/slack/events`` and Teams' ``/api/messages`` from one WSGI server
(handlers/server.py, threaded), against the Slack Web API stand-in and the Bot Connector
stand-in, on one SQLite database with one open transfer. Measured per operation, at 1 client and
at ``BENCH_CLIENTS`` (default 8) concurrent clients: median and p99 HTTP latency in ms.

- Slack ``/transfer help`` (signed; answered later through the response URL) beside Teams
  ``transfer help`` typed in the 1:1 chat (token checked; answered later in the chat);
- Slack pressing Accept (signed; acked, the form opened after with views.open) beside Teams
  pressing Accept (token checked; the invoke's answer *is* the form, so its latency includes
  reading the transfer and building the card).

Every Teams request carries a freshly minted RS256 token checked against the stand-in's JWKS
(fetched once, as in production). Run with ``make bench-teams`` or ``python -m bench.teams
[requests-per-op]`` (default 400; ``--smoke``: 20 requests, and 36 notifications delivered).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from bench.common import SMOKE, BenchTimeout, Headline, headline, size
from bot import services
from bot.org import load_org
from bot.settings import Settings
from handlers.bootstrap import build, teams_chat
from handlers.bootstrap import slack as slack_runtime
from handlers.bootstrap import teams as teams_runtime
from handlers.server import serve_in_thread, wsgi_app
from handlers.slack import ids
from sandbox.driver import SECRET, TOKEN, Clock, SlackDriver
from sandbox.slack_api import SlackStandIn
from sandbox.teams.driver import TeamsDriver
from sandbox.teams.standin import BotConnectorStandIn

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
NOW = datetime.fromisoformat("2026-11-23T10:00:00+00:00")


def _measure(send: Callable[[], int], n: int, clients: int) -> tuple[float, float]:
    """(median, p99) in ms of ``n`` sends by ``clients`` concurrent clients; every one must be 200."""
    def one(_: int) -> float:
        start = time.perf_counter()
        status = send()
        took = (time.perf_counter() - start) * 1000
        assert status == 200, status
        return took

    with ThreadPoolExecutor(clients) as pool:
        ms = sorted(pool.map(one, range(n)))
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.99))]


def main(n: int = 400) -> float:
    """Run both platforms' operations and print the table; returns the Teams/Slack median ratio
    for Accept pressed at ``CLIENTS`` clients."""
    tmp = Path(tempfile.mkdtemp())
    org = load_org()
    settings = Settings(DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}")
    b = build(settings, org=org)
    clock = Clock(NOW)
    with SlackStandIn() as api, BotConnectorStandIn() as connector:
        srt = slack_runtime(b, clock, token=TOKEN, signing_secret=SECRET, api_url=api.api_url, idle=5)
        chat = teams_chat(b, clock, app_id=connector.app_id, password=connector.password,
                          token_url=connector.token_url, service_url=connector.service_url)
        trt = teams_runtime(b, clock, chat=chat, openid_metadata=connector.openid_metadata_url, idle=5)
        server, url = serve_in_thread(wsgi_app(srt.bolt, teams=trt.app))
        slack = SlackDriver(base_url=url, api=api)
        teams = TeamsDriver(base_url=url, connector=connector, org=org)
        teams.install("U0SMGR")
        with b.uow() as u:
            t = services.raise_transfer(u, org, "U0NPP1", services.RaiseRequest(
                case_ref="X123456", receiving_team="pdu-south"), NOW)
        tid = t.id or 0

        def teams_invoke() -> int:
            a = teams.activity("U0SMGR", "invoke", name="adaptiveCard/action", value={
                "action": {"type": "Action.Execute", "verb": "open:accept", "data": {"transfer_id": tid}}})
            return teams.post(a)[0]

        ops: list[tuple[str, Callable[[], int], Callable[[], int]]] = [
            ("help", lambda: slack.command("U0NPP1", "help")[0],
             lambda: teams.post(teams.activity("U0NPP1", "message", text="transfer help"))[0]),
            ("Accept pressed", lambda: slack.press("U0SMGR", ids.ACCEPT, str(tid))[0], teams_invoke),
        ]
        print(f"Ingress latency, ms (median / p99), {n} requests per cell, same process and machine")
        print(f"{'operation':<16}{'clients':>8}{'Slack':>18}{'Teams':>18}")
        ratio = float("nan")
        for name, on_slack, on_teams in ops:
            for clients in (1, CLIENTS):
                s_med, s_p99 = _measure(on_slack, n, clients)
                t_med, t_p99 = _measure(on_teams, n, clients)
                print(f"{name:<16}{clients:>8}{s_med:>9.1f} / {s_p99:<6.1f}{t_med:>9.1f} / {t_p99:<6.1f}")
                ratio = t_med / s_med
        server.shutdown()
        srt.stop()
        trt.stop()
    return ratio




def delivery(people: int = 50, channels: int = 5, rate: float = 1.0, per: tuple[int, int, int] = (12, 50, 30),
             ) -> dict[str, float]:
    """1,000 notifications (each person 12 reminders; each channel 50 reminders and 30 messages:
    ``per``) delivered with the real clock through the Bot Connector stand-in allowing ``rate`` messages a
    second per conversation: time beside the least that limit allows, lost and duplicated."""
    import re
    import uuid
    from collections import Counter
    from datetime import UTC

    from bot.org import Person
    from sandbox.teams.standin import card_of, card_text
    from store.repo import SqlUnitOfWork

    base = load_org()
    extra = tuple(Person(id=f"U0BENCH{i:03d}", email=f"bench{i}@demo.example.gov.uk",
                         entra_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, f"bench{i}"))) for i in range(people))
    org = base.model_copy(update={"people": (*base.people, *extra)})
    users = [p.id for p in extra]
    places = [f"19:bench{i}@thread.tacv2" for i in range(channels)]
    tmp = Path(tempfile.mkdtemp())
    b = build(Settings(DATABASE_URL=f"sqlite:///{tmp / 'deliver.db'}"), org=org)
    with BotConnectorStandIn(per_conversation_rate=rate) as connector:
        for p in org.people:
            if p.entra_id:
                connector.add_member(p.entra_id, p.email or "")
        chat = teams_chat(b, lambda: datetime.now(UTC), app_id=connector.app_id, password=connector.password,
                          token_url=connector.token_url, service_url=connector.service_url)
        from scheduler.delivery import Delivery

        d = Delivery(b.engine, org, chat, b.uow)
        n = 0
        now = datetime.now(UTC)
        with SqlUnitOfWork(b.engine) as u:
            for who, items, kind in [*((x, per[0], "item") for x in users),
                                     *((c, per[1], "item") for c in places),
                                     *((c, per[2], "text") for c in places)]:
                for _ in range(items):
                    n += 1
                    u.add_notification(key=f"n{n:04d}", transfer_id=None, kind=kind, recipient=who, now=now,
                                       not_before=now, payload={"case_ref": f"X{n:06d}", "transfer_id": None,
                                                                "text": f"Reminder n{n:04d}."})
            u.commit()
        t0 = time.perf_counter()
        passes = 0
        limit = 60 + 3 * n / rate  # far beyond what the rate limit allows for every message alone
        while True:
            if time.perf_counter() - t0 > limit:
                raise BenchTimeout(f"bench: gave up after {limit:.0f} s waiting for the {n} notifications "
                                   "to be delivered (some still pending)")
            passes += 1
            d.deliver(datetime.now(UTC))
            with b.engine.connect() as c:
                pending, wake = c.execute(sa.text(
                    "SELECT count(*), min(not_before) FROM notification "
                    "WHERE status IN ('pending', 'claimed')")).one()
            if not pending:
                break
            if wake is not None:
                nb = datetime.fromisoformat(str(wake)).replace(tzinfo=UTC)
                time.sleep(max(0.0, (nb - datetime.now(UTC)).total_seconds()))
        elapsed = time.perf_counter() - t0
        keys: Counter[str] = Counter()
        per_conv: Counter[str] = Counter()
        for conv in connector.conversations.values():
            for a in conv.activities.values():
                per_conv[conv.id] += 1
                said = card_text(card_of(a)) if card_of(a) else str(a.get("text"))
                keys.update(re.findall(r"n\d{4}", said))
        limited = sum(1 for _, _, s in connector.calls if s == 429)
    wanted = {f"n{i:04d}" for i in range(1, n + 1)}
    busiest = max(per_conv.values())
    return {"written": n, "messages": sum(per_conv.values()), "busiest": busiest,
            "floor": (busiest - 1) / rate, "time": elapsed, "ratelimited": limited, "passes": passes,
            "lost": len(wanted - set(keys)), "duplicated": sum(v - 1 for k, v in keys.items() if v > 1)}


def print_delivery(people: int = 50, channels: int = 5, per: tuple[int, int, int] = (12, 50, 30),
                   ) -> dict[str, float]:
    """Run :func:`delivery` and print its figures."""
    r = delivery(people, channels, 1.0, per)
    print(f"\nDelivery of {r['written']:.0f} notifications to {people} people and {channels} channels, "
          "1 message/s per conversation:")
    print(f"  {r['messages']:.0f} messages (digests), busiest conversation {r['busiest']:.0f}; "
          f"{r['time']:.1f} s against a ceiling of {r['floor']:.1f} s; {r['ratelimited']:.0f} answered 429; "
          f"lost {r['lost']:.0f}, duplicated {r['duplicated']:.0f}")
    return r


if __name__ == "__main__":
    accept_ratio = main(size(0, 400, 20))
    got = print_delivery(5, 2, (2, 5, 3)) if SMOKE else print_delivery()
    headline(Headline("teams", f"Teams/Slack p50, Accept pressed at {CLIENTS} clients", accept_ratio, None,
                      "x", None if not (got["lost"] or got["duplicated"]) else False))
