"""Fakes of Baton's own ports, for fast unit tests of service and delivery rules (no database)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import TracebackType
from typing import Any

from bot import views
from bot.clocks import Deadline
from bot.domain import Transfer
from bot.notices import Notice
from bot.ports import AlreadySubmitted, Closure, Cover, DuplicateOpenTransfer, Read
from bot.record_clocks import CaseRecord
from bot.reports import Summary


class FakeTransfers:
    """Transfers in a dict; copies in and out, as a database would."""

    def __init__(self) -> None:
        self.rows: dict[int, Transfer] = {}

    def add(self, t: Transfer, deadlines: Sequence[Deadline]) -> Transfer:
        """Store a new transfer; refuses a second open one for a case."""
        if t.is_open and self.get_open_by_case(t.case_ref) is not None:
            raise DuplicateOpenTransfer(t.case_ref)
        t.id = len(self.rows) + 1
        t.new_events = []
        self.rows[t.id] = copy.deepcopy(t)
        return t

    def save(self, t: Transfer, deadlines: Sequence[Deadline]) -> None:
        """Store the changed transfer."""
        assert t.id is not None
        t.new_events = []
        self.rows[t.id] = copy.deepcopy(t)

    def version_of(self, transfer_id: int) -> int | None:
        """A transfer's version."""
        t = self.rows.get(transfer_id)
        return t.version if t else None

    def lock(self, transfer_id: int) -> None:
        """One thread: nothing to wait for."""

    def open_case_refs(self, refs: Iterable[str]) -> dict[str, int]:
        """Of ``refs``, those with an open transfer, mapped to its id."""
        wanted = set(refs)
        return {t.case_ref: i for i, t in self.rows.items() if t.case_ref in wanted and t.is_open}

    def get_many(self, ids: Sequence[int], *, lock: bool = False) -> dict[int, Transfer]:
        """Many transfers by id (those that exist)."""
        return {i: t for i in ids if (t := self.get(i)) is not None}

    def get(self, transfer_id: int) -> Transfer | None:
        """A copy of one transfer."""
        t = self.rows.get(transfer_id)
        return copy.deepcopy(t) if t else None

    def get_open_by_case(self, case_ref: str) -> Transfer | None:
        """The open transfer of a case."""
        return next((copy.deepcopy(t) for t in self.rows.values() if t.case_ref == case_ref and t.is_open),
                    None)

    def latest_by_case(self, case_ref: str) -> Transfer | None:
        """The newest transfer of a case."""
        found = [t for t in self.rows.values() if t.case_ref == case_ref]
        return copy.deepcopy(found[-1]) if found else None

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"FakeTransfers.{name}: not needed by these tests")


class FakeCovers:
    """No one is on leave unless a test says so."""

    def __init__(self) -> None:
        self.covers: list[Cover] = []

    def add(self, cover: Cover, now: datetime) -> None:
        """Record cover."""
        self.covers.append(cover)

    def active_on(self, day: date) -> list[Cover]:
        """Covers in force on ``day``."""
        return [c for c in self.covers if c.starts_on <= day <= c.ends_on]


class FakeReads:
    """The audit of reads as a list."""

    def __init__(self) -> None:
        self.rows: list[Read] = []

    def add(self, read: Read) -> None:
        """Record a read."""
        self.rows.append(read)

    def of_transfer(self, transfer_id: int) -> list[Read]:
        """Reads of one transfer."""
        return [r for r in self.rows if r.transfer_id == transfer_id]

    def restricted_between(self, start: datetime, end: datetime) -> list[Read]:
        """Reads of restricted transfers in a period."""
        return [r for r in self.rows if r.restricted and start <= r.at < end]


class FakeClosures:
    """Case closures as a list."""

    def __init__(self) -> None:
        self.rows: list[Closure] = []

    def add(self, closure: Closure) -> None:
        """Record a closure."""
        self.rows.append(closure)

    def latest(self, case_ref: str) -> Closure | None:
        """The case's most recent closure."""
        found = [c for c in self.rows if c.case_ref == case_ref]
        return max(found, key=lambda c: c.closed_on) if found else None

    def purge_before(self, day: date) -> int:
        """Forget closures before ``day``."""
        n = len(self.rows)
        self.rows = [c for c in self.rows if c.closed_on >= day]
        return n - len(self.rows)


