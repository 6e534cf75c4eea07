"""What the core needs from storage, as Protocols; store/ implements them, tests may fake them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol

from bot.clocks import Deadline
from bot.domain import Transfer
from bot.notices import Notice
from bot.recipients import Cover
from bot.record_clocks import CaseRecord
from bot.reports import ReportRow, Summary
from bot.views import Message


@dataclass(frozen=True)
class TransferSummary:
    """A transfer as lists show it: enough to answer 'where does it stand' without its timeline."""

    id: int
    case_ref: str
    policy: str
    state: str
    holding_team: str
    receiving_team: str
    kind: str
    requested_on: date | None
    due_clock: str | None
    due_on: date | None
    closed_at: datetime | None
    requested_by: str = ""
    named_worker: str | None = None
    restricted: bool = False
    excluded: tuple[str, ...] = ()


@dataclass(frozen=True)
class Read:
    """Someone read a transfer's details (or was refused): who, where, when."""

    transfer_id: int
    case_ref: str
    reader: str
    surface: str  # status, history, export, card, action
    granted: bool
    restricted: bool
    at: datetime


@dataclass(frozen=True)
class Closure:
    """A case closed with a team on a day (BURY, LEICS re-referrals run from it): who recorded it."""

    case_ref: str
    team: str
    closed_on: date
    recorded_by: str
    recorded_at: datetime


class DuplicateOpenTransfer(Exception):
    """A second open transfer for one case was refused by the store."""

    def __init__(self, case_ref: str) -> None:
        super().__init__(case_ref)
        self.case_ref = case_ref


class StaleTransfer(Exception):
    """Someone else changed the transfer since it was read."""


class AlreadySubmitted(Exception):
    """This form submission (its token) was recorded already: a replay or a second click."""


class TransferRepository(Protocol):
    """Transfers and their timelines and deadlines."""

    def add(self, t: Transfer, deadlines: Sequence[Deadline]) -> Transfer:
        """Insert a new transfer with its timeline and deadlines; sets ``t.id``."""

    def save(self, t: Transfer, deadlines: Sequence[Deadline]) -> None:
        """Write changes, append new events and replace deadlines; StaleTransfer on a lost race."""

    def version_of(self, transfer_id: int) -> int | None:
        """A transfer's version (it goes up with every change), without loading it."""

    def get_many(self, ids: Sequence[int], *, lock: bool = False) -> dict[int, Transfer]:
        """Many transfers with their timelines, by id (those that exist); ``lock`` holds their
        rows until the transaction ends."""

    def lock(self, transfer_id: int) -> None:
        """Hold the transfer for this unit of work, so other writers to it wait their turn."""

    def get(self, transfer_id: int) -> Transfer | None:
        """One transfer with its timeline."""

    def get_open_by_case(self, case_ref: str) -> Transfer | None:
        """The open transfer for a case reference, if any."""

    def latest_by_case(self, case_ref: str) -> Transfer | None:
        """The most recent transfer for a case, open or closed."""

    def last_closed_by_case(self, case_ref: str) -> Transfer | None:
        """The most recently closed transfer for a case."""

    def ids_of_case(self, case_ref: str) -> list[int]:
        """Ids of every transfer of a case, open or closed, oldest first."""

    def open_case_refs(self, refs: Iterable[str]) -> dict[str, int]:
        """Of ``refs``, those with an open transfer, mapped to its id."""

    def summaries(
        self,
        *,
        overdue_on: date | None = None,
        teams: Iterable[str] | None = None,
        open_only: bool = True,
        limit: int | None = None,
        state: str | None = None,
        closed_since: datetime | None = None,
    ) -> list[TransferSummary]:
        """Transfers for lists: open ones, or only those overdue on a date, optionally by team
        (and by state, or closed since a moment, read in SQL: not every closed one)."""

    def report_rows(self, *, since: date, today: date) -> list[ReportRow]:
        """Transfers open now or requested/closed since a date, for reports."""

    def bulk_import(self, rows: Sequence[tuple[Transfer, Sequence[Deadline]]]) -> int:
        """Insert many new transfers at once (one transaction); returns how many."""

    def closed_before(self, when: datetime) -> list[int]:
        """Ids of transfers closed before ``when``, oldest first."""

    def posted_messages(self, transfer_id: int) -> list[tuple[str, str]]:
        """Every chat message Baton posted about a transfer, as (channel, ts), each once."""

    def purge(self, ids: Sequence[int]) -> int:
        """Delete these transfers with everything about them; returns how many."""

    def purge_closed_before(self, when: datetime) -> int:
        """Delete transfers closed before ``when`` with their timelines; returns how many."""


class CoverRepository(Protocol):
    """Managers' leave and cover."""

    def add(self, cover: Cover, now: datetime) -> None:
        """Record leave/cover, replacing any overlapping entry for that manager."""

    def active_on(self, day: date) -> list[Cover]:
        """Covers in force on ``day``."""


