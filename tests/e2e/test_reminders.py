"""Reminders and escalations delivered to Slack, and the buttons they carry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from slack_sdk import WebClient

from bot import services
from bot.domain import UK_TIME
from bot.org import Org
from handlers.slack import ids
from sandbox.slack_api import SlackStandIn
from scheduler.sweep import tick
from store.repo import SqlUnitOfWork
from tests.e2e.conftest import texts
from tests.e2e.slack import TOKEN, Clock, SlackDriver, date_pick, slack_delivery, text_input, wait

UoW = Callable[[], SqlUnitOfWork]


def at(day: date, hour: int = 10) -> datetime:
    """``day`` at ``hour`` o'clock, UK time."""
    return datetime.combine(day, time(hour), tzinfo=UK_TIME)


def raise_probation(uow: UoW, org: Org, ref: str = "X123456") -> int:
    """North's practitioner raises a transfer to South on Mon 23 Nov 2026."""
    with uow() as u:
        t = services.raise_transfer(u, org, "U0NPP1",
                                    services.RaiseRequest(case_ref=ref, receiving_team="pdu-south"),
                                    at(date(2026, 11, 23)))
    assert t.id is not None
    return t.id


def run_tick(api: SlackStandIn, engine: sa.Engine, org: Org, when: datetime) -> dict[str, int]:
    """One scheduler tick at ``when`` against the stand-in."""
    return tick(engine, org, slack_delivery(engine, org, WebClient(token=TOKEN, base_url=api.api_url)), when)


def buttons(blocks: list[dict[str, Any]] | None) -> list[str]:
    """Action ids of buttons anywhere in the blocks (accessories included)."""
    found: list[str] = []
    for b in blocks or []:
        for el in [b.get("accessory"), *(b.get("elements") or [])]:
            if isinstance(el, dict) and el.get("type") == "button":
                found.append(str(el["action_id"]))
    return found


def test_breach_asks_the_practitioner_for_a_delay_reason_and_the_form_records_it(
        slack: SlackDriver, api: SlackStandIn, engine: sa.Engine, org: Org, uow: UoW,
        clock: Clock) -> None:
    """Day 21: the practitioner's DM carries 'Record delay reason'; the form's answer goes on
    the timeline with the actions in hand."""
    tid = raise_probation(uow, org)
    clock.now = at(date(2026, 12, 22))
    run_tick(api, engine, org, clock.now)
    dm = wait(api, lambda: [m for m in api.messages("U0NPP1") if ids.RECORD_DELAY in buttons(m.blocks)])
    assert "X123456" in texts(dm[0].blocks)
    slack.press("U0NPP1", ids.RECORD_DELAY, str(tid))
    wait(api, lambda: api.modal_stack("U0NPP1"))
    _, answer = slack.submit("U0NPP1", {ids.DELAY_REASON: text_input("Awaiting police checks"),
                                        ids.DELAY_ACTIONS: text_input("Chased on 21 Dec")})
    assert "errors" not in answer
    with uow() as u:
        t = u.transfers.get(tid)
    assert t is not None
    ev = t.timeline[-1]
    assert (ev.kind, ev.reason, ev.detail["actions"]) == (
        "delay_recorded", "Awaiting police checks", "Chased on 21 Dec")


def test_smt_channel_hears_the_escalation_once(api: SlackStandIn, engine: sa.Engine, org: Org,
                                               uow: UoW) -> None:
    """Ticks every hour on day 21 put one escalation message in the SMT channel."""
    raise_probation(uow, org)
    for hour in (9, 10, 11, 12):
        run_tick(api, engine, org, at(date(2026, 12, 22), hour))
    smt = api.messages("C0SMT")
    assert len(smt) == 1 and "Escalated to Senior management" in texts(smt[0].blocks)


def test_endorse_button_records_senior_endorsement_and_stops_that_clock(
        slack: SlackDriver, api: SlackStandIn, engine: sa.Engine, org: Org, uow: UoW,
        clock: Clock) -> None:
    """Day 31: SMT presses 'Endorse extension' and gives the date the transfer is now expected
    by; the endorsement clock stops and the 20-day clock (and so every card) follows that date."""
    tid = raise_probation(uow, org)
    clock.now = at(date(2027, 1, 8))
    run_tick(api, engine, org, clock.now)
    wait(api, lambda: [m for m in api.messages("U0SMT1") if ids.ENDORSE in buttons(m.blocks)])
    slack.press("U0NPP1", ids.ENDORSE, str(tid))
    eph = wait(api, lambda: api.calls_to("chat.postEphemeral"))
    assert "senior managers" in eph[0].params["text"]
    slack.press("U0SMT1", ids.ENDORSE, str(tid))
    wait(api, lambda: api.modal_stack("U0SMT1"))
    slack.submit("U0SMT1", {ids.ENDORSE_RATIONALE: text_input("Complex MAPPA case"),
                            "expected_by": date_pick("2027-01-29")})
    with uow() as u:
        t = u.transfers.get(tid)
        assert t is not None
        ds = {d.clock: d for d in services.transfer_deadlines(org, t)}
    assert t.last_event("extension_endorsed") is not None
    assert ds["endorsement"].status.value == "stopped" and ds["resolution"].status.value == "running"
    assert ds["resolution"].due_on == date(2027, 1, 29)


def test_import_day_sends_one_digest_not_forty_messages(api: SlackStandIn, engine: sa.Engine,
                                                        org: Org, uow: UoW) -> None:
    """Forty overdue imported transfers: the receiving manager gets one message listing them all."""
    rows = "\n".join(f"X{i:06d},pdu-north,pdu-south,2026-10-01,permanent" for i in range(40))
    with uow() as u:
        services.import_csv(u, org, "case_ref,holding_team,receiving_team,requested_on,kind\n" + rows,
                            at(date(2026, 11, 20)))
    run_tick(api, engine, org, at(date(2026, 11, 23)))
    msgs = api.messages("U0SMGR")
    assert len(msgs) == 1
    body = texts(msgs[0].blocks)
    assert "40 transfers need attention" in body
    assert all(f"X{i:06d}" in body for i in range(40))
    assert len(msgs[0].blocks or []) <= 50
