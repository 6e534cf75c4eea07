"""Delivery: send what the outbox holds through a chat port, once each, off the request path.

Platform-neutral: rows hold notices (no markup); at send time each card is built afresh for its
recipient (so it shows the buttons they may press now) and the :class:`~bot.ports.Chat` adapter
renders it. Reminders and escalations for one recipient go out as one digest. A
:class:`Deliverer` thread delivers whenever a change is committed (``wake``) and every few
seconds in case another instance wrote the rows; no request thread ever delivers.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa

from bot import obligations, services, views
from bot.domain import local_date
from bot.errors import DomainError
from bot.liveorg import LiveOrg, current
from bot.logs import Timer, fields
from bot.org import Org
from bot.ports import Chat, ChatError, ChatUncertain, UnitOfWork
from scheduler.digests import CHANNEL_REFS, DIGEST_ITEMS, Digests, viewer_of  # noqa: F401 (re-exported)
from store import outbox
from store.db import is_outage

log = logging.getLogger("baton.delivery")
# A card that no longer exists: its reference is dropped and the other cards are still redrawn.
REDRAWS = ("update", "update_all")  # rows that redraw cards already posted (chat.update)
GONE = {"message_not_found", "channel_not_found", "is_archived", "cant_update_message",
        "thread_not_found"}
GONE_CARD = object()  # what threading a notice answers when the person's card no longer exists


class Delivery(Digests):
    """Sends due outbox rows through one chat platform."""

    def __init__(self, engine: sa.Engine, org: Org | LiveOrg, chat: Chat,
                 uow: Callable[[], UnitOfWork], *, jitter: Callable[[], float] = random.random) -> None:
        self.engine, self._org, self.chat, self.uow = engine, org, chat, uow
        self.jitter = jitter  # 0 to 1, for the retry backoff (outbox.retry_delay)
        self._lock = threading.Lock()  # one pass at a time in this process
        # Posted but not yet written down (the database failed after the platform said ok):
        # written first thing in the next pass, so the row is not resent and the copy is redrawn.
        self._unsent: list[tuple[list[int], datetime, tuple[str, str] | None]] = []
        self._unref: list[tuple[int, str, tuple[str, str]]] = []
        # (channel, ts) -> (transfer version, day) of each card as this process last drew it
        self._drawn: dict[tuple[str, str], tuple[int | None, date]] = {}

    @property
    def org(self) -> Org:
        """The org in use now (a reload swaps it whole)."""
        return current(self._org)

    def deliver(self, now: datetime, *, limit: int = 1000, halt: threading.Event | None = None) -> int:
        """Send what is due; returns how many rows went out. Once ``halt`` is set (the process is
        stopping) the pass ends before its next row: rows not yet claimed stay pending for the
        next pass or another instance, so stopping never waits out a backlog."""
        with self._lock:
            return self._deliver(now, limit, halt)

    def stopped(self) -> bool:
        """Whether the platform told Baton it was uninstalled (or its token revoked): nothing is
        sent, and rows wait in the outbox until a reinstall."""
        with self.uow() as u:
            return services.delivery_stopped(u)

    def _remember(self) -> None:
        """Write down sends and card references a database fault kept from being recorded."""
        while self._unref:
            outbox.add_ref(self.engine, *self._unref[0])
            self._unref.pop(0)
        while self._unsent:
            ids, at, where = self._unsent[0]
            outbox.sent(self.engine, ids, at, where)
            self._unsent.pop(0)

    def _deliver(self, now: datetime, limit: int, halt: threading.Event | None = None) -> int:
        started = time.monotonic()  # Retry-After counts from the platform's answer
        if self.stopped():
            return 0
        self._remember()
        outbox.reclaim(self.engine, now)
        count = 0
        items: dict[str, list[Any]] = {}
        rows = outbox.due(self.engine, now, limit)
        for row in rows:
            if halt is not None and halt.is_set():
                return count
            if row.kind == "item":
                items.setdefault(row.recipient, []).append(row)
                continue
            for won in outbox.claim(self.engine, now, [row.id]):  # claimed when its turn has come
                count += self._attempt(now, [won], partial(self._send, won, now), started)
        if len(rows) == limit and items:
            # The pass stopped at ``limit``: the rest of these cases' due lines come with them,
            # so a case is one line of one message, never split between this pass and the next.
            seen = {(r.recipient, r.transfer_id) for group in items.values() for r in group}
            for row in outbox.due_items_of(self.engine, now, {tid for _, tid in seen if tid},
                                           after=rows[-1].id):
                if (row.recipient, row.transfer_id) in seen:
                    items[row.recipient].append(row)
        for recipient, group in items.items():
            if halt is not None and halt.is_set():
                return count
            cases: dict[Any, list[Any]] = {}  # one line per case, however many of its steps are due
            for r in group:
                cases.setdefault(r.transfer_id or f"row{r.id}", []).append(r)
            lines = list(cases.values())
            pages = (len(lines) + DIGEST_ITEMS - 1) // DIGEST_ITEMS
            for i in range(0, len(lines), DIGEST_ITEMS):
                page = outbox.claim(self.engine, now,
                                    [r.id for case in lines[i:i + DIGEST_ITEMS] for r in case])
                if not page:  # another instance sent them, or a 429 put them back
                    continue
                digest = self._as_now(self._digest(page, i // DIGEST_ITEMS + 1, pages), page,
                                      recipient, now)
                count += self._attempt(now, page, partial(self._post_digest, recipient, digest, page),
                                       started)
        return count

    # ---- building messages ------------------------------------------------------------------

    def _post_digest(self, recipient: str, digest: views.Digest, rows: list[Any]) -> tuple[str, str]:
        """Post a digest and remember it for each of its transfers, so that when one of them
        moves on the digest is redrawn and a button whose ask was answered goes."""
        where = self.chat.post(recipient, self._linked(digest, recipient))
        first: dict[int, int] = {}
        for r in rows:
            if r.transfer_id:
                first.setdefault(r.transfer_id, r.id)
        for tid, row_id in first.items():  # one reference per transfer and message
            ref = (tid, f"digest:{recipient}:{row_id}"[:64], where)
            try:
                outbox.add_ref(self.engine, *ref)
            except sa.exc.SQLAlchemyError:  # sent is sent: remembered in the next pass
                self._unref.append(ref)
        return where


    def _card(self, transfer_id: int, viewer: str | None, now: datetime,
              headline: tuple[str, ...] = ()) -> views.Card | None:
        with self.uow() as u:
            t = u.transfers.get(transfer_id)
            if t is None:
                return None
            return services.message_card(u, self.org, t, viewer, now, headline=headline)

    def _send(self, row: Any, now: datetime) -> tuple[str, str] | None:
        payload = dict(row.payload or {})
        if row.kind in ("card", "post") and row.transfer_id:
            purpose = str(payload.get("ref") or f"dm:{row.recipient}")
            held = self._held(row.transfer_id, row.recipient)
            if held is not None:  # one card per case per person: redrawn, the news in its thread
                threaded = self._threaded(row, held, payload, now)
                if threaded is not GONE_CARD:
                    return threaded  # type: ignore[return-value]
            card = self._card(row.transfer_id, viewer_of(purpose), now,
                              tuple(payload.get("lines") or ()))
            if card is None:
                return None
            where = self.chat.post(row.recipient, card)
            self._mark_drawn(row.transfer_id, where, now)
            # One reference per copy posted (a person may hold several cards of a transfer, and a
            # resent row two copies of one), so every copy is redrawn when the transfer moves on.
            copy = int(getattr(row, "copies", 1) or 1)
            ref = (row.transfer_id, f"{purpose}:{row.id}{'' if copy <= 1 else f'.{copy}'}"[:64], where)
            try:
                outbox.add_ref(self.engine, *ref)
            except sa.exc.SQLAlchemyError:  # sent is sent: remembered in the next pass
                log.warning("card_ref_deferred", extra={"notification_id": row.id,
                                                        "transfer_id": row.transfer_id})
                self._unref.append(ref)
            return where
        if row.kind in ("update", "update_all") and row.transfer_id:
            # Cards are drawn from the transfer as it is now, so one redraw also shows every
            # change whose redraw row was already waiting: those rows are not sent again.
            waiting = [i for i in outbox.pending_updates(self.engine, row.transfer_id) if i != row.id]
            self._redraw(row.transfer_id, now)
            outbox.covered(self.engine, waiting, now, row.id)
            return None
        if row.kind == "weekly":
            return self._weekly(row, payload)
        if row.kind == "export":
            return self._export(row, payload, now)
        if row.kind in ("text", "dm"):
            text = payload.get("text") or "\n".join(payload.get("lines") or ())
            return self.chat.post(row.recipient, views.Text(str(text)))
        return None

    def _held(self, transfer_id: int, recipient: str) -> Any:
        """The live card of a transfer a person (or channel) holds: the first posted to them."""
        return self._held_many([transfer_id], recipient).get(transfer_id)


    def _threaded(self, row: Any, held: Any, payload: dict[str, Any], now: datetime) -> object:
        """A card notice for someone who holds the card already: the card redrawn in place and
        the notice's line as a one-line reply in its thread, as a notification when the change
        made the reader owe an action (the notice says so) and they still owe one now.
        GONE_CARD when that card no longer exists (forgotten, so a new card is posted and used
        from then on)."""
        viewer = viewer_of(held.purpose)
        card = self._card(row.transfer_id, viewer, now)
        if card is None:
            return None
        said = " ".join(str(x) for x in payload.get("lines") or ()) or "There is news of this transfer."
        line = said if said.startswith(card.case_ref) else f"{card.case_ref}: {said}"
        own = held.purpose.rsplit(":", 1)[-1].split(".")[0] == str(row.id)
        try:
            if not (self._drawn_now(row.transfer_id, held, now)
                    or outbox.pending_updates(self.engine, row.transfer_id)):  # a redraw waits
                self.chat.update(held.channel, held.ts, card)
                self._mark_drawn(row.transfer_id, (held.channel, held.ts), now)
            if own:  # this row's own card, posted before a crash kept it from being recorded
                return (held.channel, held.ts)
            notify = bool(payload.get("newly_owes")) and self._owes(row.transfer_id, viewer, now)
            where = self.chat.reply(held.channel, held.ts, line, notify=notify)
        except ChatError as exc:
            if exc.code not in GONE or exc.retry_after is not None:
                raise
            log.info("card_gone", extra={"ref_id": held.id, "transfer_id": row.transfer_id,
                                         "error": exc.code})
            outbox.drop_ref(self.engine, held.id)
            return GONE_CARD
        log.info("card_threaded", extra={"notification_id": row.id, "transfer_id": row.transfer_id})
        return where

    def _version(self, transfer_id: int) -> int | None:
        with self.uow() as u:
            return u.transfers.version_of(transfer_id)

    def _drawn_now(self, transfer_id: int, ref: Any, now: datetime) -> bool:
        """Whether this process drew the card at ``ref`` from the transfer as it is now, today
        (a redraw row just did): it is not redrawn again."""
        seen = self._drawn.get((ref.channel, ref.ts))
        return seen is not None and seen == (self._version(transfer_id), local_date(now))

    def _mark_drawn(self, transfer_id: int, where: tuple[str, str], now: datetime) -> None:
        if len(self._drawn) > 10_000:  # a long-running process forgets, and at worst redraws
            self._drawn.clear()
        self._drawn[where] = (self._version(transfer_id), local_date(now))

    def _owes(self, transfer_id: int, viewer: str | None, now: datetime) -> bool:
        """Whether ``viewer`` owes an action on the transfer now (bot/obligations.py)."""
        if viewer is None:
            return False
        with self.uow() as u:
            t = u.transfers.get(transfer_id)
            if t is None:
                return False
            org, today = self.org, local_date(now)
            pack = org.pack_for(t.holding_team)
            covers = u.covers.active_on(today)
            return any(viewer in obligations.people(o, t, pack, org, covers)
                       for o in obligations.current(t, pack, org, services.calendar(org), today))

    def _redraw(self, transfer_id: int, now: datetime) -> None:
        """Redraw every card of a transfer; one that is gone is forgotten and does not stop the
        others; any other failure is raised after the rest were tried (a retry redraws all),
        except a 429, raised at once (the rest wait out its Retry-After with the retry)."""
        problem: Exception | None = None
        for ref in outbox.refs_of(self.engine, transfer_id):
            card: views.Message | None
            if ref.purpose.startswith("digest:"):
                card = self._digest_again(ref, now)
            else:
                card = self._card(transfer_id, viewer_of(ref.purpose), now)
            if card is None:
                continue
            try:
                self.chat.update(ref.channel, ref.ts, card)
                self._mark_drawn(transfer_id, (ref.channel, ref.ts), now)
            except ChatError as exc:
                if exc.retry_after is not None:
                    raise
                if exc.code in GONE:
                    log.info("card_gone", extra={"ref_id": ref.id, "transfer_id": transfer_id,
                                                 "error": exc.code})
                    outbox.drop_ref(self.engine, ref.id)
                elif problem is None or (isinstance(problem, ChatError) and problem.permanent):
                    problem = exc
            except (ChatUncertain, OSError) as exc:
                problem = problem or exc
        if problem is not None:
            raise problem

    def _weekly(self, row: Any, payload: dict[str, Any]) -> tuple[str, str]:
        start, end = date.fromisoformat(payload["start"]), date.fromisoformat(payload["end"])
        with self.uow() as u:
            summary = services.weekly_summary(u, self.org, start=start, end=end,
                                              channel=row.recipient)
        return self.chat.post_weekly(row.recipient, summary)

    def _export(self, row: Any, payload: dict[str, Any], now: datetime) -> tuple[str, str]:
        """A report reader's CSV, read (and the reads recorded) as it is sent."""
        start, end = date.fromisoformat(payload["start"]), date.fromisoformat(payload["end"])
        try:
            with self.uow() as u:
                rows = services.export_rows(u, self.org, start=start, end=end, reader=row.recipient,
                                            now=now, chat=True)
        except DomainError as exc:  # no longer a report reader: told so, nothing read
            return self.chat.post(row.recipient, views.Text(str(exc)))
        return self.chat.post_file(row.recipient, f"transfers-{start.isoformat()}-to-{end.isoformat()}.csv",
                                   services.export_csv(rows),
                                   f"Transfers {start:%d %b} to {end:%d %b %Y}: {len(rows)} row(s)")

    # ---- outcomes ---------------------------------------------------------------------------
    def _attempt(self, now: datetime, rows: list[Any], send: Callable[[], tuple[str, str] | None],
                 started: float) -> int:
        ids = [r.id for r in rows]
        took = Timer()
        backoff = now + outbox.retry_delay(rows[0].attempts, self.jitter())
        try:
            where = send()
        except ChatError as exc:
            if exc.retry_after is not None:
                late = time.monotonic() - started
                outbox.rate_limited(self.engine, ids, rows[0].recipient,
                                    now + timedelta(seconds=exc.retry_after + late), exc.code)
                return 0
            log.warning("notice_failed", extra={"notification_ids": ids, "transfer_id": rows[0].transfer_id,
                                                "error": exc.code, "permanent": exc.permanent})
            if exc.permanent:
                outbox.refused(self.engine, ids, exc.code)
                self._report_failure(rows[0], exc.code, now)
            else:
                outbox.retry_later(self.engine, ids, exc.code, backoff)
            return 0
        except (ChatUncertain, OSError) as exc:
            name = type(exc.__cause__ or exc).__name__
            if all(r.kind in REDRAWS for r in rows):  # redrawing twice makes no second copy
                log.warning("redraw_uncertain", extra={"notification_ids": ids,
                                                       "transfer_id": rows[0].transfer_id, "error": name})
                outbox.retry_later(self.engine, ids, f"{outbox.UNCERTAIN} {name}", backoff)
                return 0
            # The platform may have the message: like a send cut off by a crash, it is tried once
            # more at most, so a message is never duplicated more than once.
            twice = max(int(getattr(r, "copies", 1) or 1) for r in rows) >= outbox.MAX_IN_FLIGHT
            log.warning("notice_uncertain", extra={"notification_ids": ids,
                                                   "transfer_id": rows[0].transfer_id,
                                                   "error": name, "resent": not twice})
            if twice:
                outbox.failed(self.engine, ids,
                              f"{outbox.UNCERTAIN} twice ({name}); not resent, it may have arrived")
            else:
                outbox.retry_later(self.engine, ids, f"{outbox.UNCERTAIN} {name}", backoff,
                                   refused=False)
            return 0
        try:
            outbox.sent(self.engine, ids, now, where)
        except sa.exc.SQLAlchemyError:
            # The platform has it: never resent from here; written down first thing next pass.
            self._unsent.append((ids, now, where))
            raise
        for rid in sorted({str((r.payload or {}).get("request_id") or "") for r in rows}):
            log.info("notice_sent", extra=fields(
                notification_ids=ids, transfer_id=rows[0].transfer_id, request_id=rid or None,
                duration_ms=took.ms()))
        return len(rows)

    def _report_failure(self, row: Any, error: str, now: datetime) -> None:
        """Tell the escalation contact, once per recipient and error, that Baton cannot reach someone."""
        with self.uow() as u:
            t = u.transfers.get(row.transfer_id) if row.transfer_id else None
            team = t.holding_team if t else self.org.teams[0].id
            pack = self.org.pack_for(team)
            contact = self.org.contact(team, pack.escalation.levels[1].name)
            targets = [*(contact.users if contact else ()), *(contact.places if contact else ())]
            for target in targets:
                if target == row.recipient:
                    continue
                u.add_notification(
                    key=outbox.failure_key(row.recipient, error, target), transfer_id=None,
                    kind="text", recipient=target,
                    payload={"text": f"Baton cannot deliver to {row.recipient} ({error}). "
                                     "Check the org file and that the bot is in that channel."},
                    not_before=now, now=now)
            u.commit()


class Deliverer:
    """A background thread that delivers as soon as a change is committed (``wake``) and every
    ``idle`` seconds otherwise. Request threads only wake it."""

    def __init__(self, delivery: Delivery, clock: Callable[[], datetime], *, idle: float = 5.0) -> None:
        self.delivery, self.clock, self.idle = delivery, clock, idle
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Deliverer:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="baton-delivery", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Deliver soon: something was written to the outbox."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the thread: its pass ends before the next row (what is left stays pending)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.idle)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                while not self._stop.is_set() and self.delivery.deliver(self.clock(), halt=self._stop):
                    pass  # more may have become due while sending
            except Exception as exc:
                if is_outage(exc):  # one line, no traceback: the next pass mends it
                    log.warning("delivery_stopped", extra={"error": type(exc).__name__,
                                                           "reason": "database unreachable",
                                                           "next": "the next pass tries again"})
                else:
                    log.exception("delivery_failed", extra={"next": "the next pass tries again"})
