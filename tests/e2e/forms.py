"""Forms as a person sees them: read from what Baton rendered (a Slack modal's input blocks, a
Teams card's inputs), filled by their labels, and submitted as the platform submits them (a
signed ``view_submission`` on Slack; an ``adaptiveCard/action`` invoke or a dialog's
``task/submit`` on Teams). The answer is read back by label too: the errors under each field,
whether the form closed, and whether Baton apologised."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from bot.org import Org
from handlers.common import APOLOGY
from sandbox.driver import SlackDriver, wait
from sandbox.teams.driver import TeamsDriver
from sandbox.teams.standin import card_of, card_text

# What a field asks for, whatever the platform draws it with.
TEXT, DATE, CHOICE, MULTI, PERSON, PEOPLE = "text", "date", "choice", "multi", "person", "people"
UNKNOWN = "\x00unknown"  # a choice value no option has (a stale form, a forged or external select)


@dataclass(frozen=True)
class Field:
    """One input as rendered: its label (as shown, less "(optional)"), what it asks for, whether
    the platform requires it, and its options by label. ``key`` is where the platform puts its
    value (read from the rendered form, never typed into a test)."""

    label: str
    kind: str
    required: bool
    key: str
    options: dict[str, str] = field(default_factory=dict)  # option label -> value sent


@dataclass
class Answer:
    """What came back from a submission."""

    status: int
    errors: dict[str, str]  # by field label
    closed: bool  # the form is gone (saved, or it gave way to a message)
    said: str  # every word of the answer, for the apology check
    stray: list[str] = field(default_factory=list)  # error keys that name no field of the form

    @property
    def apologised(self) -> bool:
        """Whether Baton answered with its apology (or a server error)."""
        return self.status >= 500 or APOLOGY in self.said or "Sorry, something went wrong" in self.said


def _label(text: str) -> str:
    return text.removesuffix(" (optional)").strip()


# ---- Slack ----------------------------------------------------------------------------------------
SLACK_KINDS = {"plain_text_input": TEXT, "datepicker": DATE, "static_select": CHOICE,
               "external_select": CHOICE, "checkboxes": MULTI, "users_select": PERSON,
               "multi_users_select": PEOPLE, "multi_static_select": MULTI}


Suggest = Callable[[dict[str, Any], dict[str, Any]], list[dict[str, Any]]]


def slack_fields(view: dict[str, Any], suggest: Suggest | None = None) -> list[Field]:
    """The input blocks of a Slack modal, by label (an external select's options as Baton
    suggests them to someone who has typed nothing yet)."""
    out: dict[str, Field] = {}
    for b in view.get("blocks") or []:
        if b.get("type") != "input":
            continue
        el, label = b["element"], _label(b["label"]["text"])
        listed = suggest(view, b) if el["type"] == "external_select" and suggest else el.get("options")
        options = {o["text"]["text"]: o["value"] for o in listed or []}
        if label in out:  # one question's checkboxes in groups of ten: one field to a person
            out[label] = replace(out[label], options={**out[label].options, **options})
            continue
        out[label] = Field(label, SLACK_KINDS[el["type"]], not b.get("optional"), b["block_id"], options)
    return list(out.values())


def _slack_state(view: dict[str, Any], values: dict[str, Any], suggest: Suggest) -> dict[str, Any]:
    """``view.state.values`` as Slack sends it: every input block, empty ones as nulls."""
    state: dict[str, Any] = {}
    for b in view.get("blocks") or []:
        if b.get("type") != "input":
            continue
        el, label = b["element"], _label(b["label"]["text"])
        kind, v = el["type"], values.get(label)
        listed = suggest(view, b) if kind == "external_select" else el.get("options")
        options = {o["text"]["text"]: o for o in listed or []}
        s: dict[str, Any] = {"type": kind}
        if kind == "plain_text_input":
            s["value"] = v if v else None  # Slack sends null for an empty box
        elif kind == "datepicker":
            s["selected_date"] = v or None
        elif kind in ("static_select", "external_select"):
            s["selected_option"] = None if v is None else (
                {"text": {"type": "plain_text", "text": "?"}, "value": "no-such-option"} if v == UNKNOWN
                else options[v])
        elif kind in ("checkboxes", "multi_static_select"):
            s["selected_options"] = [options[x] for x in v or [] if x in options]
        elif kind == "users_select":
            s["selected_user"] = v
        elif kind == "multi_users_select":
            s["selected_users"] = list(v or [])
        state[b["block_id"]] = {el["action_id"]: s}
    return state


@dataclass
class SlackForms:
    """A person's Slack modals."""

    slack: SlackDriver

    def view(self, user: str) -> dict[str, Any]:
        """The modal on top of ``user``'s stack (waited for)."""
        stack = wait(self.slack.api, lambda: self.slack.api.modal_stack(user))
        payload: dict[str, Any] = {**stack[-1].payload, "_user": user}
        return payload

    def open_raise(self, user: str, heads_up: bool) -> list[Field]:
        """Type /transfer new (or headsup); the modal's fields."""
        self.slack.api.clear_modals(user)
        self.slack.command(user, "headsup" if heads_up else "new")
        return slack_fields(self.view(user), self.suggest)

    def open_action(self, user: str, action: str, transfer_id: int) -> list[Field]:
        """Press the action's button on the transfer's card; the modal's fields."""
        from handlers.slack import ids

        self.slack.api.clear_modals(user)
        self.slack.press(user, ids.button(action), str(transfer_id))
        return slack_fields(self.view(user), self.suggest)

    def suggest(self, view: dict[str, Any], block: dict[str, Any]) -> list[dict[str, Any]]:
        """The options Baton suggests for an external select (a signed ``block_suggestion``,
        nothing typed yet)."""
        user = str(view.get("_user") or "U0NOBODY")
        view = {k: v for k, v in view.items() if k != "_user"}
        status, text = self.slack.post(urllib.parse.urlencode({"payload": json.dumps({
            "type": "block_suggestion", "user": {"id": user, "team_id": self.slack.team},
            "team": {"id": self.slack.team}, "api_app_id": self.slack.api.app_id,
            "container": {"type": "view", "view_id": view.get("id")}, "view": view,
            "block_id": block["block_id"], "action_id": block["element"]["action_id"], "value": ""})}))
        answer = json.loads(text) if status == 200 and text.strip().startswith("{") else {}
        return [*answer.get("options", []),
                *(o for g in answer.get("option_groups", []) for o in g.get("options", []))]

    def submit(self, user: str, values: dict[str, Any]) -> Answer:
        """Submit the modal on top with ``values`` by label."""
        view = self.view(user)
        labels: dict[str, str] = {str(b["block_id"]): _label(b["label"]["text"])
                                  for b in view.get("blocks") or [] if b.get("type") == "input"}
        status, answer = self.slack.submit_state(user, _slack_state(view, values, self.suggest))
        errors = {str(k): str(v) for k, v in (answer.get("errors") or {}).items()}
        return Answer(status, {labels.get(k, k): v for k, v in errors.items()},
                      closed=answer.get("response_action") != "errors",
                      said=json.dumps(answer), stray=[k for k in errors if k not in labels])


