"""One transfer per policy pack, from raise to completed, in chat only: each person finds the
button on a message Baton sent them (or types the step), fills the form, and the next person
is told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa

from bot import services
from bot.org import Org
from bot.ports import UnitOfWork
from handlers.slack import ids
from tests.e2e.conftest import texts
from tests.e2e.slack import Clock, SlackDriver, checks, select, text_input, user_select, wait
from tests.e2e.test_reminders import at, run_tick

UoW = Callable[[], UnitOfWork]


def _buttons(blocks: list[dict[str, Any]] | None) -> dict[str, tuple[str, str, str]]:
    """Label -> (element, action id, value) of a message's buttons and overflow menu options."""
    out: dict[str, tuple[str, str, str]] = {}
    for b in blocks or []:
        for el in b.get("elements", []) if b["type"] == "actions" else []:
            if el.get("type") == "button":
                out[el["text"]["text"]] = ("button", el["action_id"], el["value"])
            for o in el.get("options", []):
                out[o["text"]["text"]] = (el["type"], el["action_id"], o["value"])
    return out


def press(slack: SlackDriver, user: str, case: str, label: str) -> None:
    """``user`` finds the newest message Baton sent them about ``case`` with a ``label`` button
    (in sight, or in its overflow menu), presses it, and waits for its form."""
    def found() -> Any:
        for m in reversed(slack.api.messages(user)):
            if case in str(m.blocks) and label in _buttons(m.blocks):
                return m
        return None
    msg = wait(slack.api, found)
    before = len(slack.api.modal_stack(user))
    element, action_id, value = _buttons(msg.blocks)[label]
    slack.press(user, action_id, value, message_ts=msg.ts, element=element)
    wait(slack.api, lambda: len(slack.api.modal_stack(user)) > before)


def fill(slack: SlackDriver, user: str, values: dict[str, dict[str, Any]] | None = None) -> None:
    """Submit the open form; it must be accepted."""
    status, answer = slack.submit(user, values or {})
    assert status == 200 and "errors" not in answer, answer


def raise_form(slack: SlackDriver, user: str, values: dict[str, dict[str, Any]], *,
               heads_up: bool = False) -> None:
    """``user`` types /transfer new (or headsup) and submits the form."""
    slack.command(user, "headsup" if heads_up else "new")
    wait(slack.api, lambda: slack.api.modal_stack(user))
    fill(slack, user, values)


def state(uow: UoW, case: str) -> str:
    """Where the case's latest transfer stands."""
    with uow() as u:
        return services.load(u, case_ref=case).state.value


def test_probation_decline_dispute_decide_then_completed_in_chat(slack: SlackDriver, uow: UoW) -> None:
    """Probation: South declines; North's manager disputes; the two SPOs cannot agree, so North's
    escalates ("escalated to Senior Managers"); senior management decides the transfer goes ahead;
    South allocates and completes. FAQ: "case transfers to be completed within 20 working days"."""
    raise_form(slack, "U0NPP1", {ids.CASE_REF: text_input("X200001"),
                                 ids.RECEIVING_TEAM: select("pdu-south"), ids.KIND: select("permanent")})
    press(slack, "U0SMGR", "X200001", "Decline")
    fill(slack, "U0SMGR", {"reason_category": select("heightened_risk"),
                           "rationale": text_input("Victim lives on the same street")})
    press(slack, "U0NMGR", "X200001", "Raise a dispute")
    fill(slack, "U0NMGR", {"reason": text_input("A safety plan manages the risk at the address")})
    assert state(uow, "X200001") == "disputed"
    press(slack, "U0NMGR", "X200001", "Escalate")
    fill(slack, "U0NMGR", {"reason": text_input("We could not agree after two calls")})
    press(slack, "U0SMT1", "X200001", "Decide the dispute")
    fill(slack, "U0SMT1", {"outcome": select("transfer"),
                           "rationale": text_input("The safety plan is enough")})
    press(slack, "U0SMGR", "X200001", "Allocate worker")
    fill(slack, "U0SMGR", {"named_worker": user_select("U0SPP1")})
    assert wait(slack.api, lambda: [m for m in slack.api.messages("U0SPP1") if "X200001" in str(m.blocks)])
    press(slack, "U0SMGR", "X200001", "Complete transfer")
    fill(slack, "U0SMGR")
    assert state(uow, "X200001") == "completed"


