"""chat.postMessage / chat.update / chat.postEphemeral / chat.delete and the messages they leave."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sandbox.slack.files import FilesMixin
from sandbox.slack.records import Ephemeral, JSONDict, Message
from sandbox.slack.state import _ApiError, _is_user_id, _opt_str, _truthy

MAX_MESSAGE_BLOCKS = 50
MAX_TEXT_LENGTH = 40_000


class ChatMixin(FilesMixin):
    """Messages and ephemeral messages, per-channel rate limiting included."""

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
            if msg.broadcast:
                body["subtype"] = "thread_broadcast"
        replies = [m for m in self._conversations.get(msg.channel, [])
                   if m.thread_ts == msg.ts and m.ts != msg.ts]
        if replies:  # a parent, as conversations.history shows it
            body |= {"thread_ts": msg.ts, "reply_count": len(replies),
                     "latest_reply": replies[-1].ts}
        if msg.metadata is not None:
            body["metadata"] = copy.deepcopy(msg.metadata)
        if msg.files:
            body["files"] = [self._file_json(self._files[f]) for f in msg.files if f in self._files]
        if msg.updated:
            body["edited"] = {"user": msg.user, "ts": msg.ts}
        return body

    def _find_message(self, channel: str, ts: Any) -> tuple[int, Message]:
        wanted = _opt_str(ts)
        for index, msg in enumerate(self._conversations.get(channel, [])):
            if msg.ts == wanted:
                return index, msg
        raise _ApiError("message_not_found")

    def _chat_post_message(self, p: JSONDict) -> JSONDict:
        channel = self._resolve_channel(p.get("channel"))
        if not self._channels[channel].is_member:  # without chat:write.public, as Slack answers
            raise _ApiError("not_in_channel")
        text, blocks, attachments = self._message_content(p)
        metadata = p.get("metadata")
        thread_ts = _opt_str(p.get("thread_ts"))
        if thread_ts is not None:
            # A reply names a message of this conversation; a reply to a reply joins its
            # parent's thread (Slack threads are one level deep).
            parent = next((m for m in self._conversations.get(channel, []) if m.ts == thread_ts), None)
            if parent is None:
                raise _ApiError("thread_not_found")
            thread_ts = parent.thread_ts or parent.ts
        self._check_rate(channel, consume=False)
        msg = Message(
            channel=channel,
            ts=self._next_ts(),
            user=self.bot_user_id,
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=thread_ts,
            metadata=copy.deepcopy(metadata) if isinstance(metadata, dict) else None,
            bot_id=self.bot_id,
            broadcast=thread_ts is not None and _truthy(p.get("reply_broadcast")),
        )
        self._conversations.setdefault(channel, []).append(msg)
        self._check_rate(channel, consume=True)
        return {"channel": channel, "ts": msg.ts, "message": self._message_json(msg)}

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

    def _chat_get_permalink(self, p: JSONDict) -> JSONDict:
        """A link to a message (a reply's names its thread), as Slack forms it."""
        channel = self._resolve_channel(p.get("channel"))
        _, msg = self._find_message(channel, p.get("message_ts"))
        link = f"{self.workspace_url}archives/{channel}/p{msg.ts.replace('.', '')}"
        if msg.thread_ts and msg.thread_ts != msg.ts:
            link += f"?thread_ts={msg.thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}

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
