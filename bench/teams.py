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
(fetched once, as in production). Run with ``python -m bench.teams [requests-per-op]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from bot import services
from bot.bootstrap import build, teams_chat
from bot.bootstrap import slack as slack_runtime
from bot.bootstrap import teams as teams_runtime
from bot.org import load_org
from bot.settings import Settings
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


def main(n: int = 400) -> None:
    """Run both platforms' operations and print the table."""
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
        for name, on_slack, on_teams in ops:
            for clients in (1, CLIENTS):
                s_med, s_p99 = _measure(on_slack, n, clients)
                t_med, t_p99 = _measure(on_teams, n, clients)
                print(f"{name:<16}{clients:>8}{s_med:>9.1f} / {s_p99:<6.1f}{t_med:>9.1f} / {t_p99:<6.1f}")
        server.shutdown()
        srt.stop()
        trt.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
