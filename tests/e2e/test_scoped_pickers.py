"""The scoped pickers end to end on Slack (issue 22): the accept form's worker is chosen from a
static select of the receiving team, and the raise form's "never see it" list, a multi static
select, keeps the chosen person from the transfer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain import State
from handlers.slack import ids
from sandbox.driver import multi_select
from store.repo import SqlUnitOfWork
from tests.e2e.slack import SlackDriver, select, text_input, wait

UoW = Callable[[], SqlUnitOfWork]
PP, SMGR, SPP = "U0NPP1", "U0SMGR", "U0SPP1"


def test_a_worker_chosen_from_the_teams_list_and_a_person_kept_from_the_case(slack: SlackDriver,
                                                                             uow: UoW) -> None:
    """North's practitioner raises, keeping South's manager's colleague U0NPP2 from it; South's
    manager accepts naming U0SPP1 from the static select the form offers."""
    slack.command(PP, "new")
    modal = wait(slack.api, lambda: slack.api.modal_stack(PP))[-1]
    excluded = next(b for b in modal.payload["blocks"] if b.get("block_id") == ids.EXCLUDED)
    assert excluded["element"]["type"] == "multi_static_select"
    _, answer = slack.submit(PP, {ids.CASE_REF: text_input("X123456"),
                                  ids.RECEIVING_TEAM: select("pdu-south"), ids.KIND: select("permanent"),
                                  ids.EXCLUDED: multi_select(["U0NPP2"])})
    assert "errors" not in answer
    with uow() as u:
        t = u.transfers.get_open_by_case("X123456")
    assert t is not None and t.excluded == ("U0NPP2",) and t.restricted
    slack.press(SMGR, ids.ACCEPT, str(t.id))
    form = wait(slack.api, lambda: slack.api.modal_stack(SMGR))[-1]
    worker = next(b for b in form.payload["blocks"] if b.get("block_id") == ids.NAMED_WORKER)["element"]
    assert worker["type"] == "static_select"
    assert [o["value"] for o in worker["options"]] == [SPP, SMGR]
    _, answer = slack.submit(SMGR, {ids.NAMED_WORKER: select(SPP)})
    assert "errors" not in answer
    with uow() as u:
        t = u.transfers.get_open_by_case("X123456")
    assert t is not None and t.state == State.allocated and t.named_worker == SPP


def _checklist_lines(view: dict[str, Any]) -> list[str]:
    return [o["text"]["text"] + " " + (o.get("description") or {}).get("text", "") for b in view["blocks"]
            if str(b.get("block_id", "")).startswith(ids.CHECKLIST) for o in b["element"]["options"]]


def test_choosing_the_kind_redraws_burys_checklist_with_that_kinds_lines_only(slack: SlackDriver) -> None:
    """Bury: the CYPiC line ("An assessment within the preceding 12 months relevant to the
    child's current plan (transfers to CYPiC)") is asked of a transfer to CYPiC only: choosing
    "Transfer between teams" redraws the form without it, choosing the CYPiC kind with it, in
    the one required list."""
    manager = "U0BAMGR"
    slack.command(manager, "new")
    modal = wait(slack.api, lambda: slack.api.modal_stack(manager))[-1]
    kind = next(b for b in modal.payload["blocks"] if b.get("block_id") == ids.KIND)
    assert kind["dispatch_action"] is True
    assert any("CYPiC" in line for line in _checklist_lines(modal.payload))  # before a kind is chosen
    status, _ = slack.choose(manager, modal.id, ids.KIND, ids.KIND, "permanent")
    assert status == 200
    between = wait(slack.api, lambda: [v for v in slack.api.modal_stack(manager)
                                       if v.id == modal.id and v.hash != modal.hash])[0]
    lines = _checklist_lines(between.payload)
    assert "Assessments completed " in lines and not any("CYPiC" in line for line in lines)
    slack.choose(manager, modal.id, ids.KIND, ids.KIND, "children_in_care")
    cic = wait(slack.api, lambda: [v for v in slack.api.modal_stack(manager)
                                   if v.id == modal.id and v.hash != between.hash])[0]
    checklist = [b for b in cic.payload["blocks"] if str(b.get("block_id", "")).startswith(ids.CHECKLIST)]
    assert len(checklist) == 1 and checklist[0]["optional"] is False
    assert any("CYPiC" in line for line in _checklist_lines(cic.payload))
