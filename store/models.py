"""SQLModel tables. The schema itself is made by Alembic migrations (store/migrations)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, so SQLite and PostgreSQL agree."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Aware datetimes are converted to naive UTC; naive ones are taken as UTC."""
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Values come back aware, in UTC."""
        return value.replace(tzinfo=UTC) if value is not None else None


PERSON_ID = 254  # an org-file person id: a short name, or a work e-mail (RFC 5321's longest)


def _json() -> Any:
    return Field(default=None, sa_type=sa.JSON)


def _dt(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class TransferRow(SQLModel, table=True):
    """One transfer; open ones are unique per case reference (partial unique index)."""

    __tablename__ = "transfer"

    __table_args__ = (
        sa.Index("ix_transfer_case_ref", "case_ref"),
        sa.Index(
            "uq_transfer_open_case", "case_ref", unique=True,
            sqlite_where=sa.text("closed_at IS NULL"), postgresql_where=sa.text("closed_at IS NULL"),
        ),
        sa.Index("ix_transfer_state", "state"),
        sa.Index("ix_transfer_holding_team", "holding_team"),
        sa.Index("ix_transfer_receiving_team", "receiving_team"),
        sa.Index("ix_transfer_closed_at", "closed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_ref: str = Field(max_length=64)
    policy: str = Field(max_length=32)
    holding_team: str = Field(max_length=64)
    receiving_team: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    state: str = Field(max_length=32)
    requested_by: str = Field(max_length=PERSON_ID)
    requested_on: date | None = None
    heads_up_on: date | None = None
    transfer_point: str | None = Field(default=None, max_length=64)
    transfer_point_date: date | None = None
    move_date: date | None = None
    move_end_date: date | None = None
    order_date: date | None = None
    accommodated_on: date | None = None
    flags: list[str] | None = _json()
    linked_refs: list[str] | None = _json()
    funding_note: str | None = None
    named_worker: str | None = Field(default=None, max_length=PERSON_ID)
    agreed_date: date | None = None
    checklist: dict[str, Any] | None = _json()
    escalation_level: str | None = Field(default=None, max_length=64)
    work_due: date | None = None
    work_items: list[str] | None = _json()
    created_at: datetime = _dt()
    updated_at: datetime = _dt()
    closed_at: datetime | None = _dt(default=None)
    restricted: bool = False
    excluded: list[str] | None = _json()
    version: int = 0


class TimelineRow(SQLModel, table=True):
    """An append-only timeline entry: who did what, when, and why."""

    __tablename__ = "timeline_event"

    __table_args__ = (
        sa.Index("ix_timeline_transfer", "transfer_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    transfer_id: int = Field(foreign_key="transfer.id", ondelete="CASCADE")
    at: datetime = _dt()
    actor: str = Field(max_length=PERSON_ID)
    kind: str = Field(max_length=32)
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str | None = Field(default=None, max_length=32)
    reason: str | None = None
    detail: dict[str, Any] | None = _json()


class DeadlineRow(SQLModel, table=True):
    """A clock on a transfer, kept in step with it so 'what falls due before T' is an index scan."""

    __tablename__ = "deadline"

    __table_args__ = (
        sa.Index("ix_deadline_status_due", "status", "due_on"),
        sa.Index("ix_deadline_next_step", "next_step_on"),
        sa.Index("ix_deadline_transfer", "transfer_id", "status", "due_on"),
        sa.UniqueConstraint("transfer_id", "clock", name="uq_deadline_transfer_clock"),
    )

    id: int | None = Field(default=None, primary_key=True)
    transfer_id: int = Field(foreign_key="transfer.id", ondelete="CASCADE")
    clock: str = Field(max_length=64)
    starts_on: date
    due_on: date
    status: str = Field(max_length=16)
    next_step_on: date | None = None  # NULL once nothing is left for a sweep to do


class CoverRow(SQLModel, table=True):
    """A manager's leave, with the colleague covering (None: it goes one level up)."""

    __tablename__ = "cover"

    __table_args__ = (
        sa.Index("ix_cover_manager", "manager", "ends_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    manager: str = Field(max_length=PERSON_ID)
    cover: str | None = Field(default=None, max_length=PERSON_ID)
    starts_on: date
    ends_on: date
    created_at: datetime = _dt()


class NotificationRow(SQLModel, table=True):
    """The outbox: a message to Slack written with the state change, sent once by delivery."""

    __tablename__ = "notification"

    __table_args__ = (
        sa.UniqueConstraint("key", name="uq_notification_key"),
        sa.Index("ix_notification_due", "status", "not_before"),
        sa.Index("ix_notification_transfer", "transfer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255)
    transfer_id: int | None = Field(default=None, foreign_key="transfer.id", ondelete="CASCADE")
    kind: str = Field(max_length=32)
    recipient: str = Field(max_length=255)
    payload: dict[str, Any] | None = _json()
    status: str = Field(default="pending", max_length=16)
    not_before: datetime = _dt()
    attempts: int = 0
    copies: int = 0  # sends that may have reached the platform (never more than two)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = _dt(default=None)
    sent_at: datetime | None = _dt(default=None)
    last_error: str | None = None
    channel: str | None = Field(default=None, max_length=255)
    ts: str | None = Field(default=None, max_length=255)
    created_at: datetime = _dt()


class MessageRefRow(SQLModel, table=True):
    """Where a message about a transfer was posted, so it can be updated in place."""

    __tablename__ = "message_ref"

    __table_args__ = (
        sa.UniqueConstraint("transfer_id", "purpose", name="uq_message_ref_purpose"),
    )

    id: int | None = Field(default=None, primary_key=True)
    transfer_id: int = Field(foreign_key="transfer.id", ondelete="CASCADE")
    purpose: str = Field(max_length=64)
    channel: str = Field(max_length=255)
    ts: str = Field(max_length=255)


class ProcessedEventRow(SQLModel, table=True):
    """Slack event ids already handled, so a redelivery is processed once."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    at: datetime = _dt()


class FreetextWarningRow(SQLModel, table=True):
    """Text a person was warned about, as a hash of (person, form, field, text): never the text."""

    __tablename__ = "freetext_warning"

    __table_args__ = (sa.Index("ix_freetext_warning_at", "at"),)

    key: str = Field(primary_key=True, max_length=64)
    at: datetime = _dt()


class TransferReadRow(SQLModel, table=True):
    """One read of a transfer's details (status, history, export, a card), or a refused attempt."""

    __tablename__ = "transfer_read"

    __table_args__ = (
        sa.Index("ix_transfer_read_transfer", "transfer_id", "at"),
        sa.Index("ix_transfer_read_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    transfer_id: int = Field(foreign_key="transfer.id", ondelete="CASCADE")
    reader: str = Field(max_length=PERSON_ID)
    surface: str = Field(max_length=32)
    granted: bool = True
    restricted: bool = False
    at: datetime = _dt()


class InstallEventRow(SQLModel, table=True):
    """A Slack lifecycle event (app_uninstalled, tokens_revoked, reinstalled), newest last."""

    __tablename__ = "install_event"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    at: datetime = _dt()
    team_id: str | None = Field(default=None, max_length=32)


class CaseClosureRow(SQLModel, table=True):
    """A case closed (the case, not a transfer of it): re-referral windows run from here."""

    __tablename__ = "case_closure"

    __table_args__ = (sa.Index("ix_case_closure_case", "case_ref", "closed_on"),)

    id: int | None = Field(default=None, primary_key=True)
    case_ref: str = Field(max_length=64)
    team: str = Field(max_length=64)
    closed_on: date
    recorded_by: str = Field(max_length=PERSON_ID)
    recorded_at: datetime = _dt()


class TeamsConversationRow(SQLModel, table=True):
    """A person's 1:1 conversation with Baton on Teams (from the app's installation, or created
    by Baton), so Baton can message them first."""

    __tablename__ = "teams_conversation"

    __table_args__ = (sa.Index("ix_teams_conversation_user", "user_id"),)

    person: str = Field(primary_key=True, max_length=255)
    conversation_id: str = Field(max_length=255)
    service_url: str = Field(max_length=512)
    tenant_id: str = Field(max_length=64)
    user_id: str = Field(max_length=255)
    aad_object_id: str | None = Field(default=None, max_length=64)
    updated_at: datetime = _dt()


class TeamsPendingFileRow(SQLModel, table=True):
    """An export waiting for its reader to accept Teams' file consent card (then uploaded and
    deleted; kept a day at most)."""

    __tablename__ = "teams_pending_file"

    token: str = Field(primary_key=True, max_length=64)
    person: str = Field(max_length=255)
    conversation_id: str = Field(max_length=255)
    filename: str = Field(max_length=255)
    content: str = Field(sa_type=sa.Text)
    created_at: datetime = _dt()


class TeamsServiceUrlRow(SQLModel, table=True):
    """The serviceUrl Teams last gave for a team, channel or tenant (its id the place): every
    call about that place goes there."""

    __tablename__ = "teams_service_url"

    place: str = Field(primary_key=True, max_length=255)
    service_url: str = Field(max_length=512)
    updated_at: datetime = _dt()


class CaseRecordRow(SQLModel, table=True):
    """A case record that starts clocks with or without a transfer (bot/record_clocks.py): the case
    reference only, its kind, date(s), team and who recorded it."""

    __tablename__ = "case_record"

    __table_args__ = (sa.Index("ix_case_record_case", "case_ref"),
                      sa.Index("ix_case_record_next_step", "next_step_at"),
                      sa.Index("ix_case_record_team", "team", "closed_at"))

    id: int | None = Field(default=None, primary_key=True)
    case_ref: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    team: str = Field(max_length=64)
    on_date: date
    at: datetime | None = _dt(default=None, nullable=True)
    ends_on: date | None = None
    recorded_by: str = Field(max_length=PERSON_ID)
    recorded_at: datetime = _dt()
    done: list[str] | None = _json()
    ended: list[str] | None = _json()
    closed_at: datetime | None = _dt(default=None, nullable=True)
    next_step_at: datetime | None = _dt(default=None, nullable=True)
