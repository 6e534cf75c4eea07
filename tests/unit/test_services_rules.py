"""Service rules on fakes of Baton's ports: no database, no chat platform."""

from __future__ import annotations

import pytest

from bot import commands as cmd
from bot import services
from bot.domain import NotPermitted
from bot.org import Org, load_org
from bot.services import RaiseRequest
from tests.conftest import NOW
from tests.fakes import FakeUnitOfWork, audience


@pytest.fixture(scope="module")
def org() -> Org:
    """The demo org."""
    return load_org()


def _raised(uow: FakeUnitOfWork, org: Org) -> int:
    t = services.raise_transfer(uow, org, "U0NPP1", RaiseRequest(case_ref="X123456",
                                                                 receiving_team="pdu-south"), NOW)
    assert t.id is not None
    return t.id


def test_a_request_tells_the_receiving_manager_the_requester_and_the_channel(org: Org) -> None:
    """The notices of a new request are written with it, in the same commit."""
    uow = FakeUnitOfWork()
    _raised(uow, org)
    assert uow.commits == 1
    assert set(audience(uow, "card")) == {"U0SMGR", "U0NPP1", "C0SOUTH"}


def test_a_refused_step_writes_no_notice_and_changes_nothing(org: Org) -> None:
    """The practitioner pressing Accept is refused by the catalogue's rule before anything is written."""
    uow = FakeUnitOfWork()
    tid = _raised(uow, org)
    before = len(uow.notices)
    with pytest.raises(NotPermitted):
        services.handle(uow, org, cmd.Accept(tid, "U0NPP1"), NOW)
    assert len(uow.notices) == before
    assert uow.transfers.get(tid).state == "requested"  # type: ignore[union-attr]


def test_a_decline_redraws_every_card_and_hands_the_holding_team_the_dispute(org: Org) -> None:
    """After a decline every card is redrawn and the holding manager gets a card of their own."""
    uow = FakeUnitOfWork()
    tid = _raised(uow, org)
    uow.notices.clear()
    services.handle(uow, org, cmd.Decline(tid, "U0SMGR", rationale="Victim lives on the same street",
                                          reason_category="heightened_risk"), NOW)
    kinds = [n.kind for n, _ in uow.notices]
    assert "update" in kinds
    assert "U0NMGR" in audience(uow, "card")


def test_the_named_worker_must_be_in_the_receiving_team(org: Org) -> None:
    """Naming someone from another team as the worker is refused on that field."""
    uow = FakeUnitOfWork()
    tid = _raised(uow, org)
    with pytest.raises(services.DomainError) as err:
        services.handle(uow, org, cmd.Accept(tid, "U0SMGR", named_worker="U0NPP2"), NOW)
    assert err.value.field == "named_worker"


def test_every_command_has_a_handler() -> None:
    """The map from command type to handler covers every command value."""
    steps = {c for c in vars(cmd).values() if isinstance(c, type) and issubclass(c, cmd.Step)} - {cmd.Step}
    assert steps == set(services.HANDLERS)
