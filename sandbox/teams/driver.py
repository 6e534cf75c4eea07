"""Plays Teams towards Baton: activities as the Bot Connector sends them, each carrying a token
signed by the stand-in's key, to the real app's /api/messages. Tests read like conversations."""

from __future__ import annotations

import itertools
import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from bot.org import Org
from sandbox.teams.standin import BotConnectorStandIn, Member

_ids = itertools.count(1)


def teams_org(org: Org) -> Org:
    """An org on Teams only: each team's and level's channel is a Teams channel (19:TEAM@thread.tacv2)."""
    teams = tuple(t.model_copy(update={"channel": None, "teams_channel": f"19:{t.id}@thread.tacv2"})
                  for t in org.teams)
    levels = {name: c.model_copy(update={"channel": None, "teams_channel":
                                         f"19:{c.channel.lower()}@thread.tacv2" if c.channel else None})
              for name, c in org.escalation.items()}
    return org.model_copy(update={"teams": teams, "escalation": levels})


def email_org(org: Org) -> Org:
    """The org as a Teams-only council writes it: each person named by a work e-mail of 40 to
    60 characters (``u0npp1.practitioner.one@probation-service.example.gov.uk``), not a Slack id."""
    ids = {p.id: f"{p.id.lower()}.practitioner.one@probation-service.example.gov.uk" for p in org.people}

    def swap(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [swap(x) for x in node]
        return ids.get(node, node) if isinstance(node, str) else node

    data = swap(org.model_dump())
    for person in data.get("people") or []:
        person["email"] = person["id"]
    return Org.model_validate(data)


@dataclass
class TeamsDriver:
    """Sends what the Bot Connector would send Baton, signed as it signs it."""

    base_url: str
    connector: BotConnectorStandIn
    org: Org
    members: dict[str, Member] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for p in self.org.people:
            if p.entra_id:
                self.members[p.id] = self.connector.add_member(p.entra_id, p.email or f"{p.id}@example.org")

    def post(self, activity: dict[str, Any], *, token: str | None = "", raw: bytes | None = None
             ) -> tuple[int, dict[str, Any] | None]:
        """POST an activity with a fresh valid token (``token=None``: none; a string: that one)."""
        if token == "":  # signed for the serviceUrl the activity names, as the Bot Connector signs
            url = activity.get("serviceUrl") if isinstance(activity, dict) else None
            token = self.connector.token_for(**({"service_url": url} if isinstance(url, str) else {}))
        if isinstance(activity, dict) and isinstance(activity.get("conversation"), dict):
            self.connector.received(str(activity["conversation"].get("id", "")), str(activity.get("id", "")))
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(f"{self.base_url}/api/messages", method="POST", headers=headers,
                                     data=raw if raw is not None else json.dumps(activity).encode())
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                body = resp.read()
                return resp.status, (json.loads(body) if body else None)
        except urllib.error.HTTPError as exc:
            body = exc.read()
            return exc.code, (json.loads(body) if body else None)

    def activity(self, person: str, kind: str, *, tenant: str | None = None, conversation: str | None = None,
                 service_url: str | None = None, **extra: Any) -> dict[str, Any]:
        """An activity from ``person`` in their 1:1 chat with Baton (or ``conversation``)."""
        m = self.members[person]
        tenant = tenant or self.connector.tenant
        chat = self.connector.chat_of(m.id)
        conv_id = conversation or (chat.id if chat else f"a:1{secrets.token_urlsafe(40)}")  # opaque
        if chat is None and conversation is None:  # Teams made the chat when the app was installed
            from sandbox.teams.standin import Conversation

            with self.connector.lock:
                self.connector.conversations[conv_id] = Conversation(conv_id, tenant, [m.id])
        channel = conv_id.split(";", 1)[0] if conv_id.startswith("19:") else None
        where: dict[str, Any] = {"id": conv_id, "conversationType": "channel" if channel else "personal",
                                 "tenantId": tenant}
        data: dict[str, Any] = {"tenant": {"id": tenant}}
        if channel:  # a team's channel: Teams names the channel and the team
            where["isGroup"] = True
            data.update(teamsChannelId=channel, channel={"id": channel}, team={"id": channel})
        return {"type": kind, "id": f"f:{next(_ids)}", "channelId": "msteams",
                "serviceUrl": service_url or self.connector.service_url, "timestamp": "2026-11-23T10:00:00Z",
                "from": {"id": m.id, "aadObjectId": m.aad},
                "recipient": {"id": f"28:{self.connector.app_id}", "name": "Baton"},
                "conversation": where, "channelData": data, **extra}

    def install(self, person: str, **kw: Any) -> int:
        """The person adds Baton in Teams (personal scope); waits for Baton's welcome (its home card)."""
        self.members[person].has_app = True
        status = self.post(self.activity(person, "installationUpdate", action="add", **kw))[0]
        if status == 200 and self.org.knows(person):
            self.connector.wait_for(lambda: any("Your case transfers" in json.dumps(a)
                                                for a in self.chat(person)))
        return status

    def upgrade(self, person: str, action: str = "add-upgrade", **kw: Any) -> int:
        """Teams upgrades the app for the person (a new version of the package): ``add-upgrade``
        (or ``remove-upgrade`` when the new version drops the bot)."""
        if action == "remove-upgrade":
            self.members[person].has_app = False
        return self.post(self.activity(person, "installationUpdate", action=action, **kw))[0]

    def uninstall(self, person: str, **kw: Any) -> int:
        """The person removes the app: Teams refuses Baton's posts to them from now on."""
        self.members[person].has_app = False
        return self.post(self.activity(person, "installationUpdate", action="remove", **kw))[0]

    def view(self, person: str, conversation: str, activity_id: str) -> dict[str, Any]:
        """The person opens a conversation where Baton posted a card: as Teams does, the client
        sends an automatic ``adaptiveCard/action`` refresh when the card has a refresh clause and
        the person is in its ``userIds`` (or the conversation has under 60 members), and shows the
        card Baton answers; otherwise the card as posted."""
        with self.connector.lock:
            posted = self.connector.conversations[conversation].activities[activity_id]
        from sandbox.teams.standin import card_of

        card = card_of(posted) or {}
        refresh = card.get("refresh") or {}
        members = self.connector.conversations[conversation].members
        me = self.members[person].id
        if not refresh or (len(members) >= 60 and me not in (refresh.get("userIds") or [])):
            return card
        action = refresh.get("action") or {}
        value_sent = {"action": {"type": "Action.Execute", "id": "", "verb": action.get("verb"),
                                 "data": action.get("data") or {}}, "trigger": "automatic"}
        status, body = self.post(self.activity(person, "invoke", conversation=conversation,
                                               name="adaptiveCard/action", value=value_sent))
        assert status == 200 and body is not None and body.get("statusCode") == 200, (status, body)
        value: dict[str, Any] = body["value"]
        return value

    def say(self, person: str, text: str, **kw: Any) -> int:
        """The person types in their 1:1 chat with Baton."""
        return self.post(self.activity(person, "message", text=text, **kw))[0]

    def ask(self, person: str, text: str) -> dict[str, Any]:
        """The person types ``text``; Baton's reply to that very message (waited for)."""
        activity = self.activity(person, "message", text=text)
        status, _ = self.post(activity)
        assert status == 200, status

        def reply() -> dict[str, Any] | None:
            return next((a for c in list(self.connector.conversations.values())
                         for a in list(c.activities.values()) if a.get("replyToId") == activity["id"]), None)

        found: dict[str, Any] = self.connector.wait_for(reply)
        return found

    def execute(self, person: str, verb: str, data: dict[str, Any] | None = None, **kw: Any
                ) -> dict[str, Any]:
        """The person presses an Action.Execute button (inputs merged into ``data``); the card
        Baton answers with (the invoke response's value)."""
        status, body = self.post(self.activity(person, "invoke", name="adaptiveCard/action", value={
            "action": {"type": "Action.Execute", "verb": verb, "data": data or {}}, "trigger": "manual"},
            **kw))
        assert status == 200 and body is not None, (status, body)
        assert body.get("statusCode") == 200, body
        value: dict[str, Any] = body["value"]
        return value

    def search(self, person: str, dataset: str, typed: str, *, skip: int = 0, top: int = 15
               ) -> list[dict[str, Any]]:
        """The person types into a ChoiceSet whose ``choices.data`` names ``dataset``: the
        ``application/search`` invoke Teams sends, and the results Baton answers with."""
        status, body = self.post(self.activity(person, "invoke", name="application/search", value={
            "queryText": typed, "queryOptions": {"skip": skip, "top": top}, "dataset": dataset}))
        assert status == 200 and body is not None, (status, body)
        assert body.get("type") == "application/vnd.microsoft.search.searchResponse", body
        results: list[dict[str, Any]] = body["value"]["results"]
        return results

    def chat(self, person: str) -> list[dict[str, Any]]:
        """What Baton sent to the person's 1:1 chat, oldest first (latest version of each)."""
        chat = self.connector.chat_of(self.members[person].id)
        return self.connector.sent(chat.id) if chat else []