class ReadRepository(Protocol):
    """The audit of reads: every view of a transfer's details, beside its timeline of changes."""

    def add(self, read: Read) -> None:
        """Record one read."""

    def of_transfer(self, transfer_id: int) -> list[Read]:
        """Every read of one transfer, oldest first."""

    def restricted_between(self, start: datetime, end: datetime) -> list[Read]:
        """Reads of restricted transfers in a period, oldest first."""


class ClosureRepository(Protocol):
    """Records that a case closed (the case, not a transfer of it)."""

    def add(self, closure: Closure) -> None:
        """Record one closure."""

    def latest(self, case_ref: str) -> Closure | None:
        """The case's most recent closure (latest day, then latest recorded)."""

    def purge_before(self, day: date) -> int:
        """Delete closures of cases closed before ``day``; returns how many."""


class CaseRecordRepository(Protocol):
    """Case records that start clocks with or without a transfer (bot/record_clocks.py)."""

    def add(self, r: CaseRecord, next_step_at: datetime | None) -> CaseRecord:
        """Store a new record; returns it with its id."""

    def save(self, r: CaseRecord, next_step_at: datetime | None) -> None:
        """Store what was done or ended on a record, and the next moment a sweep looks at it."""

    def open_of_case(self, case_ref: str) -> list[CaseRecord]:
        """The case's records whose clocks still run, oldest first."""

    def open_of_teams(self, teams: Sequence[str], limit: int = 500) -> list[CaseRecord]:
        """The open records of these teams, oldest first (at most ``limit``)."""

    def due(self, now: datetime, limit: int = 1000) -> list[CaseRecord]:
        """Open records whose next step has come."""

    def purge_closed_before(self, moment: datetime) -> int:
        """Delete records whose clocks all ended before ``moment``; returns how many."""


class UnitOfWork(Protocol):
    """One transaction over the repositories; commits only when told to."""

    @property
    def transfers(self) -> TransferRepository:
        """Transfers in this unit of work."""

    @property
    def covers(self) -> CoverRepository:
        """Covers in this unit of work."""

    @property
    def reads(self) -> ReadRepository:
        """The audit of reads in this unit of work."""

    @property
    def closures(self) -> ClosureRepository:
        """Case closures in this unit of work."""

    @property
    def case_records(self) -> CaseRecordRepository:
        """Case records (and their clocks) in this unit of work."""

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Make the work durable."""

    def rollback(self) -> None:
        """Discard the work."""

    def first_warning(self, key: str, now: datetime) -> bool:
        """Record that a person was warned about a text (:func:`bot.freetext.confirmation_key`);
        False when they already were, on any instance (so the text is kept). Committed at once."""

    def add_install_event(self, kind: str, team_id: str | None, now: datetime) -> None:
        """Record a chat platform lifecycle event (uninstalled, tokens revoked, reinstalled)."""

    def install_state(self) -> str | None:
        """The latest lifecycle event's kind (None when there was none)."""

    def first_delivery(self, event_id: str, now: datetime) -> bool:
        """Record a Slack event id and commit; False when it was already recorded."""

    def submitted(self, token: str) -> bool:
        """Whether a form submission with this token was saved."""

    def record_submission(self, token: str, now: datetime) -> None:
        """Record a form submission in this transaction (saved with the change it makes);
        AlreadySubmitted when it was recorded already."""

    def add_notification(self, *, key: str, transfer_id: int | None, kind: str, recipient: str,
                         payload: dict[str, Any], not_before: datetime, now: datetime) -> bool:
        """Write an outbox row unless one with ``key`` exists; True when written."""

    def add_notice(self, notice: Notice, *, now: datetime, not_before: datetime) -> int:
        """Write a notice to the outbox (one row per recipient, once each); how many were new."""


class ChatError(Exception):
    """A chat platform refused a message: ``permanent`` when retrying cannot mend it;
    ``retry_after`` seconds when it asked Baton to slow down."""

    def __init__(self, code: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.permanent = permanent
        self.retry_after = retry_after


class ChatUncertain(Exception):
    """The platform may or may not have the message (a timeout or a dropped connection)."""


class Chat(Protocol):
    """What delivery needs from a chat platform; each platform renders the views itself."""

    def post(self, to: str, message: Message) -> tuple[str, str]:
        """Post a message to a person (direct message) or a channel; returns (channel, ts)."""

    def update(self, channel: str, ts: str, message: Message) -> None:
        """Redraw a message posted earlier."""

    def reply(self, channel: str, ts: str, text: str, *, notify: bool = False) -> tuple[str, str]:
        """A one-line reply in the thread of the message at (channel, ts); ``notify`` when the
        reader must be told (Slack shows it in the conversation too); ChatError
        ('message_not_found') when that message is gone. Returns the reply's (channel, ts)."""

    def link(self, channel: str, ts: str) -> str | None:
        """A link that opens the message at (channel, ts), where the platform gives one."""

    def post_file(self, to: str, filename: str, content: str, title: str) -> tuple[str, str]:
        """Send a file (an export) to a person's direct messages."""

    def post_weekly(self, to: str, summary: Summary) -> tuple[str, str]:
        """Post the weekly summary (with its chart, where the platform can show one)."""

    def delete(self, channel: str, ts: str) -> None:
        """Delete a message posted earlier; ChatError('message_not_found') when it is gone."""