# ---- Teams ----------------------------------------------------------------------------------------
def teams_fields(card: dict[str, Any]) -> list[Field]:
    """The inputs of an Adaptive Card, by label."""
    out = []
    for b in card.get("body") or []:
        kind = b.get("type", "")
        if not kind.startswith("Input."):
            continue
        if kind == "Input.ChoiceSet":
            many = bool(b.get("isMultiSelect"))
            what = (PEOPLE if many else PERSON) if b.get("choices.data") else (MULTI if many else CHOICE)
        else:
            what = {"Input.Date": DATE, "Input.Text": TEXT}[kind]
        out.append(Field(_label(b.get("label") or ""), what, bool(b.get("isRequired")), b["id"],
                         {c["title"]: c["value"] for c in b.get("choices") or []}))
    return out


def _teams_inputs(fields: list[Field], values: dict[str, Any], org: Org) -> dict[str, Any]:
    """What Teams sends for the card's inputs: strings, "" for an empty one, several choices
    comma-separated, people by their Entra object id."""
    out: dict[str, Any] = {}
    for f in fields:
        v = values.get(f.label)
        if f.kind in (TEXT, DATE):
            out[f.key] = v or ""
        elif f.kind == CHOICE:
            out[f.key] = "" if v is None else ("no-such-option" if v == UNKNOWN else f.options[v])
        elif f.kind == MULTI:
            out[f.key] = ",".join(f.options[x] for x in v or [])
        elif f.kind == PERSON:
            out[f.key] = _entra(org, v) if v else ""
        elif f.kind == PEOPLE:
            out[f.key] = ",".join(_entra(org, p) for p in v or [])
    return out


