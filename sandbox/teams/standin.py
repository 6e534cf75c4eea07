"""BotConnectorStandIn: what Baton calls in Microsoft's cloud, served locally over HTTP.

- ``GET /v1/.well-known/openidconfiguration`` and ``/v1/.well-known/keys``: the OpenID metadata
  and the JWKS whose key signs the tokens :meth:`BotConnectorStandIn.token_for` mints (the tokens
  the Bot Connector puts on each activity it sends Baton);
- ``POST /{tenant}/oauth2/v2.0/token``: the client-credentials token Baton sends the connector with;
- ``/v3/conversations``: create a 1:1 conversation, send, reply to (an activity of that
  conversation: else 404 ``ActivityNotFound``), update and delete activities,
  read a member (with their e-mail), each answering 401 without a token it issued;
- faults: the next calls answer 429 (with or without Retry-After), 412, 502 or 504.

As strict as Teams where Baton could get it wrong (Microsoft's "Send proactive messages" and its
table of Bot Connector status codes): a 1:1 chat can be created only with a member of the tenant
who has the app (else 403 ``BotNotInConversationRoster``), and nothing is posted to a person who
removed the app or blocked the bot (403 ``BotNotInConversationRoster`` / ``ConversationBlockedByUser``)
or to a team the app was removed from; Teams user ids (``29:1...``) are opaque, never derived from
the Entra object id; every error is ``{"error": {"code", "message"}}`` with Teams' own codes. Each
region's serviceUrl (``/emea/``, ``/uk/``, the global ``/teams/``) reaches the same conversations,
and each call records the region it came through (:attr:`BotConnectorStandIn.regions`).

Conversations hold every activity as sent and every version of an update, for assertions.
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

from sandbox.teams.keys import BOT_ISSUER, SigningKey
from sandbox.teams.serve import json_server, openid_configuration

log = logging.getLogger("sandbox.teams")
APP_ID = "00000000-0000-4000-8000-0000000ba701"  # the bot's (made up) Microsoft app id
APP_PASSWORD = "stand-in-client-secret"
TENANT = "00000000-0000-4000-8000-00000000b470"  # the demo org's tenant


@dataclass
class Member:
    """A person in the tenant: their Teams user id, Entra object id and work e-mail; whether
    they have the app (an administrator's setup policy installs it for everyone) and whether
    they blocked the bot."""

    id: str
    aad: str
    email: str
    has_app: bool = True
    blocked: bool = False


# Teams' Bot Connector status codes and messages (Microsoft's table for bot APIs)
ERRORS = {
    400: ("BadSyntax", "Incorrect conversation creation parameters."),
    403: ("BotNotInConversationRoster", "The bot is not part of the conversation roster."),
    404: ("ConversationNotFound", "The conversation was not found."),
    412: ("PreconditionFailed", "Precondition failed, please try again."),
    413: ("MessageSizeTooBig", "Message size too large."),
    429: ("Throttled", "Too many requests. Also returns when to retry after."),
    502: ("ServiceError", "Various."),
    504: ("GatewayTimeout", "Gateway timeout."),
}
REGIONS = ("teams", "emea", "uk", "amer", "apac")  # path prefixes of the regional serviceUrls


def error(status: int, code: str | None = None, message: str | None = None) -> dict[str, Any]:
    """A Bot Connector error body, as Teams sends it."""
    known = ERRORS.get(status, (f"Error{status}", ""))
    return {"error": {"code": code or known[0], "message": message or known[1]}}


@dataclass
class Conversation:
    """A conversation Baton can post to: a person's 1:1 chat or a team's channel."""

    id: str
    tenant: str
    members: list[str] = field(default_factory=list)  # Teams user ids
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> latest version
    history: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (verb, id, body)
    typed: set[str] = field(default_factory=set)  # ids of the activities people sent here


@dataclass
class Fault:
    """The next ``count`` connector calls (matching ``path``) answer ``status``."""

    status: int
    count: int = 1
    retry_after: float | None = None
    path: str = "/activities"


# Teams refuses a message over about 28 KB (413 MessageSizeTooBig): see handlers/teams/fit.py
MESSAGE_MAX = 28 * 1024


class BotConnectorStandIn:
    """An in-process fake of the Bot Connector service, its token endpoint and OpenID metadata."""

    def __init__(self, *, app_id: str = APP_ID, password: str = APP_PASSWORD,
                 tenant: str = TENANT, host: str = "127.0.0.1", port: int = 0,
                 per_conversation_rate: float | None = None) -> None:
        self.app_id, self.password, self.tenant = app_id, password, tenant
        # Teams limits each bot per conversation: beyond this many messages a second, 429 with
        # Retry-After (the time until the next one may go)
        self.per_conversation_rate = per_conversation_rate
        self._last_send: dict[str, float] = {}
        self._hang: list[str] = []  # paths (parts of) whose next POST is held until release_hung()
        self._released = threading.Event()
        self.hung_requests = 0
        self.uploads: dict[str, bytes] = {}  # upload session id -> the file Baton put there
        self.key = SigningKey()
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.members: dict[str, Member] = {}  # Teams user id -> member
        self.conversations: dict[str, Conversation] = {}
        self.faults: list[Fault] = []
        self.issued: set[str] = set()
        self.calls: list[tuple[str, str, int]] = []  # (verb, path, status answered)
        self.regions: list[tuple[str, str]] = []  # (region prefix or "", path) of each connector call
        self.removed_from: set[str] = set()  # channels of teams the app was removed from
        self._ids = itertools.count(1_700_000_000_001)
        self.server = json_server(host, port, self.handle, before=self._maybe_hang)
        self.url = f"http://{host}:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="teams-stand-in")

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Self:
        """Serve from a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ---- addresses Baton is configured with ----------------------------------------------------
    @property
    def service_url(self) -> str:
        """The serviceUrl activities carry (where Baton sends its replies)."""
        return f"{self.url}/"

    @property
    def openid_metadata_url(self) -> str:
        """The OpenID metadata address (Microsoft's: login.botframework.com/v1/...)."""
        return f"{self.url}/v1/.well-known/openidconfiguration"

    @property
    def token_url(self) -> str:
        """The client-credentials token endpoint of the bot's tenant."""
        return f"{self.url}/{self.tenant}/oauth2/v2.0/token"

    # ---- test helpers --------------------------------------------------------------------------
    def add_member(self, aad: str, email: str, *, has_app: bool = True) -> Member:
        """A person in the tenant, with an opaque Teams user id of its own (as Teams gives: nothing
        in it says who they are); ``has_app=False``: the app was never installed for them."""
        m = Member(id=f"29:1{secrets.token_urlsafe(48)}", aad=aad, email=email, has_app=has_app)
        with self.lock:
            self.members[m.id] = m
        return m

    def region_url(self, region: str) -> str:
        """A regional serviceUrl of this stand-in (``emea``, ``uk``; ``teams``: the global one)."""
        return f"{self.url}/{region}/"

    def member_by_aad(self, aad: str) -> Member:
        """The member with this Entra object id."""
        return next(m for m in self.members.values() if m.aad == aad)

    def token_for(self, **overrides: Any) -> str:
        """A Bot Connector token for Baton, as Teams signs each activity it sends."""
        args: dict[str, Any] = {"audience": self.app_id, "service_url": self.service_url, **overrides}
        return self.key.mint(**args)

    def fail_next(self, status: int, count: int = 1, *, retry_after: float | None = None,
                  path: str = "/activities") -> None:
        """Make the next ``count`` calls whose path holds ``path`` answer ``status``."""
        with self.lock:
            self.faults.append(Fault(status, count, retry_after, path))

    def hang_next(self, path: str = "/activities") -> None:
        """Hold the next POST whose path holds ``path`` until :meth:`release_hung` (then it is
        kept, as the real service may keep a message whose sender died waiting)."""
        with self.lock:
            self._hang.append(path)
            self._released.clear()

    def release_hung(self) -> None:
        """Let held requests go on."""
        self._released.set()

    def _maybe_hang(self, verb: str, path: str) -> None:
        with self.changed:
            match = next((p for p in self._hang if verb == "POST" and p in path), None)
            if match is None:
                return
            self._hang.remove(match)
            self.hung_requests += 1
            self.changed.notify_all()
        self._released.wait(60)

    def chat_of(self, member_id: str) -> Conversation | None:
        """The 1:1 conversation with a member, once one exists."""
        with self.lock:
            return next((c for c in self.conversations.values()
                         if c.members == [member_id] and not c.id.startswith("19:")), None)

    def channel(self, channel_id: str) -> Conversation:
        """A team channel (created on first use, as channels exist before Baton posts)."""
        with self.lock:
            return self.conversations.setdefault(channel_id, Conversation(channel_id, self.tenant))

    def received(self, conversation_id: str, activity_id: str) -> None:
        """A person sent an activity in a conversation (Baton may reply to it)."""
        with self.lock:
            conv = self.conversations.get(conversation_id)
            if conv is None and conversation_id.startswith("19:"):
                conv = self.channel(conversation_id)
            if conv is not None:
                conv.typed.add(activity_id)

    def sent(self, conversation_id: str) -> list[dict[str, Any]]:
        """Activities in a conversation, latest version of each, in the order they were sent."""
        with self.lock:
            c = self.conversations.get(conversation_id)
            return list(c.activities.values()) if c else []

    # ---- HTTP --------------------------------------------------------------------------------
    def handle(self, verb: str, raw: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, Any, dict[str, str]]:
        """Answer one request: (status, JSON body, headers)."""
        path = unquote(urlsplit(raw).path)
        region = ""
        first, _, rest = path.lstrip("/").partition("/")
        if first in REGIONS and rest.startswith("v3/"):
            region, path = first, "/" + rest
        if path.startswith("/v3/"):
            with self.lock:
                self.regions.append((region, path))
        try:
            status, payload, extra = self._route(verb, path, headers, body)
        except Exception:
            log.exception("teams stand-in failed on %s %s", verb, path)
            status, payload, extra = 500, error(500, "ServiceError", "Various."), {}
        with self.changed:
            self.calls.append((verb, path, status))
            self.changed.notify_all()
        return status, payload, extra

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> Any:
        """Wait until ``predicate()`` is truthy, woken by each request (no fixed sleeps); its value."""
        import time

        end = time.monotonic() + timeout
        with self.changed:
            while True:
                got = predicate()
                if got:
                    return got
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("the Bot Connector stand-in never saw what was awaited")
                self.changed.wait(min(left, 0.1))

    def _fault(self, path: str) -> tuple[int, Any, dict[str, str]] | None:
        with self.lock:
            for f in self.faults:
                if f.path in path and f.count > 0:
                    f.count -= 1
                    headers = {"Retry-After": f"{f.retry_after:g}"} if f.retry_after is not None else {}
                    return f.status, error(f.status), headers
        return None

    def _route(self, verb: str, path: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, Any, dict[str, str]]:
        if verb == "GET" and path == "/v1/.well-known/openidconfiguration":
            return 200, {"issuer": BOT_ISSUER, "jwks_uri": f"{self.url}/v1/.well-known/keys",
                         "id_token_signing_alg_values_supported": ["RS256"],
                         "token_endpoint_auth_methods_supported": ["private_key_jwt"]}, {}
        if verb == "GET" and path.endswith("/v2.0/.well-known/openid-configuration"):  # MSAL reads it first
            return 200, openid_configuration(self.url, self.tenant), {}
        if verb == "GET" and path == "/v1/.well-known/keys":
            return 200, {"keys": [self.key.jwk()]}, {}
        if verb == "PUT" and path.startswith("/upload/"):  # a OneDrive upload session's URL
            fault = self._fault(path)
            if fault:
                return fault
            with self.lock:
                self.uploads[path[len("/upload/"):]] = body
            return 201, {"id": path[len("/upload/"):]}, {}
        if verb == "POST" and path.endswith("/oauth2/v2.0/token"):
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if (form.get("client_id") != self.app_id or form.get("client_secret") != self.password
                    or form.get("grant_type") != "client_credentials"):
                return 401, {"error": "invalid_client"}, {}
            token = secrets.token_urlsafe(24)
            with self.lock:
                self.issued.add(token)
            return 200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token}, {}
        if not path.startswith("/v3/conversations"):
            return 404, error(404, "NotFound", "Not found."), {}
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        if not auth.startswith("Bearer ") or auth[7:] not in self.issued:
            return 401, error(401, "Unauthorized", "Authorization has been denied for this request."), {}
        fault = self._fault(path)
        if fault:
            return fault
        limited = self._limited(verb, path)
        if limited:
            return limited
        if verb in ("POST", "PUT") and "/activities" in path and len(body) > MESSAGE_MAX:
            return 413, {"error": {"code": "MessageSizeTooBig", "message": "Message size too large"}}, {}
        data: Any = json.loads(body) if body else {}
        parts = path.split("/")[3:]  # after /v3/conversations
        if not parts or parts == [""]:
            return self._create(data) if verb == "POST" else (405, {}, {})
        conv_id = parts[0]
        with self.lock:
            conv = self.conversations.get(conv_id)
            if conv is None and conv_id.startswith("19:") and conv_id.endswith(("@thread.tacv2",
                                                                               "@thread.skype")):
                conv = self.channel(conv_id)
        if conv is None:
            return 404, error(404), {}
        if len(parts) == 3 and parts[1] == "members" and verb == "GET":
            m = self.members.get(parts[2]) or next(  # by Teams user id or by Entra object id
                (x for x in self.members.values() if x.aad == parts[2]), None)
            if m is None or (conv.members and m.id not in conv.members):
                return 404, error(404, "MemberNotFoundInConversation", "The member was not found."), {}
            return 200, {"id": m.id, "aadObjectId": m.aad, "email": m.email,
                         "userPrincipalName": m.email, "tenantId": self.tenant}, {}
        if len(parts) >= 2 and parts[1] == "activities":
            refused = self._refused(conv) if verb == "POST" else None
            if refused:
                return refused
            return self._activity(verb, conv, parts[2] if len(parts) > 2 else None, data)
        return 404, {"error": {"code": "NotFound"}}, {}

    def _limited(self, verb: str, path: str) -> tuple[int, Any, dict[str, str]] | None:
        if self.per_conversation_rate is None or verb != "POST" or "/activities" not in path:
            return None
        import time

        conv = path.split("/")[3]
        gap = 1.0 / self.per_conversation_rate
        with self.lock:
            now = time.monotonic()
            last = self._last_send.get(conv)
            if last is not None and now - last < gap:
                wait = gap - (now - last)
                return 429, error(429), {"Retry-After": f"{wait:.3f}"}
            self._last_send[conv] = now
        return None

    def _create(self, data: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        members = [str(m.get("id", "")) for m in data.get("members") or []]
        tenant = data.get("tenantId") or (data.get("channelData") or {}).get("tenant", {}).get("id")
        if len(members) != 1 or data.get("isGroup") or not tenant:
            return 400, error(400), {}
        found = self.members.get(members[0]) or next(
            (m for m in self.members.values() if members[0] in (f"8:orgid:{m.aad}", m.aad)), None)
        if found is None or tenant != self.tenant:
            return 403, error(403, "Forbidden", "The user is not in the tenant."), {}
        if not found.has_app:  # a 1:1 chat needs the app installed for the person first
            return 403, error(403), {}
        with self.lock:
            existing = self.chat_of(found.id)
            if existing is None:
                existing = Conversation(f"a:1{secrets.token_hex(20)}", tenant, [found.id])
                self.conversations[existing.id] = existing
        return 201, {"id": existing.id}, {}

    def _refused(self, conv: Conversation) -> tuple[int, Any, dict[str, str]] | None:
        """Teams' refusal of a post: the app removed from the team, or the person in a 1:1 chat
        removed it or blocked the bot."""
        with self.lock:
            if conv.id.startswith("19:") and conv.id.split(";", 1)[0] in self.removed_from:
                return 403, error(403), {}
            people = [self.members[m] for m in conv.members if m in self.members]
        if len(people) == 1 and people[0].blocked:
            return 403, error(403, "ConversationBlockedByUser",
                              "User blocked the conversation with the bot."), {}
        if len(people) == 1 and not people[0].has_app:
            return 403, error(403), {}
        return None

    def _activity(self, verb: str, conv: Conversation, activity_id: str | None,
                  data: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            if verb == "POST":
                if activity_id is not None and activity_id not in conv.activities | dict.fromkeys(conv.typed):
                    # "Reply to activity" names an activity of this conversation
                    return 404, error(404, "ActivityNotFound", "The activity was not found."), {}
                new_id = str(next(self._ids))
                conv.activities[new_id] = {**data, "id": new_id, "replyToId": activity_id}
                conv.history.append(("send", new_id, data))
                return 201, {"id": new_id}, {}
            if activity_id is None or activity_id not in conv.activities:
                return 404, error(404, "ActivityNotFound", "The activity was not found."), {}
            if verb == "PUT":
                conv.activities[activity_id] = {**data, "id": activity_id}
                conv.history.append(("update", activity_id, data))
                return 200, {"id": activity_id}, {}
            if verb == "DELETE":
                del conv.activities[activity_id]
                conv.history.append(("delete", activity_id, {}))
                return 200, {}, {}
        return 405, {}, {}


def card_of(activity: dict[str, Any]) -> dict[str, Any] | None:
    """The Adaptive Card an activity carries, if any."""
    for a in activity.get("attachments") or []:
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive":
            content: dict[str, Any] = a.get("content") or {}
            return content
    return None


def card_text(card: dict[str, Any] | None) -> str:
    """Every text in a card, flattened (for assertions)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("text", "title", "label", "value", "errorMessage") and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    walk(card or {})
    return "\n".join(out)


def verbs_of(card: dict[str, Any] | None) -> list[str]:
    """The verbs of a card's Action.Execute buttons, in order."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute" and node.get("verb"):
                out.append(str(node["verb"]))
            for k, v in node.items():
                if k != "refresh":
                    walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    walk(card or {})
    return out


