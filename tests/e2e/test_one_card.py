"""One card per case per person, on Slack and on Teams: a full probation journey (raise, accept,
allocate, a reminder before the deadline, the breach and its escalation, complete) leaves each
person and each channel exactly one top-level card of the case, redrawn in place; the events
are one-line replies in that card's thread, and digests are short lists, not more cards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from bot import services
from bot.domain import UK_TIME
from bot.ports import UnitOfWork
from scheduler.sweep import tick
from tests.e2e.platforms import ChatSide, SlackSide, TeamsSide
from tests.e2e.slack import Clock, select, text_input, user_select

UoW = Callable[[], UnitOfWork]
CASE = "X123456"
PP, NMGR, SMGR, SPP, SMT = "U0NPP1", "U0NMGR", "U0SMGR", "U0SPP1", "U0SMT1"
PEOPLE = (PP, NMGR, SMGR, SPP, SMT)


@dataclass
class Count:
    """What one person (or channel) holds about one case."""

    cards: int = 0  # top-level messages that are the case's card
    other: int = 0  # other top-level messages: digests, plain texts, broadcast replies
    replies: int = 0  # one-line replies inside a card's thread

    def row(self) -> tuple[int, int, int]:
        """As a table row."""
        return self.cards, self.other, self.replies


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UK_TIME)


def _slack_counts(side: SlackSide, place: str) -> Count:
    c = Count()
    for m in side.slack.api.messages(place):
        said = str(m.blocks) + m.text
        if CASE not in said:
            continue
        blocks = m.blocks or []
        if m.thread_ts and m.thread_ts != m.ts:
            c.replies += 1
            c.other += 1 if getattr(m, "broadcast", False) else 0
        elif blocks and blocks[0].get("type") == "header" and "need attention" not in str(blocks[0]):
            c.cards += 1
        else:
            c.other += 1
    return c


def _teams_counts(side: TeamsSide, place: str) -> Count:
    from sandbox.teams.standin import card_of, card_text

    connector = side.teams.connector
    activities = connector.sent(place) if place.startswith("19:") else side.teams.chat(place)
    c = Count()
    for a in activities:
        card = card_of(a)
        said = card_text(card) if card else str(a.get("text") or "")
        if CASE not in said and not a.get("replyToId"):
            continue
        if a.get("replyToId"):
            if any(x.get("id") == a["replyToId"] and CASE in card_text(card_of(x) or {})
                   for x in activities):
                c.replies += 1
        elif card and any(b.get("type") == "FactSet" for b in card.get("body") or []):
            c.cards += 1
        else:
            c.other += 1
    return c


def counts(chat: ChatSide) -> dict[str, Count]:
    """Per person and channel: cards, other top-level messages and thread replies of the case."""
    places: dict[str, str] = {p: p for p in PEOPLE}
    south, smt = chat.org.team("pdu-south"), chat.org.escalation["smt"]
    if isinstance(chat, SlackSide):
        places |= {"#pdu-south": south.channel or "", "#smt": smt.channel or ""}
        return {k: _slack_counts(chat, v) for k, v in places.items()}
    assert isinstance(chat, TeamsSide)
    places |= {"#pdu-south": south.teams_channel or "", "#smt": smt.teams_channel or ""}
    return {k: _teams_counts(chat, v) for k, v in places.items()}


def journey(chat: ChatSide, uow: UoW, clock: Clock, request: pytest.FixtureRequest) -> int:
    """Raise, accept, allocate, daily sweeps through the reminders and the day-21 breach and
    escalation, then complete; delivery runs after each step (the background thread is
    stopped so that every message is sent by the journey, in order)."""
    runtime = request.getfixturevalue("runtime" if chat.name == "slack" else "teams_runtime")
    runtime.deliverer.stop()

    def deliver() -> None:
        while runtime.delivery.deliver(clock()):
            pass

    clock.now = _at(date(2026, 11, 23))
    errors = chat.raise_transfer(PP, {"case_ref": text_input(CASE), "receiving_team": select("pdu-south"),
                                      "kind": select("permanent")})
    assert not errors, errors
    deliver()
    with uow() as u:
        tid = services.load(u, case_ref=CASE).id or 0
    clock.now = _at(date(2026, 11, 24))
    chat.press(SMGR, "accept", tid)
    assert chat.form_open(SMGR, "accept")
    assert not chat.submit(SMGR, {})
    deliver()
    clock.now = _at(date(2026, 11, 25))
    chat.press(SMGR, "allocate", tid)
    assert chat.form_open(SMGR, "allocate")
    assert not chat.submit(SMGR, {"named_worker": user_select(SPP)})
    deliver()
    day = date(2026, 11, 26)
    while day <= date(2026, 12, 22):  # the 5- and 1-day reminders, then the breach on day 21
        clock.now = _at(day)
        tick(runtime.delivery.engine, chat.org, runtime.delivery, clock.now)
        deliver()
        day += timedelta(days=1)
    clock.now = _at(date(2026, 12, 23))
    chat.press(SMGR, "complete", tid)
    assert chat.form_open(SMGR, "complete")
    assert not chat.submit(SMGR, {})
    deliver()
    with uow() as u:
        assert services.load(u, transfer_id=tid).state.value == "completed"
    return tid


def table(chat: ChatSide) -> str:
    """The counts as README rows."""
    return "\n".join(f"| {chat.name} | {who} | {c.cards} | {c.other} | {c.replies} |"
                     for who, c in counts(chat).items())


def test_a_full_probation_journey_leaves_each_person_one_card_of_the_case(
        chat: ChatSide, uow: UoW, clock: Clock, request: pytest.FixtureRequest,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Everyone who hears of the case holds exactly one card of it, however many steps it took;
    the steps are replies in the card's thread."""
    journey(chat, uow, clock, request)
    got = counts(chat)
    with capsys.disabled():
        print("\n" + table(chat))
    for who in (PP, NMGR, SMGR, SPP, "#pdu-south"):
        assert got[who].cards == 1, (who, got[who])
    assert all(c.cards <= 1 for c in got.values()), got

    if isinstance(chat, SlackSide):  # the reminder lines link to the card, never copy it
        api = chat.slack.api
        card = next(m for m in api.messages(PP) if not m.thread_ts and "header" in str(m.blocks))
        digests = [m for m in api.messages(PP) if "Open the card" in str(m.blocks)]
        assert digests and all(f"p{card.ts.replace('.', '')}" in str(m.blocks) for m in digests)


