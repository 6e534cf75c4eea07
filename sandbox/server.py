"""``baton sandbox``: Baton in HTTP mode against the local Slack stand-in, with a page to drive it.

One process runs three small servers on 127.0.0.1:

* the Web API stand-in (:class:`sandbox.slack_api.SlackStandIn`), which the bot calls through
  its ``api_url`` exactly as it would call Slack;
* the bot itself (``handlers.slack.app.build_app`` behind ``handlers.server.wsgi_app``), on SQLite;
* the page and its JSON endpoints (this module), at the address people open.

The page never talks to the bot. It asks this module to act for the chosen persona; the
Python side builds Slack's payload, issues trigger ids and response URLs from the stand-in,
signs the request with the signing secret and POSTs it to ``/slack/events`` through
:class:`sandbox.driver.SlackDriver`, the same code the end-to-end tests use.

Time is the sandbox's :class:`SandboxClock`: it stands still until someone moves it forward
by working days; each move runs the scheduler's sweep at the new moment.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from bot.calendar import calendar_for
from bot.org import Org, load_org
from sandbox.driver import SlackDriver
from sandbox.slack_api import SlackStandIn

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer
    from wsgiref.types import StartResponse, WSGIEnvironment

    import sqlalchemy as sa
    from slack_bolt import App

    from handlers.bootstrap import SlackRuntime
    from sandbox.teams.page import TeamsSandbox

log = logging.getLogger("baton.sandbox")

STATIC = Path(__file__).resolve().parent / "static"
LONDON = ZoneInfo("Europe/London")
DAY_STARTS = time(10, 0)  # each move of the clock lands at 10:00 London time
MAX_ADVANCE = 60  # working days in one move
MAX_BODY = 256 * 1024

FEATURED = ("U0NPP1", "U0NMGR", "U0SMGR", "U0SPP1", "U0RFSW1", "U0RCMGR", "U0HOS", "U0SMT1")
"""Demo-org people listed first in their group: the ones the README's walk-through uses."""

PACK_GROUPS = {"probation": "Probation Service", "rochdale": "Rochdale", "bury": "Bury",
               "leicestershire": "Leicestershire", "council-s2": "Council (S2 transfer points)"}
LEVEL_LABELS = {"smt": "SMT member", "head_of_service": "Head of service",
                "assistant_director": "Assistant director", "strategic_lead": "Strategic lead",
                "service_manager": "Service manager", "group_manager": "Group manager",
                "senior_leadership_team": "Senior leadership team member"}
ESCALATION_GROUP = "Escalation contacts"
_STATIC_NAME = re.compile(r"^[a-z0-9-]+\.(?:html|js|css|png|svg)$")


class SandboxError(ValueError):
    """A request the page made that cannot be carried out (answered 4xx with the message)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------- clock


class SandboxClock:
    """The sandbox's 'now': stands still until moved forward by working days."""

    def __init__(self, start: datetime, region: str = "ENG",
                 closures: Mapping[date, str] | None = None) -> None:
        """Start at ``start`` (naive means UTC), counting working days in ``region`` less the
        org's ``closures``."""
        self._now = (start if start.tzinfo else start.replace(tzinfo=UTC)).astimezone(UTC)
        self._calendar = calendar_for(region, closures)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        """The current sandbox moment (UTC)."""
        with self._lock:
            return self._now

    def advance(self, working_days: int) -> datetime:
        """Move to 10:00 London time ``working_days`` working days after today; returns the new now."""
        if not 1 <= working_days <= MAX_ADVANCE:
            raise SandboxError(f"advance by 1 to {MAX_ADVANCE} working days, not {working_days}")
        with self._lock:
            today = self._now.astimezone(LONDON).date()
            day = self._calendar.add_working_days(today, working_days)
            self._now = datetime.combine(day, DAY_STARTS, LONDON).astimezone(UTC)
            return self._now

    def describe(self) -> dict[str, Any]:
        """The clock for the page: ISO moment and a readable London-time label."""
        now = self()
        local = now.astimezone(LONDON)
        return {"now": now.isoformat(), "local": local.isoformat(),
                "label": f"{local:%a %d %b %Y, %H:%M} {local.tzname()}",
                "region": self._calendar.region}


# --------------------------------------------------------------------------- personas


@dataclass(frozen=True)
class Persona:
    """Someone the page can act as: a Slack user id and what they are in the org (never a name)."""

    id: str
    label: str
    group: str


