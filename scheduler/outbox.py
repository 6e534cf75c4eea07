"""The outbox: notifications written with each change, delivered to Slack once.

``notify_change`` is registered as a change hook, so it runs inside the same transaction as
the state change. ``deliver`` claims pending rows with a conditional UPDATE (so two instances
never send one row twice), sends them, and marks each sent only after Slack answered ok.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import col

from bot import services
from bot.domain import AWAITING_DECISION, Transfer, local_date
from bot.org import Org
from bot.policy import Recipient
from bot.ports import UnitOfWork
from bot.services import calendar, transfer_deadlines
from handlers import blocks
from scheduler.recipients import resolve
from store.models import MessageRefRow, NotificationRow

log = logging.getLogger("baton.outbox")
PERMANENT_ERRORS = {"channel_not_found", "not_in_channel", "user_not_found", "is_archived",
                    "invalid_blocks", "msg_too_long"}
INSTANCE = f"{socket.gethostname()}:{id(object())}"


def _message(org: Org, t: Transfer, now: datetime, *, buttons: bool) -> dict[str, Any]:
    text = f"Transfer {t.case_ref}: {t.holding_team} → {t.receiving_team} ({t.state.value})"
    return {"text": text, "blocks": blocks.transfer_card(
        t, transfer_deadlines(org, t), cal=calendar(org), today=local_date(now), buttons=buttons)}


def notify_change(uow: UnitOfWork, org: Org, t: Transfer, now: datetime) -> None:
    """Write the notifications a change calls for (same transaction as the change)."""
    assert t.id is not None
    last = t.timeline[-1] if t.timeline else None
    if last is None:
        return
    seq = len(t.timeline)
    if last.kind in ("requested", "heads_up"):
        covers = uow.covers.active_on(local_date(now))
        pack = org.pack_for(t.holding_team)
        cover_or_managers = set(services.effective_managers(org, t.receiving_team, covers))
        # (message ref, recipient, with decision buttons?); with every receiving manager away
        # and nobody covering, the next escalation level hears instead (without buttons).
        targets = [(f"dm:{m}", m, m in cover_or_managers and t.state in AWAITING_DECISION)
                   for m in resolve(org, covers, t, Recipient.receiving_manager, pack)]
        if pack.early_heads_up or last.kind == "heads_up":
            targets += [(f"buddy:{m}", m, False)
                        for m in resolve(org, covers, t, Recipient.buddy_manager, pack)
                        if m not in {r for _, r, _ in targets}]
        targets.append((f"requester:{last.actor}", last.actor, False))
        targets += [(f"channel:{c}", c, False)
                    for c in resolve(org, covers, t, Recipient.receiving_channel, pack)]
        cards = {b: _message(org, t, now, buttons=b) for b in {b for _, _, b in targets}}
        for ref, recipient, buttons in targets:
            uow.add_notification(key=f"t{t.id}:{last.kind}:{ref}", transfer_id=t.id, kind="post",
                                 recipient=recipient, payload={**cards[buttons], "ref": ref},
                                 not_before=now, now=now)
        return
    # Any other change: every message already posted about the transfer is updated in place.
    uow.add_notification(key=f"t{t.id}:update:{seq}", transfer_id=t.id, kind="update_all",
                         recipient="-", payload={}, not_before=now, now=now)


LEASE = timedelta(minutes=5)
UNCERTAIN = "uncertain:"  # last_error of a send whose outcome is unknown (timeout, dropped line)
MAX_IN_FLIGHT = 2
DIGEST_ITEMS = 45  # cases per message: one block each plus a header stays inside Slack's 50


def _reclaim(engine: sa.Engine, now: datetime) -> None:
    """Rows claimed by an instance that died before finishing.

    A row is claimed (attempts + 1, committed) just before it is sent, one message at a time,
    and marked sent after Slack answered ok. If the process died in between, Slack may or may
    not have the message: the row goes back to pending once its lease expires and is sent
    again. That is the only way a message can be duplicated, and only once: a row already in
    flight MAX_IN_FLIGHT times is not resent but marked failed, for a person to check. (Rows
    are not claimed in bulk ahead of their send, so a row still waiting its turn when the
    process died does not count as in flight.)
    """
    stale = now - LEASE
    with engine.begin() as conn:
        conn.execute(sa.update(NotificationRow).where(
            col(NotificationRow.status) == "claimed", col(NotificationRow.claimed_at) < stale,
            col(NotificationRow.attempts) < MAX_IN_FLIGHT,
        ).values(status="pending", claimed_by=None))
        conn.execute(sa.update(NotificationRow).where(
            col(NotificationRow.status) == "claimed", col(NotificationRow.claimed_at) < stale,
        ).values(status="failed", last_error="in flight twice when an instance stopped; not resent"))


def _due(engine: sa.Engine, now: datetime, limit: int) -> list[Any]:
    """Pending rows whose time has come, oldest first."""
    with engine.connect() as conn:
        return list(conn.execute(
            sa.select(NotificationRow).where(
                col(NotificationRow.status) == "pending", col(NotificationRow.not_before) <= now
            ).order_by(col(NotificationRow.id)).limit(limit)
        ).all())


def _claim(engine: sa.Engine, now: datetime, ids: list[int]) -> list[Any]:
    """Claim rows one by one with a conditional UPDATE (still pending and due); only the winner
    sends a row. Returns the rows won, as they are now."""
    won: list[int] = []
    for nid in ids:
        with engine.begin() as conn:
            if conn.execute(
                sa.update(NotificationRow)
                .where(col(NotificationRow.id) == nid, col(NotificationRow.status) == "pending",
                       col(NotificationRow.not_before) <= now)
                .values(status="claimed", claimed_by=INSTANCE, claimed_at=now,
                        attempts=NotificationRow.attempts + 1)
            ).rowcount == 1:
                won.append(nid)
    if not won:
        return []
    with engine.connect() as conn:
        return list(conn.execute(sa.select(NotificationRow).where(col(NotificationRow.id).in_(won))
                                 .order_by(col(NotificationRow.id))).all())


def _finish(engine: sa.Engine, ids: list[int], **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(NotificationRow).where(col(NotificationRow.id).in_(ids)).values(**values))


def _retry_after(exc: SlackApiError) -> int | None:
    if exc.response.status_code == 429:
        return int(exc.response.headers.get("Retry-After", exc.response.headers.get("retry-after", 1)))
    return None


def deliver(engine: sa.Engine, client: WebClient, org: Org, load: Callable[[int], Transfer | None],
            now: datetime, *, limit: int = 1000) -> int:
    """Send what is due, once each; returns how many notifications went out.

    Reminders and escalations for one recipient go out as one digest message; everything else
    is sent as it is. Each message's rows are claimed just before it is sent and marked sent
    only after Slack answered ok. A 429 puts that recipient's rows back until Retry-After has
    passed (counted from the answer) and carries on with other recipients; errors retrying
    cannot mend are recorded and reported once to the escalation contact.
    """
    started = time.monotonic()  # Retry-After counts from Slack's answer, not from ``now``
    _reclaim(engine, now)
    sent = 0
    items: dict[str, list[Any]] = {}
    for row in _due(engine, now, limit):
        if row.kind == "item":
            items.setdefault(row.recipient, []).append(row)
            continue
        for won in _claim(engine, now, [row.id]):  # claimed only when its turn has come
            sent += _attempt(engine, client, org, now, [won],
                             partial(_send, engine, client, org, load, won, now), started=started)
    for recipient, group in items.items():
        pages = (len(group) + DIGEST_ITEMS - 1) // DIGEST_ITEMS
        for i in range(0, len(group), DIGEST_ITEMS):
            page = _claim(engine, now, [r.id for r in group[i : i + DIGEST_ITEMS]])
            if not page:  # another instance sent them, or a 429 put them back
                continue
            payload = [dict(r.payload) for r in page]

            def post(recipient: str = recipient, payload: list[dict[str, Any]] = payload,
                     n: int = i // DIGEST_ITEMS + 1, pages: int = pages) -> tuple[str, str]:
                text = (f"{payload[0]['case_ref']}: {payload[0]['text']}" if len(payload) == 1
                        else f"{len(payload)} transfers need attention")
                resp = client.chat_postMessage(channel=recipient, text=text,
                                               blocks=blocks.digest(payload, page=n, pages=pages))
                return str(resp["channel"]), str(resp["ts"])

            sent += _attempt(engine, client, org, now, page, post, started=started)
    return sent


def _attempt(engine: sa.Engine, client: WebClient, org: Org, now: datetime, rows: list[Any],
             send: Callable[[], tuple[str, str] | None], *, started: float | None = None) -> int:
    ids = [r.id for r in rows]
    try:
        result = send()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or exc.response.status_code)
        wait = _retry_after(exc)
        if wait is not None:
            late = time.monotonic() - started if started is not None else 0.0
            until = now + timedelta(seconds=wait + late)
            _finish(engine, ids, status="pending", last_error="ratelimited",
                    attempts=NotificationRow.attempts - 1, not_before=until)
            with engine.begin() as conn:  # the recipient's other rows wait out Retry-After too
                conn.execute(sa.update(NotificationRow).where(
                    col(NotificationRow.recipient) == rows[0].recipient,
                    col(NotificationRow.status) == "pending", col(NotificationRow.not_before) < until,
                ).values(not_before=until))
            return 0
        permanent = error in PERMANENT_ERRORS or exc.response.status_code < 500
        log.warning("notification(s) %s (transfer %s) failed: %s", ids, rows[0].transfer_id, error)
        retry_at = now + timedelta(seconds=min(3600, 30 * 2 ** min(rows[0].attempts, 7)))
        _finish(engine, ids, status="failed" if permanent else "pending", last_error=error,
                not_before=retry_at)
        if permanent:
            _report_failure(engine, org, rows[0], error, now)
        return 0
    except Exception as exc:  # timeouts and connection errors that outlived the client's retries
        # Slack may have the message: like a send cut off by a crash, it is tried once more at
        # most, so a message is never duplicated more than once.
        twice = any((r.last_error or "").startswith(UNCERTAIN) for r in rows)
        log.warning("notification(s) %s (transfer %s) failed: %s%s", ids, rows[0].transfer_id,
                    type(exc).__name__, "; not resent" if twice else "")
        if twice:
            _finish(engine, ids, status="failed",
                    last_error=f"{UNCERTAIN} twice ({type(exc).__name__}); not resent, it may have arrived")
            return 0
        _finish(engine, ids, status="pending", last_error=f"{UNCERTAIN} {type(exc).__name__}",
                not_before=now + timedelta(seconds=min(3600, 30 * 2 ** min(rows[0].attempts, 7))))
        return 0
    _finish(engine, ids, status="sent", sent_at=now, last_error=None,
            channel=result[0] if result else None, ts=result[1] if result else None)
    return len(rows)


def next_due(engine: sa.Engine) -> datetime | None:
    """When the earliest pending notification may be sent (None when nothing is pending)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.min(NotificationRow.not_before)).where(
            col(NotificationRow.status) == "pending")).scalar()


