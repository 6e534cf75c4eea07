"""One person-level driver over both chat platforms, so an end-to-end test runs the same journey
on Slack and on Teams (the ``chat`` fixture is parametrised by platform). Each side drives the
real app with signed requests against its stand-in: Slack's buttons, modals and ephemerals;
Teams' Action.Execute invokes and the cards Baton answers with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.org import Org
from handlers.slack import ids
from sandbox.driver import SlackDriver, wait
from sandbox.teams.driver import TeamsDriver
from sandbox.teams.standin import card_of, card_text, verbs_of


class ChatSide(Protocol):
    """What a journey does in chat, whatever the platform."""

    name: str
    org: Org

    def press(self, user: str, action: str, transfer_id: int) -> None:
        """Press an action's button on a transfer's card."""

    def told(self, user: str) -> str:
        """What Baton told ``user`` privately in answer to the last press (a refusal)."""

    def form_open(self, user: str, action: str) -> bool:
        """Whether ``user`` now has the action's form in front of them (waited for)."""

    def no_form(self, user: str) -> bool:
        """Whether ``user`` has no form in front of them."""

    def submit(self, user: str, values: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Submit the open form (values as Slack element states); the errors by field."""

    def delivered(self, user: str, text: str) -> str:
        """The latest message delivered to ``user`` that mentions ``text`` (waited for)."""

    def raise_transfer(self, user: str, values: dict[str, dict[str, Any]], *, heads_up: bool = False
                       ) -> dict[str, str]:
        """Type the command for a new transfer (or heads up) and submit its form; the errors."""

    def in_channel(self, team: str, text: str) -> str:
        """The latest post in a team's channel mentioning ``text`` (waited for)."""

    def posts(self, level: str, text: str) -> int:
        """How many posts in an escalation level's channel mention ``text`` (once there is one)."""

    def throttle(self, times: int) -> None:
        """The platform answers the next ``times`` posts 429 with Retry-After 1."""

    def forged(self, user: str, text: str) -> int:
        """Type ``text`` in a request signed with the wrong key; the HTTP status."""

    def copies(self, user: str, text: str) -> int:
        """How many messages mentioning ``text`` were posted to ``user`` (redraws not counted)."""

    def buttons(self, user: str, ready: Callable[[list[str]], bool]) -> list[str]:
        """The catalogue actions offered on every message in ``user``'s chat (latest version of
        each, redraws included), once ``ready`` says they are what is awaited (waited for)."""


def _plain(el: dict[str, Any], org: Org, *, people_as_entra: bool) -> Any:
    """A Slack element state as the value Teams' card input sends."""
    kind = el.get("type")

    def person(u: str) -> str:
        return (org.person(u).entra_id or u) if people_as_entra else u

    if kind == "plain_text_input":
        return el.get("value")
    if kind == "static_select":
        return (el.get("selected_option") or {}).get("value")
    if kind == "users_select":
        return person(el["selected_user"]) if el.get("selected_user") else None
    if kind == "multi_users_select":
        return ",".join(person(u) for u in el.get("selected_users") or [])
    if kind == "datepicker":
        return el.get("selected_date")
    if kind == "checkboxes":
        return ",".join(o["value"] for o in el.get("selected_options") or [])
    return None


@dataclass
class SlackSide:
    """Slack: buttons open modals; refusals come back as ephemerals."""

    slack: SlackDriver
    org: Org
    name: str = "slack"

    def press(self, user: str, action: str, transfer_id: int) -> None:
        """Press the button (its action_id carries the action, its value the transfer), or choose
        the option of a card's overflow menu where the step is not in sight."""
        option = ids.more_value(action, transfer_id)
        in_menu = any(o.get("value") == option for m in self.slack.api.messages(user)
                      for b in m.blocks or [] if b.get("type") == "actions"
                      for el in b.get("elements", []) if el.get("type") == "overflow"
                      for o in el.get("options", []))
        if in_menu:
            self.slack.press(user, ids.MORE, option, element="overflow")
        else:
            self.slack.press(user, ids.button(action), str(transfer_id))

    def told(self, user: str) -> str:
        """The ephemeral answer."""
        said = wait(self.slack.api, lambda: [c.params.get("text", "") for c in
                                            self.slack.api.calls_to("chat.postEphemeral")
                                            if c.params.get("user") == user])
        return str(said[-1])

    def form_open(self, user: str, action: str) -> bool:
        """A modal with the action's callback id is on top."""
        stack = wait(self.slack.api, lambda: self.slack.api.modal_stack(user))
        return bool(stack[-1].callback_id == ids.form(action))

    def no_form(self, user: str) -> bool:
        """No modal is open."""
        return not self.slack.api.modal_stack(user)

    def submit(self, user: str, values: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Submit the modal on top."""
        status, answer = self.slack.submit(user, values)
        assert status == 200, answer
        return dict(answer.get("errors") or {})

    def raise_transfer(self, user: str, values: dict[str, dict[str, Any]], *, heads_up: bool = False
                       ) -> dict[str, str]:
        """/transfer new (or headsup), then submit the modal."""
        self.slack.command(user, "headsup" if heads_up else "new")
        wait(self.slack.api, lambda: self.slack.api.modal_stack(user))
        return self.submit(user, values)

    def forged(self, user: str, text: str) -> int:
        """A /transfer command signed with another secret."""
        forger = SlackDriver(base_url=self.slack.base_url, api=self.slack.api, secret="not-the-secret")
        return forger.command(user, text)[0]

    def throttle(self, times: int) -> None:
        """chat.postMessage answers 429 (Retry-After 1) ``times`` times."""
        self.slack.api.fail_next("chat.postMessage", status=429, retry_after=1, times=times)

    def copies(self, user: str, text: str) -> int:
        """DMs to ``user`` mentioning ``text``."""
        return sum(1 for m in self.slack.api.messages(user) if text in str(m.blocks) + m.text)

    def posts(self, level: str, text: str) -> int:
        """Posts in the level's Slack channel."""
        channel = self.org.escalation[level].channel or ""
        n: int = wait(self.slack.api, lambda: sum(1 for m in self.slack.api.messages(channel)
                                                  if text in str(m.blocks) + m.text))
        return n

    def in_channel(self, team: str, text: str) -> str:
        """A post in the team's Slack channel."""
        channel = self.org.team(team).channel or ""
        found = wait(self.slack.api, lambda: [m for m in self.slack.api.messages(channel)
                                              if text in str(m.blocks) + m.text])
        return str(found[-1].blocks) + found[-1].text

    def delivered(self, user: str, text: str) -> str:
        """The latest DM mentioning ``text``."""
        found = wait(self.slack.api, lambda: [m for m in self.slack.api.messages(user)
                                              if text in str(m.blocks) + m.text])
        return str(found[-1].blocks) + found[-1].text

    def buttons(self, user: str, ready: Callable[[list[str]], bool]) -> list[str]:
        """The action_ids of every button in the DMs, as catalogue action names."""
        def walk(node: Any) -> list[str]:
            if isinstance(node, list):
                return [n for x in node for n in walk(x)]
            if not isinstance(node, dict):
                return []
            own = str(node.get("action_id", "")) if node.get("type") == "button" else ""
            if node.get("action_id") == ids.MORE:  # the card's overflow menu: its options
                return [ids.of_more_value(str(o.get("value")))[0] for o in node.get("options", [])]
            return ([ids.action_of_button(own)] if own.startswith("transfer_") else []) + [
                n for v in node.values() for n in walk(v)]

        def names() -> list[str] | None:
            got = walk([m.blocks or [] for m in self.slack.api.messages(user)])
            return got if ready(got) else None

        found: list[str] = wait(self.slack.api, names)
        return found


@dataclass
class TeamsSide:
    """Teams: Action.Execute answers with the card the person should now see (the form, or
    their card saying why not)."""

    teams: TeamsDriver
    org: Org
    name: str = "teams"
    shown: dict[str, dict[str, Any]] = field(default_factory=dict)  # the card each person sees
    opened: dict[str, int] = field(default_factory=dict)

    def press(self, user: str, action: str, transfer_id: int) -> None:
        """Press the Action.Execute button ``open:ACTION``."""
        self.shown[user] = self.teams.execute(user, f"open:{action}", {"transfer_id": transfer_id})
        self.opened[user] = transfer_id

    def told(self, user: str) -> str:
        """The text of the card Baton answered with."""
        return card_text(self.shown[user])

    def form_open(self, user: str, action: str) -> bool:
        """The answer is the action's form (its Submit button is Action.Execute ``submit:ACTION``)."""
        return f"submit:{action}" in verbs_of(self.shown.get(user))

    def no_form(self, user: str) -> bool:
        """The card shown has no Submit button."""
        return not any(v.startswith("submit:") for v in verbs_of(self.shown.get(user)))

    def submit(self, user: str, values: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Press Submit with the inputs; errors are the text blocks under the fields."""
        form = self.shown[user]
        submit = next(a for a in form["actions"] if a["verb"].startswith("submit:"))
        data = {**submit["data"], **{k.split("__")[0]: _plain(v, self.org, people_as_entra=True)
                                     for k, v in values.items()}}
        self.shown[user] = answer = self.teams.execute(user, submit["verb"], data)
        return {b["id"][: -len("__error")]: b["text"] for b in answer.get("body") or []
                if str(b.get("id", "")).endswith("__error")}

    def raise_transfer(self, user: str, values: dict[str, dict[str, Any]], *, heads_up: bool = False
                       ) -> dict[str, str]:
        """Type ``transfer new`` (or headsup) in the 1:1 chat, then press Raise on the card."""
        form = card_of(self.teams.ask(user, "transfer headsup" if heads_up else "transfer new"))
        assert form is not None
        self.shown[user] = form
        button = next(a for a in form["actions"] if a["type"] == "Action.Execute")
        data = {**button["data"], **{k: _plain(v, self.org, people_as_entra=True) for k, v in values.items()}}
        self.shown[user] = answer = self.teams.execute(user, button["verb"], data)
        return {b["id"][: -len("__error")]: b["text"] for b in answer.get("body") or []
                if str(b.get("id", "")).endswith("__error")}

    def forged(self, user: str, text: str) -> int:
        """A message activity whose token another key signed."""
        from sandbox.teams.keys import SigningKey

        c = self.teams.connector
        token = SigningKey().mint(audience=c.app_id, service_url=c.service_url)
        return self.teams.post(self.teams.activity(user, "message", text=text), token=token)[0]

    def throttle(self, times: int) -> None:
        """The Bot Connector answers 429 (Retry-After 1) ``times`` times."""
        self.teams.connector.fail_next(429, count=times, retry_after=1)

    def copies(self, user: str, text: str) -> int:
        """Activities sent (not updated) to ``user``'s 1:1 chat mentioning ``text``."""
        chat = self.teams.connector.chat_of(self.teams.members[user].id)
        return sum(1 for verb, _, body in (chat.history if chat else [])
                   if verb == "send" and text in card_text(card_of(body) or {}))

    def posts(self, level: str, text: str) -> int:
        """Posts in the level's Teams channel."""
        channel = self.org.escalation[level].teams_channel or ""
        n: int = self.teams.connector.wait_for(lambda: sum(
            1 for a in self.teams.connector.sent(channel) if text in card_text(card_of(a) or {})))
        return n

    def in_channel(self, team: str, text: str) -> str:
        """A post in the team's Teams channel."""
        channel = self.org.team(team).teams_channel or ""
        found = self.teams.connector.wait_for(lambda: [
            a for a in self.teams.connector.sent(channel) if text in card_text(card_of(a) or {})])
        return card_text(card_of(found[-1]))

    def delivered(self, user: str, text: str) -> str:
        """The latest card in the person's 1:1 chat mentioning ``text``."""
        def found() -> str | None:
            for a in reversed(self.teams.chat(user)):
                said = card_text(card_of(a)) if card_of(a) else str(a.get("text") or "")
                if text in said:
                    return said
            return None

        got: str = self.teams.connector.wait_for(found)
        return got

    def buttons(self, user: str, ready: Callable[[list[str]], bool]) -> list[str]:
        """The verbs ``open:ACTION`` of every card's Action.Execute buttons, as action names."""
        def names() -> list[str] | None:
            got = [v.removeprefix("open:") for a in self.teams.chat(user)
                   for v in verbs_of(card_of(a)) if v.startswith("open:")]
            return got if ready(got) else None

        found: list[str] = self.teams.connector.wait_for(names)
        return found
