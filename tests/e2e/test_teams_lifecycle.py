"""The Teams app removed from a team or from the whole tenant, then added back: delivery there
stops, notices waiting in the outbox (as Slack's app_uninstalled stops it), and resumes with each
notice sent once. Every lifecycle activity is a signed one against the Bot Connector stand-in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bot import services
from bot.org import Org
from bot.ports import UnitOfWork
from handlers.bootstrap import TeamsRuntime
from handlers.teams.delivery import REMOVED_WAIT
from sandbox.driver import Clock
from sandbox.teams.driver import TeamsDriver
from sandbox.teams.standin import card_of, card_text

PP, SPO = "U0NPP1", "U0SMGR"
SOUTH = "19:pdu-south@thread.tacv2"


def _scope_activity(teams: TeamsDriver, action: str, *, team: str | None) -> dict[str, Any]:
    """An installationUpdate for a team (from its channel) or, with no team, for the tenant."""
    activity = teams.activity(SPO, "installationUpdate", action=action)
    tenant = teams.connector.tenant
    if team is None:  # the whole tenant: the conversation is the tenant itself
        activity["conversation"] = {"id": tenant, "tenantId": tenant}
    else:
        activity["conversation"] = {"id": f"{team};messageid=1", "conversationType": "channel",
                                    "tenantId": tenant}
        activity["channelData"] = {"tenant": {"id": tenant}, "team": {"id": team}}
    return activity


def _raise(uow: Callable[[], UnitOfWork], org: Org, clock: Clock, ref: str) -> None:
    with uow() as u:
        services.raise_transfer(u, org, PP, services.RaiseRequest(case_ref=ref, receiving_team="pdu-south"),
                                clock())


def _copies(teams: TeamsDriver, conversation: str, ref: str) -> int:
    return sum(1 for a in teams.connector.sent(conversation) if ref in card_text(card_of(a) or {}))


def _pending(engine: sa.Engine) -> list[tuple[str, str | None]]:
    with engine.connect() as c:
        return [(r[0], r[1]) for r in c.execute(sa.text(
            "SELECT recipient, last_error FROM notification WHERE status = 'pending'"))]


def test_removing_the_app_from_a_team_then_the_tenant_holds_delivery_there_until_it_is_added_back(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: Callable[[], UnitOfWork],
        teams_demo_org: Org, clock: Clock, engine: sa.Engine) -> None:
    teams_runtime.deliverer.stop()  # delivered by hand, on the simulated clock
    delivery = teams_runtime.delivery
    assert teams.install(SPO) == 200
    spo_chat = teams.connector.chat_of(teams.members[SPO].id)
    assert spo_chat is not None
    # An unsigned removal is refused and changes nothing.
    assert teams.post(_scope_activity(teams, "remove", team=SOUTH), token=None)[0] == 401

    # Removed from the South PDU team: its channel waits; the manager's own chat still hears.
    assert teams.post(_scope_activity(teams, "remove", team=SOUTH))[0] == 200
    _raise(uow, teams_demo_org, clock, "X100001")
    delivery.deliver(clock())
    assert _copies(teams, spo_chat.id, "X100001") == 1
    assert _copies(teams, SOUTH, "X100001") == 0
    assert _pending(engine) == [(SOUTH, "app_uninstalled")]

    # Removed from the whole tenant: nothing more goes to anyone there.
    assert teams.post(_scope_activity(teams, "remove", team=None))[0] == 200
    _raise(uow, teams_demo_org, clock, "X100002")
    clock.now += timedelta(seconds=REMOVED_WAIT + 1)
    delivery.deliver(clock())
    assert _copies(teams, spo_chat.id, "X100002") == 0 and _copies(teams, SOUTH, "X100001") == 0
    waiting = _pending(engine)  # tried once each (the rest of a recipient's rows wait behind it)
    assert {r for r, e in waiting if e == "app_uninstalled"} == {SOUTH, SPO, PP}
    assert {e for _, e in waiting} <= {"app_uninstalled", None}
    with uow() as u:
        assert not services.delivery_stopped(u)  # Slack's delivery is not Teams' to stop

    # Added back to the tenant, the team still without it: people hear, the channel waits.
    assert teams.post(_scope_activity(teams, "add", team=None))[0] == 200
    clock.now += timedelta(seconds=REMOVED_WAIT + 1)
    delivery.deliver(clock())
    assert _copies(teams, spo_chat.id, "X100002") == 1
    assert {r for r, _ in _pending(engine)} == {SOUTH}
    assert teams.connector.chat_of(teams.members[PP].id) is not None  # opened by Entra id now

    # Added back to the team: each waiting channel post goes once.
    assert teams.post(_scope_activity(teams, "add", team=SOUTH))[0] == 200
    clock.now += timedelta(seconds=REMOVED_WAIT + 1)
    while delivery.deliver(clock()):
        pass
    assert _pending(engine) == []
    assert [_copies(teams, SOUTH, r) for r in ("X100001", "X100002")] == [1, 1]
    assert [_copies(teams, spo_chat.id, r) for r in ("X100001", "X100002")] == [1, 1]


def test_the_bot_removed_from_a_team_stops_its_channel_but_a_colleague_leaving_does_not(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: Callable[[], UnitOfWork],
        teams_demo_org: Org, clock: Clock, engine: sa.Engine) -> None:
    teams_runtime.deliverer.stop()
    tenant = teams.connector.tenant

    def left(member_id: str) -> dict[str, Any]:
        activity = teams.activity(SPO, "conversationUpdate", membersRemoved=[{"id": member_id}])
        activity["conversation"] = {"id": SOUTH, "conversationType": "channel", "tenantId": tenant}
        activity["channelData"] = {"tenant": {"id": tenant}, "team": {"id": SOUTH},
                                   "eventType": "teamMemberRemoved"}
        return activity

    assert teams.post(left("29:a-colleague"))[0] == 200
    _raise(uow, teams_demo_org, clock, "X100003")
    teams_runtime.delivery.deliver(clock())
    assert _copies(teams, SOUTH, "X100003") == 1
    assert teams.post(left(f"28:{teams.connector.app_id}"))[0] == 200  # the bot itself
    _raise(uow, teams_demo_org, clock, "X100004")
    teams_runtime.delivery.deliver(clock())
    assert _copies(teams, SOUTH, "X100004") == 0
    assert (SOUTH, "app_uninstalled") in _pending(engine)
