"""The sandbox's Teams mode (the page at /teams): the demo org on Teams, the Bot Connector
stand-in, Baton's Teams app, and a page that renders Baton's cards with Microsoft's Adaptive
Cards renderer (the ``adaptivecards`` npm package, installed by ``make install`` into
sandbox/teams/web and served from this machine).

Everything a persona does reaches the bot as Teams would send it: signed activities to
/api/messages (typed text, Action.Execute invokes); the page shows what the bot sent through the
stand-in (each persona's 1:1 chat, the team channels) and, for the persona who pressed a button,
the card the invoke answered with, as Teams shows it to them only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.org import Org
from sandbox.teams.driver import TeamsDriver, teams_org
from sandbox.teams.standin import BotConnectorStandIn

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
RENDERER = HERE / "web" / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.min.js"
_NAME = re.compile(r"^[a-z]+\.(js|css|html)$")
SENIOR_NAMES = {"smt": "Senior management team", "head_of_service": "Head of service"}


class TeamsSandboxError(Exception):
    """A request the Teams page cannot serve: its message and HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class TeamsSandbox:
    """The demo org on Teams, in its own database beside the Slack sandbox's, on the same clock."""

    def __init__(self, org: Org, clock: Callable[[], datetime], database_url: str,
                 personas: list[Any]) -> None:
        self.org = teams_org(org)
        self.clock = clock
        self.database_url = database_url
        self.personas = personas
        self._people = {p.id for p in personas}
        self.connector: BotConnectorStandIn
        self.driver: TeamsDriver
        self.runtime: Any
        self.engine: sa.Engine

    def start(self, serve: Callable[[Any], tuple[Any, str]]) -> TeamsSandbox:
        """Start the stand-in and Baton's Teams app (served by ``serve``)."""
        from bot.settings import Settings
        from handlers.bootstrap import build, teams, teams_chat
        from handlers.server import wsgi_app
        from store.db import make_engine, upgrade

        self.connector = BotConnectorStandIn().start()
        upgrade(self.database_url)
        self.engine = make_engine(self.database_url)
        b = build(Settings(DATABASE_URL=self.database_url), org=self.org, engine=self.engine)
        c = self.connector
        chat = teams_chat(b, self.clock, app_id=c.app_id, password=c.password, token_url=c.token_url,
                          service_url=c.service_url)
        self.runtime = teams(b, self.clock, chat=chat, openid_metadata=c.openid_metadata_url, idle=1.0)
        self.server, url = serve(wsgi_app(None, teams=self.runtime.app))
        self.driver = TeamsDriver(base_url=url, connector=c, org=self.org)
        return self

    def stop(self) -> None:
        """Stop the bot, its server and the stand-in."""
        if hasattr(self, "runtime"):
            self.runtime.stop()
        if hasattr(self, "server"):
            self.server.shutdown()
            self.server.server_close()
        if hasattr(self, "connector"):
            self.connector.stop()
        if hasattr(self, "engine"):
            self.engine.dispose()

    # ---- what the page can do ----------------------------------------------------------------
    def _user(self, body: dict[str, Any]) -> str:
        user = body.get("user")
        if not isinstance(user, str) or user not in self._people or user not in self.driver.members:
            raise TeamsSandboxError(f"unknown persona {user!r}")
        return user

    def state(self, user: str | None) -> dict[str, Any]:
        """Personas, the persona's 1:1 chat and the team channels, as the stand-in holds them."""
        chats = self.driver.chat(user) if user in self.driver.members else []
        channels = [{"id": t.teams_channel, "name": t.name,
                     "activities": self.connector.sent(t.teams_channel or "")} for t in self.org.teams]
        channels += [{"id": cid, "name": name, "activities": self.connector.sent(cid)}
                     for cid, name in self.senior_channels().items()]
        return {"personas": [asdict(p) for p in self.personas], "chat": chats,
                "channels": [c for c in channels if c["activities"]]}

    def senior_channels(self) -> dict[str, str]:
        """The escalation levels' Teams channels (senior management, head of service), each once,
        named for the first level that posts there: where escalations and the weekly digest go."""
        out: dict[str, str] = {}
        for level, contact in self.org.escalation.items():
            if contact.teams_channel and contact.teams_channel not in out:
                out[contact.teams_channel] = SENIOR_NAMES.get(level, level.replace("_", " ").capitalize())
        return out

    def say(self, body: dict[str, Any]) -> dict[str, Any]:
        """The persona typed in their 1:1 chat with Baton."""
        user = self._user(body)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > 500:
            raise TeamsSandboxError("text must be 1 to 500 characters")
        if self.connector.chat_of(self.driver.members[user].id) is None:
            self.driver.install(user)  # first use: the persona adds Baton, as Teams does
        return {"status": self.driver.say(user, text)}

    def execute(self, body: dict[str, Any]) -> dict[str, Any]:
        """The persona pressed an Action.Execute button: the card the invoke answered with."""
        user = self._user(body)
        verb, data = body.get("verb"), body.get("data")
        if not isinstance(verb, str) or len(verb) > 100 or not isinstance(data, dict):
            raise TeamsSandboxError("verb must be text and data an object")
        return {"card": self.driver.execute(user, verb, data)}

    def wsgi(self, method: str, path: str, query: str, read: Callable[[], dict[str, Any]]
             ) -> tuple[int, str, bytes]:
        """(status, content type, body) for a request under /teams."""
        import json
        from urllib.parse import parse_qs

        if method == "GET" and path in ("", "/"):
            return 200, "text/html; charset=utf-8", (STATIC / "index.html").read_bytes()
        if method == "GET" and path == "/static/adaptivecards.js":
            if not RENDERER.exists():
                raise TeamsSandboxError("the Adaptive Cards renderer is not installed: run `make install`",
                                        404)
            return 200, "text/javascript; charset=utf-8", RENDERER.read_bytes()
        if method == "GET" and path.startswith("/static/"):
            name = path[len("/static/"):]
            if not _NAME.match(name) or not (STATIC / name).is_file():
                raise TeamsSandboxError("not found", 404)
            kind = {"js": "text/javascript", "css": "text/css", "html": "text/html"}[name.rsplit(".", 1)[1]]
            return 200, f"{kind}; charset=utf-8", (STATIC / name).read_bytes()
        if method == "GET" and path == "/api/state":
            user = (parse_qs(query).get("user") or [""])[0] or None
            return 200, "application/json", json.dumps(self.state(user)).encode()
        if method == "POST" and path in ("/api/say", "/api/execute"):
            answer = self.say(read()) if path == "/api/say" else self.execute(read())
            return 200, "application/json", json.dumps(answer).encode()
        raise TeamsSandboxError("not found", 404)
