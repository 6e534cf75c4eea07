"""One transfer per policy pack, from raise to completed, in chat only: each person finds the
button on a message Baton sent them (or types the step), fills the form, and the next person
is told."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot import services
from bot.ports import UnitOfWork
from handlers.slack import ids
from tests.e2e.slack import SlackDriver, checks, select, text_input, user_select, wait

UoW = Callable[[], UnitOfWork]


def _buttons(blocks: list[dict[str, Any]] | None) -> dict[str, str]:
    """Button label -> action id of a message."""
    return {el["text"]["text"]: el["action_id"] for b in blocks or [] if b["type"] == "actions"
            for el in b["elements"] if el.get("type") == "button"}


def press(slack: SlackDriver, user: str, case: str, label: str) -> None:
    """``user`` finds the newest message Baton sent them about ``case`` with a ``label`` button,
    presses it, and waits for its form."""
    def found() -> Any:
        for m in reversed(slack.api.messages(user)):
            if case in str(m.blocks) and label in _buttons(m.blocks):
                return m
        return None
    msg = wait(slack.api, found)
    before = len(slack.api.modal_stack(user))
    value = next(el["value"] for b in msg.blocks if b["type"] == "actions" for el in b["elements"]
                 if el["text"]["text"] == label)
    slack.press(user, _buttons(msg.blocks)[label], value, message_ts=msg.ts)
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
    """Probation: South declines; North's manager disputes; senior management decides the
    transfer goes ahead; South allocates and completes. FAQ: "case transfers to be completed
    within 20 working days"."""
    raise_form(slack, "U0NPP1", {ids.CASE_REF: text_input("X200001"),
                                 ids.RECEIVING_TEAM: select("pdu-south"), ids.KIND: select("permanent")})
    press(slack, "U0SMGR", "X200001", "Decline")
    fill(slack, "U0SMGR", {"reason_category": select("heightened_risk"),
                           "rationale": text_input("Victim lives on the same street")})
    press(slack, "U0NMGR", "X200001", "Raise a dispute")
    fill(slack, "U0NMGR", {"reason": text_input("A safety plan manages the risk at the address")})
    assert state(uow, "X200001") == "disputed"
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
    raise_form(slack, "U0RFSW1", {ids.CASE_REF: text_input("LCS2001"),
                                  ids.RECEIVING_TEAM: select("roch-cp-1"),
                                  ids.KIND: select("permanent"), ids.TRANSFER_POINT: select("icpc"),
                                  ids.TRANSFER_POINT_DATE: {"type": "datepicker",
                                                            "selected_date": "2026-11-30"}},
               heads_up=True)
    assert state(uow, "LCS2001") == "heads_up"
    press(slack, "U0RFSW1", "LCS2001", "Send the request")
    fill(slack, "U0RFSW1")
    assert state(uow, "LCS2001") == "requested"
    press(slack, "U0RCMGR", "LCS2001", "Accept")
    fill(slack, "U0RCMGR", {"named_worker": user_select("U0RCSW1")})
    press(slack, "U0RCMGR", "LCS2001", "Record attendance")
    fill(slack, "U0RCMGR", {"attended": select("yes")})
    press(slack, "U0RCMGR", "LCS2001", "Complete transfer")
    fill(slack, "U0RCMGR")
    assert state(uow, "LCS2001") == "completed"


