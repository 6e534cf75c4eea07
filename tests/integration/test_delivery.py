"""Delivery through a fake chat port: notices become cards at send time, for each reader."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot import services, views
from bot.org import Org
from bot.ports import ChatError, ChatUncertain
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


# ---- database faults: at most one extra copy, and every copy redrawn -----------------------------
def _raised(uow: Callable[[], SqlUnitOfWork], org: Org) -> int:
    with uow() as u:
        t = services.raise_transfer(u, org, "U0NPP1", RaiseRequest(case_ref="X123456",
                                                                   receiving_team="pdu-south"), NOW)
    assert t.id is not None
    return t.id


def _db_down(*_: object, **__: object) -> None:
    raise sa.exc.OperationalError("UPDATE notification", {}, Exception("connection refused"))


def _posts_to(chat: FakeChat, to: str) -> list[views.Message]:
    return [m for who, m in chat.posts if who == to]


def _status(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as c:
        return dict(c.execute(sa.text("SELECT status, COUNT(*) FROM notification GROUP BY status")).all())


def test_a_send_the_database_could_not_record_is_written_next_pass_not_resent(
        engine: sa.Engine, org: Org, uow: Callable[[], SqlUnitOfWork],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Slack said ok but marking the row sent (and remembering the card) failed: the next pass
    writes both down, the DM is not posted again, and a change redraws it."""
    tid = _raised(uow, org)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    from store import outbox

    real_sent, real_ref = outbox.sent, outbox.add_ref
    monkeypatch.setattr(outbox, "sent", _db_down)
    monkeypatch.setattr(outbox, "add_ref", _db_down)
    with pytest.raises(sa.exc.OperationalError):
        delivery.deliver(NOW)
    assert len(chat.posts) == 1
    monkeypatch.setattr(outbox, "sent", real_sent)
    monkeypatch.setattr(outbox, "add_ref", real_ref)
    later = NOW + outbox.LEASE + timedelta(minutes=1)
    assert delivery.deliver(later) == 2  # the two others; the first is written down, not resent
    assert len(chat.posts) == 3 and _status(engine) == {"sent": 3}
    assert len(outbox.refs_of(engine, tid)) == 3
    with uow() as u:
        services.act(u, org, "U0SMGR", tid, "accept", NOW)
    delivery.deliver(later)
    assert len({(ch, ts) for ch, ts, _ in chat.updates}) == 3


