"""The Teams delivery client: Baton's chat port (bot.ports.Chat) over the Bot Connector REST API.

Renders platform-neutral views as Adaptive Cards at send time and turns the connector's answers
into the port's errors. Teams limits per conversation and per tenant: a 429 is handed back with
its Retry-After (or, without one, a backoff with jitter that grows while that conversation keeps
refusing), so the outbox reschedules the row; 412, 502 and 504 are retried here a few times with
backoff and jitter; other 4xx are permanent (reported once by delivery); a timeout or a dropped
connection is 'uncertain' (sent again at most once).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa

from bot import views
from bot.org import Org
from bot.ports import ChatError, ChatUncertain
from bot.reports import Summary
from handlers.teams import cards
from handlers.teams.credentials import BOT_SCOPE, Credential, CredentialError, TokenSource
from store import conversations
from store.conversations import ConversationRef

log = logging.getLogger("baton.teams.delivery")
REMOVED_WAIT = 600.0  # seconds a notice waits, then looks again, while the app is removed
RETRIED = {412, 502, 504}  # Microsoft's advice: retry these with exponential backoff
RETRIES = 3
GONE = {"ConversationNotFound": "channel_not_found", "ActivityNotFound": "message_not_found",
        "MessageNotFound": "message_not_found"}
FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"


def activities_path(conv: str, activity: str | None = None) -> str:
    """The Bot Connector path of a conversation's activities, or of one of them."""
    base = f"/v3/conversations/{quote(conv, safe=':@.;=')}/activities"
    return f"{base}/{quote(activity)}" if activity is not None else base


def is_teams_place(to: str) -> bool:
    """Whether a recipient or message channel is Teams' (Teams ids hold a colon; Slack's never)."""
    return ":" in to


class ConnectorClient:
    """HTTPS calls to the Bot Connector with Baton's client-credentials token."""

    def __init__(self, *, app_id: str, password: str, token_url: str, http: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep, jitter: Callable[[], float] = random.random,
                 clock: Callable[[], float] = time.monotonic, source: TokenSource | None = None) -> None:
        self.app_id, self.password, self.token_url = app_id, password, token_url
        self.http = http or httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))
        self.source = source or TokenSource(Credential(app_id=app_id, tenant="", secret=password,
                                                       token_url=token_url), BOT_SCOPE, http=self.http)
        self.sleep, self.jitter, self.clock = sleep, jitter, clock
        self._lock = threading.Lock()
        self._refusals: dict[str, int] = {}  # conversation -> 429s in a row

    def token(self, *, fresh: bool = False) -> str:
        """A bearer token for the connector (handlers/teams/credentials.py: MSAL, secret or certificate)."""
        try:
            return self.source.token(fresh=fresh)
        except CredentialError as exc:  # a wrong secret or app id: nothing sends until it is mended
            raise ChatError("invalid_auth" if exc.auth else "token_unavailable", permanent=False) from exc

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before try ``attempt`` (1, 2, ...): doubling from half a second, with jitter."""
        base = min(30.0, 0.5 * 2 ** (attempt - 1))
        return base / 2 + base / 2 * self.jitter()

    def call(self, verb: str, service_url: str, path: str, body: dict[str, Any] | None = None,
             *, conversation: str = "") -> dict[str, Any]:
        """One connector call with the retries the module describes; its JSON answer."""
        url = service_url.rstrip("/") + path
        fresh = False
        for attempt in range(1, RETRIES + 2):
            try:
                r = self.http.request(verb, url, json=body,
                                      headers={"Authorization": f"Bearer {self.token(fresh=fresh)}"})
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                raise ChatUncertain(type(exc).__name__) from exc
            if r.status_code == 401 and not fresh:  # the token was revoked or rolled: once more
                fresh = True
                continue
            if r.status_code == 429:
                n = self._refusals[conversation] = self._refusals.get(conversation, 0) + 1
                header = r.headers.get("Retry-After")
                try:
                    wait = float(header) if header is not None else self.backoff(n)
                except ValueError:
                    wait = self.backoff(n)
                raise ChatError("ratelimited", permanent=False, retry_after=wait)
            if r.status_code in RETRIED and attempt <= RETRIES:
                self.sleep(self.backoff(attempt))
                continue
            self._refusals.pop(conversation, None)
            if r.status_code >= 400:
                code = _code(r)
                if r.status_code == 401:
                    raise ChatError("invalid_auth", permanent=False)  # waits for mended settings
                raise ChatError(GONE.get(code, code), permanent=r.status_code < 500 or code in GONE)
            return r.json() if r.content else {}
        raise AssertionError("unreachable")  # pragma: no cover


def _code(r: httpx.Response) -> str:
    try:
        err = (r.json() or {}).get("error") or {}
        return str(err.get("code") or r.status_code) if isinstance(err, dict) else str(r.status_code)
    except ValueError:
        return str(r.status_code)


def small_chart(summary: Summary) -> bytes:
    """The weekly chart at 640 x 360 in 16 colours (a few KB), so it fits inside a card: Teams
    refuses messages above about 28 KB and has no upload for a bot's images."""
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    from handlers.charts import digest_figure

    fig = digest_figure(summary)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB").quantize(colors=16)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


