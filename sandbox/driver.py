"""Plays Slack towards Baton: signed HTTP requests to the real app, the Web API stand-in for what
the app sends back.

One copy, used by the end-to-end tests (``tests/e2e/slack.py`` re-exports it) and by the
sandbox page (``sandbox/server.py``), so what a person clicks reaches the bot exactly as a
test's request does: form-encoded or JSON, signed with the signing secret as Slack signs it.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from sandbox.slack_api import SlackStandIn

__all__ = [
    "SECRET",
    "TOKEN",
    "Clock",
    "SlackDriver",
    "checks",
    "date_pick",
    "external",
    "select",
    "text_input",
    "user_select",
    "wait",
]

SECRET = "test-signing-secret"
TOKEN = "xoxb-test"
_event_ids = itertools.count(1)


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
    token: str = TOKEN
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

    def press(self, user: str, action_id: str, value: str, *, channel: str | None = None,
              message_ts: str | None = None, block_id: str = "b", view_id: str | None = None,
              text: str | None = None, element: str = "button") -> tuple[int, str]:
        """Press a button whose action_id and value are given, in a DM or channel; or, with
        ``element`` "overflow" (or "static_select"), choose the option valued ``value`` of a
        card's overflow menu, as Slack sends it (``selected_option``, no ``value``).

        ``message_ts`` names the message the button is on (its response URL then replaces it);
        ``view_id`` presses it in a view (the App Home) instead, which has no response URL.
        """
        action: dict[str, Any] = {"type": element, "action_id": action_id, "block_id": block_id,
                                  "action_ts": f"{time.time():.6f}"}
        if element == "button":
            action["value"] = value
            if text is not None:
                action["text"] = {"type": "plain_text", "text": text, "emoji": True}
        else:
            action["selected_option"] = {"text": {"type": "plain_text", "text": text or value,
                                                  "emoji": True}, "value": value}
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": self.team}, "user": {"id": user, "team_id": self.team},
            "api_app_id": self.api.app_id, "trigger_id": self.api.new_trigger_id(user),
            "actions": [action],
        }
        view = self.api.view(view_id) if view_id else None
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.id}
            payload["view"] = view.payload
        else:
            where = channel or self.api.dm_channel_for(user)
            payload["channel"] = {"id": where}
            payload["container"] = {"type": "message", "channel_id": where, "message_ts": message_ts or "",
                                    "is_ephemeral": False}
            payload["response_url"] = self.api.new_response_url(where, user, message_ts=message_ts)
            if message_ts:
                message = self.api.message(where, message_ts)
                if message is not None:
                    payload["message"] = {"type": "message", "ts": message.ts, "text": message.text,
                                          "user": message.user, "blocks": message.blocks or []}
        return self._payload(payload)

    def choose(self, user: str, view_id: str, block_id: str, action_id: str, value: str
               ) -> tuple[int, str]:
        """Choose an option of a select that dispatches its action (``dispatch_action``) in an
        open modal: the block_actions Slack sends, with the view as it stands."""
        view = self.api.view(view_id)
        if view is None:
            raise ValueError(f"no view {view_id}")
        action = {"type": "static_select", "action_id": action_id, "block_id": block_id,
                  "selected_option": {"value": value}, "action_ts": f"{time.time():.6f}"}
        return self._payload({
            "type": "block_actions", "team": {"id": self.team}, "user": {"id": user, "team_id": self.team},
            "api_app_id": self.api.app_id, "trigger_id": self.api.new_trigger_id(user),
            "container": {"type": "view", "view_id": view.id}, "view": view.payload, "actions": [action],
        })

    def submit(self, user: str, values: dict[str, dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        """Submit the modal on top of ``user``'s stack with the given input values."""
        state = {block: {f"{block}_input": el} for block, el in values.items()}
        return self.submit_state(user, state)

    def submit_state(self, user: str, state_values: dict[str, dict[str, Any]], *,
                     view_id: str | None = None) -> tuple[int, dict[str, Any]]:
        """Submit the top modal with ``view.state.values`` as given ({block_id: {action_id: state}}).

        Then do what Slack does with the answer: keep the modal open on ``errors``, replace it
        on ``update``, push on ``push``, close everything on ``clear``, else close the top one.
        """
        stack = self.api.modal_stack(user)
        assert stack, f"{user} has no modal open"
        view = stack[-1]
        if view_id is not None and view.id != view_id:
            raise ValueError(f"view {view_id} is not the modal on top of {user}'s stack")
        status, text = self._payload({
            "type": "view_submission", "team": {"id": self.team}, "user": {"id": user, "team_id": self.team},
            "api_app_id": self.api.app_id, "trigger_id": self.api.new_trigger_id(user),
            "view": {**view.payload, "state": {"values": state_values}},
        })
        answer = json.loads(text) if text.strip().startswith("{") else {}
        if status != 200:
            return status, answer
        action = answer.get("response_action")
        if action == "errors":
            return status, answer
        client = WebClient(token=self.token, base_url=self.api.api_url)
        if action == "update":
            client.views_update(view_id=view.id, view=answer["view"])
        elif action == "push":
            client.views_push(trigger_id=self.api.new_trigger_id(user), view=answer["view"])
        elif action == "clear":
            self.api.clear_modals(user)
        else:
            self.api.pop_modal(user)  # Slack closes a modal that was accepted
        return status, answer

    def suggest(self, user: str, action_id: str, typed: str) -> tuple[int, dict[str, Any]]:
        """Type ``typed`` into an external select of the modal on top of ``user``'s stack: the
        ``block_suggestion`` Slack sends, and the options (or option groups) Baton answers with."""
        stack = self.api.modal_stack(user)
        assert stack, f"{user} has no modal open"
        view = stack[-1]
        block = next((b for b in view.blocks if (b.get("element") or {}).get("action_id") == action_id), None)
        assert block is not None and block["element"]["type"] == "external_select", \
            f"no external select {action_id} on the modal"
        status, text = self._payload({
            "type": "block_suggestion", "user": {"id": user, "team_id": self.team},
            "team": {"id": self.team}, "api_app_id": self.api.app_id, "token": "legacy",
            "container": {"type": "view", "view_id": view.id},
            "action_id": action_id, "block_id": block["block_id"], "value": typed, "view": view.payload})
        return status, (json.loads(text) if text.strip().startswith("{") else {})

    def event(self, event: dict[str, Any], event_id: str, *, retry: int | None = None) -> tuple[int, str]:
        """Deliver an Events API event (optionally marked as Slack's retry)."""
        body = json.dumps({"type": "event_callback", "team_id": self.team, "event_id": event_id,
                           "event_time": int(time.time()), "event": event})
        headers = ({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
                   if retry else None)
        return self.post(body, "application/json", headers=headers)

    def open_home(self, user: str) -> tuple[int, str]:
        """``user`` opens Baton's App Home tab (an app_home_opened event with a fresh event_id)."""
        event: dict[str, Any] = {"type": "app_home_opened", "user": user, "tab": "home",
                                 "channel": self.api.dm_channel_for(user), "event_ts": f"{time.time():.6f}"}
        home = self.api.home_view(user)
        if home is not None:
            event["view"] = home.payload
        return self.event(event, f"Ev{next(_event_ids):06d}{secrets.token_hex(4).upper()}")


def text_input(value: str) -> dict[str, Any]:
    """A plain_text_input's submitted state."""
    return {"type": "plain_text_input", "value": value}


def select(value: str | None) -> dict[str, Any]:
    """A static_select's submitted state."""
    return {"type": "static_select", "selected_option": {"value": value} if value else None}


def external(value: str | None, text: str = "") -> dict[str, Any]:
    """An external_select's submitted state (the option chosen from Baton's suggestions)."""
    return {"type": "external_select",
            "selected_option": {"value": value, "text": {"type": "plain_text", "text": text or value}}
            if value else None}


def multi_select(values: list[str]) -> dict[str, Any]:
    """A multi_static_select's submitted state."""
    return {"type": "multi_static_select", "selected_options": [{"value": v} for v in values]}


def user_select(user: str | None) -> dict[str, Any]:
    """A users_select's submitted state."""
    return {"type": "users_select", "selected_user": user}


def users_input(*users: str) -> dict[str, Any]:
    """A multi_users_select's submitted state."""
    return {"type": "multi_users_select", "selected_users": list(users)}


def date_pick(value: str | None) -> dict[str, Any]:
    """A datepicker's submitted state."""
    return {"type": "datepicker", "selected_date": value}


def checks(*values: str) -> dict[str, Any]:
    """A checkboxes element's submitted state."""
    return {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}


def wait(api: SlackStandIn, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Wait until the stand-in's state satisfies ``predicate`` (no fixed sleeps)."""
    return api.wait_for(predicate, timeout=timeout)
