"""The outbox: notifications written with each change, delivered to Slack once.

``notify_change`` is registered as a change hook, so it runs inside the same transaction as
the state change. ``deliver`` claims pending rows with a conditional UPDATE (so two instances
never send one row twice), sends them, and marks each sent only after Slack answered ok.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import col

from bot.clocks import next_deadline
from bot.domain import AWAITING_DECISION, Transfer
from bot.org import Org
from bot.ports import UnitOfWork
from bot.services import calendar, effective_managers, transfer_deadlines
from handlers import blocks
from store.models import MessageRefRow, NotificationRow

log = logging.getLogger("baton.outbox")
PERMANENT_ERRORS = {"channel_not_found", "not_in_channel", "user_not_found", "is_archived",
                    "invalid_blocks", "msg_too_long"}
INSTANCE = f"{socket.gethostname()}:{id(object())}"


def _message(org: Org, t: Transfer, now: datetime, *, buttons: bool) -> dict[str, Any]:
    ds = transfer_deadlines(org, t)
    d = next_deadline(ds)
    left = calendar(org).working_days_between(now.date(), d.due_on) if d else None
    text = f"Transfer {t.case_ref}: {t.holding_team} → {t.receiving_team} ({t.state.value})"
    return {"text": text, "blocks": blocks.transfer_message(t, deadline=d, days_left=left, buttons=buttons)}


def notify_change(uow: UnitOfWork, org: Org, t: Transfer, now: datetime) -> None:
    """Write the notifications a change calls for (same transaction as the change)."""
    assert t.id is not None
    last = t.timeline[-1] if t.timeline else None
    if last is None:
        return
    seq = len(t.timeline)
    covers = uow.covers.active_on(now.date())
    if last.kind in ("requested", "heads_up"):
        managers = effective_managers(org, t.receiving_team, covers)
        if not managers:  # every manager on leave with no cover: one level up hears it
            managers = _level_up(org, t)
        awaiting = t.state in AWAITING_DECISION
        for m in managers:
            uow.add_notification(key=f"t{t.id}:{last.kind}:dm:{m}", transfer_id=t.id, kind="post",
                                 recipient=m, payload={**_message(org, t, now, buttons=awaiting),
                                                       "ref": f"dm:{m}"},
                                 not_before=now, now=now)
        buddy = org.team(t.receiving_team).buddy
        pack = org.pack_for(t.holding_team)
        if buddy and (pack.early_heads_up or last.kind == "heads_up"):
            for m in effective_managers(org, buddy, covers):
                if m in managers:
                    continue
                uow.add_notification(key=f"t{t.id}:{last.kind}:buddy:{m}", transfer_id=t.id,
                                     kind="post", recipient=m,
                                     payload={**_message(org, t, now, buttons=False), "ref": f"buddy:{m}"},
                                     not_before=now, now=now)
        uow.add_notification(key=f"t{t.id}:{last.kind}:requester", transfer_id=t.id, kind="post",
                             recipient=last.actor,
                             payload={**_message(org, t, now, buttons=False),
                                      "ref": f"requester:{last.actor}"},
                             not_before=now, now=now)
        channel = org.team(t.receiving_team).channel
        if channel:
            uow.add_notification(key=f"t{t.id}:{last.kind}:channel", transfer_id=t.id, kind="post",
                                 recipient=channel,
                                 payload={**_message(org, t, now, buttons=False), "ref": "channel"},
                                 not_before=now, now=now)
        return
    # Any other change: every message already posted about the transfer is updated in place.
    uow.add_notification(key=f"t{t.id}:update:{seq}", transfer_id=t.id, kind="update_all",
                         recipient="-", payload={}, not_before=now, now=now)


def _level_up(org: Org, t: Transfer) -> tuple[str, ...]:
    """Users at the first escalation level above team managers for the receiving team."""
    pack = org.pack_for(t.holding_team)
    contact = org.contact(t.receiving_team, pack.escalation.levels[1].name)
    return contact.users if contact else ()


def deliver(engine: sa.Engine, client: WebClient, org: Org, load: Callable[[int], Transfer | None],
            now: datetime, *, limit: int = 200) -> int:
    """Send due notifications once each; returns how many were sent."""
    sent = 0
    with engine.connect() as conn:
        due = conn.execute(
            sa.select(col(NotificationRow.id)).where(
                col(NotificationRow.status) == "pending", col(NotificationRow.not_before) <= now
            ).order_by(col(NotificationRow.id)).limit(limit)
        ).scalars().all()
    for nid in due:
        with engine.begin() as conn:
            won = conn.execute(
                sa.update(NotificationRow)
                .where(col(NotificationRow.id) == nid, col(NotificationRow.status) == "pending")
                .values(status="claimed", claimed_by=INSTANCE, claimed_at=now)
            ).rowcount
        if won != 1:
            continue
        with engine.connect() as conn:
            row = conn.execute(sa.select(NotificationRow).where(col(NotificationRow.id) == nid)).one()
        try:
            result = _send(engine, client, org, load, row, now)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown"))
            permanent = error in PERMANENT_ERRORS
            log.warning("notification %s for transfer %s failed: %s", nid, row.transfer_id, error)
            with engine.begin() as conn:
                conn.execute(sa.update(NotificationRow).where(col(NotificationRow.id) == nid).values(
                    status="failed" if permanent else "pending", attempts=row.attempts + 1,
                    last_error=error, not_before=now + timedelta(seconds=30 * (row.attempts + 1)),
                ))
            continue
        with engine.begin() as conn:
            conn.execute(sa.update(NotificationRow).where(col(NotificationRow.id) == nid).values(
                status="sent", sent_at=now, attempts=row.attempts + 1,
                channel=result[0] if result else None, ts=result[1] if result else None))
        sent += 1
    return sent


def _send(engine: sa.Engine, client: WebClient, org: Org, load: Callable[[int], Transfer | None],
          row: Any, now: datetime) -> tuple[str, str] | None:
    payload = dict(row.payload or {})
    if row.kind == "post":
        ref = payload.pop("ref", None)
        resp = client.chat_postMessage(channel=row.recipient, **payload)
        channel, ts = str(resp["channel"]), str(resp["ts"])
        if ref and row.transfer_id:
            with engine.begin() as conn:
                conn.execute(sa.insert(MessageRefRow).values(
                    transfer_id=row.transfer_id, purpose=ref, channel=channel, ts=ts))
        return channel, ts
    if row.kind == "update_all" and row.transfer_id:
        t = load(row.transfer_id)
        if t is None:
            return None
        with engine.connect() as conn:
            refs = conn.execute(sa.select(MessageRefRow).where(
                col(MessageRefRow.transfer_id) == row.transfer_id)).all()
        for ref in refs:
            buttons = t.state in AWAITING_DECISION and ref.purpose.startswith("dm:")
            client.chat_update(channel=ref.channel, ts=ref.ts, **_message(org, t, now, buttons=buttons))
        return None
    if row.kind == "dm":
        resp = client.chat_postMessage(channel=row.recipient, **payload)
        return str(resp["channel"]), str(resp["ts"])
    return None
