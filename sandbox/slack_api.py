"""Local stand-in for Slack's Web API, for end-to-end tests and the browser sandbox.

Point a real ``slack_sdk.WebClient`` at it::

    with SlackStandIn() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        client.chat_postMessage(channel="C0TEAM", text="hello")
        assert slack.messages("C0TEAM")[0].text == "hello"

Only the standard library is used: a ``ThreadingHTTPServer`` answers in a background
thread.  All state sits behind one re-entrant lock; the accessors hand out copies made
of frozen dataclasses, so tests and the sandbox page can read while the bot writes.

Besides ``/api/<method>`` the server answers:

* ``POST /response/<token>`` -- response URLs made by :meth:`SlackStandIn.new_response_url`;
* ``POST /upload/<file_id>`` -- upload URLs handed out by ``files.getUploadURLExternal``;
* ``GET /files/<file_id>`` -- the bytes of an uploaded file;
* ``GET /_state`` -- :meth:`SlackStandIn.snapshot` as JSON.

The pseudo-method names :data:`RESPONSE_URL` and :data:`UPLOAD_URL` name the first two in
``calls`` and in the fault-injection helpers.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import math
import mimetypes
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType, TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_SCOPES",
    "RESPONSE_URL",
    "UPLOAD_URL",
    "Call",
    "Channel",
    "Ephemeral",
    "Message",
    "ResponseRecord",
    "SlackStandIn",
    "UploadedFile",
    "View",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
JSONDict = dict[str, Any]

RESPONSE_URL = "response_url"
"""Pseudo-method naming POSTs to a response URL (in ``calls``, ``fail_next``, ``hang_next``)."""
UPLOAD_URL = "upload_url"
"""Pseudo-method naming POSTs to a file upload URL (in ``calls``, ``fail_next``, ``hang_next``)."""

DEFAULT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    "files:write",
)
"""Scopes reported in the ``X-OAuth-Scopes`` header (kept in step with manifest.yml)."""

TIMEZONE = "Europe/London"
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MODAL_STACK = 3
MAX_TEXT_LENGTH = 40_000
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL = 30 * 60.0
_JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")
_TRUE_VALUES = {"1", "true", "True", "yes"}


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Call:
    """One request the stand-in answered: method, decoded params, wall-clock arrival time."""

    method: str
    params: Mapping[str, Any]
    at: float
    token: str | None
    status: int
    response: Mapping[str, Any]

    @property
    def ok(self) -> bool:
        """True when the call was answered HTTP 200 with ``"ok": true``."""
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        """The Slack error code of the answer, if any."""
        err = self.response.get("error")
        return err if isinstance(err, str) else None


@dataclass(frozen=True)
class Message:
    """A message visible to everyone in a conversation."""

    channel: str
    ts: str
    user: str
    text: str
    blocks: list[JSONDict] | None = None
    attachments: list[JSONDict] | None = None
    thread_ts: str | None = None
    metadata: JSONDict | None = None
    files: tuple[str, ...] = ()
    bot_id: str | None = None
    updated: bool = False
    source: str = "chat.postMessage"


@dataclass(frozen=True)
class Ephemeral:
    """A message only ``user`` can see in ``channel``."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JSONDict] | None = None
    attachments: list[JSONDict] | None = None
    thread_ts: str | None = None
    updated: bool = False
    source: str = "chat.postEphemeral"


@dataclass(frozen=True)
class View:
    """A modal or App Home view; ``payload`` is the view object as Slack returns it."""

    id: str
    type: str
    user: str | None
    payload: JSONDict

    @property
    def external_id(self) -> str:
        """The caller-chosen external id ('' when none)."""
        return str(self.payload.get("external_id") or "")

    @property
    def hash(self) -> str:
        """The current hash, changed on every update."""
        return str(self.payload["hash"])

    @property
    def callback_id(self) -> str:
        """The view's callback_id ('' when none)."""
        return str(self.payload.get("callback_id") or "")

    @property
    def private_metadata(self) -> str:
        """The view's private_metadata ('' when none)."""
        return str(self.payload.get("private_metadata") or "")

    @property
    def blocks(self) -> list[JSONDict]:
        """The view's blocks."""
        blocks = self.payload.get("blocks") or []
        return list(blocks)


@dataclass(frozen=True)
class Channel:
    """A conversation the stand-in knows about."""

    id: str
    name: str
    is_im: bool = False
    is_mpim: bool = False
    is_private: bool = False
    user: str | None = None
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class UploadedFile:
    """A file announced by files.getUploadURLExternal, uploaded, then maybe completed."""

    id: str
    filename: str
    length: int
    title: str | None = None
    content: bytes | None = None
    alt_txt: str | None = None
    snippet_type: str | None = None
    channels: tuple[str, ...] = ()
    completed: bool = False


@dataclass(frozen=True)
class ResponseRecord:
    """One successful POST to a response URL and what it did to the conversation."""

    url: str
    channel: str
    user: str
    payload: JSONDict
    at: float
    effect: str  # "ephemeral" | "in_channel" | "replaced" | "deleted"
    ts: str | None


# --------------------------------------------------------------------------- internals


class _ApiError(Exception):
    """An error answer: ``{"ok": false, "error": ...}`` with an HTTP status."""

    def __init__(
        self,
        error: str,
        *,
        http_status: int = 200,
        headers: Mapping[str, str] | None = None,
        messages: list[str] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.http_status = http_status
        self.headers = dict(headers or {})
        self.messages = messages

    def body(self) -> JSONDict:
        """The JSON body Slack would send."""
        body: JSONDict = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": list(self.messages)}
        return body


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, payload: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
    ) -> _Reply:
        return cls(status, json.dumps(payload).encode("utf-8"), headers=dict(headers or {}))


@dataclass
class _FailRule:
    method: str
    status: int
    error: str | None
    retry_after: int
    remaining: int
    channel: str | None


@dataclass
class _HangRule:
    method: str
    seconds: float | None
    remaining: int
    channel: str | None


