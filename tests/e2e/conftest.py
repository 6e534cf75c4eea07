"""The real Bolt app over HTTP, against the Web API stand-in and the test database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from bot.bootstrap import SlackRuntime, build
from bot.bootstrap import slack as slack_runtime
from bot.org import Org
from bot.settings import Settings
from handlers.metrics import metrics_for
from handlers.server import serve_in_thread, wsgi_app
from sandbox.slack_api import SlackStandIn
from store.db import reachable
from store.repo import SqlUnitOfWork
from tests.conftest import NOW
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
