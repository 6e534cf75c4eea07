"""Baton against a stand-in as strict as Teams: automatic card refreshes when a person opens a
card, app upgrades, other Bot Service channels, activities without a serviceUrl, regional
serviceUrls, people who have not got the app, and refresh.userIds for people Baton reached itself.
Each of these passed the old stand-in while failing (or being wrong) on real Teams."""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlalchemy as sa

from bot import services
from bot.org import Org
from bot.ports import UnitOfWork
from handlers.bootstrap import TeamsRuntime
from sandbox.driver import Clock
from sandbox.teams.driver import TeamsDriver
from sandbox.teams.standin import card_of, card_text, verbs_of
from store import conversations

UoW = Callable[[], UnitOfWork]
PP, SPO, SOUTH_PP = "U0NPP1", "U0SMGR", "U0SPP1"
SOUTH = "19:pdu-south@thread.tacv2"


def _raise(uow: UoW, org: Org, clock: Clock, ref: str = "X123456") -> int:
    with uow() as u:
        t = services.raise_transfer(u, org, PP, services.RaiseRequest(
            case_ref=ref, receiving_team="pdu-south"), clock())
    return t.id or 0


def _state(engine: sa.Engine, tid: int) -> str:
    with engine.connect() as c:
        return str(c.execute(sa.text("SELECT state FROM transfer WHERE id = :i"), {"i": tid}).scalar_one())


def _channel_post(teams: TeamsDriver) -> str:
    posts = teams.connector.wait_for(lambda: teams.connector.sent(SOUTH))
    return str(posts[-1]["id"])


def _welcomes(teams: TeamsDriver, person: str) -> int:
    return sum("Your case transfers" in json.dumps(a) for a in teams.chat(person))


def test_opening_a_channel_card_refreshes_it_automatically_with_each_viewers_own_buttons(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: UoW, teams_demo_org: Org, clock: Clock) -> None:
    """Teams sends ``adaptiveCard/action`` with ``"trigger": "automatic"`` when someone opens a card
    with a refresh clause ("Work with Universal Actions for Adaptive Cards", user-specific views):
    the receiving manager sees Accept and Decline, a colleague in the channel sees none."""
    _raise(uow, teams_demo_org, clock)
    teams_runtime.delivery.deliver(clock())
    post = _channel_post(teams)
    mine = teams.view(SPO, SOUTH, post)
    assert "open:accept" in verbs_of(mine) and "open:decline" in verbs_of(mine)
    theirs = teams.view(SOUTH_PP, SOUTH, post)
    assert "open:accept" not in verbs_of(theirs)


def test_an_automatic_invoke_only_redraws_the_card_and_never_takes_a_step(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: UoW, teams_demo_org: Org, clock: Clock,
        engine: sa.Engine) -> None:
    tid = _raise(uow, teams_demo_org, clock)
    status, body = teams.post(teams.activity(SPO, "invoke", name="adaptiveCard/action", value={
        "action": {"type": "Action.Execute", "verb": "submit:accept", "data": {"transfer_id": tid,
                                                                              "token": "t" * 32}},
        "trigger": "automatic"}))
    assert status == 200 and body is not None and body["statusCode"] == 200
    assert "open:accept" in verbs_of(body["value"])  # the card as it stands, for this viewer
    assert _state(engine, tid) == "requested"


def test_an_app_upgrade_keeps_the_chat_without_a_second_welcome_and_a_remove_upgrade_forgets_it(
        teams: TeamsDriver, engine: sa.Engine) -> None:
    """installationUpdate ``add-upgrade`` / ``remove-upgrade`` (botbuilder dispatches them as add
    and remove): an upgrade answers 200 and keeps the person's chat; no second welcome."""
    assert teams.install(PP) == 200
    assert _welcomes(teams, PP) == 1
    assert teams.upgrade(PP) == 200
    assert conversations.of_person(engine, PP) is not None
    assert teams.say(PP, "transfer help") == 200
    teams.connector.wait_for(lambda: len(teams.chat(PP)) >= 2)
    assert _welcomes(teams, PP) == 1
    assert teams.upgrade(PP, "remove-upgrade") == 200
    assert conversations.of_person(engine, PP) is None