@dataclass
class _Trigger:
    user: str
    issued_at: float
    used: bool = False


@dataclass
class _ResponseTarget:
    url: str
    channel: str
    user: str
    message_ts: str | None
    issued_at: float
    uses: int = 0
    last_ts: str | None = None


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    return isinstance(value, str) and value in _TRUE_VALUES


def _opt_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _is_user_id(value: str | None) -> bool:
    return bool(value) and value is not None and value[0] in "UW"


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _parse_params(query: str, content_type: str, body: bytes) -> JSONDict:
    params: JSONDict = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _ApiError("invalid_charset") from exc
        if "application/json" in content_type or text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise _ApiError("invalid_json") from exc
            if not isinstance(data, dict):
                raise _ApiError("invalid_json")
            params.update(data)
        else:
            params.update({k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()})
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("{", "["):
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                error = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                raise _ApiError(error, messages=[f"{key} is not valid JSON"]) from exc
    return params


def _london_tz() -> tuple[int, str]:
    try:
        offset = datetime.now(ZoneInfo(TIMEZONE)).utcoffset()
    except ZoneInfoNotFoundError:
        offset = None
    seconds = int(offset.total_seconds()) if offset is not None else 0
    return seconds, ("British Summer Time" if seconds else "Greenwich Mean Time")


def _handler_for(stand_in: SlackStandIn) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        server_version = "SlackStandIn/1.0"

        def do_POST(self) -> None:
            self._serve()

        def do_GET(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = stand_in._handle_http(self.command, self.path, headers, body)
            if reply is None:  # stopped while hanging: drop the connection unanswered
                self.close_connection = True
                return
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout)
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("slack stand-in: " + format, *args)

    return _Handler


# --------------------------------------------------------------------------- stand-in