class TeamsChat:
    """Posts and redraws Baton's messages in Teams: 1:1 chats with people, team channels."""

    def __init__(self, client: ConnectorClient, engine: sa.Engine, org: Org, *, service_url: str,
                 tenant_id: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client, self.engine, self.org = client, engine, org
        self.service_url, self.tenant_id, self.clock = service_url, tenant_id, clock

    # ---- where things go ---------------------------------------------------------------------
    def conversation_of(self, person: str) -> ConversationRef:
        """A person's 1:1 chat: kept from the app's installation, or created now (and kept, with
        their Teams user id read back so their cards refresh for them too)."""
        ref = conversations.of_person(self.engine, person)
        if ref is not None:
            return ref
        p = self.org.person(person)
        if not p.entra_id:
            raise ChatError("user_not_found", permanent=True)  # `baton org check` names them
        service = self.service_for("")
        made = self.client.call("POST", service, "/v3/conversations", {
            "bot": {"id": f"28:{self.client.app_id}"}, "isGroup": False, "tenantId": self.tenant_id,
            "members": [{"id": p.entra_id}], "channelData": {"tenant": {"id": self.tenant_id}}},
            conversation=person)
        conv = str(made["id"])
        user_id = ""
        try:  # the member's Teams user id (29:...), which refresh.userIds and replies name them by
            member = self.client.call("GET", service, f"/v3/conversations/{quote(conv, safe=':@.;=')}"
                                                      f"/members/{quote(p.entra_id)}", conversation=conv)
            user_id = str(member.get("id") or "")
        except (ChatError, ChatUncertain) as exc:
            log.info("teams_member_not_read", extra={"error": type(exc).__name__,
                                                     "reason": getattr(exc, "code", "uncertain")})
        ref = ConversationRef(person=person, conversation_id=conv, service_url=service,
                              tenant_id=self.tenant_id, user_id=user_id, aad_object_id=p.entra_id)
        conversations.save(self.engine, ref, self.clock())
        return ref

    def service_for(self, conversation: str) -> str:
        """Where calls about a conversation go: the serviceUrl Teams last gave for that person's
        chat, that channel or team, else for the tenant, else the configured one."""
        if conversation:
            with self.engine.connect() as c:
                found = c.execute(sa.select(conversations.T.c.service_url).where(
                    conversations.T.c.conversation_id == conversation)).scalar()
            if found:
                return str(found)
        return conversations.service_url_of(self.engine, conversation.split(";", 1)[0],
                                            self.tenant_id) or self.service_url

    def _where(self, to: str) -> tuple[str, str]:
        """(service URL, conversation id) for a person or a Teams channel."""
        if is_teams_place(to):  # a channel, or a conversation id Baton posted to before
            self._installed(to)
            return self.service_for(to), to
        self._installed(None)  # before opening a chat with someone in a tenant without the app
        ref = self.conversation_of(to)
        if ref.tenant_id != self.tenant_id:
            self._installed(None, ref.tenant_id)
        return ref.service_url, ref.conversation_id

    def _installed(self, place: str | None, tenant: str | None = None) -> None:
        """Refuse for now (the row waits in the outbox) when the app was removed from the tenant
        or from the team ``place`` belongs to, as Slack's delivery stops on app_uninstalled."""
        places = [tenant or self.tenant_id] + ([place.split(";", 1)[0]] if place else [])
        if conversations.removed_from(self.engine, places):
            raise ChatError("app_uninstalled", permanent=False, retry_after=REMOVED_WAIT)

    def refresh_users(self, person: str | None, transfer_id: int | None = None) -> list[str]:
        """Teams user ids whose copy of a card refreshes itself (so they see their own buttons):
        in a 1:1 chat the person it was sent to; in a channel the people on the transfer (its
        practitioner and both teams' managers) who have the app, at most 60."""
        if person is not None and not is_teams_place(person):
            ref = conversations.of_person(self.engine, person)
            return [ref.user_id] if ref and ref.user_id else []
        if not transfer_id:
            return []
        from store.models import TransferRow

        T = TransferRow.__table__  # type: ignore[attr-defined]
        with self.engine.connect() as c:
            row = c.execute(sa.select(T.c.holding_team, T.c.receiving_team, T.c.requested_by)
                            .where(T.c.id == transfer_id)).first()
            if row is None:
                return []
            people = [row[2]] + [m for team in row[:2] if self.org.has_team(team)
                                 for m in self.org.team(team).managers]
            C = conversations.T.c
            found: dict[str, str] = {str(p): str(u) for p, u in c.execute(
                sa.select(C.person, C.user_id).where(C.person.in_(people), C.user_id != ""))}
        # in the transfer's order (who raised it, then the managers), so the cap drops the last
        return list(dict.fromkeys(str(found[p]) for p in people if p in found))[:60]

    def activity(self, message: views.Message, to: str | None = None) -> dict[str, Any]:
        """A neutral message as a Teams message activity (a card, or plain text)."""
        if isinstance(message, views.Text):
            return {"type": "message", "text": message.text, "textFormat": "plain"}
        tid = message.transfer_id if isinstance(message, views.Card) else None
        card = cards.render(message, self.org, refresh_users=self.refresh_users(to, tid))
        return {"type": "message", "summary": message.fallback[:200], "attachments": [cards.attachment(card)]}

    # ---- the port ----------------------------------------------------------------------------
    def post(self, to: str, message: views.Message) -> tuple[str, str]:
        """Post to a person (their 1:1 chat with Baton) or a channel; returns (conversation, activity)."""
        service, conv = self._where(to)
        sent = self.client.call("POST", service, activities_path(conv),
                                self.activity(message, to), conversation=conv)
        return conv, str(sent.get("id", ""))

    def update(self, channel: str, ts: str, message: views.Message) -> None:
        """Redraw a message Baton posted (the card is drawn for the conversation's person)."""
        with self.engine.connect() as c:
            person = c.execute(sa.select(conversations.T.c.person).where(
                conversations.T.c.conversation_id == channel)).scalar()
        self._installed(channel)
        body = {**self.activity(message, person), "id": ts}
        path = activities_path(channel, ts)
        self.client.call("PUT", self.service_for(channel), path, body, conversation=channel)

    def reply(self, channel: str, ts: str, text: str, *, notify: bool = False) -> tuple[str, str]:
        """A one-line reply to the card's activity (Bot Framework "Reply to activity": POST
        /v3/conversations/{id}/activities/{activityId} with replyToId). Every message in a
        1:1 chat notifies its reader, so ``notify`` changes nothing here."""
        self._installed(channel)
        body = {"type": "message", "text": text, "textFormat": "plain", "replyToId": ts}
        sent = self.client.call("POST", self.service_for(channel), activities_path(channel, ts), body,
                                conversation=channel)
        return channel, str(sent.get("id", ""))

    def link(self, channel: str, ts: str) -> str | None:
        """A Teams deep link to a channel post; None in a 1:1 chat (the bot's conversation id is
        not the chat id a link needs)."""
        if not channel.startswith("19:"):
            return None
        return (f"https://teams.microsoft.com/l/message/{quote(channel.split(';', 1)[0], safe='')}/"
                f"{quote(ts, safe='')}")

    def delete(self, channel: str, ts: str) -> None:
        """Delete a message Baton posted."""
        self.client.call("DELETE", self.service_for(channel),
                         activities_path(channel, ts),
                         conversation=channel)

    def post_file(self, to: str, filename: str, content: str, title: str) -> tuple[str, str]:
        """A file for a person, by Teams' file consent flow: a consent card goes to their 1:1 chat
        and the file waits (a day at most) until they accept it, when Baton uploads it to their
        OneDrive (see handlers/teams/app.py, ``fileConsent/invoke``)."""
        import secrets

        from microsoft_teams.api.models.file import FileConsentCard

        service, conv = self._where(to)
        token = secrets.token_hex(16)
        conversations.hold_file(self.engine, conversations.PendingFile(token, to, conv, filename, content),
                                self.clock())
        consent = FileConsentCard(description=title[:200], size_in_bytes=len(content.encode()),
                                  accept_context={"token": token}, decline_context={"token": token})
        path = activities_path(conv)
        sent = self.client.call("POST", service, path, {
            "type": "message", "attachments": [{
                "contentType": FILE_CONSENT, "name": filename,
                "content": consent.model_dump(mode="json", by_alias=True, exclude_none=True)}]},
            conversation=conv)
        return conv, str(sent.get("id", ""))

    def upload(self, upload_url: str, content: bytes) -> None:
        """PUT a file to the upload URL Teams gave for it (an upload session: no bearer token)."""
        try:
            r = self.client.http.put(upload_url, content=content, headers={
                "Content-Range": f"bytes 0-{len(content) - 1}/{len(content)}",
                "Content-Length": str(len(content))})
        except httpx.HTTPError as exc:
            raise ChatUncertain(type(exc).__name__) from exc
        if r.status_code >= 300:
            raise ChatError(f"upload_{r.status_code}", permanent=r.status_code < 500)

    def post_weekly(self, to: str, summary: Summary) -> tuple[str, str]:
        """The weekly summary as a card, with its chart inside (drawn small enough to travel in it)."""
        try:
            png: bytes | None = small_chart(summary)
        except Exception as exc:
            log.warning("teams_weekly_chart_not_drawn", extra={"error": type(exc).__name__,
                                                               "reason": "the card goes without its chart"})
            png = None
        service, conv = self._where(to)
        sent = self.client.call("POST", service, activities_path(conv),
                                {"type": "message", "attachments": [cards.attachment(
                                    cards.weekly_card(summary, png))]}, conversation=conv)
        return conv, str(sent.get("id", ""))