def personas(org: Org) -> list[Persona]:
    """Everyone in the org file, grouped by policy pack (escalation contacts last), featured first."""
    found: dict[str, Persona] = {}
    for team in org.teams:
        group = PACK_GROUPS.get(org.pack_for(team.id).name, org.pack_for(team.id).title)
        buddy_of = [t.name for t in org.teams if t.buddy == team.id]
        buddy = f" (buddy of {', '.join(buddy_of)})" if buddy_of else ""
        for user in team.managers:
            found.setdefault(user, Persona(user, f"Manager, {team.name}{buddy}", group))
        for user in team.members:
            found.setdefault(user, Persona(user, f"Practitioner, {team.name}", group))
        for user in team.service_representatives:  # Rochdale: complete the allocation if need be
            found.setdefault(user, Persona(user, f"Service representative, {team.name}", group))
    contacts = [(lv, c) for lv, c in org.escalation.items()]
    contacts += [(lv, c) for t in org.teams for lv, c in t.escalation.items()]
    for level, contact in contacts:
        label = LEVEL_LABELS.get(level, level.replace("_", " ").capitalize())
        for user in contact.users:
            found.setdefault(user, Persona(user, label, ESCALATION_GROUP))
    groups = list(dict.fromkeys([*(p.group for p in found.values() if p.group != ESCALATION_GROUP),
                                 ESCALATION_GROUP]))
    order = list(found)

    def key(p: Persona) -> tuple[int, int, int]:
        featured = FEATURED.index(p.id) if p.id in FEATURED else len(FEATURED)
        return groups.index(p.group), featured, order.index(p.id)

    return sorted(found.values(), key=key)


def _channel_names(org: Org) -> dict[str, tuple[str, str]]:
    """Channel id -> (Slack channel name, description) for team and escalation channels."""
    out: dict[str, tuple[str, str]] = {}
    for team in org.teams:
        if team.channel:
            out.setdefault(team.channel, (team.id, team.name))
    contacts = [*org.escalation.items(), *(kv for t in org.teams for kv in t.escalation.items())]
    for level, contact in contacts:
        if contact.channel:
            label = LEVEL_LABELS.get(level, level.replace("_", " ").capitalize())
            out.setdefault(contact.channel, (level.replace("_", "-"), f"Escalation: {label}"))
    return out


# --------------------------------------------------------------------------- the sandbox


def _database_url(database: str | None, tmp: Path) -> str:
    if not database:
        return f"sqlite:///{tmp / 'baton-sandbox.db'}"
    return database if "://" in database else f"sqlite:///{Path(database).resolve()}"


