"""The stand-in's shared state behind one re-entrant lock, with helpers every Web API method uses."""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from http.server import ThreadingHTTPServer
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from sandbox.slack.records import (
    Call,
    Channel,
    Ephemeral,
    JSONDict,
    Message,
    ResponseRecord,
    UploadedFile,
    View,
)

if TYPE_CHECKING:
    from sandbox.slack.faults import _FailRule, _HangRule
    from sandbox.slack.response_urls import _ResponseTarget
    from sandbox.slack.views import _Trigger

T = TypeVar("T")

_TRUE_VALUES = {"1", "true", "True", "yes"}

DEFAULT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    "files:write",
)
"""Scopes granted unless ``set_scopes`` says otherwise (kept in step with manifest.yml)."""

# Methods the stand-in refuses with missing_scope unless a scope is granted (as Slack does).
_SCOPE_OF: dict[str, str] = {
    "users.lookupByEmail": "users:read.email",
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "files.getUploadURLExternal": "files:write",
}


class _ApiError(Exception):
    """An error answer: ``{"ok": false, "error": ...}`` with an HTTP status."""

    def __init__(
        self,
        error: str,
        *,
        http_status: int = 200,
        headers: Mapping[str, str] | None = None,
        messages: list[str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(error)
        self.extra = dict(extra or {})
        self.error = error
        self.http_status = http_status
        self.headers = dict(headers or {})
        self.messages = messages

    def body(self) -> JSONDict:
        """The JSON body Slack would send."""
        body: JSONDict = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["response_metadata"] = {"messages": list(self.messages)}
        return body


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


class StandInState:
    """Configuration, recorded state and the lock; the base of every SlackStandIn part."""

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
        self._scopes: tuple[str, ...] = DEFAULT_SCOPES
        self._revoked: set[str] = set()
        self._rate = per_channel_rate_limit
        self._clock = clock
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.workspace_url = "https://baton-sandbox.slack.com/"  # auth.test's url; permalinks start so
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
        self._users: dict[str, JSONDict] = {}  # user id -> fields that differ from an active member
        self._gone_users: set[str] = set()  # answer user_not_found
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

    def revoke_tokens(self, revoked: bool = True) -> None:
        """Answer every call with ``token_revoked`` (an uninstall), or accept the tokens again
        (a reinstall) when ``revoked`` is False."""
        with self._lock:
            self._revoked = set(self._tokens) if revoked else set()

    def set_scopes(self, scopes: Iterable[str]) -> None:
        """Grant exactly these scopes from now on (reported in X-OAuth-Scopes and enforced)."""
        with self._lock:
            self._scopes = tuple(scopes)

    def _check_scope(self, method: str, params: Mapping[str, Any]) -> None:
        """missing_scope (with ``needed``) when the token lacks what ``method`` needs."""
        needed = _SCOPE_OF.get(method)
        if method == "conversations.info":
            channel = str(params.get("channel") or "")
            needed = "groups:read" if channel.startswith("G") else (
                None if channel.startswith("D") else "channels:read")
        if needed and needed not in self._scopes:
            raise _ApiError("missing_scope", extra={"needed": needed, "provided": ",".join(self._scopes)})

    def reset(self) -> None:
        """Forget all state, calls and fault rules (tokens and IDs stay)."""
        with self._lock:
            self._reset_state()
            self._cond.notify_all()

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