def test_an_activity_from_another_channel_is_refused_and_changes_nothing(
        teams: TeamsDriver, engine: sa.Engine) -> None:
    """An Azure Bot also speaks Web Chat (on by default), whose client writes ``from`` itself."""
    activity = teams.activity(PP, "installationUpdate", action="add")
    activity["channelId"] = "webchat"
    status, body = teams.post(activity)
    assert status == 403 and body is not None and "msteams" in body["message"]
    assert conversations.of_person(engine, PP) is None


def test_an_activity_without_a_service_url_is_refused_and_changes_nothing(
        teams: TeamsDriver, engine: sa.Engine) -> None:
    activity = teams.activity(PP, "installationUpdate", action="add")
    del activity["serviceUrl"]
    status, body = teams.post(activity)
    assert status == 400 and body is not None and "serviceUrl" in body["message"]
    assert conversations.of_person(engine, PP) is None
    activity["serviceUrl"] = "ftp://smba.example/"
    assert teams.post(activity)[0] == 400


def test_chats_and_channel_posts_go_through_the_service_url_teams_gave_for_them(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: UoW, teams_demo_org: Org, clock: Clock) -> None:
    """Baton is configured with the stand-in's root address; Teams sends the team's and the
    manager's activities through the ``emea`` region, so every call about them goes there."""
    emea = teams.connector.region_url("emea")
    assert teams.install(SPO, service_url=emea) == 200
    assert teams.post(teams.activity(SPO, "conversationUpdate", conversation=SOUTH, service_url=emea,
                                     membersAdded=[{"id": f"28:{teams.connector.app_id}"}]))[0] == 200
    teams.connector.regions.clear()
    tid = _raise(uow, teams_demo_org, clock)
    teams_runtime.delivery.deliver(clock())
    _channel_post(teams)
    spo_chat = teams.connector.chat_of(teams.members[SPO].id)
    assert spo_chat is not None
    teams.connector.wait_for(lambda: teams.connector.sent(spo_chat.id))
    about = [(region, path) for region, path in teams.connector.regions
             if SOUTH in path or spo_chat.id in path]
    assert about and {region for region, _ in about} == {"emea"}, about
    assert tid


def test_someone_without_the_app_is_not_messaged_and_the_failure_says_why(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: UoW, teams_demo_org: Org, clock: Clock,
        engine: sa.Engine) -> None:
    """Teams refuses a 1:1 chat with a person the app is not installed for (403
    BotNotInConversationRoster); the notice fails with that reason, named, not retried forever."""
    teams.members[SPO].has_app = False
    _raise(uow, teams_demo_org, clock)
    teams_runtime.delivery.deliver(clock())
    with engine.connect() as c:
        errors = c.execute(sa.text("SELECT last_error FROM notification WHERE recipient = :p"),
                           {"p": SPO}).scalars().all()
    assert errors and all(e and "BotNotInConversationRoster" in e for e in errors)
    assert teams.connector.chat_of(teams.members[SPO].id) is None


def test_a_chat_baton_opened_itself_names_the_person_in_its_cards_refresh(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: UoW, teams_demo_org: Org, clock: Clock,
        engine: sa.Engine) -> None:
    """The manager never installed the app personally: Baton opens the chat by Entra id, reads
    back their Teams user id, and their card refreshes for them; so does the channel's."""
    _raise(uow, teams_demo_org, clock)
    teams_runtime.delivery.deliver(clock())
    ref = conversations.of_person(engine, SPO)
    assert ref is not None and ref.user_id == teams.members[SPO].id
    chat = teams.connector.chat_of(teams.members[SPO].id)
    assert chat is not None
    card = card_of(teams.connector.wait_for(lambda: teams.connector.sent(chat.id))[-1])
    assert card is not None and card["refresh"]["userIds"] == [teams.members[SPO].id]
    assert len(card["refresh"]["userIds"]) <= 60


def test_someone_the_org_file_does_not_name_opening_a_channel_card_sees_it_as_the_channel_does(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: UoW, teams_demo_org: Org, clock: Clock) -> None:
    """A colleague in the team's channel whom the org file does not name: their automatic refresh
    answers with the channel's own card (no buttons), never a refusal in place of the card."""
    _raise(uow, teams_demo_org, clock)
    teams_runtime.delivery.deliver(clock())
    post = _channel_post(teams)
    teams.members["stranger"] = teams.connector.add_member("12345678-1234-4234-8234-123456789abc",
                                                           "stranger@demo.example.gov.uk")
    seen = teams.view("stranger", SOUTH, post)
    assert "X123456" in card_text(seen) and "does not know you" not in card_text(seen)
    assert not verbs_of(seen)