def test_news_under_a_deleted_card_comes_with_a_new_card_used_from_then_on(
        chat: ChatSide, uow: UoW, clock: Clock, request: pytest.FixtureRequest) -> None:
    """Someone deleted the practitioner's card: the platform answers that the message is gone
    (Slack thread_not_found / message_not_found, Teams 404 ActivityNotFound), so the next news
    posts a new card, and the news after that is a reply under the new one."""
    runtime = request.getfixturevalue("runtime" if chat.name == "slack" else "teams_runtime")
    runtime.deliverer.stop()

    def deliver() -> None:
        while runtime.delivery.deliver(clock()):
            pass

    assert not chat.raise_transfer(PP, {"case_ref": text_input(CASE), "receiving_team": select("pdu-south"),
                                        "kind": select("permanent")})
    deliver()
    with uow() as u:
        tid = services.load(u, case_ref=CASE).id or 0
    if isinstance(chat, SlackSide):
        from slack_sdk import WebClient

        from tests.e2e.slack import TOKEN

        first = next(m for m in chat.slack.api.messages(PP) if CASE in str(m.blocks))
        client = WebClient(token=TOKEN, base_url=chat.slack.api.api_url)
        client.chat_delete(channel=first.channel, ts=first.ts)
    else:
        assert isinstance(chat, TeamsSide)
        connector = chat.teams.connector
        conv = connector.chat_of(chat.teams.members[PP].id)
        assert conv is not None
        with connector.lock:
            conv.activities.clear()
    chat.press(SMGR, "accept", tid)
    assert chat.form_open(SMGR, "accept") and not chat.submit(SMGR, {})
    deliver()
    assert counts(chat)[PP].cards == 1  # the new card
    chat.press(SMGR, "allocate", tid)
    assert chat.form_open(SMGR, "allocate") and not chat.submit(SMGR, {"named_worker": user_select(SPP)})
    deliver()
    got = counts(chat)[PP]
    assert (got.cards, got.replies) == (1, 1)