def test_rochdale_heads_up_becomes_the_request_then_accepted_and_completed(slack: SlackDriver,
                                                                          uow: UoW) -> None:
    """Rochdale: the First Response worker gives the early heads up, later sends the request from
    the same message; Child Protection accepts, records attendance at the ICPC and completes."""
    raise_form(slack, "U0RFSW1", {ids.CASE_REF: text_input("102001"),
                                  ids.RECEIVING_TEAM: select("roch-cp-1"),
                                  ids.KIND: select("permanent"), ids.TRANSFER_POINT: select("icpc"),
                                  ids.TRANSFER_POINT_DATE: {"type": "datepicker",
                                                            "selected_date": "2026-11-30"}},
               heads_up=True)
    assert state(uow, "102001") == "heads_up"
    press(slack, "U0RFSW1", "102001", "Send the request")
    fill(slack, "U0RFSW1")
    assert state(uow, "102001") == "requested"
    press(slack, "U0RCMGR", "102001", "Accept")
    fill(slack, "U0RCMGR", {"named_worker": user_select("U0RCSW1")})
    press(slack, "U0RCMGR", "102001", "Record attendance")
    fill(slack, "U0RCMGR", {"attended": select("yes")})
    press(slack, "U0RCMGR", "102001", "Complete transfer")
    fill(slack, "U0RCMGR")
    assert state(uow, "102001") == "completed"


def test_leicestershire_children_in_care_checklist_confirmed_item_by_item_before_accept(
        slack: SlackDriver, uow: UoW) -> None:
    """Leicestershire: "Transfer checklist for LAC ... each line confirmed by a manager": the
    holding manager, who confirms it, is told with Confirm checklist; the receiving manager holds
    no Accept until every line is confirmed in chat, then it goes through."""
    raise_form(slack, "U0LFSW1", {ids.CASE_REF: text_input("302001"), ids.RECEIVING_TEAM: select("leics-cic"),
                                  ids.KIND: select("children_in_care")})
    told = wait(slack.api, lambda: [m for m in slack.api.messages("U0LFMGR") if "302001" in str(m.blocks)
                                    and "Confirm checklist" in _buttons(m.blocks)])
    assert told
    offered = wait(slack.api, lambda: [_buttons(m.blocks) for m in slack.api.messages("U0LCMGR")
                                       if "302001" in str(m.blocks) and _buttons(m.blocks)])
    assert all("Accept" not in b and "Decline" in b for b in offered)
    items = ["assessment", "chronology", "placement_plan", "care_plan", "delegated_authority",
             "statutory_visits", "supervision_notes", "transfer_document"]
    for item in items:  # one at a time, as the manager works through the file
        slack.command("U0LFMGR", "confirm 302001")
        wait(slack.api, lambda: slack.api.modal_stack("U0LFMGR"))
        fill(slack, "U0LFMGR", {"items": checks(f"cic_transfer.{item}")})
    with uow() as u:
        t = services.load(u, case_ref="302001")
    assert set(t.checklist["cic_transfer"]) == set(items)
    assert all(v["by"] == "U0LFMGR" for v in t.checklist["cic_transfer"].values())
    press(slack, "U0LCMGR", "302001", "Accept")
    fill(slack, "U0LCMGR")
    # "Any transfer of work ... will require: - manager oversight ... - a 'warm' handover": the
    # holding manager confirms those lines before the transfer completes
    slack.command("U0LFMGR", "confirm 302001")
    wait(slack.api, lambda: slack.api.modal_stack("U0LFMGR"))
    fill(slack, "U0LFMGR", {"items": checks(*(f"transfer_requirements.{i}" for i in (
        "manager_oversight", "timely_handover", "recording_up_to_date", "warm_handover", "communication")))})
    press(slack, "U0LCMGR", "302001", "Complete transfer")
    fill(slack, "U0LCMGR")
    assert state(uow, "302001") == "completed"