class Sandbox:
    """The stand-in, the bot and the page, wired together; ``start()`` then ``url``."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, database: str | None = None,
                 start: datetime | None = None, org: Org | None = None) -> None:
        """Configure; nothing runs until start(). ``database`` is a SQLite path or URL (default: temp)."""
        self.org = org or load_org()
        self.clock = SandboxClock(start or datetime.now(UTC), self.org.region,
                                  self.org.closure_days())
        self.host = host
        self.port = port
        self.database = database
        self.token = f"xoxb-sandbox-{secrets.token_hex(12)}"
        self.signing_secret = secrets.token_hex(16)
        self.personas = personas(self.org)
        self._people = {p.id for p in self.personas}
        self._channels = _channel_names(self.org)
        self._tmp: Path | None = None
        self._servers: list[WSGIServer] = []
        self._advance_lock = threading.Lock()
        self.last_sweep: dict[str, Any] | None = None
        self.api: SlackStandIn
        self.driver: SlackDriver
        self.engine: sa.Engine
        self.bolt: App
        self.runtime: SlackRuntime
        self.teams: TeamsSandbox | None = None  # the page's Teams mode, at /teams
        self._teams_tmp: Path | None = None
        self.url = ""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Sandbox:
        """Start the stand-in, migrate the database, serve the bot and the page; returns self."""
        from bot.settings import Settings
        from handlers.bootstrap import build, slack
        from handlers.server import serve_in_thread, wsgi_app
        from store.db import make_engine, upgrade

        if not self.database:
            self._tmp = Path(tempfile.mkdtemp(prefix="baton-sandbox-"))
        url = _database_url(self.database, self._tmp or Path("."))
        try:
            self.api = SlackStandIn(tokens={self.token}).start()
            for channel, (name, _) in self._channels.items():
                self.api.add_channel(channel, name)
            upgrade(url)
            engine = make_engine(url)
            self.engine = engine
            baton = build(Settings(DATABASE_URL=url), org=self.org, engine=engine)
            self.runtime = slack(baton, self.clock, token=self.token,
                                 signing_secret=self.signing_secret, api_url=self.api.api_url)
            self.bolt = self.runtime.bolt
            bot_server, bot_url = serve_in_thread(wsgi_app(self.bolt))
            self._servers.append(bot_server)
            self.driver = SlackDriver(base_url=bot_url, api=self.api, secret=self.signing_secret,
                                      team=self.api.team_id, token=self.token)
            from sandbox.teams.page import TeamsSandbox

            self._teams_tmp = Path(tempfile.mkdtemp(prefix="baton-sandbox-teams-"))
            self.teams = TeamsSandbox(self.org, self.clock, f"sqlite:///{self._teams_tmp / 'teams.db'}",
                                      self.personas).start(serve_in_thread)
            page_server, self.url = serve_in_thread(self.wsgi, host=self.host, port=self.port)
            self._servers.append(page_server)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every server, close the database and remove the temporary directory (idempotent)."""
        runtime = getattr(self, "runtime", None)
        if runtime is not None:
            runtime.stop()
        teams = getattr(self, "teams", None)
        if teams is not None:
            teams.stop()
            self.teams = None
        teams_tmp = getattr(self, "_teams_tmp", None)
        if teams_tmp is not None:
            shutil.rmtree(teams_tmp, ignore_errors=True)
            self._teams_tmp = None
        for server in reversed(self._servers):
            server.shutdown()
            server.server_close()
        self._servers.clear()
        if hasattr(self, "api"):
            self.api.stop()
        if hasattr(self, "engine"):
            self.engine.dispose()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Sandbox:
        """Start and return self."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop."""
        self.stop()

    # ------------------------------------------------------------------ what the page can do

    def state(self) -> dict[str, Any]:
        """Everything the page shows: the stand-in's state, personas, conversations, the clock."""
        return {
            "clock": self.clock.describe(),
            "personas": [asdict(p) for p in self.personas],
            "channels": [{"id": cid, "name": name, "description": desc}
                         for cid, (name, desc) in self._channels.items()],
            "last_sweep": self.last_sweep,
            "slack": self.api.snapshot(),
        }

    def _user(self, body: dict[str, Any]) -> str:
        user = body.get("user")
        if not isinstance(user, str) or user not in self._people:
            raise SandboxError(f"unknown persona {user!r}")
        return user

    def _channel(self, body: dict[str, Any], user: str) -> str:
        channel = body.get("channel")
        if channel == self.api.dm_channel_for(user) or channel in self._channels:
            return str(channel)
        raise SandboxError(f"unknown conversation {channel!r}")

    @staticmethod
    def _text(body: dict[str, Any], key: str, limit: int = 4000) -> str:
        value = body.get(key)
        if not isinstance(value, str) or len(value) > limit:
            raise SandboxError(f"{key} must be text of at most {limit} characters")
        return value

    def command(self, body: dict[str, Any]) -> dict[str, Any]:
        """The persona typed a slash command in a conversation: Slack's signed command request."""
        user = self._user(body)
        channel = self._channel(body, user)
        text = self._text(body, "text").strip()
        name, _, rest = text.partition(" ")
        if name != "/transfer":
            raise SandboxError(f"{name or 'That'} is not a command here: this workspace has /transfer only.")
        status, answer = self.driver.command(user, rest.strip(), channel=channel)
        return {"status": status, "answer": answer}

    def message(self, body: dict[str, Any]) -> dict[str, Any]:
        """The persona posted a plain message (escaped as Slack stores it; Baton does not listen)."""
        user = self._user(body)
        channel = self._channel(body, user)
        text = self._text(body, "text").strip()
        if not text:
            raise SandboxError("type something first")
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        msg = self.api.add_message(channel, user=user, text=escaped)
        return {"ts": msg.ts}

    def action(self, body: dict[str, Any]) -> dict[str, Any]:
        """The persona pressed a button in a message or in their App Home."""
        user = self._user(body)
        action_id = self._text(body, "action_id", 255)
        value = self._text(body, "value", 2000)
        block_id = self._text(body, "block_id", 255) if body.get("block_id") else "b"
        label = body.get("label") if isinstance(body.get("label"), str) else None
        element = body.get("element") or "button"  # an overflow menu's option, or a select's
        if element not in ("button", "overflow", "static_select"):
            raise SandboxError("element must be button, overflow or static_select", 400)
        view_id = body.get("view_id")
        if view_id:
            view = self.api.view(str(view_id))
            if view is None or view.user != user:
                raise SandboxError("that view is no longer open", 409)
            status, answer = self.driver.press(user, action_id, value, block_id=block_id,
                                               view_id=view.id, text=label, element=element)
        else:
            channel = self._channel(body, user)
            ts = body.get("message_ts")
            status, answer = self.driver.press(user, action_id, value, channel=channel, block_id=block_id,
                                               message_ts=str(ts) if ts else None, text=label,
                                               element=element)
        return {"status": status, "answer": answer}

    def choose(self, body: dict[str, Any]) -> dict[str, Any]:
        """The persona chose an option of a select that dispatches its action, in their top modal."""
        user = self._user(body)
        stack = self.api.modal_stack(user)
        if not stack or stack[-1].id != body.get("view_id"):
            raise SandboxError("that form is no longer open", 409)
        block_id, action_id = self._text(body, "block_id", 255), self._text(body, "action_id", 255)
        value = self._text(body, "value", 150)
        status, _ = self.driver.choose(user, stack[-1].id, block_id, action_id, value)
        return {"status": status}

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        """The persona pressed Submit on their top modal; returns the bot's field errors, if any."""
        user = self._user(body)
        values = body.get("values")
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            raise SandboxError("values must be {block_id: {action_id: state}}")
        stack = self.api.modal_stack(user)
        if not stack or stack[-1].id != body.get("view_id"):
            raise SandboxError("that form is no longer open", 409)
        status, answer = self.driver.submit_state(user, values, view_id=stack[-1].id)
        errors = answer.get("errors") if answer.get("response_action") == "errors" else None
        return {"status": status, "errors": errors or {}}

    def cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        """The persona pressed Cancel: the top modal closes (view_closed is sent if the view asked)."""
        user = self._user(body)
        stack = self.api.modal_stack(user)
        if not stack or stack[-1].id != body.get("view_id"):
            raise SandboxError("that form is no longer open", 409)
        view = stack[-1]
        self.api.pop_modal(user)
        if view.payload.get("notify_on_close"):
            self.driver.post("payload=" + quote_plus(json.dumps({
                "type": "view_closed", "team": {"id": self.api.team_id}, "user": {"id": user},
                "api_app_id": self.api.app_id, "view": view.payload, "is_cleared": False})))
        return {"closed": view.id}

    def close_forms(self, body: dict[str, Any]) -> dict[str, Any]:
        """The page switched away from a persona: every form they had open closes, as it would
        when that person left Slack (view_closed is sent for views that asked)."""
        user = self._user(body)
        closed = self.api.clear_modals(user)
        for view in reversed(closed):
            if view.payload.get("notify_on_close"):
                self.driver.post("payload=" + quote_plus(json.dumps({
                    "type": "view_closed", "team": {"id": self.api.team_id}, "user": {"id": user},
                    "api_app_id": self.api.app_id, "view": view.payload, "is_cleared": True})))
        return {"closed": [v.id for v in closed]}

    def open_home(self, body: dict[str, Any]) -> dict[str, Any]:
        """The persona opened the App Home tab: a signed app_home_opened event."""
        user = self._user(body)
        status, _ = self.driver.open_home(user)
        return {"status": status}

    def advance(self, body: dict[str, Any]) -> dict[str, Any]:
        """Move the clock ("next", 5 or 20 working days) and run the scheduler's sweep at the new now."""
        raw = body.get("advance")
        if raw == "next":
            days = 1
        elif isinstance(raw, int) and not isinstance(raw, bool):
            days = raw
        else:
            raise SandboxError('advance must be "next" or a number of working days')
        teams_sweep: dict[str, Any] | None = None
        with self._advance_lock:
            now = self.clock.advance(days)
            self.last_sweep = self.sweep(now)
            if self.teams is not None:  # the Teams world runs on the same clock
                from scheduler.sweep import tick

                counts = tick(self.teams.engine, self.teams.org, self.teams.runtime.delivery, now,
                              weekly=(0, time(9, 0)))  # the weekly digest, as on Slack
                teams_sweep = {"at": now.isoformat(), "counts": counts}
        return {"clock": self.clock.describe(), "sweep": self.last_sweep, "teams_sweep": teams_sweep}

    def sweep(self, now: datetime) -> dict[str, Any]:
        """One scheduler sweep at ``now``: reminders, breaches and escalations, then delivery."""
        from scheduler.sweep import tick

        return {"at": now.isoformat(), "counts": tick(self.engine, self.org, self.runtime.delivery, now,
                                                           weekly=(0, time(9, 0)))}

    # ------------------------------------------------------------------ HTTP

    def _file(self, start_response: StartResponse, file_id: str) -> Iterable[bytes]:
        """An uploaded file (the weekly digest's chart), so the page can show it."""
        f = self.api.files.get(file_id)
        if f is None or not f.content:
            raise SandboxError("not found", 404)
        kind = "image/png" if f.content[:4] == b"\x89PNG" else "application/octet-stream"
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(f.content)))])
        return [f.content]

    _POSTS = {"/api/command": "command", "/api/message": "message", "/api/action": "action",
              "/api/submit": "submit", "/api/cancel": "cancel", "/api/close_forms": "close_forms",
              "/api/choose": "choose",
              "/api/home": "open_home",
              "/api/clock": "advance"}

    def _teams(self, environ: WSGIEnvironment, start_response: StartResponse, method: str,
               path: str) -> Iterable[bytes]:
        return _teams_reply(self, environ, start_response, method, path)

    def wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The page, its static files and its JSON endpoints."""
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        try:
            if path == "/teams" or path.startswith("/teams/"):
                return self._teams(environ, start_response, method, path[len("/teams"):])
            if method == "GET" and path in ("/", "/index.html"):
                return _file(start_response, STATIC / "index.html")
            if method == "GET" and path.startswith("/static/"):
                name = path[len("/static/"):]
                if not _STATIC_NAME.match(name) or not (STATIC / name).is_file():
                    raise SandboxError("not found", 404)
                return _file(start_response, STATIC / name)
            if method == "GET" and path.startswith("/files/"):
                return self._file(start_response, path[len("/files/"):])
            if method == "GET" and path == "/api/state":
                return _json(start_response, self.state())
            if path in self._POSTS:
                if method != "POST":
                    raise SandboxError("use POST", 405)
                return _json(start_response, getattr(self, self._POSTS[path])(_read_json(environ)))
            raise SandboxError("not found", 404)
        except SandboxError as exc:
            return _json(start_response, {"error": str(exc)}, exc.status)
        except Exception as exc:
            log.exception("sandbox: %s %s failed", method, path)
            return _json(start_response, {"error": f"the sandbox failed: {type(exc).__name__}: {exc}"}, 500)


def _teams_reply(sandbox: Sandbox, environ: WSGIEnvironment, start_response: StartResponse, method: str,
                 path: str) -> Iterable[bytes]:
    """A request for the page's Teams mode (sandbox/teams/page.py)."""
    from sandbox.teams.page import TeamsSandboxError

    if sandbox.teams is None:
        return _json(start_response, {"error": "the Teams mode is not running"}, 404)
    try:
        status, kind, data = sandbox.teams.wsgi(method, path, environ.get("QUERY_STRING", ""),
                                                lambda: _read_json(environ))
    except TeamsSandboxError as exc:
        return _json(start_response, {"error": str(exc)}, exc.status)
    start_response(_STATUS.get(status, f"{status} Error"),
                   [("Content-Type", kind), ("Content-Length", str(len(data))), *_SECURITY_HEADERS])
    return [data]