def _report_failure(engine: sa.Engine, org: Org, row: Any, error: str, now: datetime) -> None:
    """Tell the escalation contact, once per recipient and error, that Baton cannot reach someone."""
    from store.repo import SqlUnitOfWork

    team = None
    with SqlUnitOfWork(engine) as uow:
        t = uow.transfers.get(row.transfer_id) if row.transfer_id else None
        team = t.holding_team if t else org.teams[0].id
        pack = org.pack_for(team)
        contact = org.contact(team, pack.escalation.levels[1].name)
        targets = [*(contact.users if contact else ()),
                   *((contact.channel,) if contact and contact.channel else ())]
        for target in targets:
            if target == row.recipient:
                continue
            uow.add_notification(
                key=f"failure:{row.recipient}:{error}:{target}", transfer_id=None, kind="dm",
                recipient=target,
                payload={"text": f"Baton cannot deliver to {row.recipient} ({error}). "
                                 "Check the org file and that the bot is in that channel."},
                not_before=now, now=now)
        uow.commit()


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
    if row.kind == "weekly":
        return _send_weekly(engine, client, org, row, payload)
    if row.kind == "dm":
        resp = client.chat_postMessage(channel=row.recipient, **payload)
        return str(resp["channel"]), str(resp["ts"])
    return None