class SlackStandIn:
    """An in-process fake of Slack's Web API, response URLs and file uploads."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Iterable[str] = frozenset({"xoxb-test"}),
        per_channel_rate_limit: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        team_id: str = "T0BATON00",
        bot_user_id: str = "U0BATONBOT",
        bot_id: str = "B0BATONBOT",
        app_id: str = "A0BATONAPP",
        trigger_ttl: float | None = 3.0,
        ts_origin: float = 1_700_000_000.0,
    ) -> None:
        """Configure the stand-in; nothing listens until start()."""
        if per_channel_rate_limit is not None and per_channel_rate_limit <= 0:
            raise ValueError("per_channel_rate_limit must be positive")
        self._host = host
        self._port = port
        self._tokens = frozenset(tokens)
        self._rate = per_channel_rate_limit
        self._clock = clock
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self._trigger_ttl = trigger_ttl
        self._ts_origin_us = int(ts_origin * 1_000_000)

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._release = threading.Event()
        self._hung = 0
        self._reset_state()

    def _reset_state(self) -> None:
        self._calls: list[Call] = []
        self._channels: dict[str, Channel] = {}
        self._missing: set[str] = set()
        self._opened: set[str] = set()
        self._conversations: dict[str, list[Message]] = {}
        self._ephemerals: dict[tuple[str, str], list[Ephemeral]] = {}
        self._views: dict[str, View] = {}
        self._homes: dict[str, str] = {}
        self._modals: dict[str, list[str]] = {}
        self._files: dict[str, UploadedFile] = {}
        self._responses: list[ResponseRecord] = []
        self._response_targets: dict[str, _ResponseTarget] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._fail_rules: list[_FailRule] = []
        self._hang_rules: list[_HangRule] = []
        self._buckets: dict[str, tuple[float, float]] = {}
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlackStandIn:
        """Bind the socket and serve in a daemon thread; returns self."""
        if self._server is not None:
            raise RuntimeError("SlackStandIn already started")
        self._stopping.clear()
        server = ThreadingHTTPServer((self._host, self._port), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"slack-stand-in:{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hung requests, stop serving and close the socket (idempotent)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        with self._lock:
            self._release.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SlackStandIn:
        """Start (if needed) and return self."""
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("SlackStandIn not started")
        return self._server.server_port

    @property
    def base_url(self) -> str:
        """Root URL of the server, e.g. ``http://127.0.0.1:PORT/``."""
        return f"http://{self._host}:{self.port}/"

    @property
    def api_url(self) -> str:
        """Web API base URL for ``WebClient(base_url=...)``, e.g. ``http://127.0.0.1:PORT/api/``."""
        return f"{self.base_url}api/"

    # ------------------------------------------------------------------ queries

    @property
    def calls(self) -> list[Call]:
        """Every request answered so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """The calls made to one method (or RESPONSE_URL / UPLOAD_URL)."""
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Block until predicate() is truthy and return it; TimeoutError after timeout seconds."""
        with self._cond:
            result = self._cond.wait_for(predicate, timeout)
        if not result:
            raise TimeoutError(f"condition not met within {timeout}s")
        return result

    @property
    def conversations(self) -> dict[str, list[Message]]:
        """Channel id -> messages, oldest first."""
        with self._lock:
            return copy.deepcopy(self._conversations)

    def messages(self, channel: str) -> list[Message]:
        """Messages in one conversation (a user id means that user's DM with the bot)."""
        with self._lock:
            channel_id = self.dm_channel_for(channel) if _is_user_id(channel) else channel
            return copy.deepcopy(self._conversations.get(channel_id, []))

    def message(self, channel: str, ts: str) -> Message | None:
        """One message by channel and ts, or None."""
        return next((m for m in self.messages(channel) if m.ts == ts), None)

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        """The parent message and its replies."""
        return [m for m in self.messages(channel) if thread_ts in (m.ts, m.thread_ts)]

    @property
    def ephemerals(self) -> dict[tuple[str, str], list[Ephemeral]]:
        """(channel id, user id) -> ephemeral messages, oldest first."""
        with self._lock:
            return copy.deepcopy(self._ephemerals)

    def ephemerals_for(self, channel: str, user: str) -> list[Ephemeral]:
        """Ephemeral messages one user sees in one conversation."""
        with self._lock:
            channel_id = self.dm_channel_for(channel) if _is_user_id(channel) else channel
            return copy.deepcopy(self._ephemerals.get((channel_id, user), []))

    @property
    def home_views(self) -> dict[str, View]:
        """User id -> published App Home view."""
        with self._lock:
            return {user: copy.deepcopy(self._views[vid]) for user, vid in self._homes.items()}

    def home_view(self, user: str) -> View | None:
        """The App Home view published for user, or None."""
        with self._lock:
            vid = self._homes.get(user)
            return copy.deepcopy(self._views[vid]) if vid else None

    @property
    def modal_stacks(self) -> dict[str, list[View]]:
        """User id -> open modal stack, root first."""
        with self._lock:
            return {u: [copy.deepcopy(self._views[v]) for v in ids] for u, ids in self._modals.items()}

    def modal_stack(self, user: str) -> list[View]:
        """The open modal stack for user, root first ([] when none)."""
        with self._lock:
            return [copy.deepcopy(self._views[v]) for v in self._modals.get(user, [])]

    def view(self, view_id: str) -> View | None:
        """A live view (modal or home) by id, or None."""
        with self._lock:
            found = self._views.get(view_id)
            return copy.deepcopy(found) if found else None

    @property
    def channels(self) -> dict[str, Channel]:
        """Known conversations by id."""
        with self._lock:
            return dict(self._channels)

    @property
    def files(self) -> dict[str, UploadedFile]:
        """Files by id (announced, uploaded or completed)."""
        with self._lock:
            return dict(self._files)

    @property
    def responses(self) -> list[ResponseRecord]:
        """Successful response-URL posts, oldest first."""
        with self._lock:
            return copy.deepcopy(self._responses)

    @property
    def hung_requests(self) -> int:
        """How many requests are being held by hang_next right now."""
        with self._lock:
            return self._hung

    def dm_channel_for(self, user: str) -> str:
        """The stable DM channel id between the bot and user ("D" + user id)."""
        return f"D{user}"

    def snapshot(self) -> JSONDict:
        """All state as one JSON-serialisable dict (for the sandbox page)."""
        with self._lock:
            return {
                "team_id": self.team_id,
                "bot_user_id": self.bot_user_id,
                "bot_id": self.bot_id,
                "channels": [asdict(c) for c in self._channels.values()],
                "missing_channels": sorted(self._missing),
                "conversations": {
                    cid: [asdict(m) for m in msgs] for cid, msgs in self._conversations.items()
                },
                "ephemerals": [
                    {"channel": ch, "user": user, "messages": [asdict(e) for e in msgs]}
                    for (ch, user), msgs in self._ephemerals.items()
                ],
                "home_views": {u: copy.deepcopy(self._views[v].payload) for u, v in self._homes.items()},
                "modals": {
                    u: [copy.deepcopy(self._views[v].payload) for v in ids] for u, ids in self._modals.items()
                },
                "files": [
                    {k: v for k, v in asdict(f).items() if k != "content"} for f in self._files.values()
                ],
                "responses": [asdict(r) for r in self._responses],
                "call_count": len(self._calls),
            }

    # ------------------------------------------------------------------ set-up helpers

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False) -> Channel:
        """Register (or re-register) a channel with a name."""
        with self._lock:
            channel = Channel(id=channel_id, name=name, is_private=is_private)
            self._channels[channel_id] = channel
            self._missing.discard(channel_id)
            self._cond.notify_all()
            return channel

    def remove_channel(self, channel_id: str) -> None:
        """Make a conversation answer channel_not_found from now on (history is kept)."""
        with self._lock:
            self._channels.pop(channel_id, None)
            self._missing.add(channel_id)
            self._cond.notify_all()

    def add_message(
        self,
        channel: str,
        *,
        user: str,
        text: str,
        thread_ts: str | None = None,
        blocks: list[JSONDict] | None = None,
    ) -> Message:
        """Record a message typed by a person (for the sandbox); returns it."""
        with self._lock:
            try:
                channel_id = self._resolve_channel(channel)
            except _ApiError as exc:
                raise ValueError(f"{exc.error}: {channel}") from exc
            msg = Message(
                channel=channel_id,
                ts=self._next_ts(),
                user=user,
                text=text,
                blocks=copy.deepcopy(blocks),
                thread_ts=thread_ts,
                source="user",
            )
            self._conversations.setdefault(channel_id, []).append(msg)
            self._cond.notify_all()
            return msg

    def new_response_url(self, channel: str, user: str, *, message_ts: str | None = None) -> str:
        """Issue a response URL for a slash command or action by user in channel.

        ``message_ts`` names the message the action came from, so that
        ``replace_original``/``delete_original`` act on it.
        """
        with self._lock:
            try:
                channel_id = self._resolve_channel(channel)
            except _ApiError as exc:
                raise ValueError(f"{exc.error}: {channel}") from exc
            token = f"R{next(self._id_counter):06d}-{secrets.token_hex(6)}"
            url = f"{self.base_url}response/{token}"
            self._response_targets[token] = _ResponseTarget(
                url=url,
                channel=channel_id,
                user=user,
                message_ts=message_ts,
                issued_at=self._clock(),
            )
            return url

    def new_trigger_id(self, user: str) -> str:
        """Issue a single-use trigger_id for user (expires after trigger_ttl by the clock)."""
        with self._lock:
            trigger = f"{next(self._id_counter)}.{secrets.randbelow(10**10)}.{secrets.token_hex(6)}"
            self._triggers[trigger] = _Trigger(user=user, issued_at=self._clock())
            return trigger

    def pop_modal(self, user: str) -> View | None:
        """Close the top modal of user's stack (as the Back/Cancel button does); returns it."""
        with self._lock:
            stack = self._modals.get(user)
            if not stack:
                return None
            view = self._views.pop(stack.pop())
            if not stack:
                del self._modals[user]
            self._cond.notify_all()
            return view

    def clear_modals(self, user: str) -> list[View]:
        """Close user's whole modal stack; returns the closed views, root first."""
        with self._lock:
            closed = [self._views.pop(v) for v in self._modals.pop(user, [])]
            self._cond.notify_all()
            return closed

    def reset(self) -> None:
        """Forget all state, calls and fault rules (tokens and IDs stay)."""
        with self._lock:
            self._reset_state()
            self._cond.notify_all()

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        error: str | None = None,
        retry_after: int = 1,
        times: int = 1,
        channel: str | None = None,
    ) -> None:
        """Make the next `times` calls to method fail.

        status 429 answers HTTP 429 with Retry-After; 200 answers ``{"ok": false, "error":
        error}``; any other status answers that HTTP status.  With ``channel`` only calls
        naming that channel (or, for a user id, that user's DM) are failed.
        """
        if not 200 <= status <= 599:
            raise ValueError(f"unsupported HTTP status {status}")
        if times < 1 or retry_after < 0:
            raise ValueError("times must be >= 1 and retry_after >= 0")
        with self._lock:
            self._fail_rules.append(_FailRule(method, status, error, int(retry_after), times, channel))

    def hang_next(
        self,
        method: str,
        *,
        seconds: float | None = None,
        times: int = 1,
        channel: str | None = None,
    ) -> None:
        """Hold the next `times` calls to method for `seconds` (None: until release_hung/stop).

        A held call is then answered normally, so a client that timed out meanwhile may
        still have had its effect -- as with the real Slack.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._hang_rules.append(_HangRule(method, seconds, times, channel))

    def release_hung(self) -> None:
        """Let every currently held call proceed."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()

    # ------------------------------------------------------------------ HTTP dispatch

    def _handle_http(
        self, verb: str, raw_path: str, headers: Mapping[str, str], body: bytes
    ) -> _Reply | None:
        parts = urlsplit(raw_path)
        path = parts.path
        try:
            if path.startswith("/api/"):
                return self._handle_api(path[len("/api/") :], parts.query, headers, body)
            if path.startswith("/response/") and verb == "POST":
                return self._handle_response_url(path[len("/response/") :], body)
            if path.startswith("/upload/") and verb == "POST":
                return self._handle_upload(path[len("/upload/") :], body)
            if path.startswith("/files/") and verb == "GET":
                return self._handle_file_download(path[len("/files/") :])
            if path == "/_state" and verb == "GET":
                return _Reply.json(self.snapshot())
            return _Reply(404, b"not found", "text/plain; charset=utf-8")
        except Exception:
            log.exception("slack stand-in failed on %s %s", verb, raw_path)
            return _Reply.json({"ok": False, "error": "fatal_error"}, status=500)

    def _handle_api(self, method: str, query: str, headers: Mapping[str, str], body: bytes) -> _Reply | None:
        at = time.time()
        token = _bearer(headers.get("authorization"))
        params: JSONDict = {}
        parse_error: _ApiError | None = None
        try:
            params = _parse_params(query, headers.get("content-type", ""), body)
        except _ApiError as exc:
            parse_error = exc
        body_token = params.pop("token", None)
        token = token or _opt_str(body_token)

        if parse_error is None and not self._hang_if_asked(method, self._channel_keys(params)):
            return None

        with self._lock:
            reply_headers = {"X-OAuth-Scopes": ",".join(DEFAULT_SCOPES)}
            try:
                handler = self._methods().get(method)
                if handler is None:
                    raise _ApiError("unknown_method")
                if parse_error is not None:
                    raise parse_error
                if not token:
                    raise _ApiError("not_authed")
                if token not in self._tokens:
                    raise _ApiError("invalid_auth")
                self._apply_fail_rule(method, self._channel_keys(params))
                body_json: JSONDict = {"ok": True, **handler(params)}
                status = 200
            except _ApiError as exc:
                body_json, status = exc.body(), exc.http_status
                reply_headers.update(exc.headers)
            self._record(method, params, at, token, status, body_json)
        return _Reply.json(body_json, status, reply_headers)

    def _handle_response_url(self, token: str, body: bytes) -> _Reply | None:
        at = time.time()
        payload: JSONDict | None
        try:
            decoded = json.loads(body.decode("utf-8") or "{}")
            payload = decoded if isinstance(decoded, dict) else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = None
        with self._lock:
            target = self._response_targets.get(token)
            keys = {target.channel} if target else set()
        if not self._hang_if_asked(RESPONSE_URL, keys):
            return None
        with self._lock:
            params: JSONDict = copy.deepcopy(payload) if payload is not None else {}
            params["response_url"] = target.url if target else token
            try:
                if payload is None:
                    raise _ApiError("invalid_payload", http_status=400)
                if target is None:
                    raise _ApiError("no_service", http_status=404)
                self._apply_fail_rule(RESPONSE_URL, keys)
                if target.uses >= RESPONSE_URL_MAX_USES:
                    raise _ApiError("used_url", http_status=404)
                if self._clock() - target.issued_at > RESPONSE_URL_TTL:
                    raise _ApiError("expired_url", http_status=404)
                self._apply_response(target, payload, at)
                target.uses += 1
                body_json: JSONDict = {"ok": True}
                status = 200
                headers: dict[str, str] = {}
            except _ApiError as exc:
                body_json, status, headers = exc.body(), exc.http_status, exc.headers
            self._record(RESPONSE_URL, params, at, None, status, body_json)
        return _Reply.json(body_json, status, headers)

    def _handle_upload(self, file_id: str, body: bytes) -> _Reply | None:
        at = time.time()
        if not self._hang_if_asked(UPLOAD_URL, set()):
            return None
        with self._lock:
            params: JSONDict = {"file_id": file_id, "length": len(body)}
            try:
                self._apply_fail_rule(UPLOAD_URL, set())
                stored = self._files.get(file_id)
                if stored is None or stored.completed:
                    raise _ApiError("file_not_found", http_status=404)
                self._files[file_id] = replace(stored, content=bytes(body))
            except _ApiError as exc:
                self._record(UPLOAD_URL, params, at, None, exc.http_status, exc.body())
                return _Reply.json(exc.body(), exc.http_status, exc.headers)
            self._record(UPLOAD_URL, params, at, None, 200, {"ok": True})
        return _Reply(200, f"OK - {len(body)}".encode(), "text/plain; charset=utf-8")

    def _handle_file_download(self, file_id: str) -> _Reply:
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None or stored.content is None:
            return _Reply(404, b"file_not_found", "text/plain; charset=utf-8")
        mimetype = mimetypes.guess_type(stored.filename)[0] or "application/octet-stream"
        return _Reply(200, stored.content, mimetype)

    # ------------------------------------------------------------------ bookkeeping

    def _record(
        self,
        method: str,
        params: Mapping[str, Any],
        at: float,
        token: str | None,
        status: int,
        response: Mapping[str, Any],
    ) -> None:
        call = Call(
            method=method,
            params=MappingProxyType(copy.deepcopy(dict(params))),
            at=at,
            token=token,
            status=status,
            response=MappingProxyType(copy.deepcopy(dict(response))),
        )
        self._calls.append(call)
        self._cond.notify_all()

    def _channel_keys(self, params: Mapping[str, Any]) -> set[str]:
        raw = _opt_str(params.get("channel") or params.get("channel_id"))
        if raw is None:
            return set()
        keys = {raw}
        if _is_user_id(raw):
            keys.add(self.dm_channel_for(raw))
        return keys

    def _take_rule(self, rules: list[Any], method: str, keys: set[str]) -> Any:
        for rule in rules:
            if rule.method == method and (rule.channel is None or rule.channel in keys):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    rules.remove(rule)
                return rule
        return None

    def _hang_if_asked(self, method: str, keys: set[str]) -> bool:
        """Hold the request if a hang rule matches; False when the server stopped meanwhile."""
        with self._lock:
            rule: _HangRule | None = self._take_rule(self._hang_rules, method, keys)
            if rule is None:
                return True
            release = self._release
            self._hung += 1
            self._cond.notify_all()
        try:
            release.wait(rule.seconds)
        finally:
            with self._lock:
                self._hung -= 1
                self._cond.notify_all()
        return not self._stopping.is_set()

    def _apply_fail_rule(self, method: str, keys: set[str]) -> None:
        rule: _FailRule | None = self._take_rule(self._fail_rules, method, keys)
        if rule is None:
            return
        if rule.status == 429:
            raise _ApiError(
                rule.error or "ratelimited",
                http_status=429,
                headers={"Retry-After": str(rule.retry_after)},
            )
        if rule.status == 200:
            raise _ApiError(rule.error or "fatal_error")
        raise _ApiError(rule.error or "internal_error", http_status=rule.status)

    def _next_ts(self) -> str:
        micros = self._ts_origin_us + next(self._ts_counter) * 100
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_counter):08d}"

    def _resolve_channel(self, raw: Any) -> str:
        name = _opt_str(raw)
        if name is None or name in self._missing:
            raise _ApiError("channel_not_found")
        if name.startswith("#"):
            found = next((c.id for c in self._channels.values() if c.name == name[1:]), None)
            if found is None or found in self._missing:
                raise _ApiError("channel_not_found")
            return found
        if _is_user_id(name):
            channel_id = self.dm_channel_for(name)
            if channel_id in self._missing:
                raise _ApiError("channel_not_found")
            self._channels.setdefault(
                channel_id, Channel(id=channel_id, name=channel_id, is_im=True, user=name)
            )
            return channel_id
        if name[0] in "CDG" and name.isalnum():
            if name not in self._channels:
                is_im = name.startswith("D")
                user = name[1:] if is_im and _is_user_id(name[1:]) else None
                self._channels[name] = Channel(
                    id=name, name=name.lower(), is_im=is_im, user=user, is_private=name[0] == "G"
                )
            return name
        raise _ApiError("channel_not_found")

    def _check_rate(self, channel: str, *, consume: bool) -> None:
        rate = self._rate
        if rate is None:
            return
        now = self._clock()
        capacity = max(1.0, rate)
        level, last = self._buckets.get(channel, (capacity, now))
        level = min(capacity, level + max(0.0, now - last) * rate)
        if consume:
            self._buckets[channel] = (level - 1.0, now)
        elif level + 1e-9 < 1.0:
            retry_after = max(1, math.ceil((1.0 - level) / rate - 1e-9))
            raise _ApiError("ratelimited", http_status=429, headers={"Retry-After": str(retry_after)})

    def _check_blocks(self, value: Any, limit: int, error: str) -> list[JSONDict] | None:
        if value is None or value == "":
            return None
        if not isinstance(value, list) or not all(
            isinstance(b, dict) and isinstance(b.get("type"), str) for b in value
        ):
            raise _ApiError(error, messages=["blocks must be a list of objects with a type"])
        if len(value) > limit:
            raise _ApiError(error, messages=[f"no more than {limit} blocks allowed"])
        return copy.deepcopy(value)

    def _message_content(self, p: Mapping[str, Any]) -> tuple[str, list[JSONDict] | None, Any]:
        text = str(p.get("text") or "")
        blocks = self._check_blocks(p.get("blocks"), MAX_MESSAGE_BLOCKS, "invalid_blocks")
        attachments = copy.deepcopy(p.get("attachments")) or None
        if not text and not blocks and not attachments:
            raise _ApiError("no_text")
        if len(text) > MAX_TEXT_LENGTH:
            raise _ApiError("msg_too_long")
        return text, blocks, attachments

    def _message_json(self, msg: Message) -> JSONDict:
        body: JSONDict = {"type": "message", "user": msg.user, "text": msg.text, "ts": msg.ts}
        if msg.bot_id:
            body["bot_id"] = msg.bot_id
            body["app_id"] = self.app_id
        if msg.blocks is not None:
            body["blocks"] = copy.deepcopy(msg.blocks)
        if msg.attachments is not None:
            body["attachments"] = copy.deepcopy(msg.attachments)
        if msg.thread_ts:
            body["thread_ts"] = msg.thread_ts
        if msg.metadata is not None:
            body["metadata"] = copy.deepcopy(msg.metadata)
        if msg.files:
            body["files"] = [self._file_json(self._files[f]) for f in msg.files if f in self._files]
        if msg.updated:
            body["edited"] = {"user": msg.user, "ts": msg.ts}
        return body

    def _channel_json(self, ch: Channel) -> JSONDict:
        if ch.is_im:
            return {
                "id": ch.id,
                "is_im": True,
                "user": ch.user,
                "is_user_deleted": False,
                "is_open": True,
            }
        return {
            "id": ch.id,
            "name": ch.name,
            "name_normalized": ch.name,
            "is_channel": not ch.is_private and not ch.is_mpim,
            "is_group": ch.is_private and not ch.is_mpim,
            "is_im": False,
            "is_mpim": ch.is_mpim,
            "is_private": ch.is_private or ch.is_mpim,
            "is_archived": False,
            "is_member": True,
            "members": list(ch.members) if ch.is_mpim else None,
            "context_team_id": self.team_id,
        }

    def _file_json(self, f: UploadedFile) -> JSONDict:
        return {
            "id": f.id,
            "name": f.filename,
            "title": f.title or f.filename,
            "mimetype": mimetypes.guess_type(f.filename)[0] or "application/octet-stream",
            "filetype": f.filename.rsplit(".", 1)[-1] if "." in f.filename else "binary",
            "size": len(f.content) if f.content is not None else f.length,
            "user": self.bot_user_id,
            "channels": list(f.channels),
            "url_private": f"{self.base_url}files/{f.id}",
            "permalink": f"{self.base_url}files/{f.id}",
        }

    # ------------------------------------------------------------------ Web API methods

    def _methods(self) -> dict[str, Callable[[JSONDict], JSONDict]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    def _auth_test(self, p: JSONDict) -> JSONDict:
        return {
            "url": "https://baton-sandbox.slack.com/",
            "team": "Baton Sandbox",
            "user": "baton",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, p: JSONDict) -> JSONDict:
        channel = self._resolve_channel(p.get("channel"))
        text, blocks, attachments = self._message_content(p)
        metadata = p.get("metadata")
        self._check_rate(channel, consume=False)
        msg = Message(
            channel=channel,
            ts=self._next_ts(),
            user=self.bot_user_id,
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=_opt_str(p.get("thread_ts")),
            metadata=copy.deepcopy(metadata) if isinstance(metadata, dict) else None,
            bot_id=self.bot_id,
        )
        self._conversations.setdefault(channel, []).append(msg)
        self._check_rate(channel, consume=True)
        return {"channel": channel, "ts": msg.ts, "message": self._message_json(msg)}

    def _find_message(self, channel: str, ts: Any) -> tuple[int, Message]:
        wanted = _opt_str(ts)
        for index, msg in enumerate(self._conversations.get(channel, [])):
            if msg.ts == wanted:
                return index, msg
        raise _ApiError("message_not_found")

    def _chat_update(self, p: JSONDict) -> JSONDict:
        channel = self._resolve_channel(p.get("channel"))
        index, msg = self._find_message(channel, p.get("ts"))
        if msg.user != self.bot_user_id:
            raise _ApiError("cant_update_message")
        changes: JSONDict = {}
        if "text" in p:
            changes["text"] = str(p["text"] or "")
        if "blocks" in p:
            changes["blocks"] = self._check_blocks(p["blocks"], MAX_MESSAGE_BLOCKS, "invalid_blocks")
        if "attachments" in p:
            changes["attachments"] = copy.deepcopy(p["attachments"]) or None
        if isinstance(p.get("metadata"), dict):
            changes["metadata"] = copy.deepcopy(p["metadata"])
        if len(changes.get("text", "")) > MAX_TEXT_LENGTH:
            raise _ApiError("msg_too_long")
        updated = replace(msg, updated=True, **changes)
        self._conversations[channel][index] = updated
        return {
            "channel": channel,
            "ts": updated.ts,
            "text": updated.text,
            "message": self._message_json(updated),
        }

    def _chat_delete(self, p: JSONDict) -> JSONDict:
        channel = self._resolve_channel(p.get("channel"))
        index, msg = self._find_message(channel, p.get("ts"))
        if msg.user != self.bot_user_id:
            raise _ApiError("cant_delete_message")
        del self._conversations[channel][index]
        return {"channel": channel, "ts": msg.ts}

    def _chat_post_ephemeral(self, p: JSONDict) -> JSONDict:
        channel = self._resolve_channel(p.get("channel"))
        user = _opt_str(p.get("user"))
        if not _is_user_id(user) or user is None:
            raise _ApiError("user_not_found")
        text, blocks, attachments = self._message_content(p)
        eph = Ephemeral(
            channel=channel,
            user=user,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=_opt_str(p.get("thread_ts")),
        )
        self._ephemerals.setdefault((channel, user), []).append(eph)
        return {"message_ts": eph.ts}

    def _conversations_open(self, p: JSONDict) -> JSONDict:
        if _opt_str(p.get("channel")):
            channel_id = self._resolve_channel(p.get("channel"))
        else:
            users = [u.strip() for u in str(p.get("users") or "").split(",") if u.strip()]
            if not users:
                raise _ApiError("users_list_not_supplied")
            if not all(_is_user_id(u) for u in users):
                raise _ApiError("user_not_found")
            if len(users) == 1:
                channel_id = self._resolve_channel(users[0])
            else:
                if len(users) > 8:
                    raise _ApiError("too_many_users")
                members = tuple(sorted({*users, self.bot_user_id}))
                channel_id = "G" + "".join(m[1:] for m in members)[:20].upper()
                if channel_id in self._missing:
                    raise _ApiError("channel_not_found")
                self._channels.setdefault(
                    channel_id,
                    Channel(
                        id=channel_id,
                        name="mpdm-" + "--".join(members),
                        is_mpim=True,
                        members=members,
                    ),
                )
        already = channel_id in self._opened
        self._opened.add(channel_id)
        channel_json: JSONDict = (
            self._channel_json(self._channels[channel_id])
            if _truthy(p.get("return_im"))
            else {"id": channel_id}
        )
        return {"no_op": already, "already_open": already, "channel": channel_json}

    def _conversations_info(self, p: JSONDict) -> JSONDict:
        channel_id = self._resolve_channel(p.get("channel"))
        return {"channel": self._channel_json(self._channels[channel_id])}

    def _check_view(self, raw: Any, expected_type: str) -> JSONDict:
        view = raw
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except json.JSONDecodeError as exc:
                raise _ApiError("invalid_arguments", messages=["view is not valid JSON"]) from exc
        if not isinstance(view, dict):
            raise _ApiError("invalid_arguments", messages=["missing required field: view"])
        if view.get("type") != expected_type:
            raise _ApiError("invalid_arguments", messages=[f"view type must be {expected_type}"])
        if expected_type == "modal" and not isinstance(view.get("title"), dict):
            raise _ApiError("invalid_arguments", messages=["missing required field: title"])
        self._check_blocks(view.get("blocks") or [], MAX_VIEW_BLOCKS, "invalid_arguments")
        return copy.deepcopy(view)

    def _check_external_id(self, spec: JSONDict, *, exclude: str | None = None) -> None:
        external_id = spec.get("external_id")
        if not external_id:
            return
        for view in self._views.values():
            if view.external_id == external_id and view.id != exclude:
                raise _ApiError("duplicate_external_id")

    def _exchange_trigger(self, trigger_id: Any) -> str:
        key = _opt_str(trigger_id)
        if key is None:
            raise _ApiError("invalid_arguments", messages=["missing required field: trigger_id"])
        trigger = self._triggers.get(key)
        if trigger is None:
            raise _ApiError("invalid_arguments", messages=["invalid `trigger_id`"])
        if trigger.used:
            raise _ApiError("exchanged_trigger_id")
        if self._trigger_ttl is not None and self._clock() - trigger.issued_at > self._trigger_ttl:
            raise _ApiError("expired_trigger_id")
        trigger.used = True
        return trigger.user

    def _build_view(
        self,
        spec: JSONDict,
        *,
        user: str | None,
        view_id: str | None = None,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> View:
        vid = view_id or self._next_id("V")
        payload: JSONDict = {
            "id": vid,
            "team_id": self.team_id,
            "type": spec["type"],
            "blocks": spec.get("blocks") or [],
            "private_metadata": spec.get("private_metadata") or "",
            "callback_id": spec.get("callback_id") or "",
            "external_id": spec.get("external_id") or "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": _truthy(spec.get("clear_on_close", False)),
            "notify_on_close": _truthy(spec.get("notify_on_close", False)),
            "root_view_id": root_view_id or vid,
            "previous_view_id": previous_view_id,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        for key in ("title", "close", "submit"):
            if key in spec:
                payload[key] = spec[key]
        return View(id=vid, type=str(spec["type"]), user=user, payload=payload)

    def _views_open(self, p: JSONDict) -> JSONDict:
        spec = self._check_view(p.get("view"), "modal")
        self._check_external_id(spec)
        user = self._exchange_trigger(p.get("trigger_id"))
        for old in self._modals.pop(user, []):
            self._views.pop(old, None)
        view = self._build_view(spec, user=user)
        self._views[view.id] = view
        self._modals[user] = [view.id]
        return {"view": copy.deepcopy(view.payload)}

    def _views_push(self, p: JSONDict) -> JSONDict:
        spec = self._check_view(p.get("view"), "modal")
        self._check_external_id(spec)
        user = self._exchange_trigger(p.get("trigger_id"))
        stack = self._modals.get(user)
        if not stack:
            raise _ApiError("not_found", messages=["no open modal to push onto"])
        if len(stack) >= MAX_MODAL_STACK:
            raise _ApiError("push_limit_reached")
        view = self._build_view(spec, user=user, root_view_id=stack[0], previous_view_id=stack[-1])
        self._views[view.id] = view
        stack.append(view.id)
        return {"view": copy.deepcopy(view.payload)}

    def _views_update(self, p: JSONDict) -> JSONDict:
        view_id, external_id = _opt_str(p.get("view_id")), _opt_str(p.get("external_id"))
        if view_id is None and external_id is None:
            raise _ApiError("invalid_arguments", messages=["view_id or external_id is required"])
        if view_id is not None:
            target = self._views.get(view_id)
        else:
            target = next((v for v in self._views.values() if v.external_id == external_id), None)
        if target is None:
            raise _ApiError("not_found")
        spec = self._check_view(p.get("view"), target.type)
        wanted_hash = _opt_str(p.get("hash"))
        if wanted_hash is not None and wanted_hash != target.hash:
            raise _ApiError("hash_conflict")
        self._check_external_id(spec, exclude=target.id)
        updated = self._build_view(
            spec,
            user=target.user,
            view_id=target.id,
            root_view_id=target.payload.get("root_view_id"),
            previous_view_id=target.payload.get("previous_view_id"),
        )
        self._views[target.id] = updated
        return {"view": copy.deepcopy(updated.payload)}

    def _views_publish(self, p: JSONDict) -> JSONDict:
        user = _opt_str(p.get("user_id"))
        if user is None or not _is_user_id(user):
            raise _ApiError("invalid_arguments", messages=["user_id must be a user id"])
        spec = self._check_view(p.get("view"), "home")
        existing_id = self._homes.get(user)
        wanted_hash = _opt_str(p.get("hash"))
        if existing_id and wanted_hash is not None and wanted_hash != self._views[existing_id].hash:
            raise _ApiError("hash_conflict")
        self._check_external_id(spec, exclude=existing_id)
        view = self._build_view(spec, user=user, view_id=existing_id)
        self._views[view.id] = view
        self._homes[user] = view.id
        return {"view": copy.deepcopy(view.payload)}

    def _users_info(self, p: JSONDict) -> JSONDict:
        user = _opt_str(p.get("user"))
        if user is None or not _is_user_id(user):
            raise _ApiError("user_not_found")
        offset, label = _london_tz()
        return {
            "user": {
                "id": user,
                "team_id": self.team_id,
                "name": user,
                "real_name": user,
                "deleted": False,
                "is_bot": user == self.bot_user_id,
                "is_app_user": False,
                "is_admin": False,
                "tz": TIMEZONE,
                "tz_label": label,
                "tz_offset": offset,
                "profile": {"display_name": user, "real_name": user, "team": self.team_id},
            }
        }

    def _files_get_upload_url(self, p: JSONDict) -> JSONDict:
        filename = _opt_str(p.get("filename"))
        try:
            length = int(str(p.get("length")))
        except (TypeError, ValueError) as exc:
            raise _ApiError("invalid_arguments", messages=["length must be an integer"]) from exc
        if filename is None or length < 0:
            raise _ApiError("invalid_arguments", messages=["filename and length are required"])
        file_id = self._next_id("F")
        self._files[file_id] = UploadedFile(
            id=file_id,
            filename=filename,
            length=length,
            alt_txt=_opt_str(p.get("alt_txt")),
            snippet_type=_opt_str(p.get("snippet_type")),
        )
        return {"upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, p: JSONDict) -> JSONDict:
        items = p.get("files")
        if not isinstance(items, list) or not items:
            raise _ApiError("invalid_arguments", messages=["files must be a non-empty list"])
        chosen: list[UploadedFile] = []
        for item in items:
            stored = self._files.get(str(item.get("id"))) if isinstance(item, dict) else None
            if stored is None or stored.content is None:
                raise _ApiError("file_not_found")
            title = _opt_str(item.get("title")) or stored.title or stored.filename
            chosen.append(replace(stored, title=title))
        raw_channels: list[str] = []
        if _opt_str(p.get("channel_id")):
            raw_channels.append(str(p["channel_id"]))
        raw_channels += [c.strip() for c in str(p.get("channels") or "").split(",") if c.strip()]
        channels = tuple(dict.fromkeys(self._resolve_channel(c) for c in raw_channels))
        thread_ts = _opt_str(p.get("thread_ts"))
        comment = str(p.get("initial_comment") or "")
        done = [replace(f, channels=channels, completed=True) for f in chosen]
        for f in done:
            self._files[f.id] = f
        for channel in channels:
            msg = Message(
                channel=channel,
                ts=self._next_ts(),
                user=self.bot_user_id,
                text=comment,
                thread_ts=thread_ts,
                files=tuple(f.id for f in done),
                bot_id=self.bot_id,
                source="files.completeUploadExternal",
            )
            self._conversations.setdefault(channel, []).append(msg)
        return {"files": [self._file_json(f) for f in done]}

    # ------------------------------------------------------------------ response URLs

    def _apply_response(self, target: _ResponseTarget, payload: JSONDict, at: float) -> None:
        original = target.message_ts or target.last_ts
        ts: str | None
        if _truthy(payload.get("delete_original")):
            if original is None or not self._delete_anywhere(target, original):
                raise _ApiError("message_not_found", http_status=404)
            effect, ts = "deleted", original
        elif _truthy(payload.get("replace_original")) and original is not None:
            text, blocks, attachments = self._message_content(payload)
            if not self._replace_anywhere(target, original, text, blocks, attachments):
                raise _ApiError("message_not_found", http_status=404)
            effect, ts = "replaced", original
        elif payload.get("response_type") == "in_channel":
            text, blocks, attachments = self._message_content(payload)
            msg = Message(
                channel=target.channel,
                ts=self._next_ts(),
                user=self.bot_user_id,
                text=text,
                blocks=blocks,
                attachments=attachments,
                thread_ts=_opt_str(payload.get("thread_ts")),
                bot_id=self.bot_id,
                source=RESPONSE_URL,
            )
            self._conversations.setdefault(target.channel, []).append(msg)
            effect, ts = "in_channel", msg.ts
        else:
            text, blocks, attachments = self._message_content(payload)
            eph = Ephemeral(
                channel=target.channel,
                user=target.user,
                ts=self._next_ts(),
                text=text,
                blocks=blocks,
                attachments=attachments,
                thread_ts=_opt_str(payload.get("thread_ts")),
                source=RESPONSE_URL,
            )
            self._ephemerals.setdefault((target.channel, target.user), []).append(eph)
            effect, ts = "ephemeral", eph.ts
        if effect in ("in_channel", "ephemeral"):
            target.last_ts = ts
        self._responses.append(
            ResponseRecord(
                url=target.url,
                channel=target.channel,
                user=target.user,
                payload=copy.deepcopy(payload),
                at=at,
                effect=effect,
                ts=ts,
            )
        )

    def _delete_anywhere(self, target: _ResponseTarget, ts: str) -> bool:
        messages = self._conversations.get(target.channel, [])
        for index, msg in enumerate(messages):
            if msg.ts == ts:
                del messages[index]
                return True
        ephemerals = self._ephemerals.get((target.channel, target.user), [])
        for index, eph in enumerate(ephemerals):
            if eph.ts == ts:
                del ephemerals[index]
                return True
        return False

    def _replace_anywhere(
        self,
        target: _ResponseTarget,
        ts: str,
        text: str,
        blocks: list[JSONDict] | None,
        attachments: Any,
    ) -> bool:
        messages = self._conversations.get(target.channel, [])
        for index, msg in enumerate(messages):
            if msg.ts == ts:
                messages[index] = replace(
                    msg, text=text, blocks=blocks, attachments=attachments, updated=True
                )
                return True
        ephemerals = self._ephemerals.get((target.channel, target.user), [])
        for index, eph in enumerate(ephemerals):
            if eph.ts == ts:
                ephemerals[index] = replace(
                    eph, text=text, blocks=blocks, attachments=attachments, updated=True
                )
                return True
        return False
