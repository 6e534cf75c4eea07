"""One card per case per person: a card notice for someone who holds the case's card already is
a redraw of that card and a one-line reply in its thread; a notification when they owe an action
now; a new card only when the old one is gone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bot import services, views
from bot.org import Org
from bot.ports import ChatError
from bot.services import RaiseRequest
from scheduler.delivery import Delivery
from store import outbox
from store.repo import SqlUnitOfWork
from tests.conftest import NOW
from tests.fakes import FakeChat

UoW = Callable[[], SqlUnitOfWork]


def _raised(uow: UoW, org: Org) -> int:
    with uow() as u:
        t = services.raise_transfer(u, org, "U0NPP1", RaiseRequest(case_ref="X123456",
                                                                   receiving_team="pdu-south"), NOW)
    assert t.id is not None
    return t.id


def _cards_to(chat: FakeChat, to: str) -> int:
    return sum(1 for who, m in chat.posts if who == to and isinstance(m, views.Card))


def test_news_for_someone_holding_the_card_is_a_reply_in_its_thread_not_a_second_card(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """The practitioner raised the case (their card); the decline reaches them as a redraw of
    that card and one line under it, naming the case, with no notification (they owe nothing:
    the holding manager may dispute)."""
    tid = _raised(uow, org)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(NOW)
    with uow() as u:
        services.act(u, org, "U0SMGR", tid, "decline", NOW,
                     reason_category="heightened_risk", rationale="Victim lives on the same street")
    delivery.deliver(NOW)
    assert _cards_to(chat, "U0NPP1") == 1
    (ref,) = [r for r in outbox.refs_of(engine, tid) if r.purpose.startswith("requester:U0NPP1")]
    replies = [r for r in chat.replies if (r[0], r[1]) == (ref.channel, ref.ts)]
    assert len(replies) == 1
    channel, ts, line, notify = replies[0]
    assert line.startswith("X123456: ") and "declined" in line and "\n" not in line
    assert notify is False
    assert (channel, ts) in {(c, t) for c, t, _ in chat.updates}


def test_news_of_a_step_the_reader_already_owed_stays_quiet_in_the_cards_thread(
        engine: sa.Engine, org: Org, uow: UoW) -> None:
    """Probation: once South accepts, the holding manager owes the completion (naming the worker
    now or later, bot/obligations.py) and is told with a card of their own. When South then
    names the worker they owe the same step as before, so that line stays quiet in the thread
    under that card (no second card), as does every line under the practitioner's card."""
    tid = _raised(uow, org)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(NOW)
    with uow() as u:
        services.act(u, org, "U0SMGR", tid, "accept", NOW)
    delivery.deliver(NOW)
    assert _cards_to(chat, "U0NMGR") == 1
    with uow() as u:
        services.act(u, org, "U0SMGR", tid, "allocate", NOW, named_worker="U0SPP1")
    delivery.deliver(NOW)
    assert _cards_to(chat, "U0NMGR") == 1 and _cards_to(chat, "U0NPP1") == 1
    refs = {r.purpose.split(":")[1]: r for r in outbox.refs_of(engine, tid)}
    said = {who: [(line, notify) for c, ts, line, notify in chat.replies
                  if (c, ts) == (refs[who].channel, refs[who].ts)] for who in ("U0NMGR", "U0NPP1")}
    assert said["U0NMGR"] == [("X123456: South PDU named the worker who will hold this case.", False)]
    assert said["U0NPP1"] and not any(notify for _, notify in said["U0NPP1"])


class _Deleted(FakeChat):
    """Someone deleted the practitioner's card: Slack answers message_not_found for it."""

    gone: str = ""

    def update(self, channel: str, ts: str, message: views.Message) -> None:
        """Refuse the deleted card."""
        if ts == self.gone:
            raise ChatError("message_not_found", permanent=True)
        super().update(channel, ts, message)

    def reply(self, channel: str, ts: str, text: str, *, notify: bool = False) -> tuple[str, str]:
        """Refuse a reply to the deleted card."""
        if ts == self.gone:
            raise ChatError("thread_not_found", permanent=True)
        return super().reply(channel, ts, text, notify=notify)


@pytest.mark.parametrize("decline_first", [True])
def test_a_deleted_card_is_replaced_by_a_new_one_used_from_then_on(
        engine: sa.Engine, org: Org, uow: UoW, decline_first: bool) -> None:
    """The old card is gone: a new card is posted instead of the reply, its reference replaces
    the old one, and the next news is a reply under the new card."""
    tid = _raised(uow, org)
    chat = _Deleted()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(NOW)
    (old,) = [r for r in outbox.refs_of(engine, tid) if r.purpose.split(":")[1] == "U0NPP1"]
    chat.gone = old.ts
    with uow() as u:
        services.act(u, org, "U0SMGR", tid, "accept", NOW)
    delivery.deliver(NOW)
    assert _cards_to(chat, "U0NPP1") == 2
    (new,) = [r for r in outbox.refs_of(engine, tid) if r.purpose.split(":")[1] == "U0NPP1"]
    assert new.ts != old.ts
    with uow() as u:
        services.act(u, org, "U0SMGR", tid, "allocate", NOW, named_worker="U0SPP1")
    delivery.deliver(NOW)
    assert _cards_to(chat, "U0NPP1") == 2
    assert any(r[1] == new.ts for r in chat.replies)
    with engine.connect() as c:
        assert "failed" not in set(c.execute(sa.text("SELECT status FROM notification")).scalars())
