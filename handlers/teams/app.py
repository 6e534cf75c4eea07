"""The Teams surface: Bot Connector activities at ``/api/messages``, answered from the same
services as Slack's listeners.

Every request is refused (401) unless its Bot Connector token checks out (handlers/teams/auth.py),
and (403) unless it comes from a tenant the org file names; nothing changes either way. Then:

- ``installationUpdate`` / ``conversationUpdate`` in a 1:1 chat: the person's conversation
  reference is kept, so Baton can message them first (and forgotten when they remove the app);
- ``message`` in the 1:1 chat: typed commands (``transfer new``, ``transfer status X123456``,
  ``transfer decline X123456`` ...), answered in that chat off the request thread;
- ``invoke`` ``adaptiveCard/action`` (Universal Actions): ``refresh`` redraws a card for whoever
  looks at it, ``open:ACTION`` answers with the action's form, ``submit:ACTION`` and ``raise``
  take the step through bot.services (errors go back on their fields), each answered with the
  card that person should now see. Services write the notices; delivery sends them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import sqlalchemy as sa
from microsoft_teams.api.activities import ActivityTypeAdapter
from microsoft_teams.cards import AdaptiveCard
from pydantic import ValidationError

from bot import actions, freetext, services, views
from bot.domain import DomainError, FormErrors, local_date
from bot.liveorg import LiveOrg
from bot.org import Org, UnknownTeam
from bot.ports import UnitOfWork
from handlers.common import (
    APOLOGY,
    SAVE_LATER,
    action_name,
    clip,
    closed_text,
    closure_args,
    last_team_text,
    period,
    plain_command,
)
from handlers.teams import cards
from handlers.teams.auth import BotConnectorAuth, Unauthorized
from handlers.teams.delivery import TeamsChat
from store import conversations
from store.conversations import ConversationRef

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger("baton.teams")
MAX_BODY = 256 * 1024
MAX_COMMAND = 500
TEAM_SCOPES = ("channel", "groupChat")  # installations beyond one person's 1:1 chat
CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
_AT = re.compile(r"<at>[^<]{0,200}</at>")


@dataclass
class TeamsDeps:
    """What the activity handler needs, injected (as Slack's listeners get theirs)."""

    live: LiveOrg
    uow: Callable[[], UnitOfWork]
    clock: Callable[[], datetime]
    engine: sa.Engine
    chat: TeamsChat
    auth: BotConnectorAuth | None  # None only under BATON_TEAMS_DEV_INSECURE_NO_AUTH
    wake: Callable[[], None] = lambda: None
    outage: Callable[[BaseException], bool] = lambda exc: False

    @property
    def org(self) -> Org:
        """The org in use now (a reload swaps it whole)."""
        return self.live.current


class Refused(Exception):
    """A request answered without being handled: its HTTP status and the reason logged."""

    def __init__(self, status: str, why: str) -> None:
        super().__init__(why)
        self.status = status


def _trouble(deps: TeamsDeps, exc: BaseException, where: str) -> str:
    if deps.outage(exc):
        log.warning("%s: the database is unreachable (%s)", where, type(exc).__name__)
        return SAVE_LATER
    log.error("%s failed: %s", where, type(exc).__name__)
    return APOLOGY


class TeamsApp:
    """A WSGI app for ``/api/messages``."""

    def __init__(self, deps: TeamsDeps, *, replies: ThreadPoolExecutor | None = None) -> None:
        self.deps = deps
        self.replies = replies or ThreadPoolExecutor(max_workers=4, thread_name_prefix="baton-teams")

    # ---- HTTP --------------------------------------------------------------------------------
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Check, parse and answer one activity."""
        try:
            status, body = self.handle(environ)
        except Refused as refused:
            log.warning("refused a request to /api/messages: %s (%s)", refused, refused.status[:3])
            status, body = refused.status, {"error": refused.status[4:].lower()}
        data = json.dumps(body).encode() if body is not None else b""
        start_response(status, [("Content-Type", "application/json; charset=utf-8"),
                                ("Content-Length", str(len(data)))])
        return [data]

    def handle(self, environ: WSGIEnvironment) -> tuple[str, dict[str, Any] | None]:
        """(status, JSON body) for one request; Refused when it is not Teams talking."""
        if environ.get("REQUEST_METHOD") != "POST":
            raise Refused("405 Method Not Allowed", "POST only")
        length = (environ.get("CONTENT_LENGTH") or "0").strip() or "0"
        if not length.isdigit() or int(length) > MAX_BODY:
            raise Refused("413 Content Too Large", "body too large or its length unreadable")
        raw = environ["wsgi.input"].read(int(length)) if int(length) else b""
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        service_url = data.get("serviceUrl") if isinstance(data, dict) else None
        if self.deps.auth is not None:  # the token first: nothing unsigned is even parsed further
            try:
                channel = data.get("channelId") if isinstance(data, dict) else None
                self.deps.auth.check(environ.get("HTTP_AUTHORIZATION"),
                                     service_url if isinstance(service_url, str) else None,
                                     channel if isinstance(channel, str) else None)
            except Unauthorized as exc:
                raise Refused("401 Unauthorized", str(exc)) from None
        if not isinstance(data, dict):
            raise Refused("400 Bad Request", "body is not a JSON object")
        try:
            activity = ActivityTypeAdapter.validate_python(data)
        except ValidationError:
            raise Refused("400 Bad Request", "not an activity Baton knows") from None
        tenant = (activity.conversation.tenant_id if activity.conversation else None) or _tenant_of(data)
        if not tenant or tenant not in self.deps.org.tenants:
            raise Refused("403 Forbidden", "activity from a tenant the org file does not name")
        kind = data.get("type")
        if kind == "invoke":
            return "200 OK", self.invoke(data)
        if not self._first(str(data.get("id") or "")):
            return "200 OK", None  # a redelivery: acknowledged, not handled twice
        if kind in ("installationUpdate", "conversationUpdate"):
            self.installed(data)
        elif kind == "message":
            person = self.person(data)
            self.replies.submit(self._reply_safely, data, person)
        return "200 OK", None

    def _first(self, activity_id: str) -> bool:
        if not activity_id:
            return True
        key = "teams:" + (activity_id if len(activity_id) <= 50 else
                          hashlib.sha256(activity_id.encode()).hexdigest()[:50])
        with self.deps.uow() as u:
            return u.first_delivery(key, self.deps.clock())

    # ---- who is talking ------------------------------------------------------------------------
    def person(self, data: dict[str, Any]) -> str | None:
        """The org file's id of whoever sent an activity (by Entra object id, else the kept reference)."""
        sender = data.get("from") or {}
        found = self.deps.org.person_by(entra_id=sender.get("aadObjectId"))
        if found is None and sender.get("id"):
            ref = conversations.of_user(self.deps.engine, str(sender["id"]))
            found = ref.person if ref else None
        return found

    def installed(self, data: dict[str, Any]) -> None:
        """Keep (or forget) a person's 1:1 conversation reference from an installation update."""
        conv = data.get("conversation") or {}
        scope = self._scope(data)
        if scope is not None:
            self._scope_changed(data, scope)
            return
        if conv.get("conversationType") not in (None, "personal"):
            return  # someone else joined or left a team or group chat: nothing for Baton to keep
        person = self.person(data)
        if person is None:
            log.info("Teams app installed by someone the org file does not name")
            return
        removed = data.get("action") == "remove" or (
            data.get("type") == "conversationUpdate" and data.get("membersRemoved"))
        if removed:
            conversations.forget(self.deps.engine, person)
            return
        sender = data.get("from") or {}
        self.replies.submit(self._welcome, data, person)
        conversations.save(self.deps.engine, ConversationRef(
            person=person, conversation_id=str(conv.get("id")), service_url=str(data.get("serviceUrl")),
            tenant_id=str(conv.get("tenantId") or _tenant_of(data)),
            user_id=str(sender.get("id") or ""), aad_object_id=sender.get("aadObjectId")), self.deps.clock())

    def _scope(self, data: dict[str, Any]) -> list[str] | None:
        """The places an install or removal beyond one person covers: the whole tenant (the
        conversation is the tenant itself), or a team (its id and the channel it came from); None when it is
        one person's (their 1:1 chat) or someone else joining or leaving a team."""
        conv = data.get("conversation") or {}
        if data.get("type") == "installationUpdate" and data.get("action") in ("add", "remove"):
            tenant = _tenant_of(data) or ""
            if conv.get("id") in (None, "", tenant) or conv.get("conversationType") == "tenant":
                return [tenant]  # the tenant as a whole: no 1:1 chat, no team
            if conv.get("conversationType") not in TEAM_SCOPES:
                return None
        elif data.get("type") == "conversationUpdate" and conv.get("conversationType") in TEAM_SCOPES:
            bot = str((data.get("recipient") or {}).get("id") or "")
            if not any(m.get("id") == bot for m in data.get("membersRemoved") or []):
                return None  # a colleague left the team: the bot still posts there
        else:
            return None
        team = str(((data.get("channelData") or {}).get("team") or {}).get("id") or "")
        return [team, str(conv.get("id") or "").split(";", 1)[0]]

    def _scope_changed(self, data: dict[str, Any], places: list[str]) -> None:
        """The app removed from (or added back to) a team or the tenant: Teams delivery there
        stops, its notices waiting in the outbox, until it is added back (as Slack's
        app_uninstalled); nothing is forgotten."""
        removed = data.get("action") == "remove" or data.get("type") == "conversationUpdate"
        kind = conversations.REMOVED if removed else conversations.ADDED
        conversations.record_scope(self.deps.engine, kind, places, self.deps.clock())
        log.warning("teams_app_removed" if removed else "teams_app_added",
                    extra={"scope": "tenant" if len(places) == 1 else "team",
                           "effect": "delivery there waits until the app is added back" if removed
                           else "delivery there resumes"})
        if not removed:
            self.deps.wake()

    def _welcome(self, data: dict[str, Any], person: str) -> None:
        """The home card, once the app is added (Teams' equivalent of opening the App Home)."""
        conv = str((data.get("conversation") or {}).get("id") or "")
        try:
            card = self.home(person, self.deps.clock())
            self.deps.chat.client.call("POST", str(data.get("serviceUrl")),
                                       f"/v3/conversations/{quote(conv, safe=':@.;=')}/activities",
                                       {"type": "message", "attachments": [cards.attachment(card)]},
                                       conversation=conv)
        except Exception as exc:
            log.warning("could not welcome a Teams user (%s)", type(exc).__name__)

    # ---- typed commands in the 1:1 chat ----------------------------------------------------------
    def _reply_safely(self, data: dict[str, Any], person: str | None) -> None:
        conv = str((data.get("conversation") or {}).get("id") or "")
        try:
            card = self.command(person, str(data.get("text") or ""))
        except Exception as exc:
            card = cards.text_card(_trouble(self.deps, exc, "a Teams command"))
        try:
            self.deps.chat.client.call(
                "POST", str(data.get("serviceUrl")),
                f"/v3/conversations/{quote(conv, safe=':@.;=')}/activities/{quote(str(data.get('id')))}",
                {"type": "message", "replyToId": data.get("id"), "attachments": [cards.attachment(card)]},
                conversation=conv)
        except Exception as exc:
            log.warning("could not answer a Teams command (%s)", type(exc).__name__)

    def command(self, person: str | None, text: str) -> AdaptiveCard:
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
            return cards.help_card("Baton does not know you yet: ask your administrator to add your work "
                                   "e-mail to the org file.")
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
                return cards.raise_card(pack, deps.org, teams[0].id, token=secrets.token_hex(16),
                                        heads_up=sub == "headsup")
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
                return cards.list_card(rows, title=f"Transfers: {scope}", today=today, org=deps.org,
                                       cal=services.calendar(deps.org))
            if sub == "export":
                frm, to = period(words[1:], today, plain_command)
                with deps.uow() as u:
                    services.request_export(u, deps.org, person, start=frm, end=to, now=now)
                deps.wake()
                return cards.text_card(f"Your export of transfers from {frm:%d %b %Y} to {to:%d %b %Y} is "
                                       "on its way to this chat as a CSV file: accept it when Teams asks.")
            if sub in ("lastteam", "closed", "cover", "agenda"):
                return self.lookup(person, sub, words[1:], now)
        except DomainError as exc:
            return cards.text_card(str(exc))
        prefix = "" if sub == "help" else f"I don't know '{sub[:40]}'."
        return cards.help_card(prefix)

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
        on, team = closure_args(args[1:3])
        with deps.uow() as u:
            c = services.record_closure(u, deps.org, person, args[0], now, team=team, on=on)
        return cards.text_card(closed_text(c, deps.org, plain_command))

    def home(self, person: str, now: datetime) -> AdaptiveCard:
        """The home card (the App Home's sections) for a person."""
        with self.deps.uow() as u:
            lists = services.home(u, self.deps.org, person, now)
        return cards.home_card(waiting=lists.waiting, holding=lists.outbound,
                               receiving=lists.inbound, today=local_date(now), org=self.deps.org,
                               cal=services.calendar(self.deps.org))

    def _card(self, card: views.Card, person: str | None) -> AdaptiveCard:
        return cards.transfer_card(card, self.deps.org, refresh_users=self.deps.chat.refresh_users(person))

    # ---- Universal Actions ---------------------------------------------------------------------
    def file_consent(self, data: dict[str, Any]) -> dict[str, Any]:
        """The reader accepted (or declined) a file: upload it to their OneDrive and show it in
        the chat, or drop it. Only the person it was held for can take it, once."""
        from microsoft_teams.api.models.file import FileConsentCardResponse

        from handlers.teams.delivery import FILE_INFO

        person = self.person(data)
        try:
            answer = FileConsentCardResponse.model_validate(data.get("value") or {})
        except ValidationError:
            return {"status": 400}
        token = str((answer.context or {}).get("token") or "") if isinstance(answer.context, dict) else ""
        held = conversations.take_file(self.deps.engine, token, person) if person and token else None
        if held is None:
            return {"status": 200}  # already taken, declined, expired, or someone else's
        conv = held.conversation_id
        path = f"/v3/conversations/{quote(conv, safe=':@.;=')}/activities"
        service = str(data.get("serviceUrl"))
        if answer.action != "accept" or answer.upload_info is None or not answer.upload_info.upload_url:
            self.deps.chat.client.call("POST", service, path, {
                "type": "message", "text": "The export was not sent.", "textFormat": "plain"},
                conversation=conv)
            return {"status": 200}
        info = answer.upload_info
        self.deps.chat.upload(str(info.upload_url), held.content.encode())
        shown = {"contentType": FILE_INFO, "contentUrl": info.content_url, "name": info.name or held.filename,
                 "content": {"uniqueId": info.unique_id, "fileType": info.file_type or "csv"}}
        self.deps.chat.client.call("POST", service, path, {"type": "message", "attachments": [shown]},
                                   conversation=conv)
        return {"status": 200}

    def invoke(self, data: dict[str, Any]) -> dict[str, Any]:
        """The invoke response: the card this person should now see (or an error)."""
        if data.get("name") == "fileConsent/invoke":
            try:
                return self.file_consent(data)
            except Exception as exc:
                _trouble(self.deps, exc, "Teams file consent")
                return {"status": 500}
        if data.get("name") in ("task/fetch", "task/submit"):
            return self.dialog(data)
        if data.get("name") != "adaptiveCard/action":
            return {"status": 200}
        action = (data.get("value") or {}).get("action") or {}
        verb = str(action.get("verb") or "")
        got = action.get("data")
        values: dict[str, Any] = got if isinstance(got, dict) else {}
        person = self.person(data)
        if person is None or not self.deps.org.knows(person):
            return _answer(cards.text_card("Baton does not know you yet: ask your administrator to add "
                                           "your work e-mail to the org file."))
        try:
            tid = int(values.get("transfer_id") or 0)
        except (TypeError, ValueError):
            tid = 0
        try:
            if verb == "refresh":
                return _answer(self.current(person, tid))
            kind, _, name = verb.partition(":")
            if kind in (cards.RAISE, cards.HEADSUP):
                return _answer(self.raised(person, name, values, heads_up=kind == cards.HEADSUP))
            if kind == "open" and name in actions.BY_NAME:
                return _answer(self.open_form(person, tid, name))
            if kind == "submit" and name in actions.BY_NAME:
                return _answer(self.submitted(person, tid, name, values))
        except Exception as exc:
            return _answer(cards.text_card(_trouble(self.deps, exc, f"Teams {verb.partition(':')[0]}")))
        return {"statusCode": 400, "type": "application/vnd.microsoft.error",
                "value": {"code": "BadRequest", "message": "Baton does not know that action."}}

    def dialog(self, data: dict[str, Any]) -> dict[str, Any]:
        """A form as a dialog: ``task/fetch`` (a card button with ``verb`` open:ACTION) answers
        with the action's form; ``task/submit`` takes the step, or keeps the dialog open with
        each error on its field; done (or refused), the dialog says so and closes."""
        got = (data.get("value") or {}).get("data")
        values: dict[str, Any] = got if isinstance(got, dict) else {}
        values = {k: v for k, v in values.items() if k != "msteams"}
        kind, _, name = str(values.get("verb") or "").partition(":")
        person = self.person(data)
        if person is None or not self.deps.org.knows(person):
            return cards.dialog_message("Baton does not know you yet: ask your administrator to add "
                                        "your work e-mail to the org file.")
        if name not in actions.BY_NAME or kind != ("open" if data.get("name") == "task/fetch" else "submit"):
            return cards.dialog_message("Baton does not know that action.")
        try:
            tid = int(values.get("transfer_id") or 0)
        except (TypeError, ValueError):
            tid = 0
        title = actions.action(name).title
        try:
            if kind == "open":
                with self.deps.uow() as u:
                    form = services.form_for(u, self.deps.org, person, tid, name, self.deps.clock())
                return cards.dialog(cards.form_card(form, self.deps.org, token=secrets.token_hex(16),
                                                    dialog=True), title)
            typed = {k: v for k, v in values.items() if k != "verb"}
            again, card = self.submit_step(person, tid, name, typed, dialog=True)
        except DomainError as exc:
            return cards.dialog_message(str(exc))
        except Exception as exc:
            return cards.dialog_message(_trouble(self.deps, exc, "a Teams dialog"))
        if again:
            return cards.dialog(card, title)
        return cards.dialog_message(f"{title}: done. The card shows where the transfer stands now.")

    def current(self, person: str, tid: int, problem: str | None = None) -> AdaptiveCard:
        """The transfer's card as this person may see it now, with ``problem`` on top."""
        now = self.deps.clock()
        with self.deps.uow() as u:
            t = u.transfers.get(tid)
            card = services.message_card(u, self.deps.org, t, person, now) if t else None
        if card is None:
            return cards.text_card(problem or "You are not on this transfer, or it is no longer there.")
        if problem:
            card = replace(card, headline=(problem, *card.headline))
        return self._card(card, person)

    def open_form(self, person: str, tid: int, name: str) -> AdaptiveCard:
        """An action's form for this person, or their card saying why not (redrawn as it is now)."""
        now = self.deps.clock()
        try:
            with self.deps.uow() as u:
                form = services.form_for(u, self.deps.org, person, tid, name, now)
        except DomainError as exc:
            return self.current(person, tid, str(exc))
        return cards.form_card(form, self.deps.org, token=secrets.token_hex(16))

    def _warnings(self, person: str, form: str, values: dict[str, Any], fields: Iterable[str]
                  ) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in fields:
            text = values.get(name)
            found = freetext.looks_personal(text) if isinstance(text, str) else []
            if not found:
                continue
            with self.deps.uow() as u:
                if not u.first_warning(freetext.confirmation_key(person, form, name, str(text)),
                                       self.deps.clock()):
                    continue
            out[name] = clip(freetext.warning(found), 150)
        return out

    def _form_values(self, a: actions.Action, tid: int, person: str, values: dict[str, Any]
                     ) -> dict[str, Any]:
        """Submitted card values as the core reads a form: lists for several choices, people by
        their org-file id (Teams' people picker gives an Entra object id)."""
        out: dict[str, Any] = {}
        with self.deps.uow() as u:
            t = u.transfers.get(tid)
        pack = self.deps.org.pack_for(t.holding_team) if t else None
        for f in actions.form_fields(a, pack) if pack else ():
            v = values.get(f.name)
            if f.kind == actions.FieldKind.items:
                out[f.name] = [x for x in str(v or "").split(",") if x]
            elif f.kind == actions.FieldKind.person and v:
                out[f.name] = self.deps.org.person_by(entra_id=str(v)) or str(v)
            else:
                out[f.name] = v if v not in ("",) else None
        return out

    def submitted(self, person: str, tid: int, name: str, values: dict[str, Any]) -> AdaptiveCard:
        """Take the step from a submitted form card; errors go back on their fields."""
        return self.submit_step(person, tid, name, values)[1]

    def submit_step(self, person: str, tid: int, name: str, values: dict[str, Any], *,
                    dialog: bool = False) -> tuple[bool, AdaptiveCard]:
        """(whether the form comes back, with its errors; the card to show): the step taken from
        a submitted form, or the form again with each error on its field."""
        deps, now = self.deps, self.deps.clock()
        token = str(values.get("token") or "") or None
        a = actions.action(name)
        typed = {k: v for k, v in values.items() if k not in ("transfer_id", "token")}

        def again(errors: dict[str, str] | None = None, problem: str | None = None
                  ) -> tuple[bool, AdaptiveCard]:
            try:
                with deps.uow() as u:
                    form = services.form_for(u, deps.org, person, tid, name, now)
            except DomainError as exc:
                return False, self.current(person, tid, str(exc))
            return True, cards.form_card(form, deps.org, token=token or secrets.token_hex(16),
                                         errors=errors, values=typed, problem=problem, dialog=dialog)

        warnings = self._warnings(person, f"teams:{name}:{tid}", typed,
                                  [k for k, v in typed.items() if isinstance(v, str) and " " in v])
        if warnings:
            return again(warnings)
        try:
            parsed = self._form_values(a, tid, person, typed)
            with deps.uow() as u:
                services.submit(u, deps.org, person, tid, name, parsed, now, token=token)
        except services.AlreadySaved:
            return False, self.current(person, tid)
        except FormErrors as exc:
            return again({f: clip(m, 150) for f, m in exc.errors.items()})
        except services.LostRace as race:
            deps.wake()
            return False, self.current(person, tid, str(race))
        except DomainError as exc:
            if exc.field and exc.field in typed:
                return again({exc.field: clip(str(exc), 150)})
            return False, self.current(person, tid, str(exc))
        except Exception as exc:
            if token and self._saved(token):
                deps.wake()
                return False, self.current(person, tid)
            return again(problem=_trouble(deps, exc, f"{name} form"))
        deps.wake()
        return False, self.current(person, tid)

    def _saved(self, token: str) -> bool:
        try:
            with self.deps.uow() as u:
                return u.submitted(token)
        except Exception:
            return False

    def raised(self, person: str, holding: str, values: dict[str, Any], *, heads_up: bool) -> AdaptiveCard:
        """Raise a transfer (or give a heads up) from the raise card."""
        deps, now = self.deps, self.deps.clock()
        token = str(values.get("token") or "") or None
        typed = {k: v for k, v in values.items() if k != "token"}
        try:
            pack = deps.org.pack_for(holding)
        except UnknownTeam:
            return cards.text_card("That form is out of date: type transfer new again.")

        def again(errors: dict[str, str]) -> AdaptiveCard:
            return cards.raise_card(pack, deps.org, holding, token=token or secrets.token_hex(16),
                                    heads_up=heads_up, errors=errors, values=typed)

        warnings = self._warnings(person, f"teams:raise:{holding}", typed,
                                  ("funding_note", "urgent_reason", "siblings_reason"))
        if warnings:
            return again(warnings)

        def many(name: str) -> tuple[str, ...]:
            return tuple(x for x in str(typed.get(name) or "").split(",") if x)

        def day(name: str) -> date | None:
            got = typed.get(name)
            try:
                return date.fromisoformat(str(got).strip()) if got and str(got).strip() else None
            except ValueError:
                raise DomainError("That is not a date: choose one from the calendar.", field=name) from None

        def text(name: str) -> str | None:
            got = typed.get(name)
            return str(got) if got and str(got).strip() else None

        shown = {getattr(el, "id", None) for el in again({}).body or []}
        try:
            excluded = tuple(self.deps.org.person_by(entra_id=p) or p for p in many("excluded"))
            req = services.RaiseRequest(
                case_ref=str(typed.get("case_ref") or ""),
                receiving_team=str(typed.get("receiving_team") or ""),
                kind=str(typed.get("kind") or "permanent"), holding_team=holding,
                transfer_point=text("transfer_point"),
                transfer_point_date=day("transfer_point_date"),
                move_date=day("move_date"), move_end_date=day("move_end_date"),
                order_date=day("order_date"), accommodated_on=day("accommodated_on"),
                linked_refs=services.case_refs(text("linked_refs")), siblings_reason=text("siblings_reason"),
                flags=many("flags"), funding_note=text("funding_note"),
                confirmed=tuple((c.split(":", 1)[0], c.split(":", 1)[1])
                                for c in many("checklist") if ":" in c),
                urgent_reason=text("urgent_reason"), heads_up=heads_up,
                restricted=bool(many("restricted")), excluded=excluded)
            with deps.uow() as u:
                t = services.raise_transfer(u, deps.org, person, req, now, token=token)
        except services.AlreadySaved:
            return cards.text_card("That form was sent already.")
        except (DomainError, UnknownTeam) as exc:
            field = "receiving_team" if isinstance(exc, UnknownTeam) else (exc.field or "case_ref")
            if field == "checklist" and field not in shown and "urgent_reason" in shown:
                field = "urgent_reason"  # no checklist on this person's form: the reason instead
            if field not in shown:  # about the request as a whole: under the case reference
                field = "case_ref"
            return again({field: clip(str(exc), 150)})
        except Exception as exc:
            if token and self._saved(token):
                deps.wake()
                return cards.text_card("Saved.")
            return again({"case_ref": _trouble(deps, exc, "raise form")})
        deps.wake()
        return self.current(person, t.id or 0)


def _tenant_of(data: dict[str, Any]) -> str | None:
    tenant = ((data.get("channelData") or {}).get("tenant") or {}).get("id")
    return str(tenant) if tenant else None


def _answer(card: AdaptiveCard) -> dict[str, Any]:
    """An invoke response carrying a card that replaces the one acted on (for this person)."""
    return {"statusCode": 200, "type": CARD_RESPONSE,
            "value": card.model_dump(mode="json", exclude_none=True, by_alias=True)}
