"""Answers to the /transfer look-ups (list, status, history, export, agenda, cover, help ...) and
the ``cover`` arguments they read. Moved out of handlers/slack/app.py, which re-exports them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot import guide, remit, services
from bot.domain import DomainError, local_date
from handlers.common import (
    case_record,
    closed_text,
    closure_args,
    last_team_text,
    period,
)
from handlers.slack import blocks
from handlers.slack.deps import Deps

_COVER = re.compile(r"^(?:<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|@?([UW][A-Z0-9]{2,})|nobody)\s+until\s+(\S+)$",
                    re.IGNORECASE)


@dataclass(frozen=True)
class CoverArgs:
    """``/transfer cover`` arguments: who covers (None: nobody) and until when (as typed)."""

    who: str | None
    until: str


def cover_args(text: str) -> CoverArgs | None:
    """Who covers and until when, from Slack's escaped mention (<@U123|name>), a member id as
    people type it (@U0SPP1 or U0SPP1), or ``nobody``."""
    m = _COVER.match(text.strip())
    if not m:
        return None
    who = m.group(1) or m.group(2)
    return CoverArgs(who.upper() if who else None, m.group(3))


def _lookup(deps: Deps, user: str, sub: str, args: list[str]) -> dict[str, Any]:
    """Answers to /transfer list|status|history|cover|help, as message kwargs."""
    today = local_date(deps.clock())
    cal = services.calendar(deps.org)
    try:
        if sub == "list":
            scope = args[0].lower() if args else "mine"
            with deps.uow() as u:
                rows = services.list_for(u, deps.org, user, scope, today)
                records = services.record_duties(u, deps.org, user, scope, deps.clock())
            return {"text": f"{len(rows)} transfer(s)" + (f", {len(records)} case record duties"
                                                          if records else ""),
                    "blocks": blocks.summary_list(rows, today=today, cal=cal, org=deps.org,
                                                  title=f"Transfers: {scope}", records=records)}
        if sub in ("status", "history"):
            if not args:
                return {"text": f"Give a case reference: `/transfer {sub} X123456`."}
            with deps.uow() as u:
                if sub == "history":
                    t = services.history(u, deps.org, user, args[0], deps.clock())
                    return {"text": f"History of {t.case_ref}", "blocks": blocks.timeline_blocks(t, deps.org)}
                return blocks.render(services.status_card(u, deps.org, user, args[0], deps.clock()))
        if sub == "export":
            frm, to = period(args, today)
            with deps.uow() as u:
                services.request_export(u, deps.org, user, start=frm, end=to, now=deps.clock())
            deps.wake()
            return {"text": f"Your export of transfers from {frm:%d %b %Y} to {to:%d %b %Y} is on "
                            "its way to your direct messages with Baton, as a CSV file."}
        if sub == "agenda":
            with deps.uow() as u:
                items = services.agenda(u, deps.org, user, today)
            return {"text": f"Transfer meeting agenda: {len(items)} case(s)",
                    "blocks": blocks.agenda_blocks(items, today=today, org=deps.org,
                                                   title=f"Transfer meeting agenda, {today:%d %b %Y}")}
        if sub == "lastteam":
            if not args:
                return {"text": "Give a case reference: `/transfer lastteam X123456`."}
            with deps.uow() as u:
                last = services.last_team_for(u, deps.org, user, args[0], deps.clock())
            return {"text": last_team_text(last, deps.org)}
        if sub == "route":
            with deps.uow() as u:
                return {"text": blocks.escape(remit.route_text(u, deps.org, user, args, deps.clock()))}
        if sub == "record":
            with deps.uow() as u:
                return {"text": blocks.escape(case_record(u, deps.org, user, args, deps.clock()))}
        if sub == "closed":
            if not args:
                return {"text": "Give a case reference: `/transfer closed X123456` (add a date "
                                "YYYY-MM-DD if it closed earlier, and the team if you manage several)."}
            on, team = closure_args(args[1:])
            with deps.uow() as u:
                c = services.record_closure(u, deps.org, user, args[0], deps.clock(), team=team, on=on)
            return {"text": closed_text(c, deps.org)}
        if sub == "cover":
            m = cover_args(" ".join(args))
            if not m:
                return {"text": "Usage: `/transfer cover @colleague until YYYY-MM-DD` (or `cover nobody "
                                "until YYYY-MM-DD`: your transfers go one level up while you are away). "
                                "Pick the colleague from Slack's @ list, or type their member id "
                                "(@U0SPP1)."}
            try:
                until = date.fromisoformat(m.until)
            except ValueError:
                return {"text": f"{m.until!r} is not a date; use YYYY-MM-DD."}
            with deps.uow() as u:
                services.set_cover(u, deps.org, user, m.who, until, deps.clock())
            if m.who is None:
                return {"text": f"While you are away until {until:%d %b %Y}, what would come to you "
                                "goes one level up."}
            return {"text": f"<@{m.who}> covers your transfers until {until:%d %b %Y}."}
    except DomainError as exc:  # it may quote what the person typed: escaped like all user text
        return {"text": blocks.escape(str(exc))}
    prefix = "" if sub == "help" else f"I don't know `{blocks.escape(sub)}`. "
    more = sub == "help" and bool(args) and args[0].lower() in ("more", "all")
    return {"text": prefix + "Here is what /transfer can do.",
            "blocks": blocks.help_blocks(guide.for_reader(deps.org, user), more=more)}