def test_leicestershire_children_in_care_checklist_confirmed_item_by_item_before_accept(
        slack: SlackDriver, uow: UoW) -> None:
    """Leicestershire: "Transfer checklist for LAC ... each line confirmed by a manager": Accept is
    refused until the holding manager has confirmed every line in chat, then it goes through."""
    raise_form(slack, "U0LFSW1", {ids.CASE_REF: text_input("L2001"), ids.RECEIVING_TEAM: select("leics-cic"),
                                  ids.KIND: select("children_in_care")})
    press(slack, "U0LCMGR", "L2001", "Accept")
    _, answer = slack.submit("U0LCMGR", {})
    assert answer["response_action"] == "update" and "Confirm the checklist" in str(answer["view"])
    slack.api.clear_modals("U0LCMGR")
    items = ["assessment", "chronology", "placement_plan", "care_plan", "delegated_authority",
             "statutory_visits", "supervision_notes", "transfer_document"]
    for item in items:  # one at a time, as the manager works through the file
        slack.command("U0LFMGR", "confirm L2001")
        wait(slack.api, lambda: slack.api.modal_stack("U0LFMGR"))
        fill(slack, "U0LFMGR", {"items": checks(f"cic_transfer.{item}")})
    with uow() as u:
        t = services.load(u, case_ref="L2001")
    assert set(t.checklist["cic_transfer"]) == set(items)
    assert all(v["by"] == "U0LFMGR" for v in t.checklist["cic_transfer"].values())
    press(slack, "U0LCMGR", "L2001", "Accept")
    fill(slack, "U0LCMGR")
    press(slack, "U0LCMGR", "L2001", "Complete transfer")
    fill(slack, "U0LCMGR")
    assert state(uow, "L2001") == "completed"


def test_bury_remedial_work_asked_for_and_marked_done_then_completed(slack: SlackDriver,
                                                                    uow: UoW) -> None:
    """Bury step 6: the receiving manager's audit asks for work "within 10 working days"; the
    holding team marks it done in chat; the transfer completes."""
    audit = [f"holding_manager_audit:{i}" for i in (
        "assessments_complete", "recording_up_to_date", "chronology_current", "lcs_activities_closed",
        "cypic_assessment")]
    raise_form(slack, "U0BAMGR", {ids.CASE_REF: text_input("B2001"), ids.RECEIVING_TEAM: select("bury-cin"),
                                  ids.KIND: select("permanent"), ids.CHECKLIST: checks(*audit)})
    press(slack, "U0BCMGR", "B2001", "Ask for work")
    fill(slack, "U0BCMGR", {"items": text_input("Update the chronology\nClose the LCS episode")})
    press(slack, "U0BAMGR", "B2001", "Mark work done")
    fill(slack, "U0BAMGR")
    with uow() as u:
        assert services.load(u, case_ref="B2001").work_items == ()
    press(slack, "U0BCMGR", "B2001", "Accept")
    fill(slack, "U0BCMGR")
    # Bury step 7: "RTM will identify SW to be allocated SW" before the case transfers.
    press(slack, "U0BCMGR", "B2001", "Allocate worker")
    fill(slack, "U0BCMGR", {"named_worker": user_select("U0BCSW1")})
    press(slack, "U0BCMGR", "B2001", "Complete transfer")
    fill(slack, "U0BCMGR")
    assert state(uow, "B2001") == "completed"


def test_s2_sign_off_then_request_accepted_and_completed(slack: SlackDriver, uow: UoW) -> None:
    """S2: the practice manager signs off the checklist on the request; the receiving team
    accepts and completes."""
    from bot.policy import builtin_pack

    sign_off = [f"{cl.id}:{it.id}" for cl in builtin_pack("council-s2").gating("request") for it in cl.items]
    raise_form(slack, "U0SMMGR", {ids.CASE_REF: text_input("S2001"), ids.RECEIVING_TEAM: select("s2-fsp"),
                                  ids.KIND: select(builtin_pack("council-s2").kinds[0].id),
                                  ids.CHECKLIST: checks(*sign_off)})
    press(slack, "U0SFMGR", "S2001", "Accept")
    fill(slack, "U0SFMGR")
    press(slack, "U0SFMGR", "S2001", "Complete transfer")
    fill(slack, "U0SFMGR")
    assert state(uow, "S2001") == "completed"


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
        ids.CASE_REF: text_input("S2002"), ids.RECEIVING_TEAM: select("s2-fsp"), ids.KIND: select(kind),
        ids.URGENT_REASON: text_input("ICPC soon")})
    assert list(answer.get("errors", {})) == [ids.URGENT_REASON], answer
    fill(slack, "U0SMSW1", {
        ids.CASE_REF: text_input("S2002"), ids.RECEIVING_TEAM: select("s2-fsp"), ids.KIND: select(kind),
        ids.URGENT_REASON: text_input("The ICPC is on Thursday and the plan cannot wait for the PM")})
    assert state(uow, "S2002") == "requested"