def _read_json(environ: WSGIEnvironment) -> dict[str, Any]:
    """The request's JSON object; only application/json, so other sites' forms cannot post here."""
    if not str(environ.get("CONTENT_TYPE", "")).startswith("application/json"):
        raise SandboxError("send application/json", 415)
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        raise SandboxError("request too large", 413)
    try:
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SandboxError("the body is not JSON") from None
    if not isinstance(body, dict):
        raise SandboxError("the body must be a JSON object")
    return body


_SECURITY_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'self'; img-src 'self' data: http://127.0.0.1:*; "
                                "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
]
_STATUS = {200: "200 OK", 400: "400 Bad Request", 404: "404 Not Found", 405: "405 Method Not Allowed",
           409: "409 Conflict", 413: "413 Payload Too Large", 415: "415 Unsupported Media Type",
           500: "500 Internal Server Error"}


def _json(start_response: StartResponse, payload: Any, status: int = 200) -> list[bytes]:
    data = json.dumps(payload, default=str).encode()
    start_response(_STATUS.get(status, f"{status} Error"),
                   [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(data))),
                    *_SECURITY_HEADERS])
    return [data]


def _file(start_response: StartResponse, path: Path) -> list[bytes]:
    data = path.read_bytes()
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind.endswith("javascript"):
        kind += "; charset=utf-8"
    start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(data))), *_SECURITY_HEADERS])
    return [data]


def run(*, host: str, port: int, database: str | None, start: datetime) -> None:
    """Start the sandbox, print its address and serve until interrupted (Ctrl-C)."""
    sandbox = Sandbox(host=host, port=port, database=database, start=start).start()
    try:
        print(f"Baton sandbox: {sandbox.url}", flush=True)
        print(f"  clock {sandbox.clock.describe()['label']}; Ctrl-C stops it.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
