"""Digests: the lines of reminders and escalations for one reader, as delivery builds and
redraws them (a mixin of :class:`scheduler.delivery.Delivery`). Each line says what the obligation
model says now (bot/reminders.py), keeps only the buttons still asked of its reader, and links to
the reader's own card of the case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from bot import actions, reminders, services, views
from bot.domain import local_date
from bot.org import Org
from bot.ports import Chat, UnitOfWork
from store import outbox

DIGEST_ITEMS = 45  # cases per message: one block each plus a header stays inside Slack's 50


def viewer_of(purpose: str) -> str | None:
    """Who reads a card posted for ``purpose`` ('dm:U123' -> U123; a channel: nobody in particular)."""
    kind, _, rest = purpose.partition(":")
    who = rest.split(":", 1)[0]
    return None if kind in CHANNEL_REFS or not who else who


# Why a person holds a card, from the card's message reference; channels get no buttons.
CHANNEL_REFS = ("channel",)


class Digests:
    """Building and redrawing digests; the delivery it is part of gives the engine, org, chat and
    units of work."""

    engine: sa.Engine
    chat: Chat
    uow: Callable[[], UnitOfWork]

    @property
    def org(self) -> Org:
        """The org in use now (given by the delivery)."""
        raise NotImplementedError

    def _digest(self, rows: list[Any], page: int, pages: int) -> views.Digest:
        """One line per case: the texts of all its due steps, and the actions they offer."""
        merged: dict[Any, tuple[str, int, list[str], list[str]]] = {}
        for r in rows:
            p = dict(r.payload or {})
            tid = int(p.get("transfer_id") or 0)
            case = merged.setdefault(r.transfer_id or f"row{r.id}", (str(p.get("case_ref", "")), tid, [], []))
            if p.get("text") and p["text"] not in case[2]:
                case[2].append(str(p["text"]))
            for n in p.get("actions") or ([p["button"]] if p.get("button") else []):
                if n in actions.BY_NAME and n not in case[3]:
                    case[3].append(n)
        records = {r.transfer_id or f"row{r.id}" for r in rows if (r.payload or {}).get("record")}
        out = tuple(views.DigestItem(ref, tid, "\n".join(texts),
                                     tuple(views.Button(n, actions.BY_NAME[n].label, tid) for n in names),
                                     record=key in records)
                    for key, (ref, tid, texts, names) in merged.items())
        return views.Digest(out, page=page, pages=pages)

    def _digest_again(self, ref: Any, now: datetime) -> views.Digest | None:
        """A digest as it should read now: the same lines, but only the buttons still asked of
        its reader (an ask already answered, such as a delay reason or an endorsement recorded
        since, or a step this person may no longer take, loses its button)."""
        rows = outbox.items_at(self.engine, ref.channel, ref.ts)
        if not rows:
            return None
        viewer = viewer_of(ref.purpose)
        return self._linked(self._as_now(self._digest(rows, 1, 1), rows, viewer, now),
                            viewer or ref.channel)

    def _as_now(self, old: views.Digest, rows: list[Any], viewer: str | None,
                now: datetime) -> views.Digest:
        """A digest's lines as the obligation model says them now (who must do what, for this
        reader; bot/reminders.py), with only the buttons still asked of the reader."""
        items = []
        today = local_date(now)
        with self.uow() as u:  # the page's transfers in one read, not one read a line
            found = u.transfers.get_many([i.transfer_id for i in old.items if i.transfer_id])
            covers = u.covers.active_on(today)
            for item in old.items:
                t = found.get(item.transfer_id) if item.transfer_id else None
                mine = [r for r in rows if r.transfer_id == item.transfer_id]
                asked = min((r.created_at for r in mine), default=now)
                kept = tuple(b for b in item.buttons
                             if t is not None and self._still_asked(u, t, b.action, viewer, asked, now))
                texts = [self._line_now(t, dict(r.payload or {}), viewer, today, covers) for r in mine]
                text = "\n".join(dict.fromkeys(x for x in texts if x)) or item.text
                items.append(replace(item, text=text, buttons=kept))
        return views.Digest(tuple(items), page=old.page, pages=old.pages)

    def _line_now(self, t: Any, payload: dict[str, Any], viewer: str | None, today: date,
                  covers: list[Any]) -> str:
        """One step's line about ``t`` as it should read today (as written, when it names no
        obligation: an adopted transfer's line, a restricted transfer's brief line)."""
        if t is None or "step_text" not in payload:
            return str(payload.get("text") or "")
        return reminders.line_now(t, self.org.pack_for(t.holding_team), self.org,
                                  services.calendar(self.org), today, str(payload.get("clock", "")),
                                  viewer, str(payload["step_text"]), covers=covers,
                                  clocks=services.transfer_deadlines(self.org, t))

    def _linked(self, digest: views.Digest, reader: str) -> views.Digest:
        """Each line links to the reader's card of its case (never a second copy of the card):
        the page's card references in one read."""
        held = self._held_many([i.transfer_id for i in digest.items if i.transfer_id], reader)
        items = []
        for item in digest.items:
            ref = held.get(item.transfer_id) if item.transfer_id else None
            link = self.chat.link(ref.channel, ref.ts) if ref is not None else None
            items.append(replace(item, link=link or ""))
        return replace(digest, items=tuple(items))

    def _still_asked(self, u: UnitOfWork, t: Any, name: str, viewer: str | None, asked: datetime,
                     now: datetime) -> bool:
        a = actions.BY_NAME[name]
        if any(ev.kind == a.event and ev.at >= asked for ev in t.timeline):
            return False  # answered since the digest asked
        pack, today = self.org.pack_for(t.holding_team), local_date(now)
        clocks = services.transfer_deadlines(self.org, t)
        if viewer is None or viewer.startswith("C"):  # a channel: whoever reads it may act
            return t.state in a.states and actions.offered_now(a, t, pack, clocks, today)
        actor = services.actor_for(u, self.org, t, viewer, today)
        return a in actions.available(t, actor, pack, clocks=clocks, today=today)

    def _held_many(self, transfer_ids: list[int], recipient: str) -> dict[int, Any]:
        """:meth:`_held` for several transfers, in one read."""
        out: dict[int, Any] = {}
        for r in outbox.refs_of_many(self.engine, transfer_ids):
            if (not r.purpose.startswith("digest:") and r.purpose.split(":", 2)[1:2] == [recipient]
                    and r.transfer_id not in out):
                out[r.transfer_id] = r
        return out