def test_bury_remedial_work_asked_for_and_marked_done_then_completed(slack: SlackDriver,
                                                                    uow: UoW) -> None:
    """Bury step 6: the receiving manager's audit asks for work "within 10 working days"; the
    holding team marks it done in chat; the transfer completes."""
    audit = [f"holding_manager_audit:{i}" for i in (
        "assessments_complete", "recording_up_to_date", "chronology_current", "lcs_activities_closed",
        "cypic_assessment")]
    raise_form(slack, "U0BAMGR", {ids.CASE_REF: text_input("202001"), ids.RECEIVING_TEAM: select("bury-cin"),
                                  ids.KIND: select("permanent"), ids.CHECKLIST: checks(*audit)})
    press(slack, "U0BCMGR", "202001", "Ask for work")
    fill(slack, "U0BCMGR", {"items": text_input("Update the chronology\nClose the LCS episode")})
    press(slack, "U0BAMGR", "202001", "Mark work done")
    fill(slack, "U0BAMGR")
    with uow() as u:
        assert services.load(u, case_ref="202001").work_items == ()
    press(slack, "U0BCMGR", "202001", "Accept")
    fill(slack, "U0BCMGR")
    # Bury step 7: "RTM will identify SW to be allocated SW" before the case transfers.
    press(slack, "U0BCMGR", "202001", "Allocate worker")
    fill(slack, "U0BCMGR", {"named_worker": user_select("U0BCSW1")})
    press(slack, "U0BCMGR", "202001", "Complete transfer")
    fill(slack, "U0BCMGR")
    assert state(uow, "202001") == "completed"


def test_s2_sign_off_then_request_accepted_and_completed(slack: SlackDriver, uow: UoW) -> None:
    """S2: the practice manager signs off the checklist on the request; the receiving team
    accepts and completes."""
    from bot.policy import builtin_pack

    sign_off = [f"{cl.id}:{it.id}" for cl in builtin_pack("council-s2").gating("request") for it in cl.items]
    raise_form(slack, "U0SMMGR", {ids.CASE_REF: text_input("402001"), ids.RECEIVING_TEAM: select("s2-fsp"),
                                  ids.KIND: select(builtin_pack("council-s2").kinds[0].id),
                                  ids.CHECKLIST: checks(*sign_off)})
    press(slack, "U0SFMGR", "402001", "Accept")
    fill(slack, "U0SFMGR")
    press(slack, "U0SFMGR", "402001", "Complete transfer")
    fill(slack, "U0SFMGR")
    assert state(uow, "402001") == "completed"


# ---- each pack's distinctive path on the app's clock (issue 10) ---------------------------------
def _tick(slack: SlackDriver, engine: sa.Engine, org: Org, clock: Clock, day: date) -> None:
    """The scheduler's tick at 10:00 UK time on ``day``, the app's clock moved there."""
    clock.now = at(day)
    run_tick(slack.api, engine, org, clock.now)


def _said(slack: SlackDriver, who: str, case: str) -> str:
    """Everything Baton has sent ``who`` about ``case``: its messages, and the lines in the
    thread of the case's card (each starts with the case reference)."""
    return "\n".join(texts(m.blocks) + (m.text or "") for m in slack.api.messages(who)
                     if case in str(m.blocks) or case in (m.text or ""))


def test_probation_accepted_but_not_completed_escalates_at_working_day_21(
        slack: SlackDriver, uow: UoW, engine: sa.Engine, org: Org, clock: Clock) -> None:
    """FAQ: "case transfers to be completed within 20 working days ... The next working day
    following the request for transfer is day 1": raised and accepted on Mon 23 Nov 2026, never
    completed: nothing on day 20 (Mon 21 Dec), then on day 21 (Tue 22 Dec) the practitioner is
    asked for the reason for delay and senior management hears, though it was accepted."""
    raise_form(slack, "U0NPP1", {ids.CASE_REF: text_input("X200101"),
                                 ids.RECEIVING_TEAM: select("pdu-south"), ids.KIND: select("permanent")})
    press(slack, "U0SMGR", "X200101", "Accept")
    fill(slack, "U0SMGR")
    assert state(uow, "X200101") == "accepted"
    _tick(slack, engine, org, clock, date(2026, 12, 21))
    assert "Escalated" not in _said(slack, "C0SMT", "X200101")
    _tick(slack, engine, org, clock, date(2026, 12, 22))
    wait(slack.api, lambda: "Escalated to Senior management" in _said(slack, "C0SMT", "X200101"))
    press(slack, "U0NPP1", "X200101", "Record delay reason")
    fill(slack, "U0NPP1", {"reason": text_input("Awaiting the approved premises bed"),
                           "actions": text_input("Chased the AP manager twice")})
    with uow() as u:
        t = services.load(u, case_ref="X200101")
    assert t.state == "accepted" and t.escalation_level == "smt"
    assert t.timeline[-1].kind == "delay_recorded"


