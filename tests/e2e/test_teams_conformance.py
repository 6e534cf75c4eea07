"""Conformance: every activity in tests/e2e/teams_activities (Microsoft's documented shapes: the
installation updates with their upgrade actions, team and channel events, messages, reactions,
edits, typing, Universal Actions invokes manual and automatic, file consent, dialogs, an invoke
Baton does not handle) is posted signed to /api/messages and answered as its ``_expect`` says;
the same activity from another channel or without a serviceUrl is refused and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot import services
from bot.org import Org
from bot.ports import UnitOfWork
from sandbox.driver import Clock
from sandbox.teams.driver import TeamsDriver
from store import conversations

UoW = Callable[[], UnitOfWork]
FIXTURES = Path(__file__).resolve().parent / "teams_activities"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))
PERSON = "U0SMGR"  # the receiving team's manager
CHANNEL = "19:pdu-south@thread.tacv2"


def _fill(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        return {k: _fill(v, values) for k, v in node.items() if not k.startswith("_")}
    if isinstance(node, list):
        return [_fill(x, values) for x in node]
    if isinstance(node, str):
        if node in values and not isinstance(values[node], str):
            return values[node]  # a number where the card gave a number
        for key, value in values.items():
            node = node.replace(key, str(value))
    return node


def _load(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    raw = json.loads((FIXTURES / f"{name}.json").read_text())
    assert str(raw.get("_source", "")).startswith("https://"), f"{name} names no source"
    return raw, raw["_expect"]


def _activity(teams: TeamsDriver, raw: dict[str, Any], tid: int) -> dict[str, Any]:
    member = teams.members[PERSON]
    chat = teams.activity(PERSON, "message")["conversation"]["id"]  # Teams' 1:1 chat with them
    values = {"{serviceUrl}": teams.connector.service_url, "{tenant}": teams.connector.tenant,
              "{bot}": f"28:{teams.connector.app_id}", "{user}": member.id, "{aad}": member.aad,
              "{chat}": chat, "{channel}": CHANNEL, "{transfer_id}": tid}
    filled: dict[str, Any] = _fill(raw, values)
    return filled


@pytest.fixture
def transfer(uow: UoW, teams_demo_org: Org, clock: Clock) -> int:
    """A transfer to the receiving team, waiting for its manager."""
    with uow() as u:
        t = services.raise_transfer(u, teams_demo_org, "U0NPP1", services.RaiseRequest(
            case_ref="X123456", receiving_team="pdu-south"), clock())
    return t.id or 0


@pytest.mark.parametrize("name", NAMES)
def test_a_documented_activity_is_answered_as_teams_expects(
        name: str, teams: TeamsDriver, transfer: int, engine: sa.Engine) -> None:
    raw, expect = _load(name)
    if expect.get("kept") is False:  # a removal: the person had the app first
        assert teams.install(PERSON) == 200
    status, body = teams.post(_activity(teams, raw, transfer))
    assert status == expect["status"], (name, status, body)
    if "kept" in expect:
        assert (conversations.of_person(engine, PERSON) is not None) == expect["kept"], name
    if expect.get("card"):
        assert body is not None and body["statusCode"] == 200, body
        assert body["type"] == "application/vnd.microsoft.card.adaptive"
        assert body["value"]["type"] == "AdaptiveCard" and "X123456" in json.dumps(body["value"])
    if expect.get("task"):
        assert body is not None and body["task"]["type"] in ("continue", "message"), body
    if expect.get("reply"):
        chat = teams.connector.wait_for(lambda: [a for c in list(teams.connector.conversations.values())
                                                 for a in list(c.activities.values())
                                                 if a.get("replyToId") == raw["id"]])
        assert chat


@pytest.mark.parametrize("name", ["installation_add_personal", "message_personal",
                                  "invoke_adaptive_card_action_manual"])
def test_the_same_activity_from_web_chat_or_without_a_service_url_is_refused_and_changes_nothing(
        name: str, teams: TeamsDriver, transfer: int, engine: sa.Engine) -> None:
    raw, _ = _load(name)
    for change, status in (({"channelId": "webchat"}, 403), ({"channelId": "directline"}, 403),
                           ({"serviceUrl": None}, 400)):
        activity = {**_activity(teams, raw, transfer), **change}
        if activity.get("serviceUrl") is None:
            del activity["serviceUrl"]
        got, body = teams.post(activity)
        assert got == status, (name, change, got, body)
        assert body is not None and body.get("message")
    assert conversations.of_person(engine, PERSON) is None
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM transfer_read")).scalar() == 0


@pytest.mark.parametrize(("field", "value"), [
    ("conversation", "a:1chat"), ("from", ["29:1x"]), ("channelData", 7), ("membersAdded", [1]),
    ("attachments", {"a": 1}), ("text", {"t": 1}), ("id", 42), ("type", None), ("value", "refresh"),
])
def test_a_field_of_the_wrong_type_gets_a_clear_400_never_a_500(
        field: str, value: object, teams: TeamsDriver, transfer: int, engine: sa.Engine) -> None:
    raw, _ = _load("invoke_adaptive_card_action_manual" if field == "value" else "installation_add_personal")
    activity = {**_activity(teams, raw, transfer), field: value}
    status, body = teams.post(activity)
    assert status == 400, (field, status, body)
    assert body is not None and field in body["message"]
    assert conversations.of_person(engine, PERSON) is None
