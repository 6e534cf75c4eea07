"""The scoped pickers end to end on Slack (issue 22): the accept form's worker is chosen from a
static select of the receiving team, and the raise form's "never see it" list, a multi static
select, keeps the chosen person from the transfer."""

from __future__ import annotations

from collections.abc import Callable

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
