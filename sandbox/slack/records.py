"""The frozen records the stand-in hands out: calls, messages, views, channels, files, responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JSONDict = dict[str, Any]


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
    broadcast: bool = False  # a thread reply also shown in the conversation (reply_broadcast)


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
    is_member: bool = True  # the bot is in it
    is_archived: bool = False


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