def test_leicestershire_dispute_reaches_the_head_of_service_within_five_working_days(
        slack: SlackDriver, uow: UoW, engine: sa.Engine, org: Org, clock: Clock) -> None:
    """LEICS: "All disputes will be resolved within 5 Working Days. If Team Managers are unable to
    resolve any dispute, then this should be escalated to the respective Service Managers ... If
    no resolution can be reached a Head of Service should be consulted": disputed in chat on Mon
    23 Nov 2026, the Service Manager hears on day 3 (Thu 26 Nov), the Head of Service on day 5
    (Mon 30 Nov), inside the 5 days, and decides in chat."""
    raise_form(slack, "U0LFSW1", {ids.CASE_REF: text_input("402101"), ids.RECEIVING_TEAM: select("leics-cic"),
                                  ids.KIND: select("permanent")})
    press(slack, "U0LCMGR", "402101", "Decline")
    fill(slack, "U0LCMGR", {"rationale": text_input("Permanency is not yet ratified for this child")})
    press(slack, "U0LFMGR", "402101", "Raise a dispute")
    fill(slack, "U0LFMGR", {"reason": text_input("The long-term plan was ratified at the LAC review")})
    for day in (date(2026, 11, 24), date(2026, 11, 25)):
        _tick(slack, engine, org, clock, day)
    assert "402101" not in str([m.blocks for m in slack.api.messages("U0HOS")])
    _tick(slack, engine, org, clock, date(2026, 11, 26))
    wait(slack.api, lambda: "Service Manager" in _said(slack, "U0SVCMGR", "402101"))
    _tick(slack, engine, org, clock, date(2026, 11, 27))
    assert "402101" not in str([m.blocks for m in slack.api.messages("U0HOS")])
    _tick(slack, engine, org, clock, date(2026, 11, 30))
    wait(slack.api, lambda: "Head of Service" in _said(slack, "U0HOS", "402101"))
    with uow() as u:
        assert services.load(u, case_ref="402101").escalation_level == "head_of_service"
    press(slack, "U0HOS", "402101", "Decide the dispute")
    fill(slack, "U0HOS", {"outcome": select("transfer"),
                          "rationale": text_input("The ratified plan means Children in Care holds it")})
    assert state(uow, "402101") == "accepted"


def test_rochdale_non_attendance_without_prior_agreement_then_transfer_anyway(
        slack: SlackDriver, uow: UoW, clock: Clock) -> None:
    """ROCH: "Should there be non-attendance without prior agreement from the receiving team at the
    agreed pro-active pick up point then the holding PM will transfer the case electronically into
    the receiving PM": the ICPC on Fri 27 Nov 2026 is missed; the holding Practice Manager records
    it in chat and completes the transfer, though Child Protection never accepted."""
    raise_form(slack, "U0RFSW1", {ids.CASE_REF: text_input("302101"),
                                  ids.RECEIVING_TEAM: select("roch-cp-1"), ids.KIND: select("permanent"),
                                  ids.TRANSFER_POINT: select("icpc"),
                                  ids.TRANSFER_POINT_DATE: {"type": "datepicker",
                                                            "selected_date": "2026-11-27"}})
    clock.now = at(date(2026, 11, 27), 15)
    slack.command("U0RFMGR", "complete 302101")  # not before the pick-up point is recorded missed
    wait(slack.api, lambda: slack.api.responses)
    assert "once the receiving team has accepted it" in slack.api.responses[-1].payload["text"]
    slack.command("U0RFMGR", "attendance 302101")
    wait(slack.api, lambda: slack.api.modal_stack("U0RFMGR"))
    fill(slack, "U0RFMGR", {"attended": select("no"), "agreed_absence": select("no")})
    slack.command("U0RFMGR", "complete 302101")
    wait(slack.api, lambda: slack.api.modal_stack("U0RFMGR"))
    fill(slack, "U0RFMGR")
    with uow() as u:
        t = services.load(u, case_ref="302101")
    assert t.state == "completed"
    assert [e.kind for e in t.timeline][-3:] == ["transfer_point_missed", "transferred_anyway", "completed"]