def _entra(org: Org, person: str) -> str:
    """The Entra object id Teams' people picker gives for a person (an unknown one as typed)."""
    return (org.person(person).entra_id or person) if org.knows(person) else person


def _teams_errors(card: dict[str, Any] | None) -> tuple[dict[str, str], list[str]]:
    fields = {f.key: f.label for f in teams_fields(card or {})}
    errors = {str(b["id"]).removesuffix("__error"): str(b.get("text", ""))
              for b in (card or {}).get("body") or [] if str(b.get("id", "")).endswith("__error")}
    return {fields.get(k, k): v for k, v in errors.items()}, [k for k in errors if k not in fields]


@dataclass
class TeamsForms:
    """A person's Teams form cards (Action.Execute) and dialogs (task/fetch, task/submit)."""

    teams: TeamsDriver
    org: Org
    shown: dict[str, dict[str, Any]] = field(default_factory=dict)
    dialog: dict[str, bool] = field(default_factory=dict)

    def open_raise(self, user: str, heads_up: bool) -> list[Field]:
        """Type ``transfer new`` (or headsup) in the 1:1 chat; the card's inputs."""
        card = card_of(self.teams.ask(user, "transfer headsup" if heads_up else "transfer new"))
        assert card is not None and card.get("actions"), card_text(card)
        self.shown[user], self.dialog[user] = card, False
        return teams_fields(card)

    def open_action(self, user: str, action: str, transfer_id: int, *, dialog: bool = False) -> list[Field]:
        """Press the action's button (in a dialog: its task/fetch); the form's inputs."""
        if dialog:
            status, got = self.teams.post(self.teams.activity(user, "invoke", name="task/fetch", value={
                "data": {"msteams": {"type": "task/fetch"}, "verb": f"open:{action}",
                         "transfer_id": transfer_id}, "context": {"theme": "default"}}))
            assert status == 200 and got is not None and got["task"]["type"] == "continue", got
            card: dict[str, Any] = got["task"]["value"]["card"]["content"]
        else:
            card = self.teams.execute(user, f"open:{action}", {"transfer_id": transfer_id})
        assert card.get("actions"), card_text(card)
        self.shown[user], self.dialog[user] = card, dialog
        return teams_fields(card)

    def submit(self, user: str, values: dict[str, Any]) -> Answer:
        """Press the card's submit button with ``values`` by label."""
        card = self.shown[user]
        fields = teams_fields(card)
        button = card["actions"][0]
        inputs = _teams_inputs(fields, values, self.org)
        if self.dialog.get(user):
            status, got = self.teams.post(self.teams.activity(user, "invoke", name="task/submit", value={
                "data": {**button["data"], **inputs}, "context": {"theme": "default"}}))
            task = (got or {}).get("task") or {}
            again = task["value"]["card"]["content"] if task.get("type") == "continue" else None
            errors, stray = _teams_errors(again)
            if again is not None:
                self.shown[user] = again
            return Answer(status, errors, closed=again is None or not errors, said=json.dumps(got),
                          stray=stray)
        status, got = self.teams.post(self.teams.activity(user, "invoke", name="adaptiveCard/action", value={
            "action": {"type": "Action.Execute", "verb": button["verb"],
                       "data": {**button.get("data", {}), **inputs}}, "trigger": "manual"}))
        shown = (got or {}).get("value") if isinstance((got or {}).get("value"), dict) else None
        errors, stray = _teams_errors(shown)
        if shown is not None:
            self.shown[user] = shown
        code = int((got or {}).get("statusCode", 200))
        return Answer(status if code == 200 else code, errors, closed=not errors, said=json.dumps(got),
                      stray=stray)


# ---- the database, before and after ----------------------------------------------------------------
def snapshot(engine: sa.Engine) -> tuple[Any, ...]:
    """Everything a form may change: transfers (state and version), timeline, deadlines, the
    outbox, covers, closures and remembered submissions."""
    with engine.connect() as c:
        rows = tuple(tuple(r) for r in c.execute(sa.text(
            "SELECT id, state, version FROM transfer ORDER BY id")))
        counts = tuple(int(c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in (
            "timeline_event", "deadline", "notification", "cover", "case_closure", "processed_event"))
    return rows, counts
