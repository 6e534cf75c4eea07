"""Typed commands in a person's 1:1 chat with Baton on Teams (``transfer new``, ``status``,
``history``, ``list``, an action by name, ``export``, ``cover``, ``closed``, ``lastteam``,
``agenda``, ``home``, ``help``), each answered with a card, as Slack's ``/transfer`` is answered.
A mixin of :class:`handlers.teams.app.TeamsApp`."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

from microsoft_teams.cards import AdaptiveCard

from bot import actions, guide, remit, services, views
from bot.domain import DomainError, local_date
from handlers import strangers
from handlers.common import (
    action_name,
    case_record,
    closed_text,
    closure_args,
    last_team_text,
    period,
    plain_command,
)
from handlers.teams import cards, search

if TYPE_CHECKING:
    from handlers.teams.app import TeamsDeps

MAX_COMMAND = 500
_AT = re.compile(r"<at>[^<]{0,200}</at>")


class Commands:
    """The TeamsApp's typed commands, its home card and its transfer cards."""

    deps: TeamsDeps

    def command(self, person: str | None, text: str, aad: str | None = None) -> AdaptiveCard:
        """The answer to a typed command, as a card."""
        deps = self.deps
        typed = actions.clean_text(_AT.sub("", text)).strip()
        if len(typed) > MAX_COMMAND:
            return cards.text_card(f"That is too long (keep it under {MAX_COMMAND} characters): give a "
                                   "word and a case reference, as `transfer help` shows.")
        words = typed.split()
        if words and words[0].lower() in ("transfer", "/transfer"):
            words = words[1:]
        sub = words[0].lower() if words else "help"
        if person is None or not deps.org.knows(person):
            return cards.help_card(strangers.on_teams(deps.org, person, aad))
        now = deps.clock()
        today = local_date(now)
        try:
            if sub in ("new", "headsup"):
                teams = deps.org.teams_of(person)
                if not teams:
                    return cards.text_card("You are not in any team in Baton's org file, so you cannot "
                                           "raise a transfer. Ask your administrator to add you.")
                pack = deps.org.pack_for(teams[0].id)
                if sub == "headsup" and not pack.early_heads_up:
                    return cards.text_card(f"The {pack.title} policy has no early heads up; "
                                           "use transfer new.")
                chosen = search.typed_team(deps.org, teams[0].id, words[1:])  # transfer new North PDU
                if isinstance(chosen, str) or chosen is None:
                    return cards.raise_card(pack, deps.org, teams[0].id, token=secrets.token_hex(16),
                                            heads_up=sub == "headsup",
                                            values={"receiving_team": chosen} if chosen else None)
                return cards.text_card(chosen[0] + f" Type transfer {sub} alone to choose from the card.")
            if sub == "home":
                return self.home(person, now)
            name = action_name(sub)
            if name is not None or sub in ("status", "history"):
                if len(words) < 2:
                    return cards.text_card(f"Give a case reference: transfer {sub} X123456.")
                with deps.uow() as u:
                    if sub == "status":
                        return self._card(services.status_card(u, deps.org, person, words[1], now), person)
                    if sub == "history":
                        t = services.history(u, deps.org, person, words[1], now)
                        return cards.history_card(t.case_ref, [
                            (views.when(ev.at), views.actor_part(ev.actor),
                             ev.kind.replace("_", " ") + (f": {ev.reason}" if ev.reason else ""))
                            for ev in views.history_events(t)], restricted=t.restricted, org=deps.org)
                    assert name is not None
                    t = services.load_for_action(u, deps.org, person, words[1], now)
                    form = services.form_for(u, deps.org, person, t.id or 0, name, now)
                return cards.form_card(form, deps.org, token=secrets.token_hex(16))
            if sub == "list":
                scope = words[1].lower() if len(words) > 1 else "mine"
                with deps.uow() as u:
                    rows = services.list_for(u, deps.org, person, scope, today)
                    records = services.record_duties(u, deps.org, person, scope, now)
                return cards.list_card(rows, title=f"Transfers: {scope}", today=today, org=deps.org,
                                       cal=services.calendar(deps.org), records=records)
            if sub == "export":
                frm, to = period(words[1:], today, plain_command)
                with deps.uow() as u:
                    services.request_export(u, deps.org, person, start=frm, end=to, now=now)
                deps.wake()
                return cards.text_card(f"Your export of transfers from {frm:%d %b %Y} to {to:%d %b %Y} is "
                                       "on its way to this chat as a CSV file: accept it when Teams asks.")
            if sub == "route":
                with deps.uow() as u:
                    return cards.text_card(remit.route_text(u, deps.org, person, words[1:], now,
                                                            command="transfer route").replace("`", ""))
            if sub == "record":
                with deps.uow() as u:
                    return cards.text_card(case_record(u, deps.org, person, words[1:], now,
                                                       plain_command))
            if sub in ("lastteam", "closed", "cover", "agenda"):
                return self.lookup(person, sub, words[1:], now)
        except DomainError as exc:
            return cards.text_card(str(exc))
        prefix = "" if sub == "help" else f"I don't know '{sub[:40]}'."
        return cards.help_card(prefix, guide.for_reader(deps.org, person))

    def lookup(self, person: str, sub: str, args: list[str], now: datetime) -> AdaptiveCard:
        """``transfer lastteam|closed|cover|agenda``, answered as Slack's /transfer answers them."""
        deps, today = self.deps, local_date(now)
        if sub == "agenda":
            with deps.uow() as u:
                items = services.agenda(u, deps.org, person, today)
            lines = [f"{t.case_ref}: {views.day(t.transfer_point_date)}; "
                     + ", ".join(f"{cl} {done}/{total}" for cl, done, total in counts)
                     for t, counts in items]
            return cards.text_card("\n".join(lines) or "No cases are ready for the transfer meeting.",
                                   title=f"Transfer meeting agenda, {today:%d %b %Y}: {len(items)} case(s)")
        if sub == "cover":
            who = args[0] if args else ""
            if len(args) != 3 or args[1].lower() != "until":
                return cards.text_card("Usage: transfer cover colleague@your.org until YYYY-MM-DD (or cover "
                                       "nobody until YYYY-MM-DD: your transfers go one level up).")
            try:
                until = date.fromisoformat(args[2])
            except ValueError:
                return cards.text_card(f"{args[2][:20]!r} is not a date; use YYYY-MM-DD.")
            cover = None if who.lower() == "nobody" else deps.org.person_by(email=who)
            if who.lower() != "nobody" and cover is None:
                return cards.text_card("Baton does not know that colleague: give their work e-mail as the "
                                       "org file names it.")
            with deps.uow() as u:
                services.set_cover(u, deps.org, person, cover, until, now)
            if cover is None:
                return cards.text_card(f"While you are away until {until:%d %b %Y}, what would come to you "
                                       "goes one level up.")
            return cards.rich_card(views.rich(views.Person(cover), f" covers your transfers until "
                                                                   f"{until:%d %b %Y}."), deps.org)
        if not args:
            return cards.text_card(f"Give a case reference: transfer {sub} X123456.")
        if sub == "lastteam":
            with deps.uow() as u:
                last = services.last_team_for(u, deps.org, person, args[0], now)
            return cards.text_card(last_team_text(last, deps.org, plain_command))
        on, team = closure_args(args[1:])
        with deps.uow() as u:
            c = services.record_closure(u, deps.org, person, args[0], now, team=team, on=on)
        return cards.text_card(closed_text(c, deps.org, plain_command))

    def home(self, person: str, now: datetime) -> AdaptiveCard:
        """The home card (the App Home's sections) for a person."""
        with self.deps.uow() as u:
            lists = services.home(u, self.deps.org, person, now)
        return cards.home_card(waiting=lists.waiting, holding=lists.outbound,
                               receiving=lists.inbound, today=local_date(now), org=self.deps.org,
                               cal=services.calendar(self.deps.org), escalated=lists.escalated,
                               records=lists.records)

    def _card(self, card: views.Card, person: str | None) -> AdaptiveCard:
        return cards.transfer_card(card, self.deps.org, refresh_users=self.deps.chat.refresh_users(person))