def test_a_copy_resent_after_a_crash_is_redrawn_like_the_original_and_never_sent_a_third_time(
        engine: sa.Engine, org: Org, uow: Callable[[], SqlUnitOfWork],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An instance dies after posting the manager's DM, before recording the send: after the
    lease the row finds the card it posted (its reference was kept) and redraws it rather than
    post a second copy; the card loses its Accept button on accept."""
    from store import outbox

    tid = _raised(uow, org)
    chat = FakeChat()
    real_sent = outbox.sent
    monkeypatch.setattr(outbox, "sent", _db_down)
    with pytest.raises(sa.exc.OperationalError):
        Delivery(engine, org, chat, uow).deliver(NOW)  # this instance then dies
    after = NOW + outbox.LEASE + timedelta(minutes=1)
    with pytest.raises(sa.exc.OperationalError):
        Delivery(engine, org, chat, uow).deliver(after)  # the resend; it dies too
    first = chat.posts[0][0]
    assert [to for to, _ in chat.posts] == [first]
    monkeypatch.setattr(outbox, "sent", real_sent)
    last = Delivery(engine, org, chat, uow)
    last.deliver(after + outbox.LEASE + timedelta(minutes=1))
    assert len(_posts_to(chat, first)) == 1  # never a second copy
    assert not chat.replies  # nor its own news again
    refs = [r for r in outbox.refs_of(engine, tid) if r.channel == f"D{first}"]
    assert len(refs) == 1
    with uow() as u:
        services.act(u, org, "U0SMGR", tid, "accept", NOW)
    last.deliver(after + 2 * outbox.LEASE)
    redrawn = {ts: m for ch, ts, m in chat.updates if ch == f"D{first}"}
    assert set(redrawn) == {r.ts for r in refs}
    assert all(isinstance(m, views.Card) and "accept" not in [b.action for b in m.buttons]
               for m in redrawn.values())


class _Timeouts(FakeChat):
    """Posts arrive, but every answer is lost (a timeout after Slack took the message)."""

    def post(self, to: str, message: views.Message) -> tuple[str, str]:
        """Record the post, then lose the answer."""
        super().post(to, message)
        raise ChatUncertain("ReadTimeout")


def test_a_timeout_then_a_database_fault_still_posts_at_most_twice(
        engine: sa.Engine, org: Org, uow: Callable[[], SqlUnitOfWork],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The first send times out and the database fails before that is written; after the lease
    the row is tried once more (timing out again) and then failed: two copies, never three."""
    from store import outbox

    _raised(uow, org)
    chat = _Timeouts()
    real = outbox.retry_later
    monkeypatch.setattr(outbox, "retry_later", _db_down)
    with pytest.raises(sa.exc.OperationalError):
        Delivery(engine, org, chat, uow).deliver(NOW)
    monkeypatch.setattr(outbox, "retry_later", real)
    when = NOW
    for _ in range(6):
        when += outbox.LEASE + timedelta(hours=2)
        Delivery(engine, org, chat, uow).deliver(when)
    first = chat.posts[0][0]
    assert len(_posts_to(chat, first)) == 2
    assert all(len(_posts_to(chat, to)) <= 2 for to, _ in chat.posts)
    assert _status(engine) == {"failed": 3}


class _OneGone(FakeChat):
    """The first card Baton redraws was deleted by someone (message_not_found)."""

    def update(self, channel: str, ts: str, message: views.Message) -> None:
        """Refuse the first card ever posted; record the others."""
        if ts == "1.0":
            raise ChatError("message_not_found", permanent=True)
        super().update(channel, ts, message)


def test_one_deleted_card_does_not_stop_the_others_being_redrawn(
        engine: sa.Engine, org: Org, uow: Callable[[], SqlUnitOfWork]) -> None:
    """message_not_found on one card: the other cards are redrawn, the gone one is forgotten,
    the update is sent (not failed) and nobody is told Baton cannot deliver."""
    from store import outbox

    tid = _raised(uow, org)
    chat = _OneGone()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(NOW)
    with uow() as u:
        services.act(u, org, "U0SMGR", tid, "accept", NOW)
    delivery.deliver(NOW)
    assert len(chat.updates) == 2
    assert "1.0" not in {r.ts for r in outbox.refs_of(engine, tid)}
    assert "failed" not in _status(engine)
    assert not [p for p in chat.posts if isinstance(p[1], views.Text)]


def test_redraws_waiting_for_one_transfer_are_done_once(engine: sa.Engine, org: Org,
                                                        uow: Callable[[], SqlUnitOfWork]) -> None:
    """Three changes before delivery runs: each card is redrawn once, showing the last state,
    and every redraw row is marked sent (covered by the one redraw)."""
    tid = _raised(uow, org)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    delivery.deliver(NOW)
    with uow() as u:
        for i in range(3):
            services.act(u, org, "U0NPP1", tid, "record_delay", NOW,
                         reason=f"waiting for the court report {i}", actions="chased the court twice")
    delivery.deliver(NOW)
    assert len(chat.updates) == 3 and len({(ch, ts) for ch, ts, _ in chat.updates}) == 3
    # 3 first cards, 3 redraw rows, and each delay reason told to the receiving manager, the
    # holding manager and the transferring area's senior manager (9 cards of their own)
    assert _status(engine) == {"sent": 15}


# ---- digests: one line per case --------------------------------------------------------------
def _overdue_cases(uow: Callable[[], SqlUnitOfWork], org: Org, n: int) -> None:
    """``n`` probation transfers North -> South requested Mon 2 Nov 2026 (adopted from a tracker):
    the 20-day resolution clock breaches on Tue 1 Dec and escalates to the SMT, and the 30-day
    endorsement breaches on Tue 15 Dec, asking the SMT to endorse."""
    lines = ["case_ref,holding_team,receiving_team,requested_on,kind",
             *(f"X{i:06d},pdu-north,pdu-south,2026-11-02,permanent" for i in range(n))]
    with uow() as u:
        assert services.import_csv(u, org, "\n".join(lines) + "\n", NOW).imported == n


def _smt_digests(chat: FakeChat) -> list[views.Digest]:
    return [m for to, m in chat.posts if to == "U0SMT1" and isinstance(m, views.Digest)]


@pytest.mark.parametrize("limit", [1000, 70])
def test_a_case_due_twice_for_one_person_is_one_line_with_both_steps_across_pages_and_passes(
        engine: sa.Engine, org: Org, uow: Callable[[], SqlUnitOfWork], limit: int) -> None:
    """Sixty cases escalated to the SMT on 1 Dec and, undelivered, due for endorsement on 15 Dec:
    the SMT member's digest runs to two pages (45 cases a page), each case on one line of one
    page with both its escalation and its endorsement request, and the Endorse extension button,
    even when a delivery pass reads fewer rows than are due (``limit``) and so stops inside a
    case's steps."""
    from datetime import date, datetime, time

    from bot.domain import UK_TIME
    from scheduler.sweep import sweep

    _overdue_cases(uow, org, 60)
    sweep(engine, org, datetime.combine(date(2026, 12, 1), time(10), UK_TIME))
    when = datetime.combine(date(2026, 12, 15), time(10), UK_TIME)
    sweep(engine, org, when)
    chat = FakeChat()
    delivery = Delivery(engine, org, chat, uow)
    while delivery.deliver(when, limit=limit):
        pass
    digests = _smt_digests(chat)
    lines = [item for d in digests for item in d.items]
    assert sorted(i.case_ref for i in lines) == sorted(f"X{i:06d}" for i in range(60))  # each once
    for item in lines:
        assert "Escalated to Senior management:" in item.text, item.text
        assert "Senior management must endorse the extension" in item.text, item.text
        assert len(item.text.split("\n")) == 2
        assert [b.action for b in item.buttons] == ["endorse"]
    if limit == 1000:  # one pass: one digest of two pages
        assert [(d.page, d.pages) for d in digests] == [(1, 2), (2, 2)]
    else:  # passes of 70 rows: several messages, none repeating a case
        assert len(digests) > 2
