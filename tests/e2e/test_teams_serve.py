"""`baton serve` with Slack and Teams settings: one process answers Slack at /slack/events and
Teams at /api/messages, checks both platforms' signatures, and delivers each notice on its
recipient's platform through one outbox. The development switch that turns off Teams' token
check refuses to start with production settings."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.org import Org
from bot.settings import Settings
from handlers.bootstrap import build, teams
from sandbox.slack_api import SlackStandIn
from sandbox.teams.driver import TeamsDriver
from sandbox.teams.standin import BotConnectorStandIn, card_of, card_text
from store import conversations
from tests.conftest import NOW
from tests.e2e.slack import SECRET, TOKEN, SlackDriver, wait
from tests.e2e.test_serve import ROOT, free_port, ready


@pytest.fixture
def both(api: SlackStandIn, connector: BotConnectorStandIn, db_url: str, engine: sa.Engine) -> Iterator[str]:
    """`baton serve` (one worker) configured for Slack and Teams, against both stand-ins."""
    port = free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": api.api_url, "DATABASE_URL": db_url, "BATON_NOW": "2026-11-23T10:00:00+00:00",
           "MICROSOFT_APP_ID": connector.app_id, "MICROSOFT_APP_PASSWORD": connector.password,
           "MICROSOFT_APP_TENANT_ID": connector.tenant,
           "TEAMS_OPENID_METADATA": connector.openid_metadata_url,
           "TEAMS_TOKEN_URL": connector.token_url, "TEAMS_SERVICE_URL": connector.service_url}
    env.pop("BATON_ORG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "handlers.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--no-scheduler"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:  # gunicorn says when the worker is up: no sleeping
        if "Booting worker" in line:
            break
    err = proc.stderr
    threading.Thread(target=lambda: list(iter(err.readline, "")), daemon=True).start()
    # the worker loads the app after gunicorn says it boots: the first answer can take a while on
    # a loaded machine, so wait for it once here rather than time out the first activity
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=120) as resp:
        assert resp.status == 200
    try:
        ready(f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow
def test_one_process_serves_slack_and_teams_and_routes_each_person_to_their_platform(
        both: str, api: SlackStandIn, connector: BotConnectorStandIn, org: Org, engine: sa.Engine) -> None:
    driver = TeamsDriver(base_url=both, connector=connector, org=org)
    assert driver.post(driver.activity("U0NPP1", "installationUpdate", action="add"), token=None)[0] == 401
    assert driver.install("U0SMGR") == 200  # the receiving manager uses Teams now
    connector.wait_for(lambda: conversations.of_person(engine, "U0SMGR"))
    slack = SlackDriver(base_url=both, api=api)
    status, _ = slack.command("U0NPP1", "help")
    assert status == 200
    assert driver.say("U0NPP1", "transfer help") == 200  # the practitioner is still on Slack
    from bot import services

    with build(Settings(DATABASE_URL=str(engine.url)), org=org, engine=engine).uow() as u:
        services.raise_transfer(u, org, "U0NPP1", services.RaiseRequest(case_ref="X123456",
                                                                        receiving_team="pdu-south"), NOW)
    # The served process delivers (its delivery thread looks every few seconds): the manager's
    # card on Teams, the team's channel on Slack, and nothing for the manager on Slack.
    chat = connector.wait_for(lambda: connector.chat_of(driver.members["U0SMGR"].id), timeout=20)
    connector.wait_for(lambda: any("X123456" in card_text(card_of(a) or {}) for a in connector.sent(chat.id)),
                       timeout=20)
    wait(api, lambda: api.messages("C0SOUTH"), timeout=20)
    assert not api.messages("U0SMGR")


def test_the_insecure_development_switch_refuses_production_settings(
        connector: BotConnectorStandIn, engine: sa.Engine, teams_demo_org: Org) -> None:
    from datetime import datetime

    settings = Settings(DATABASE_URL=str(engine.url), BATON_TEAMS_DEV_INSECURE_NO_AUTH=True,
                        MICROSOFT_APP_ID=connector.app_id, MICROSOFT_APP_PASSWORD=connector.password,
                        TEAMS_TOKEN_URL=connector.token_url, TEAMS_SERVICE_URL=connector.service_url)
    b = build(settings, org=teams_demo_org, engine=engine)
    with pytest.raises(SystemExit, match="development only"):
        teams(b, lambda: datetime.now(), background=False)


@pytest.mark.parametrize("wiring", ["sweep", "serve"])
def test_with_both_platforms_a_slack_429_goes_back_to_the_outbox_and_no_thread_sleeps(
        wiring: str, api: SlackStandIn, connector: BotConnectorStandIn, engine: sa.Engine, org: Org) -> None:
    """Slack and Teams configured together (``baton sweep``'s delivery, and ``baton serve``'s):
    a Slack 429 with Retry-After 60 comes straight back; the row waits 60 s in the outbox and
    Slack was asked once (a client waiting out Retry-After would ask again a minute later)."""
    from datetime import timedelta

    from sqlmodel import col

    from handlers.bootstrap import delivery_for, serve_platforms
    from store.models import NotificationRow

    settings = Settings(DATABASE_URL=str(engine.url), SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
                        SLACK_API_URL=api.api_url, MICROSOFT_APP_ID=connector.app_id,
                        MICROSOFT_APP_PASSWORD=connector.password, MICROSOFT_APP_TENANT_ID=connector.tenant,
                        TEAMS_OPENID_METADATA=connector.openid_metadata_url,
                        TEAMS_TOKEN_URL=connector.token_url, TEAMS_SERVICE_URL=connector.service_url)
    b = build(settings, org=org, engine=engine)
    served = None
    if wiring == "serve":
        served = serve_platforms(b, lambda: NOW, idle=3600)
        delivery = served.delivery
    else:
        found = delivery_for(b, lambda: NOW)
        assert found is not None
        delivery = found
    try:
        if served is not None and served.slack is not None:
            served.slack.deliverer.stop()  # this test delivers by hand, on its own clock
        with b.uow() as u:  # a reminder for the practitioner, who has no Teams chat: sent on Slack
            u.add_notification(key="n1", transfer_id=None, kind="item", recipient="U0NPP1",
                               payload={"case_ref": "X000001", "transfer_id": None, "clock": "resolution",
                                        "step": "remind", "text": "Transfer resolved: reminder.",
                                        "button": None}, not_before=NOW, now=NOW)
            u.commit()
        api.fail_next("chat.postMessage", status=429, retry_after=60)
        assert delivery.deliver(NOW) == 0
        assert [c.status for c in api.calls_to("chat.postMessage")] == [429]
        with engine.connect() as c:
            r = c.execute(sa.select(NotificationRow).where(col(NotificationRow.key) == "n1")).one()
        assert (r.status, r.last_error) == ("pending", "ratelimited")
        assert NOW + timedelta(seconds=60) <= r.not_before < NOW + timedelta(seconds=62)
        assert delivery.deliver(NOW + timedelta(seconds=61)) == 1
        assert len(api.messages("U0NPP1")) == 1
    finally:
        if served is not None:
            served.stop()
