"""Rochdale's service representatives act in chat where the seed lets them (issue 21): named in
the org file only as a team's service representative, their typed step opens its form instead
of the help text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot import services
from bot.org import Org
from store.repo import SqlUnitOfWork
from tests.conftest import NOW
from tests.e2e.slack import SlackDriver, wait

UoW = Callable[[], SqlUnitOfWork]


def test_a_service_representative_types_accept_after_the_pick_up_point_and_gets_the_form(
        slack: SlackDriver, uow: UoW, org: Org) -> None:
    """ROCH: "Once the proactive pick up point has taken place the electronic case transfer needs
    to be completed by the next working day should the receiving manager not be available a
    service representative will complete the allocation to avoid delay for the child"."""
    with uow() as u:
        services.raise_transfer(u, org, "U0RFSW1", services.RaiseRequest(
            case_ref="400009", receiving_team="roch-cp-1", transfer_point="icpc",
            transfer_point_date=date(2026, 11, 23)), NOW)
    slack.command("U0RCREP", "accept 400009")
    wait(slack.api, lambda: slack.api.modal_stack("U0RCREP"))
    assert "Accept" in str(slack.api.modal_stack("U0RCREP")[-1].payload)
