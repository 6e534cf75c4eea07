"""Transfers on Teams, end to end: typed commands in the 1:1 chat, Adaptive Cards with
Action.Execute buttons answered through the same services as Slack's, cards delivered through the
same outbox to people (their 1:1 chat, kept or created) and to team channels, redrawn in place."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sandbox.teams.driver import TeamsDriver
from sandbox.teams.standin import card_of, card_text, verbs_of

PP, SPO, OTHER_SPO = "U0NPP1", "U0SMGR", "U0NMGR"
SOUTH_CHANNEL = "19:pdu-south@thread.tacv2"


def _last_card(teams: TeamsDriver, person: str, holding: str = "") -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        for a in reversed(teams.chat(person)):
            card = card_of(a)
            if card and holding in card_text(card):
                return card
        return None

    got: dict[str, Any] = teams.connector.wait_for(found)
    return got


def _raise(teams: TeamsDriver, ref: str = "X123456") -> dict[str, Any]:
    assert teams.install(PP) == 200
    assert teams.say(PP, "transfer new") == 200
    form = _last_card(teams, PP, "Raise a transfer")
    raise_verb = verbs_of(form)[0]
    token = next(a for a in form["actions"] if a["type"] == "Action.Execute")["data"]["token"]
    return teams.execute(PP, raise_verb, {"token": token, "case_ref": ref, "receiving_team": "pdu-south",
                                          "kind": "permanent"})


def _transfer_id(engine: sa.Engine, ref: str = "X123456") -> int:
    with engine.connect() as c:
        return int(c.execute(sa.text("SELECT id FROM transfer WHERE case_ref = :r"), {"r": ref}).scalar_one())


def _state(engine: sa.Engine, ref: str = "X123456") -> str:
    with engine.connect() as c:
        return str(c.execute(sa.text("SELECT state FROM transfer WHERE case_ref = :r"),
                             {"r": ref}).scalar_one())


def test_a_practitioner_raises_from_the_chat_and_the_receiving_manager_gets_a_card_with_buttons(
        teams: TeamsDriver, engine: sa.Engine) -> None:
    answer = _raise(teams)
    assert "X123456" in card_text(answer)
    # The receiving manager never opened Baton: their 1:1 chat is created by their Entra id.
    card = _last_card(teams, SPO, "X123456")
    assert "open:accept" in verbs_of(card) and "open:decline" in verbs_of(card)
    assert card["refresh"]["action"]["verb"] == "refresh"
    # The receiving team's channel hears of it too, without buttons.
    post = teams.connector.wait_for(lambda: teams.connector.sent(SOUTH_CHANNEL))
    assert "X123456" in card_text(card_of(post[0])) and not verbs_of(card_of(post[0]))


def test_accept_through_the_card_updates_every_copy_in_place(teams: TeamsDriver, engine: sa.Engine) -> None:
    _raise(teams)
    _last_card(teams, SPO, "X123456")
    tid = _transfer_id(engine)
    form = teams.execute(SPO, "open:accept", {"transfer_id": tid})
    assert "submit:accept" in verbs_of(form)
    token = form["actions"][0]["data"]["token"]
    after = teams.execute(SPO, "submit:accept", {"transfer_id": tid, "token": token})
    assert _state(engine) in ("accepted", "allocated")
    assert "open:accept" not in verbs_of(after)
    # The practitioner's and the manager's cards are redrawn where they were posted.
    chat = teams.connector.chat_of(teams.members[SPO].id)
    assert chat is not None
    teams.connector.wait_for(lambda: any(
        v == "update" and "Accepted" in card_text(card_of(body) or {}) for v, _, body in chat.history))


def test_decline_needs_its_rationale_on_the_field_then_is_recorded(teams: TeamsDriver,
                                                                   engine: sa.Engine) -> None:
    _raise(teams)
    tid = _transfer_id(engine)
    form = teams.execute(SPO, "open:decline", {"transfer_id": tid})
    token = form["actions"][0]["data"]["token"]
    again = teams.execute(SPO, "submit:decline", {"transfer_id": tid, "token": token, "rationale": ""})
    errors = [b for b in again["body"] if b.get("id") == "rationale__error"]
    assert errors and _state(engine) == "requested"
    done = teams.execute(SPO, "submit:decline", {
        "transfer_id": tid, "token": token, "rationale": "Victim lives on the same street",
        "reason_category": "heightened_risk"})
    assert _state(engine) == "declined"
    assert "Victim lives on the same street" in card_text(done)


def test_someone_not_on_the_transfer_is_refused_and_nothing_changes(teams: TeamsDriver,
                                                                    engine: sa.Engine) -> None:
    _raise(teams)
    tid = _transfer_id(engine)
    answer = teams.execute(OTHER_SPO, "open:accept", {"transfer_id": tid})
    assert "submit:accept" not in verbs_of(answer)
    answer = teams.execute(OTHER_SPO, "submit:accept", {"transfer_id": tid, "token": "t1"})
    assert _state(engine) == "requested"
