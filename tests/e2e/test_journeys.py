"""The same journeys on Slack and on Teams (the ``chat`` fixture runs each on both): raise from
chat, the early heads up to the buddy, decline with rationale then dispute, accept then complete,
and a breach on the simulated clock asking the practitioner for the delay reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest

from bot import services
from bot.domain import UK_TIME
from bot.ports import UnitOfWork
from scheduler.sweep import tick
from tests.e2e.platforms import ChatSide
from tests.e2e.slack import Clock, select, text_input

UoW = Callable[[], UnitOfWork]
PP, SPO, NSPO = "U0NPP1", "U0SMGR", "U0NMGR"


def _state(uow: UoW, ref: str = "X123456") -> str:
    with uow() as u:
        return services.load(u, case_ref=ref).state.value


def _tid(uow: UoW, ref: str = "X123456") -> int:
    with uow() as u:
        return services.load(u, case_ref=ref).id or 0


def _raise(chat: ChatSide) -> None:
    errors = chat.raise_transfer(PP, {"case_ref": text_input("X123456"),
                                      "receiving_team": select("pdu-south"), "kind": select("permanent")})
    assert not errors, errors


def test_raise_from_chat_reaches_the_receiving_manager_and_channel(chat: ChatSide, uow: UoW) -> None:
    _raise(chat)
    assert _state(uow) == "requested"
    assert "Accept" in chat.delivered(SPO, "X123456")
    assert "X123456" in chat.in_channel("pdu-south", "X123456")


def test_a_bad_case_reference_is_refused_on_its_field_and_nothing_is_raised(chat: ChatSide,
                                                                            uow: UoW) -> None:
    errors = chat.raise_transfer(PP, {"case_ref": text_input("not a crn"),
                                      "receiving_team": select("pdu-south"), "kind": select("permanent")})
    assert "case_ref" in errors
    with uow() as u, pytest.raises(services.DomainError):
        services.load(u, case_ref="not a crn")


def test_the_early_heads_up_goes_to_the_buddy_manager(chat: ChatSide, uow: UoW) -> None:
    """ROCH: "FRT PM will have a discussion with their locality 'buddy'" at the earliest point."""
    errors = chat.raise_transfer("U0RFSW1", {"case_ref": text_input("301001"),
                                             "receiving_team": select("roch-cp-1"),
                                             "kind": select(chat.org.pack_for("roch-frt-1").kinds[0].id)},
                                 heads_up=True)
    assert not errors, errors
    assert "301001" in chat.delivered("U0RCMGR", "301001")


def test_decline_with_rationale_then_the_holding_manager_disputes(chat: ChatSide, uow: UoW) -> None:
    _raise(chat)
    tid = _tid(uow)
    chat.delivered(SPO, "X123456")
    chat.press(SPO, "decline", tid)
    assert chat.form_open(SPO, "decline")
    assert "rationale" in chat.submit(SPO, {"reason_category": select("heightened_risk"),
                                            "rationale": text_input("")})
    assert _state(uow) == "requested"
    assert not chat.submit(SPO, {"reason_category": select("heightened_risk"),
                                 "rationale": text_input("Victim lives on the same street")})
    assert _state(uow) == "declined"
    assert "Victim lives on the same street" in chat.delivered(PP, "Declined")
    chat.press(NSPO, "dispute", tid)
    assert chat.form_open(NSPO, "dispute")
    assert not chat.submit(NSPO, {"reason": text_input("The risk can be managed at the address")})
    assert _state(uow) in ("disputed", "escalated")


def test_accept_then_complete(chat: ChatSide, uow: UoW) -> None:
    _raise(chat)
    tid = _tid(uow)
    chat.press(SPO, "accept", tid)
    assert chat.form_open(SPO, "accept")
    assert not chat.submit(SPO, {})
    chat.press(SPO, "complete", tid)
    assert chat.form_open(SPO, "complete")
    assert not chat.submit(SPO, {})
    assert _state(uow) == "completed"
    assert "Completed" in chat.delivered(PP, "Completed")


def test_a_breach_on_the_simulated_clock_asks_the_practitioner_for_the_delay_reason(
        chat: ChatSide, uow: UoW, clock: Clock, request: pytest.FixtureRequest) -> None:
    """FAQ: "Where this cannot be achieved, the reasons for the delay and actions being
    undertaken to progress must be fully recorded", by the transferring area "if the 20
    working-day deadline is missed". Before the breach no card offers Record delay reason; at it
    the practitioner's card and digest do; once the reason is recorded every message of theirs is
    redrawn without it (Withdraw stays), and the holding manager's too."""
    _raise(chat)
    tid = _tid(uow)
    assert "record_delay" not in chat.buttons(PP, lambda names: "withdraw" in names)
    runtime = request.getfixturevalue("runtime" if chat.name == "slack" else "teams_runtime")
    clock.now = datetime.combine(date(2026, 12, 22), time(10), tzinfo=UK_TIME)
    tick(runtime.delivery.engine, chat.org, runtime.delivery, clock.now)
    assert "X123456" in chat.delivered(PP, "Record delay")
    assert chat.buttons(PP, lambda names: names.count("record_delay") >= 2)  # card and digest
    chat.press(PP, "record_delay", tid)
    assert chat.form_open(PP, "record_delay")
    assert not chat.submit(PP, {"reason": text_input("Awaiting police checks"),
                                "actions": text_input("Chased the police twice")})
    with uow() as u:
        assert services.load(u, transfer_id=tid).timeline[-1].kind == "delay_recorded"
    assert "withdraw" in chat.buttons(PP, lambda names: "record_delay" not in names)
    assert "X123456" in chat.delivered(NSPO, "recorded the reason for the delay")
    assert "record_delay" not in chat.buttons(NSPO, lambda names: True)


