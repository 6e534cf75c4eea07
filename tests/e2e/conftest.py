"""The real Bolt app over HTTP, against the Web API stand-in and the test database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from bot.org import Org
from bot.settings import Settings
from handlers.bootstrap import SlackRuntime, TeamsRuntime, build, teams_chat
from handlers.bootstrap import slack as slack_runtime
from handlers.bootstrap import teams as teams_runtime_for
from handlers.metrics import metrics_for
from handlers.server import serve_in_thread, wsgi_app
from sandbox.slack_api import SlackStandIn
from sandbox.teams.driver import TeamsDriver, teams_org
from sandbox.teams.standin import BotConnectorStandIn
from store.db import reachable
from store.repo import SqlUnitOfWork
from tests.conftest import NOW
from tests.e2e.platforms import ChatSide, SlackSide, TeamsSide
from tests.e2e.slack import SECRET, TOKEN, Clock, SlackDriver


@pytest.fixture
def api() -> Iterator[SlackStandIn]:
    """A fresh Web API stand-in on a free port."""
    with SlackStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def clock() -> Clock:
    """The app's clock, starting Monday 23 November 2026 10:00 UTC."""
    return Clock(NOW)


@pytest.fixture
def runtime(api: SlackStandIn, engine: sa.Engine, org: Org, clock: Clock,
            uow: Callable[[], SqlUnitOfWork]) -> Iterator[SlackRuntime]:
    """Baton on Slack (Bolt app and delivery thread) against the stand-in and the test database."""
    baton = build(Settings(DATABASE_URL=str(engine.url)), org=org, engine=engine)
    rt = slack_runtime(baton, clock, token=TOKEN, signing_secret=SECRET, api_url=api.api_url,
                       idle=0.2)  # tests also write through services directly, waking nothing
    yield rt
    rt.stop()


@pytest.fixture
def slack(api: SlackStandIn, engine: sa.Engine, runtime: SlackRuntime) -> Iterator[SlackDriver]:
    """Baton's Slack app served over HTTP; the driver sends it signed requests."""
    server, url = serve_in_thread(wsgi_app(runtime.bolt, metrics=metrics_for(engine),
                                           ready=lambda: reachable(engine)))
    yield SlackDriver(base_url=url, api=api)
    server.shutdown()
    server.server_close()


def texts(blocks: list[dict[str, Any]] | None) -> str:
    """All text in a list of blocks, flattened, for assertions."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "text" and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    walk(blocks or [])
    return "\n".join(out)


# ---- Microsoft Teams: the same app over the Bot Connector stand-in --------------------------------
@pytest.fixture
def connector() -> Iterator[BotConnectorStandIn]:
    """A fresh Bot Connector stand-in (token endpoint, OpenID metadata, conversations)."""
    with BotConnectorStandIn() as stand_in:
        yield stand_in


@pytest.fixture(scope="session")
def teams_demo_org(org: Org) -> Org:
    """The demo org on Teams: every team's and level's channel a Teams channel."""
    return teams_org(org)


@pytest.fixture
def naps() -> list[float]:
    """Backoff waits the Teams client asked for (recorded, never slept)."""
    return []


@pytest.fixture
def teams_runtime(connector: BotConnectorStandIn, engine: sa.Engine, teams_demo_org: Org, clock: Clock,
                  naps: list[float]) -> Iterator[TeamsRuntime]:
    """Baton on Teams (activity handler and delivery thread) against the stand-in and the test database."""
    baton = build(Settings(DATABASE_URL=str(engine.url)), org=teams_demo_org, engine=engine)
    chat = teams_chat(baton, clock, app_id=connector.app_id, password=connector.password,
                      token_url=connector.token_url, service_url=connector.service_url, sleep=naps.append)
    rt = teams_runtime_for(baton, clock, chat=chat, openid_metadata=connector.openid_metadata_url, idle=0.2)
    yield rt
    rt.stop()


@pytest.fixture
def teams(connector: BotConnectorStandIn, engine: sa.Engine, teams_runtime: TeamsRuntime,
          teams_demo_org: Org) -> Iterator[TeamsDriver]:
    """Baton's Teams app served over HTTP beside Slack's routes; the driver sends it signed activities."""
    server, url = serve_in_thread(wsgi_app(None, teams=teams_runtime.app, ready=lambda: reachable(engine)))
    yield TeamsDriver(base_url=url, connector=connector, org=teams_demo_org)
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["slack", "teams"])
def chat(request: pytest.FixtureRequest, org: Org) -> ChatSide:
    """The same person-level driver on Slack, then on Teams (each against its stand-in)."""
    if request.param == "slack":
        return SlackSide(request.getfixturevalue("slack"), org)
    return TeamsSide(request.getfixturevalue("teams"), request.getfixturevalue("teams_demo_org"))
