"""The Slack delivery client: Baton's chat port (bot.ports.Chat) over Slack's Web API.

Renders platform-neutral views with the Block Kit renderers at send time and turns Slack's
answers into the port's errors: 429 with Retry-After, errors retrying cannot mend, and sends
whose outcome is unknown (a timeout, a dropped line).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import views
from bot.ports import ChatError, ChatUncertain
from bot.reports import Summary
from handlers.charts import digest_chart
from handlers.slack import blocks

log = logging.getLogger("baton.slack.delivery")
PERMANENT_ERRORS = {"channel_not_found", "not_in_channel", "user_not_found", "is_archived",
                    "invalid_blocks", "msg_too_long", "message_not_found", "cant_update_message",
                    "thread_not_found"}
# The token no longer works (uninstalled, revoked): rows wait for a reinstall, none is lost.
AUTH_ERRORS = {"token_revoked", "invalid_auth", "account_inactive", "not_authed", "token_expired"}
T = TypeVar("T")


def _call(send: Callable[[], T]) -> T:
    try:
        return send()
    except SlackApiError as exc:
        status = exc.response.status_code
        error = str(exc.response.get("error") or status)
        if status == 429:
            headers = exc.response.headers
            wait = headers.get("Retry-After", headers.get("retry-after", 1))
            raise ChatError("ratelimited", permanent=False, retry_after=float(wait)) from exc
        permanent = error not in AUTH_ERRORS and (error in PERMANENT_ERRORS or status < 500)
        raise ChatError(error, permanent=permanent) from exc
    except Exception as exc:  # timeouts and connection errors that outlived the client's retries
        raise ChatUncertain(type(exc).__name__) from exc


class SlackChat:
    """Posts and redraws Baton's messages in Slack."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._links: dict[tuple[str, str], str] = {}  # (channel, ts) -> permalink

    def post(self, to: str, message: views.Message) -> tuple[str, str]:
        """Post to a user (their DM with Baton) or a channel; returns (channel, ts)."""
        resp = _call(lambda: self.client.chat_postMessage(channel=to, **blocks.render(message)))
        return str(resp["channel"]), str(resp["ts"])

    def update(self, channel: str, ts: str, message: views.Message) -> None:
        """Redraw a message Baton posted."""
        _call(lambda: self.client.chat_update(channel=channel, ts=ts, **blocks.render(message)))

    def reply(self, channel: str, ts: str, text: str, *, notify: bool = False) -> tuple[str, str]:
        """A one-line reply in the card's thread (``thread_ts``); ``notify``: also shown in the
        conversation (``reply_broadcast``), so the reader is told, not only the thread."""
        resp = _call(lambda: self.client.chat_postMessage(
            channel=channel, thread_ts=ts, text=blocks.escape(text)[:3000], reply_broadcast=notify))
        return str(resp["channel"]), str(resp["ts"])

    def link(self, channel: str, ts: str) -> str | None:
        """The message's permalink (chat.getPermalink, asked once per message: a permalink never
        changes); None when Slack gives none."""
        known = self._links.get((channel, ts))
        if known is not None:
            return known
        try:
            resp = _call(lambda: self.client.chat_getPermalink(channel=channel, message_ts=ts))
        except (ChatError, ChatUncertain):
            return None
        link = str(resp.get("permalink") or "") or None
        if link is not None:
            if len(self._links) >= 50_000:
                self._links.clear()
            self._links[(channel, ts)] = link
        return link

    def post_file(self, to: str, filename: str, content: str, title: str) -> tuple[str, str]:
        """Upload a file to a person's DM with Baton (files_upload_v2 needs the DM's channel id)."""
        dm = _call(lambda: self.client.conversations_open(users=to))
        channel = str(dm["channel"]["id"])
        resp = _call(lambda: self.client.files_upload_v2(channel=channel, content=content,
                                                         filename=filename, title=title))
        files = resp.get("files") or [{}]
        return channel, str(files[0].get("id", ""))

    def delete(self, channel: str, ts: str) -> None:
        """Delete a message Baton posted (chat.delete)."""
        _call(lambda: self.client.chat_delete(channel=channel, ts=ts))

    def post_weekly(self, to: str, summary: Summary) -> tuple[str, str]:
        """The weekly summary, then its chart as a PNG (a failed chart does not repost the summary)."""
        start, end = summary.start, summary.end
        resp = _call(lambda: self.client.chat_postMessage(
            channel=to, blocks=blocks.weekly_digest(summary),
            text=f"Transfers {start:%d %b} to {end:%d %b %Y}: {summary.opened} opened, "
                 f"{summary.resolved} resolved, {summary.breached} breached"))
        try:
            self.client.files_upload_v2(
                channel=to, content=digest_chart(summary), filename=f"transfers-{end.isoformat()}.png",
                title=f"Transfers by team, {start:%d %b} to {end:%d %b %Y}",
                alt_txt="Bar chart of transfers opened, resolved and breached per team")
        except Exception as exc:
            log.warning("weekly_chart_not_uploaded", extra={"channel": to, "error": type(exc).__name__})
        return str(resp["channel"]), str(resp["ts"])
