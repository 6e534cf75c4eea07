"""Whoever the obligation model names is the one told, in chat (issue 19's follow-ups): the
dispute's first rung, the breach, a digest after the decision, a completion with no worker named.
Each person finds their button on a message Baton sent them, as in tests/e2e/test_walks.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import sqlalchemy as sa

from bot import services
from bot.org import Org
from bot.ports import UnitOfWork
from handlers.slack import ids
from tests.e2e.conftest import texts
from tests.e2e.slack import Clock, SlackDriver, select, text_input, wait
from tests.e2e.test_walks import _said, _tick, fill, press, raise_form, state

UoW = Callable[[], UnitOfWork]


def _raise(slack: SlackDriver, ref: str) -> int:
    raise_form(slack, "U0NPP1", {ids.CASE_REF: text_input(ref), ids.RECEIVING_TEAM: select("pdu-south"),
                                 ids.KIND: select("permanent")})
    return wait(slack.api, lambda: _tid(slack, ref))


def _tid(slack: SlackDriver, ref: str) -> int | None:
    for m in slack.api.messages("U0SMGR"):
        if ref in str(m.blocks):
            for b in m.blocks or []:
                for el in b.get("elements") or []:
                    if el.get("type") == "button" and str(el.get("value", "")).isdigit():
                        return int(el["value"])
    return None


def _labels(slack: SlackDriver, who: str, case: str) -> list[str]:
    """The button labels on every message (latest version) Baton sent ``who`` about ``case``."""
    return [el["text"]["text"] for m in slack.api.messages(who) if case in str(m.blocks)
            for b in m.blocks or [] if b["type"] == "actions" for el in b["elements"]
            if el.get("type") == "button"]


def _digests(slack: SlackDriver, who: str, case: str) -> list[str]:
    """The text of every digest (latest version) Baton sent ``who`` mentioning ``case``."""
    return [texts(m.blocks) for m in slack.api.messages(who)
            if case in str(m.blocks) and "Transfer to be completed by" in texts(m.blocks)]


def test_a_dispute_at_the_first_rung_is_put_to_both_team_managers_and_senior_management_waits(
        slack: SlackDriver, uow: UoW) -> None:
    """Probation FAQ: "The framework outlines the circumstances in which this should be escalated
    to Senior Managers": a dispute starts with the two SPOs (as ROCH "initially be managed between
    the responsible PM and the PM the case is to transfer to"). South's SPO is told and holds
    Decide the dispute; senior management hears nothing and may not decide until it is escalated
    to them, then they are told and decide."""
    tid = _raise(slack, "X200201")
    press(slack, "U0SMGR", "X200201", "Decline")
    fill(slack, "U0SMGR", {"reason_category": select("heightened_risk"),
                           "rationale": text_input("Victim lives on the same street")})
    press(slack, "U0NMGR", "X200201", "Raise a dispute")
    fill(slack, "U0NMGR", {"reason": text_input("A safety plan manages the risk at the address")})
    said = wait(slack.api, lambda: (s := _said(slack, "U0SMGR", "X200201")) and
                "decide it together" in s and s)
    assert "Senior Probation Officer (SPO), North PDU and South PDU" in said
    assert "please decide" not in said
    assert "Decide the dispute" in _labels(slack, "U0SMGR", "X200201")  # South's SPO holds it
    assert "X200201" not in _said(slack, "U0SMT1", "X200201")
    slack.press("U0SMT1", ids.button("decide"), str(tid))
    refusal = wait(slack.api, lambda: [c.params.get("text", "") for c in
                                       slack.api.calls_to("chat.postEphemeral")
                                       if c.params.get("user") == "U0SMT1"])
    assert "with the team managers (Senior Probation Officer (SPO)) first" in refusal[-1]
    assert state(uow, "X200201") == "disputed"
    press(slack, "U0NMGR", "X200201", "Escalate")
    fill(slack, "U0NMGR", {"reason": text_input("We could not agree after two calls")})
    press(slack, "U0SMT1", "X200201", "Decide the dispute")
    fill(slack, "U0SMT1", {"outcome": select("remain"), "rationale": text_input("The risk is too high")})
    assert state(uow, "X200201") == "decided"


def test_at_the_breach_the_receiving_manager_who_owes_the_decision_is_told_with_its_buttons(
        slack: SlackDriver, uow: UoW, engine: sa.Engine, org: Org, clock: Clock) -> None:
    """FAQ: "a new requirement for case transfers to be completed within 20 working days ... The
    next working day following the request for transfer is day 1": on day 21 the SPO who has not
    decided is told that day (not only the practitioner, the holding managers and senior
    management of the clock's breach list), with Accept and Decline on the message."""
    _raise(slack, "X200202")
    _tick(slack, engine, org, clock, date(2026, 12, 22))
    digest = wait(slack.api, lambda: [m for m in slack.api.messages("U0SMGR")
                                      if "Missed: Transfer to be completed by" in texts(m.blocks)
                                      and "X200202" in str(m.blocks)])
    text = texts(digest[-1].blocks)
    assert "South PDU: decide on X200202 (accept or decline). Missed:" in text
    assert "Accept" in str(digest[-1].blocks)  # the obligation's button, on the line


def test_a_digest_naming_the_spos_is_redrawn_once_the_dispute_is_decided(
        slack: SlackDriver, uow: UoW, engine: sa.Engine, org: Org, clock: Clock) -> None:
    """FAQ: "case transfers to be completed within 20 working days": a dispute still open on day
    21 climbs to senior management, so the breach digest says senior management decides (not the
    SPOs); once they decide the transfer goes ahead, the digest already in the holding manager's
    chat is redrawn to say what is owed now, and no longer asks anyone to decide the dispute."""
    _raise(slack, "X200203")
    press(slack, "U0SMGR", "X200203", "Decline")
    fill(slack, "U0SMGR", {"reason_category": select("heightened_risk"),
                           "rationale": text_input("Victim lives on the same street")})
    press(slack, "U0NMGR", "X200203", "Raise a dispute")
    fill(slack, "U0NMGR", {"reason": text_input("A safety plan manages the risk at the address")})
    _tick(slack, engine, org, clock, date(2026, 12, 22))
    before = wait(slack.api, lambda: _digests(slack, "U0NMGR", "X200203"))
    assert "Senior Probation Officer" not in before[-1]
    press(slack, "U0SMT1", "X200203", "Decide the dispute")
    fill(slack, "U0SMT1", {"outcome": select("transfer"),
                           "rationale": text_input("The safety plan is enough for the risk")})
    assert state(uow, "X200203") == "accepted"
    after = wait(slack.api, lambda: [d for d in _digests(slack, "U0NMGR", "X200203")
                                     if "decide the dispute" not in d])
    assert "North PDU: record the reason for delay on X200203" in after[-1]
    with uow() as u:
        t = services.load(u, case_ref="X200203")
        owed = services.card_for(u, org, t, "U0SMGR", clock.now).todo
    assert "South PDU: complete the transfer of X200203" in owed


def test_a_probation_transfer_accepted_with_no_worker_is_completed_as_its_to_do_says(
        slack: SlackDriver, uow: UoW) -> None:
    """No probation seed asks for a named worker before completion (the FAQ's clock runs "to be
    completed within 20 working days"): accepted with no worker, the To do says to complete it
    (naming the worker now or later), not "name the worker and complete", and Complete transfer
    works."""
    _raise(slack, "X200204")
    press(slack, "U0SMGR", "X200204", "Accept")
    fill(slack, "U0SMGR")
    said = wait(slack.api, lambda: (s := _said(slack, "U0SMGR", "X200204")) and "complete the transfer"
                in s and s)
    assert "South PDU: complete the transfer of X200204 (name the worker who will hold it now or " \
           "later)" in said
    assert "name the worker for X200204 and complete" not in said
    press(slack, "U0SMGR", "X200204", "Complete transfer")
    fill(slack, "U0SMGR")
    assert state(uow, "X200204") == "completed"
