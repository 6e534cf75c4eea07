"""Retention: the audit of a case, restricted reads, and purging closed transfers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain import (
    UK_TIME,
    TimelineEvent,
    local_date,
)
from bot.org import Org
from bot.ports import (
    Chat,
    ChatError,
    ChatUncertain,
    Read,
    UnitOfWork,
)
from bot.usecases.common import case_key


@dataclass(frozen=True)
class Audit:
    """Everything recorded about one case: its transfers' changes and every read of them."""

    case_ref: str
    changes: list[tuple[int, TimelineEvent]]
    reads: list[Read]


def audit(uow: UnitOfWork, case_ref: str) -> Audit | None:
    """``baton audit CASE``: every change (timeline) and every read of the case's transfers,
    oldest first; None when Baton holds nothing about it."""
    ref = case_key(case_ref)
    ids = uow.transfers.ids_of_case(ref)
    if not ids:
        return None
    changes: list[tuple[int, TimelineEvent]] = []
    reads: list[Read] = []
    for tid in ids:
        t = uow.transfers.get(tid)
        if t is not None:
            changes += [(tid, ev) for ev in t.timeline]
        reads += uow.reads.of_transfer(tid)
    changes.sort(key=lambda x: x[1].at)
    reads.sort(key=lambda r: r.at)
    return Audit(ref, changes, reads)


def restricted_reads(uow: UnitOfWork, *, start: date, end: date) -> list[Read]:
    """Who looked at restricted cases from ``start`` to ``end`` (inclusive), oldest first."""
    return uow.reads.restricted_between(closed_cutoff(start), closed_cutoff(end + timedelta(days=1)))


def retention_cutoff(org: Org, now: datetime) -> datetime:
    """The moment before which closed transfers are past the org's retention period."""
    return closed_cutoff(local_date(now) - timedelta(days=org.retention_days))


GONE = {"message_not_found", "channel_not_found", "is_archived", "cant_delete_message"}


@dataclass(frozen=True)
class Purged:
    """What a purge did: transfers removed, chat messages removed (or found already gone), and
    transfers kept because a message about them could not be removed yet (tried again next run)."""

    transfers: int
    messages: int = 0
    kept: int = 0


def _remove_messages(chat: Chat, where: list[tuple[str, str]],
                     wait: Callable[[float], None]) -> int | None:
    """Delete each message; one already gone does not stop the rest. None when one could not
    be removed now (Slack down or refusing), so the transfer is kept with its references."""
    done = 0
    for channel, ts in where:
        for _ in range(3):
            try:
                chat.delete(channel, ts)
            except ChatError as exc:
                if exc.code in GONE:
                    break
                if exc.retry_after is not None:
                    wait(min(exc.retry_after, 60.0))
                    continue
                return None
            except ChatUncertain:
                return None
            break
        else:
            return None
        done += 1
    return done


def purge(uow: UnitOfWork, closed_before: datetime, chat: Chat | None = None, *,
          wait: Callable[[float], None] = time.sleep) -> Purged:
    """Remove transfers closed before a moment with everything about them (timeline, clocks,
    notifications, message references, audit of reads), and case records whose clocks all ended
    before it. Baton's own chat messages about each
    are deleted first, while their references are still known; a transfer with messages that
    cannot be deleted now (no chat configured, the platform failing) is kept for the next run."""
    ids: list[int] = []
    removed = kept = 0
    for tid in uow.transfers.closed_before(closed_before):
        where = uow.transfers.posted_messages(tid)
        if where:
            done = _remove_messages(chat, where, wait) if chat is not None else None
            if done is None:
                kept += 1
                continue
            removed += done
        ids.append(tid)
    n = uow.transfers.purge(ids)
    uow.closures.purge_before(local_date(closed_before))
    uow.case_records.purge_closed_before(closed_before)  # records whose clocks all ended
    uow.commit()
    return Purged(n, removed, kept)


def closed_cutoff(day: date) -> datetime:
    """Midnight UK time at the start of ``day``, for purge."""
    return datetime.combine(day, datetime.min.time(), tzinfo=UK_TIME)
