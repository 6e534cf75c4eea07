"""The real Bolt app over HTTP, against the Web API stand-in and the test database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from bot.org import Org
from handlers.app import Deps, build_app
from handlers.metrics import metrics_for
from handlers.server import serve_in_thread, wsgi_app
from sandbox.slack_api import SlackStandIn
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
def slack(api: SlackStandIn, engine: sa.Engine, org: Org, clock: Clock,
          uow: Callable[[], SqlUnitOfWork]) -> Iterator[SlackDriver]:
    """Baton's Slack app served over HTTP; the driver sends it signed requests."""
    app = build_app(Deps(org=org, uow=uow, engine=engine, clock=clock), token=TOKEN,
                    signing_secret=SECRET, api_url=api.api_url)
    server, url = serve_in_thread(wsgi_app(app, metrics=metrics_for(engine)))
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