class FakeCaseRecords:
    """Case records as a list (with the next moment each is looked at)."""

    def __init__(self) -> None:
        self.rows: list[tuple[CaseRecord, datetime | None]] = []

    def add(self, r: CaseRecord, next_step_at: datetime | None) -> CaseRecord:
        """Store a new record with the next id."""
        r = replace(r, id=len(self.rows) + 1)
        self.rows.append((r, next_step_at))
        return r

    def save(self, r: CaseRecord, next_step_at: datetime | None) -> None:
        """Replace the record with the same id."""
        self.rows = [(r, next_step_at) if x.id == r.id else (x, n) for x, n in self.rows]

    def open_of_case(self, case_ref: str) -> list[CaseRecord]:
        """The case's open records."""
        return [x for x, _ in self.rows if x.case_ref == case_ref and x.closed_at is None]

    def open_of_teams(self, teams: Sequence[str], limit: int = 500) -> list[CaseRecord]:
        """The open records of these teams."""
        return [x for x, _ in self.rows if x.team in teams and x.closed_at is None][:limit]

    def due(self, now: datetime, limit: int = 1000) -> list[CaseRecord]:
        """Open records whose next step has come."""
        return [x for x, n in self.rows if x.closed_at is None and n is not None and n <= now][:limit]

    def purge_closed_before(self, moment: datetime) -> int:
        """Forget records whose clocks all ended before ``moment``."""
        n = len(self.rows)
        self.rows = [(x, s) for x, s in self.rows if x.closed_at is None or x.closed_at >= moment]
        return n - len(self.rows)


@dataclass
class FakeUnitOfWork:
    """A unit of work whose outbox is a list; commits are counted, rollbacks undo nothing
    (services only write after every check passed)."""

    transfers: FakeTransfers = field(default_factory=FakeTransfers)
    covers: FakeCovers = field(default_factory=FakeCovers)
    reads: FakeReads = field(default_factory=FakeReads)
    closures: FakeClosures = field(default_factory=FakeClosures)
    case_records: FakeCaseRecords = field(default_factory=FakeCaseRecords)
    notices: list[tuple[Notice, datetime]] = field(default_factory=list)
    pending: list[tuple[Notice, datetime]] = field(default_factory=list)
    commits: int = 0
    install_events: list[tuple[str, str | None, datetime]] = field(default_factory=list)
    submissions: set[str] = field(default_factory=set)

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.rollback()

    def commit(self) -> None:
        """Make the pending notices 'durable'."""
        self.notices += self.pending
        self.pending = []
        self.commits += 1

    def rollback(self) -> None:
        """Drop notices written since the last commit."""
        self.pending = []

    def first_warning(self, key: str, now: datetime) -> bool:
        """Every warning is the first."""
        return True

    def add_install_event(self, kind: str, team_id: str | None, now: datetime) -> None:
        """Keep the lifecycle event."""
        self.install_events.append((kind, team_id, now))

    def install_state(self) -> str | None:
        """The latest lifecycle event's kind."""
        return self.install_events[-1][0] if self.install_events else None

    def first_delivery(self, event_id: str, now: datetime) -> bool:
        """Every event is new."""
        return True

    def submitted(self, token: str) -> bool:
        """Whether the token was recorded."""
        return token in self.submissions

    def record_submission(self, token: str, now: datetime) -> None:
        """Record the token (rollbacks keep it: services record it just before committing)."""
        if token in self.submissions:
            raise AlreadySubmitted(token)
        self.submissions.add(token)

    def add_notification(self, **row: Any) -> bool:
        """Low-level rows are not used by these tests."""
        return True

    def add_notice(self, notice: Notice, *, now: datetime, not_before: datetime) -> int:
        """Keep the notice until commit."""
        self.pending.append((notice, not_before))
        return len(notice.audience)


@dataclass
class FakeChat:
    """A chat platform that records what it was asked to show."""

    posts: list[tuple[str, views.Message]] = field(default_factory=list)
    updates: list[tuple[str, str, views.Message]] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)
    replies: list[tuple[str, str, str, bool]] = field(default_factory=list)

    def post(self, to: str, message: views.Message) -> tuple[str, str]:
        """Record a post."""
        self.posts.append((to, message))
        return f"D{to}", f"{len(self.posts)}.0"

    def update(self, channel: str, ts: str, message: views.Message) -> None:
        """Record a redraw."""
        self.updates.append((channel, ts, message))

    def reply(self, channel: str, ts: str, text: str, *, notify: bool = False) -> tuple[str, str]:
        """Record a reply in a card's thread."""
        self.replies.append((channel, ts, text, notify))
        return channel, f"{ts}.r{len(self.replies)}"

    def link(self, channel: str, ts: str) -> str | None:
        """No links here."""
        return None

    def post_file(self, to: str, filename: str, content: str, title: str) -> tuple[str, str]:
        """Record a file as text."""
        return self.post(to, views.Text(f"{filename}\n{content}"))

    def delete(self, channel: str, ts: str) -> None:
        """Record a deletion."""
        self.deleted.append((channel, ts))

    def post_weekly(self, to: str, summary: Summary) -> tuple[str, str]:
        """Record the weekly summary as text."""
        return self.post(to, views.Text(f"weekly {summary.start}"))


def audience(uow: FakeUnitOfWork, kind: str | None = None) -> Iterable[str]:
    """Everyone the committed notices (of ``kind``) speak to."""
    return [r for n, _ in uow.notices if kind is None or n.kind == kind for r in n.audience]