def test_rochdale_capacity_concern_goes_to_the_head_of_service_not_a_decline(
        slack: SlackDriver, uow: UoW) -> None:
    """ROCH: "Demand and capacity within individual service areas will not be a barrier to a case
    transferring to the relevant team": Child Protection's manager raises a capacity concern from
    the request's card; the Head of Service is told, the HoS raises it to SMT, and the request
    stays with Child Protection to accept."""
    raise_form(slack, "U0RFSW1", {ids.CASE_REF: text_input("302102"),
                                  ids.RECEIVING_TEAM: select("roch-cp-1"), ids.KIND: select("permanent")})
    press(slack, "U0RCMGR", "302102", "Raise a capacity concern")
    fill(slack, "U0RCMGR", {"concern": text_input("Three social worker vacancies in CP1 this month")})
    press(slack, "U0HOS", "302102", "Raise a capacity concern")
    fill(slack, "U0HOS", {"concern": text_input("No redistribution possible across the CP teams")})
    wait(slack.api, lambda: "Senior Management Team" in _said(slack, "U0SMT1", "302102"))
    assert state(uow, "302102") == "requested"
    press(slack, "U0RCMGR", "302102", "Accept")
    fill(slack, "U0RCMGR")
    assert state(uow, "302102") == "accepted"


def test_probation_temporary_move_and_unpaid_work_dates_on_the_raise_form(slack: SlackDriver,
                                                                          uow: UoW) -> None:
    """FAQ: "the timeframe that constitutes a temporary move will be down to the professional
    judgement of the RO"; "Unpaid work requirements should be completed within 12 months": the
    raise form refuses a temporary move without the officer's end date on that field, then takes
    the move, end and order dates; the receiving manager is told to apply to court as a priority."""
    date_of = lambda d: {"type": "datepicker", "selected_date": d}  # noqa: E731
    slack.command("U0NPP1", "new")
    wait(slack.api, lambda: slack.api.modal_stack("U0NPP1"))
    values = {ids.CASE_REF: text_input("X200102"), ids.RECEIVING_TEAM: select("pdu-south"),
              ids.KIND: select("temporary"), "move_date": date_of("2026-11-30")}
    status, answer = slack.submit("U0NPP1", values)
    assert status == 200 and "move_end_date" in answer.get("errors", {}), answer
    fill(slack, "U0NPP1", {**values, "move_end_date": date_of("2027-02-26"),
                           "order_date": date_of("2025-12-10")})
    with uow() as u:
        t = services.load(u, case_ref="X200102")
    assert (t.move_date, t.move_end_date, t.order_date) == (date(2026, 11, 30), date(2027, 2, 26),
                                                             date(2025, 12, 10))
    wait(slack.api, lambda: "apply to court to extend" in _said(slack, "U0SMGR", "X200102"))


def test_s2_social_worker_is_told_at_once_they_cannot_sign_off_and_gives_the_reason(
        slack: SlackDriver, uow: UoW) -> None:
    """S2: "Transfers will not be requested prior to checklist being signed off by a Practice
    Manager (PM) where this may cause unnecessary delay for a child the Group Manager will be
    contacted". The social worker's form says at its top that only the PM signs off, offers no
    checklist they cannot tick, and asks for the reason instead (required); a reason too short
    is refused under that field, not under the case reference."""
    from bot.policy import builtin_pack

    slack.command("U0SMSW1", "new")
    form = wait(slack.api, lambda: slack.api.modal_stack("U0SMSW1"))[-1].payload
    assert "Only MASH's Practice Manager (PM) can sign off the checklist" in str(form["blocks"][0])
    inputs = {b["block_id"]: b for b in form["blocks"] if b["type"] == "input"}
    assert ids.CHECKLIST not in inputs and inputs[ids.URGENT_REASON]["optional"] is False
    kind = builtin_pack("council-s2").kinds[0].id
    _, answer = slack.submit("U0SMSW1", {
        ids.CASE_REF: text_input("402002"), ids.RECEIVING_TEAM: select("s2-fsp"), ids.KIND: select(kind),
        ids.URGENT_REASON: text_input("ICPC soon")})
    assert list(answer.get("errors", {})) == [ids.URGENT_REASON], answer
    fill(slack, "U0SMSW1", {
        ids.CASE_REF: text_input("402002"), ids.RECEIVING_TEAM: select("s2-fsp"), ids.KIND: select(kind),
        ids.URGENT_REASON: text_input("The ICPC is on Thursday and the plan cannot wait for the PM")})
    assert state(uow, "402002") == "requested"
