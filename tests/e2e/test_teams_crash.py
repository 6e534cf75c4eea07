"""Teams delivery when the process dies: `baton sweep` on Teams is killed -9 while the Bot
Connector holds its first message; a sweep after the lease delivers everything, and only the
message that was in flight can arrive twice (as on Slack: the outbox is the same)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from bot import services
from bot.org import Org
from sandbox.teams.standin import BotConnectorStandIn, card_of
from store.repo import SqlUnitOfWork
from tests.conftest import NOW
from tests.e2e.test_serve import ROOT

REFS = [f"X{n:06d}" for n in range(200001, 200006)]


def _env(connector: BotConnectorStandIn, db_url: str, org_file: Path) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": db_url, "BATON_ORG": str(org_file), "BATON_WEEKLY_DIGEST": "off",
           "MICROSOFT_APP_ID": connector.app_id, "MICROSOFT_APP_PASSWORD": connector.password,
           "MICROSOFT_APP_TENANT_ID": connector.tenant, "TEAMS_TOKEN_URL": connector.token_url,
           "TEAMS_SERVICE_URL": connector.service_url}
    for k in ("SLACK_BOT_TOKEN", "BATON_REGION", "BATON_TIMEZONE", "BATON_WORKING_HOURS", "BATON_NOW"):
        env.pop(k, None)
    return env


def _sweep(env: dict[str, str], at: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "handlers.cli", "sweep", "--now", at], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _copies(connector: BotConnectorStandIn) -> Counter[tuple[str, str]]:
    """How many cards about each case were sent (not redrawn) to each conversation."""
    got: Counter[tuple[str, str]] = Counter()
    for conv in connector.conversations.values():
        for verb, _, body in conv.history:
            card = card_of(body)
            for ref in REFS:
                if verb == "send" and card and ref in json.dumps(card):
                    got[ref, conv.id] += 1
    return got


@pytest.mark.slow
def test_kill_9_mid_send_on_teams_loses_nothing_and_resends_only_the_message_in_flight(
        connector: BotConnectorStandIn, db_url: str, engine: sa.Engine, teams_demo_org: Org,
        tmp_path: Path) -> None:
    org_file = tmp_path / "org.yml"
    org_file.write_text(yaml.safe_dump(teams_demo_org.model_dump(mode="json", exclude_defaults=True)))
    for p in teams_demo_org.people:
        if p.entra_id:
            connector.add_member(p.entra_id, p.email or "")
    for ref in REFS:
        with SqlUnitOfWork(engine) as u:
            services.raise_transfer(u, teams_demo_org, "U0NPP1", services.RaiseRequest(
                case_ref=ref, receiving_team="pdu-south"), NOW)
    env = _env(connector, db_url, org_file)
    connector.hang_next("/activities")
    proc = _sweep(env, "2026-11-23T10:00")
    connector.wait_for(lambda: connector.hung_requests == 1, timeout=60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    connector.release_hung()  # the service keeps the message nobody waited for
    connector.wait_for(lambda: sum(_copies(connector).values()) >= 1, timeout=10)
    in_flight = set(_copies(connector))
    assert len(in_flight) == 1

    done = _sweep(env, "2026-11-23T10:06")  # after the five-minute lease
    _, err = done.communicate(timeout=180)
    assert done.returncode == 0, err
    got = _copies(connector)
    with engine.connect() as c:
        statuses = Counter(r[0] for r in c.execute(sa.text(  # less the sweep's day-redraw marker
            "SELECT status FROM notification WHERE key NOT LIKE 'dayredraw:%'")))
    assert set(statuses) == {"sent"}, statuses
    per_case = Counter(ref for ref, _ in got)
    assert set(per_case) == set(REFS)  # none lost
    assert all(n <= 2 for n in got.values())  # none more than twice
    assert {k for k, n in got.items() if n == 2} <= in_flight  # only the one in flight