def _send_weekly(engine: sa.Engine, client: WebClient, org: Org, row: Any,
                 payload: dict[str, Any]) -> tuple[str, str]:
    """Post the weekly summary to an escalation channel, then its chart as a PNG."""
    from datetime import date

    from bot.services import report
    from handlers.charts import digest_chart
    from store.repo import SqlUnitOfWork

    start, end = date.fromisoformat(payload["start"]), date.fromisoformat(payload["end"])
    with SqlUnitOfWork(engine) as uow:
        summary = report(uow, org, start=start, end=end)
    resp = client.chat_postMessage(channel=row.recipient, blocks=blocks.weekly_digest(summary),
                                   text=f"Transfers {start:%d %b} to {end:%d %b %Y}: {summary.opened} "
                                        f"opened, {summary.resolved} resolved, {summary.breached} breached")
    try:  # the summary is out: a failed chart must not make a retry post the summary again
        client.files_upload_v2(channel=row.recipient, content=digest_chart(summary),
                               filename=f"transfers-{end.isoformat()}.png",
                               title=f"Transfers by team, {start:%d %b} to {end:%d %b %Y}",
                               alt_txt="Bar chart of transfers opened, resolved and breached per team")
    except Exception as exc:
        log.warning("weekly chart for %s not uploaded: %s", row.recipient, exc)
    return str(resp["channel"]), str(resp["ts"])
