"""Delivery through a fake chat port: notices become cards at send time, for each reader."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from bot import services, views
from bot.org import Org
from bot.services import RaiseRequest
from scheduler.delivery import Delivery
from store.repo import SqlUnitOfWork
from tests.conftest import NOW
from tests.fakes import FakeChat


def test_cards_are_built_at_send_time_with_each_readers_buttons(engine: sa.Engine, org: Org,
                                                                uow: Callable[[], SqlUnitOfWork]) -> None:
    """The receiving manager's card offers their decision; the channel's card offers nothing; the
    outbox held no markup."""
    with uow() as u:
        services.raise_transfer(u, org, "U0NPP1", RaiseRequest(case_ref="X123456",
                                                               receiving_team="pdu-south"), NOW)
    with engine.connect() as c:
        payloads = [str(p) for (p,) in c.execute(sa.text("SELECT payload FROM notification"))]
    assert payloads and not [p for p in payloads if "blocks" in p]
    chat = FakeChat()
    assert Delivery(engine, org, chat, uow).deliver(NOW) == 3
    cards = {to: m for to, m in chat.posts if isinstance(m, views.Card)}
    assert [b.action for b in cards["U0SMGR"].buttons][:2] == ["accept", "decline"]
    assert cards["C0SOUTH"].buttons == ()
    assert "withdraw" in [b.action for b in cards["U0NPP1"].buttons]


def test_a_change_redraws_every_card_for_its_reader(engine: sa.Engine, org: Org,
                                                    uow: Callable[[], SqlUnitOfWork]) -> None:
    """After Accept, the manager's card is redrawn without decision buttons."""
    with uow() as u:
        t = services.raise_transfer(u, org, "U0NPP1", RaiseRequest(case_ref="X123456",
                                                                   receiving_team="pdu-south"), NOW)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(NOW)
    with uow() as u:
        services.act(u, org, "U0SMGR", t.id or 0, "accept", NOW)
    delivery.deliver(NOW)
    redrawn = {ch: m for ch, _, m in chat.updates if isinstance(m, views.Card)}
    assert "accept" not in [b.action for b in redrawn["DU0SMGR"].buttons]
    assert "complete" in [b.action for b in redrawn["DU0SMGR"].buttons]