def test_hourly_sweeps_on_day_21_escalate_once_per_case_and_digest_the_practitioner(
        chat: ChatSide, uow: UoW, clock: Clock, request: pytest.FixtureRequest) -> None:
    """FAQ: a breach "escalates to senior managers": ticks every hour on day 21 put one escalation
    per case in the SMT channel; the practitioner is asked for each case's delay reason in one
    digest (only the sweep delivers here: the background delivery thread is stopped)."""
    runtime = request.getfixturevalue("runtime" if chat.name == "slack" else "teams_runtime")
    runtime.deliverer.stop()
    for ref in ("X123456", "X654321"):
        with uow() as u:
            services.raise_transfer(u, chat.org, PP, services.RaiseRequest(
                case_ref=ref, receiving_team="pdu-south"), datetime(2026, 11, 23, 10, tzinfo=UK_TIME))
    for hour in (9, 10, 11, 12):
        clock.now = datetime.combine(date(2026, 12, 22), time(hour), tzinfo=UK_TIME)
        tick(runtime.delivery.engine, chat.org, runtime.delivery, clock.now)
    digest = chat.delivered(PP, "Record delay")
    assert "X123456" in digest and "X654321" in digest  # one message for both cases
    for ref in ("X123456", "X654321"):
        assert chat.posts("smt", ref) == 1


def test_under_429s_every_card_reaches_the_receiving_manager_exactly_once(
        chat: ChatSide, uow: UoW, clock: Clock, request: pytest.FixtureRequest) -> None:
    """The platform refuses with 429 (Retry-After 1 s); the outbox waits and resends, the simulated
    clock moving on, until each of five cards has arrived once."""
    runtime = request.getfixturevalue("runtime" if chat.name == "slack" else "teams_runtime")
    runtime.deliverer.stop()
    refs = [f"X{n:06d}" for n in range(300001, 300006)]
    chat.throttle(4)
    for ref in refs:
        with uow() as u:
            services.raise_transfer(u, chat.org, PP, services.RaiseRequest(
                case_ref=ref, receiving_team="pdu-south"), clock())
    for _ in range(10):
        runtime.delivery.deliver(clock())
        clock.now += timedelta(seconds=2)
    assert [chat.copies(SPO, ref) for ref in refs] == [1] * 5


def test_a_forged_request_is_refused_with_401_and_changes_nothing(chat: ChatSide, uow: UoW) -> None:
    _raise(chat)
    tid = _tid(uow)
    assert chat.forged(SPO, "complete X123456") == 401
    with uow() as u:
        t = services.load(u, transfer_id=tid)
    assert t.state.value == "requested" and [e.kind for e in t.timeline] == ["requested"]
