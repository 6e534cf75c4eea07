"""A test driver that plays Slack: signed HTTP requests to the real app, a Web API stand-in for
what the app sends back. Tests read like conversations."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.signature import SignatureVerifier

from sandbox.slack_api import SlackStandIn

SECRET = "test-signing-secret"
TOKEN = "xoxb-test"


@dataclass
class Clock:
    """The injected 'now' the app reads; tests move it by hand."""

    now: datetime

    def __call__(self) -> datetime:
        """The current simulated moment."""
        return self.now


@dataclass
class SlackDriver:
    """Sends what Slack would send to Baton, signed like Slack signs it."""

    base_url: str
    api: SlackStandIn
    secret: str = SECRET
    team: str = "T0BATON00"
    last_status: int = 0
    responses: list[dict[str, Any]] = field(default_factory=list)

    def post(self, body: str, content_type: str = "application/x-www-form-urlencoded", *,
             signature: str | None = None, timestamp: int | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, str]:
        """POST a raw body to /slack/events with Slack's signature headers."""
        ts = str(timestamp if timestamp is not None else int(time.time()))
        sig = signature or SignatureVerifier(self.secret).generate_signature(timestamp=ts, body=body) or ""
        req = urllib.request.Request(
            self.base_url + "/slack/events", data=body.encode(), method="POST",
            headers={"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                     "X-Slack-Signature": sig, **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode()
        self.last_status = status
        return status, text

    def command(self, user: str, text: str, channel: str = "C0GENERAL") -> tuple[int, str]:
        """Type ``/transfer <text>`` as ``user``."""
        body = urllib.parse.urlencode({
            "token": "legacy", "team_id": self.team, "channel_id": channel, "user_id": user,
            "command": "/transfer", "text": text,
            "response_url": self.api.new_response_url(channel, user),
            "trigger_id": self.api.new_trigger_id(user),
        })
        return self.post(body)

    def _payload(self, payload: dict[str, Any]) -> tuple[int, str]:
        return self.post(urllib.parse.urlencode({"payload": json.dumps(payload)}))

    def press(self, user: str, action_id: str, value: str, *, channel: str | None = None) -> tuple[int, str]:
        """Press a button whose action_id and value are given, in a DM or channel."""
        return self._payload({
            "type": "block_actions", "team": {"id": self.team}, "user": {"id": user},
            "trigger_id": self.api.new_trigger_id(user),
            "channel": {"id": channel or self.api.dm_channel_for(user)},
            "actions": [{"type": "button", "action_id": action_id, "value": value,
                         "block_id": "b", "action_ts": "1"}],
            "response_url": self.api.new_response_url(channel or self.api.dm_channel_for(user), user),
        })

    def submit(self, user: str, values: dict[str, dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        """Submit the modal on top of ``user``'s stack with the given input values."""
        stack = self.api.modal_stack(user)
        assert stack, f"{user} has no modal open"
        view = stack[-1]
        state = {block: {f"{block}_input": el} for block, el in values.items()}
        status, text = self._payload({
            "type": "view_submission", "team": {"id": self.team}, "user": {"id": user},
            "trigger_id": self.api.new_trigger_id(user),
            "view": {"id": view.id, "type": "modal", "callback_id": view.callback_id,
                     "private_metadata": view.private_metadata, "state": {"values": state}},
        })
        answer = json.loads(text) if text.strip().startswith("{") else {}
        if status == 200 and "errors" not in answer:
            self.api.pop_modal(user)  # Slack closes a modal that was accepted
        return status, answer

    def event(self, event: dict[str, Any], event_id: str, *, retry: int | None = None) -> tuple[int, str]:
        """Deliver an Events API event (optionally marked as Slack's retry)."""
        body = json.dumps({"type": "event_callback", "team_id": self.team, "event_id": event_id,
                           "event_time": 1, "event": event})
        headers = ({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
                   if retry else None)
        return self.post(body, "application/json", headers=headers)


def text_input(value: str) -> dict[str, Any]:
    """A plain_text_input's submitted state."""
    return {"type": "plain_text_input", "value": value}


def select(value: str | None) -> dict[str, Any]:
    """A static_select's submitted state."""
    return {"type": "static_select", "selected_option": {"value": value} if value else None}


def user_select(user: str | None) -> dict[str, Any]:
    """A users_select's submitted state."""
    return {"type": "users_select", "selected_user": user}


def date_pick(value: str | None) -> dict[str, Any]:
    """A datepicker's submitted state."""
    return {"type": "datepicker", "selected_date": value}


def checks(*values: str) -> dict[str, Any]:
    """A checkboxes element's submitted state."""
    return {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}


def wait(api: SlackStandIn, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Wait until the stand-in's state satisfies ``predicate`` (no fixed sleeps)."""
    return api.wait_for(predicate, timeout=timeout)
