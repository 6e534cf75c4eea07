"""Delivery to Teams through the same outbox as Slack: exactly once per notice, 429 with
Retry-After honoured (and without one, a backoff with jitter), 412/502/504 retried with backoff,
permanent refusals reported once to the escalation contact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot import services
from bot.org import Org
from bot.ports import UnitOfWork
from handlers.bootstrap import TeamsRuntime
from sandbox.driver import Clock
from sandbox.teams.driver import TeamsDriver
from sandbox.teams.standin import card_of, card_text

UoW = Callable[[], UnitOfWork]
SPO = "U0SMGR"
SOUTH = "19:pdu-south@thread.tacv2"


def _raise(uow: UoW, org: Org, clock: Clock, *refs: str) -> None:
    for ref in refs:
        with uow() as u:
            services.raise_transfer(u, org, "U0NPP1", services.RaiseRequest(
                case_ref=ref, receiving_team="pdu-south"), clock())


def _copies(teams: TeamsDriver, conversation: str, ref: str) -> int:
    return sum(1 for a in teams.connector.sent(conversation) if ref in card_text(card_of(a) or {}))


def _spo_chat(teams: TeamsDriver) -> str:
    chat = teams.connector.wait_for(lambda: teams.connector.chat_of(teams.members[SPO].id))
    return str(chat.id)


def _statuses(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {r[0]: r[1] for r in c.execute(sa.text(
            "SELECT status, count(*) FROM notification GROUP BY status"))}


def test_retry_after_is_honoured_and_every_card_arrives_exactly_once(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: UoW, teams_demo_org: Org, clock: Clock,
        engine: sa.Engine) -> None:
    refs = [f"X{n:06d}" for n in range(100001, 100021)]
    teams.connector.fail_next(429, count=12, retry_after=30)
    _raise(uow, teams_demo_org, clock, *refs)
    deliver = teams_runtime.delivery.deliver
    deliver(clock())
    assert not teams.connector.sent(SOUTH) or len(teams.connector.sent(SOUTH)) < len(refs)
    for _ in range(20):  # the simulated clock moves on 31 s at a time until the outbox is empty
        if set(_statuses(engine)) == {"sent"}:
            break
        clock.now += timedelta(seconds=31)
        deliver(clock())
    assert set(_statuses(engine)) == {"sent"}
    chat = _spo_chat(teams)
    assert all(_copies(teams, chat, r) == 1 for r in refs)
    assert all(_copies(teams, SOUTH, r) == 1 for r in refs)
    assert sum(1 for _, _, status in teams.connector.calls if status == 429) == 12


def test_a_429_without_retry_after_backs_off_with_jitter(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: UoW, teams_demo_org: Org, clock: Clock,
        engine: sa.Engine) -> None:
    teams.connector.fail_next(429, count=1, path=SOUTH)
    _raise(uow, teams_demo_org, clock, "X123456")
    teams_runtime.delivery.deliver(clock())
    with engine.connect() as c:
        waits = [r[0] for r in c.execute(sa.text(
            "SELECT not_before FROM notification WHERE recipient = :r AND status = 'pending'"), {"r": SOUTH})]
    assert waits, "the channel's post waits"
    assert all(datetime.fromisoformat(str(w)).replace(tzinfo=None) > clock().replace(tzinfo=None)
               for w in waits)
    clock.now += timedelta(seconds=60)
    teams_runtime.delivery.deliver(clock())
    assert _copies(teams, SOUTH, "X123456") == 1


def test_412_502_and_504_are_retried_with_backoff_and_sent_once(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: UoW, teams_demo_org: Org, clock: Clock,
        naps: list[float]) -> None:
    for status in (412, 502, 504):
        teams.connector.fail_next(status, path=SOUTH)
    _raise(uow, teams_demo_org, clock, "X123456")
    teams_runtime.delivery.deliver(clock())
    assert _copies(teams, SOUTH, "X123456") == 1
    assert len(naps) == 3 and naps[0] <= 0.5 and 0.5 <= naps[1] <= 1.0 and 1.0 <= naps[2] <= 2.0


def test_a_permanent_refusal_is_reported_once_to_the_escalation_contact(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: UoW, teams_demo_org: Org, clock: Clock,
        engine: sa.Engine) -> None:
    teams.connector.fail_next(403, count=100, path=SOUTH)
    _raise(uow, teams_demo_org, clock, "X123456", "X654321")
    teams_runtime.delivery.deliver(clock())
    teams_runtime.delivery.deliver(clock())
    with engine.connect() as c:
        failed = c.execute(sa.text("SELECT count(*) FROM notification WHERE recipient = :r AND "
                                   "status = 'failed'"), {"r": SOUTH}).scalar()
        reports = c.execute(sa.text("SELECT recipient FROM notification WHERE key LIKE 'failure:%'")).all()
    assert failed == 2
    assert sorted(r[0] for r in reports) == sorted(["U0SMT1", "19:c0smt@thread.tacv2"])
    smt = teams.connector.wait_for(lambda: teams.connector.sent("19:c0smt@thread.tacv2"))
    assert "cannot deliver" in smt[-1]["text"]


def test_a_channel_card_refreshes_for_the_people_on_the_transfer_who_have_the_app(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: UoW, teams_demo_org: Org, clock: Clock) -> None:
    """Each viewer of a channel post sees only their own actions: the card refreshes itself for
    the receiving manager (who has the app), whose refresh answers with their buttons."""
    teams.install(SPO)
    _raise(uow, teams_demo_org, clock, "X123456")
    teams_runtime.delivery.deliver(clock())
    post = card_of(teams.connector.wait_for(lambda: teams.connector.sent(SOUTH))[-1])
    assert post is not None and teams.members[SPO].id in post["refresh"]["userIds"]
    on_it = {teams.members[p].id for p in ("U0NPP1", SPO, "U0NMGR")}  # practitioner, both managers
    assert set(post["refresh"]["userIds"]) <= on_it
    assert not [a for a in post.get("actions") or []]  # the channel's own copy has no buttons
    mine = teams.execute(SPO, "refresh", post["refresh"]["action"]["data"])
    assert "open:accept" in [a["verb"] for a in mine["actions"]]
    theirs = teams.execute("U0SPP1", "refresh", post["refresh"]["action"]["data"])
    assert not theirs.get("actions")


def test_the_weekly_summary_is_a_card_with_its_figures(teams: TeamsDriver,
                                                       teams_runtime: TeamsRuntime) -> None:
    from datetime import date

    from bot.reports import Summary

    conv, _ = teams_runtime.chat.post_weekly(SOUTH, Summary(start=date(2026, 11, 16), end=date(2026, 11, 22),
                                                             opened=4, resolved=2, breached=1))
    card = card_of(teams.connector.sent(conv)[-1])
    assert "Transfers 16 Nov to 22 Nov 2026" in card_text(card)
    assert [f["value"] for f in card["body"][1]["facts"]][:3] == ["4", "2", "1"]  # type: ignore[index]
    chart = next(b for b in card["body"] if b["type"] == "Image")  # type: ignore[index]
    assert chart["url"].startswith("data:image/png;base64,") and len(chart["url"]) < 20_000


def test_a_restricted_transfer_posts_nothing_in_a_teams_channel(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: UoW, teams_demo_org: Org, clock: Clock) -> None:
    with uow() as u:
        services.raise_transfer(u, teams_demo_org, "U0NPP1", services.RaiseRequest(
            case_ref="X123456", receiving_team="pdu-south", restricted=True), clock())
    teams_runtime.delivery.deliver(clock())
    assert "X123456" in card_text(card_of(teams.connector.wait_for(
        lambda: teams.connector.sent(_spo_chat(teams)))[-1]) or {})
    assert not teams.connector.sent(SOUTH)