def test_the_stand_ins_refuse_a_reply_to_a_message_that_is_not_there(
        connector: Any, api: Any) -> None:
    """Slack: thread_ts must name a message of that conversation (thread_not_found); the Bot
    Connector: "Reply to activity" to an unknown activity id is 404 ActivityNotFound."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from tests.e2e.slack import TOKEN

    client = WebClient(token=TOKEN, base_url=api.api_url)
    card = client.chat_postMessage(channel="U0NPP1", text="X123456")
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="U0NPP1", text="news", thread_ts="1.000001")
    assert refused.value.response["error"] == "thread_not_found"
    reply = client.chat_postMessage(channel="U0NPP1", text="news", thread_ts=card["ts"], reply_broadcast=True)
    assert reply["message"]["subtype"] == "thread_broadcast"
    link = client.chat_getPermalink(channel=card["channel"], message_ts=card["ts"])["permalink"]
    assert link.endswith(f"/archives/{card['channel']}/p{card['ts'].replace('.', '')}")

    import httpx

    member = connector.add_member("aad-1", "a@example.org")
    token = httpx.post(connector.token_url, data={"client_id": connector.app_id, "client_secret":
                                                  connector.password, "grant_type": "client_credentials"}
                       ).json()["access_token"]
    head = {"Authorization": f"Bearer {token}"}
    conv = httpx.post(f"{connector.url}/v3/conversations", headers=head, json={
        "isGroup": False, "tenantId": connector.tenant, "members": [{"id": member.id}]}).json()["id"]
    posted = httpx.post(f"{connector.url}/v3/conversations/{conv}/activities", headers=head,
                        json={"type": "message", "text": "card"}).json()["id"]
    ok = httpx.post(f"{connector.url}/v3/conversations/{conv}/activities/{posted}", headers=head,
                    json={"type": "message", "text": "news", "replyToId": posted})
    assert ok.status_code == 201
    missing = httpx.post(f"{connector.url}/v3/conversations/{conv}/activities/17", headers=head,
                         json={"type": "message", "text": "news", "replyToId": "17"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ActivityNotFound"



def _replies(chat: SlackSide, who: str) -> list[tuple[str, bool]]:
    """(text, shown in the conversation too) of each thread reply in a person's DM with Baton."""
    return [(m.text, bool(m.broadcast)) for m in chat.slack.api.messages(who)
            if m.thread_ts and m.thread_ts != m.ts]


def _slack_steps(chat: ChatSide, uow: UoW, clock: Clock, request: pytest.FixtureRequest,
                 raiser: str, steps: tuple[tuple[str, dict[str, Any]], ...]) -> None:
    if not isinstance(chat, SlackSide):
        pytest.skip("Slack's reply_broadcast; a Teams reply in a 1:1 chat always notifies its reader")
    runtime = request.getfixturevalue("runtime")
    runtime.deliverer.stop()

    def deliver() -> None:
        while runtime.delivery.deliver(clock()):
            pass

    clock.now = _at(date(2026, 11, 23))
    assert not chat.raise_transfer(raiser, {"case_ref": text_input(CASE),
                                            "receiving_team": select("pdu-south"),
                                            "kind": select("permanent")})
    deliver()
    with uow() as u:
        tid = services.load(u, case_ref=CASE).id or 0
    for action, values in steps:
        clock.now += timedelta(days=1)
        chat.press(SMGR, action, tid)
        assert chat.form_open(SMGR, action)
        assert not chat.submit(SMGR, values)
        deliver()


def test_news_for_someone_who_already_owed_the_same_step_is_a_quiet_thread_reply(
        chat: ChatSide, uow: UoW, clock: Clock, request: pytest.FixtureRequest) -> None:
    """The holding manager owes the same step before and after the worker is named: the news is
    a reply in the card's thread, not also broadcast to the conversation (reply_broadcast)."""
    _slack_steps(chat, uow, clock, request, PP,
                 (("accept", {}), ("allocate", {"named_worker": user_select(SPP)})))
    assert isinstance(chat, SlackSide)
    replies = _replies(chat, NMGR)
    assert [b for t, b in replies if "named the worker" in t] == [False], replies


def test_news_that_makes_the_reader_owe_a_step_is_broadcast_to_their_conversation(
        chat: ChatSide, uow: UoW, clock: Clock, request: pytest.FixtureRequest) -> None:
    """The holding manager raised the request; the decline makes them owe a step they did not
    (dispute the decline, or keep the case): that reply is broadcast, so they are told."""
    _slack_steps(chat, uow, clock, request, NMGR, (("decline", {
        "reason_category": select("heightened_risk"),
        "rationale": text_input("Victim lives on the same street")}),))
    assert isinstance(chat, SlackSide)
    replies = _replies(chat, NMGR)
    assert [b for t, b in replies if "declined" in t] == [True], replies
