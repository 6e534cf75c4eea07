"""Response URLs: issuing them and applying what is POSTed to them."""

from __future__ import annotations

import copy
import json
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any

from sandbox.slack.chat import ChatMixin
from sandbox.slack.http import _Reply
from sandbox.slack.records import Ephemeral, JSONDict, Message, ResponseRecord
from sandbox.slack.state import _ApiError, _opt_str, _truthy

RESPONSE_URL = "response_url"
"""Pseudo-method naming POSTs to a response URL (in ``calls``, ``fail_next``, ``hang_next``)."""
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL = 30 * 60.0


@dataclass
class _ResponseTarget:
    """An issued response URL and what it answers for."""

    url: str
    channel: str
    user: str
    message_ts: str | None
    issued_at: float
    uses: int = 0
    last_ts: str | None = None


class ResponseUrlsMixin(ChatMixin):
    """Response URLs for slash commands and actions: ephemeral, in-channel, replace, delete."""

    @property
    def responses(self) -> list[ResponseRecord]:
        """Successful response-URL posts, oldest first."""
        with self._lock:
            return copy.deepcopy(self._responses)

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
