"""The Teams surface: Bot Connector activities at ``/api/messages``, answered from the same
services as Slack's listeners.

Every request is refused (401) unless its Bot Connector token checks out (handlers/teams/auth.py),
(400/403) unless it is an activity from the ``msteams`` channel with a serviceUrl
(handlers/teams/wire.py reads it from the raw JSON, leniently), and (403) unless it comes from a
tenant the org file names; nothing changes either way. Each request logs one ``teams_request``
line. Then (installations, the serviceUrl of each place and file consent in
handlers/teams/lifecycle.py):

- ``installationUpdate`` / ``conversationUpdate`` in a 1:1 chat: the person's conversation
  reference is kept, so Baton can message them first (and forgotten when they remove the app);
- ``message`` in the 1:1 chat: typed commands (``transfer new``, ``transfer status X123456``,
  ``transfer decline X123456`` ...), answered in that chat off the request thread;
- ``invoke`` ``adaptiveCard/action`` (Universal Actions): ``refresh`` (and anything Teams sends
  with ``"trigger": "automatic"``, when someone opens a card) redraws it for whoever looks at it,
  ``open:ACTION`` answers with the action's form, ``submit:ACTION`` and ``raise``
  take the step through bot.services (errors go back on their fields), each answered with the
  card that person should now see. Services write the notices; delivery sends them.
"""

from __future__ import annotations

import contextvars
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

import sqlalchemy as sa
from microsoft_teams.cards import AdaptiveCard

from bot import actions, freetext, services, views
from bot.domain import DomainError, FormErrors
from bot.liveorg import LiveOrg
from bot.logs import Timer, request_scope
from bot.org import Org, UnknownTeam
from bot.ports import UnitOfWork
from handlers import strangers
from handlers.common import (
    APOLOGY,
    SAVE_LATER,
    clip,
)
from handlers.teams import cards, search, wire
from handlers.teams.auth import BotConnectorAuth, Unauthorized
from handlers.teams.commands import Commands
from handlers.teams.delivery import TeamsChat, activities_path
from handlers.teams.lifecycle import Lifecycle, failure_fields

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger("baton.teams")
MAX_BODY = 256 * 1024
REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"


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


class Seen:
    """What a request turned out to be, for its log line (filled in as it is read)."""

    kind = "unread"


class Refused(Exception):
    """A request answered without being handled: its HTTP status and the reason logged."""

    def __init__(self, status: str, why: str) -> None:
        super().__init__(why)
        self.status = status


def _trouble(deps: TeamsDeps, exc: BaseException, where: str) -> str:
    """The answer for a person when handling failed; one named line with where and the error type."""
    if deps.outage(exc):
        log.warning("teams_database_unreachable", extra={"where": where, "error": type(exc).__name__})
        return SAVE_LATER
    log.error("teams_handler_failed", extra={"where": where, "error": type(exc).__name__},
              exc_info=(type(exc), exc, exc.__traceback__))
    return APOLOGY


class TeamsApp(Commands, Lifecycle):
    """A WSGI app for ``/api/messages``."""

    def __init__(self, deps: TeamsDeps, *, replies: ThreadPoolExecutor | None = None) -> None:
        self.deps = deps
        self.replies = replies or ThreadPoolExecutor(max_workers=4, thread_name_prefix="baton-teams")
        self._known: set[str] = set()  # Teams user ids whose 1:1 chat reference names them
        self._urls: dict[str, str] = {}  # place (or Teams user id) -> the serviceUrl last kept for it

    # ---- HTTP --------------------------------------------------------------------------------
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Check, parse and answer one activity; one ``teams_request`` line for each."""
        timer, seen = Timer(), Seen()
        given = str(environ.get("HTTP_X_REQUEST_ID") or "")
        with request_scope(given if REQUEST_ID.match(given) else None):
            try:
                status, body = self.handle(environ, seen)
            except Refused as refused:
                log.warning("teams_request_refused", extra={
                    "status": int(refused.status[:3]), "reason": str(refused), "kind": seen.kind})
                status, body = refused.status, {"error": refused.status[4:].lower()}
                if not status.startswith("401"):  # a token's faults are not explained to its sender
                    body["message"] = str(refused)
            data = json.dumps(body).encode() if body is not None else b""
            start_response(status, [("Content-Type", "application/json; charset=utf-8"),
                                    ("Content-Length", str(len(data)))])
            log.info("teams_request", extra={"kind": seen.kind, "status": int(status[:3]),
                                             "duration_ms": timer.ms()})
        return [data]

    def handle(self, environ: WSGIEnvironment, seen: Seen | None = None
               ) -> tuple[str, dict[str, Any] | None]:
        """(status, JSON body) for one request; Refused when it is not Teams talking."""
        seen = seen or Seen()
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
        try:
            activity = wire.read(data)
        except wire.WireError as exc:
            raise Refused(exc.status, str(exc)) from None
        seen.kind = activity.kind
        if not activity.tenant or activity.tenant not in self.deps.org.tenants:
            raise Refused("403 Forbidden", "activity from a tenant the org file does not name")
        self._remember(activity)
        if activity.type == "invoke":
            return "200 OK", self.invoke(data, activity)
        if not self._first(str(data.get("id") or "")):
            return "200 OK", None  # a redelivery: acknowledged, not handled twice
        if activity.type in ("installationUpdate", "conversationUpdate"):
            self.installed(data)
        elif activity.type == "message":
            person = self.person(data)
            self.replies.submit(contextvars.copy_context().run, self._reply_safely, data, person)
        return "200 OK", None

    def _first(self, activity_id: str) -> bool:
        if not activity_id:
            return True
        key = "teams:" + (activity_id if len(activity_id) <= 50 else
                          hashlib.sha256(activity_id.encode()).hexdigest()[:50])
        with self.deps.uow() as u:
            return u.first_delivery(key, self.deps.clock())

    # ---- who is talking ------------------------------------------------------------------------
    def _welcome(self, data: dict[str, Any], person: str) -> None:
        """The home card, once the app is added (Teams' equivalent of opening the App Home)."""
        conv = str((data.get("conversation") or {}).get("id") or "")
        try:
            card = self.home(person, self.deps.clock())
            self.deps.chat.client.call("POST", str(data.get("serviceUrl")),
                                       activities_path(conv),
                                       {"type": "message", "attachments": [cards.attachment(card)]},
                                       conversation=conv)
        except Exception as exc:
            log.warning("teams_welcome_failed", extra=failure_fields(exc))

    # ---- typed commands in the 1:1 chat ----------------------------------------------------------
    def _reply_safely(self, data: dict[str, Any], person: str | None) -> None:
        conv = str((data.get("conversation") or {}).get("id") or "")
        try:
            card = self.command(person, str(data.get("text") or ""), _aad(data))
        except Exception as exc:
            card = cards.text_card(_trouble(self.deps, exc, "command"))
        try:
            self.deps.chat.client.call(
                "POST", str(data.get("serviceUrl")),
                activities_path(conv, str(data.get("id"))),
                {"type": "message", "replyToId": data.get("id"), "attachments": [cards.attachment(card)]},
                conversation=conv)
        except Exception as exc:
            log.warning("teams_command_answer_failed", extra=failure_fields(exc))

    # ---- Universal Actions ---------------------------------------------------------------------
    def invoke(self, data: dict[str, Any], activity: wire.Activity | None = None) -> dict[str, Any]:
        """The invoke response: the card this person should now see (or an error). An
        ``adaptiveCard/action`` Teams sent by itself (``"trigger": "automatic"``: someone opened
        the card) only ever redraws it for the viewer, whatever its verb: no step is taken."""
        activity = activity or wire.read(data)
        if activity.name == "fileConsent/invoke":
            try:
                return self.file_consent(data)
            except Exception as exc:
                _trouble(self.deps, exc, "file_consent")
                return {"status": 500}
        if activity.name in ("task/fetch", "task/submit"):
            return self.dialog(data)
        if activity.name == search.INVOKE:  # a type-ahead (the raise card's Receiving team)
            return search.answer(self.deps.org, self.person(data), data.get("value"))
        if activity.name != "adaptiveCard/action":
            return {"status": 200}
        value = data.get("value")
        action = value.get("action") if isinstance(value, dict) else None
        verb = activity.verb
        got = action.get("data") if isinstance(action, dict) else None
        values: dict[str, Any] = got if isinstance(got, dict) else {}
        person = self.person(data)
        if activity.automatic:  # someone opened the card: redraw it for them, take no step
            try:
                return _answer(self.viewed(person, values.get("transfer_id")))
            except Exception as exc:
                return _answer(cards.text_card(_trouble(self.deps, exc, "card_viewed")))
        if person is None or not self.deps.org.knows(person):
            return _answer(cards.text_card(strangers.on_teams(self.deps.org, person, _aad(data))))
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
            return _answer(cards.text_card(_trouble(self.deps, exc, f"card_{verb.partition(':')[0]}"[:40])))
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
            return cards.dialog_message(strangers.on_teams(self.deps.org, person, _aad(data)))
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
            return cards.dialog_message(_trouble(self.deps, exc, "dialog"))
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

    def viewed(self, person: str | None, transfer_id: object) -> AdaptiveCard:
        """The card as ``person`` sees it on opening it (Teams' automatic refresh): their own
        buttons when they are on the transfer; otherwise, and for someone the org file does not
        name, the card as the channel shows it (so opening a channel card never replaces it
        with a refusal)."""
        try:
            tid = int(str(transfer_id or 0))
        except ValueError:
            tid = 0
        known = person if person is not None and self.deps.org.knows(person) else None
        now = self.deps.clock()
        with self.deps.uow() as u:
            t = u.transfers.get(tid) if tid else None
            card = services.message_card(u, self.deps.org, t, known, now) if t and known else None
            if t is not None and card is None:
                card = services.message_card(u, self.deps.org, t, None, now)
        if card is None:
            return cards.text_card("This transfer is no longer there.")
        return self._card(card, known)

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
            if f.kind == actions.FieldKind.items:  # one set of boxes per checklist: items, items__1 ...
                out[f.name] = [x for k, got in values.items() if k.split("__", 1)[0] == f.name
                               for x in str(got or "").split(",") if x]
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
            return again(problem=_trouble(deps, exc, f"form_{name}"))
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
                confirmed=tuple((c.split(":", 1)[0], c.split(":", 1)[1])  # common and each kind's own
                                for k in typed if k.split("__", 1)[0] == "checklist"
                                for c in many(k) if ":" in c),
                urgent_reason=text("urgent_reason"), heads_up=heads_up,
                circumstance=text("circumstance"), route_reason=text("route_reason"),
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
            return again({"case_ref": _trouble(deps, exc, "raise_form")})
        deps.wake()
        return cards.raise_used_card(t.case_ref, views.team_name(deps.org, t.holding_team),
                                     views.team_name(deps.org, t.receiving_team), heads_up=heads_up)


def _answer(card: AdaptiveCard) -> dict[str, Any]:
    """An invoke response carrying a card that replaces the one acted on (for this person)."""
    return {"statusCode": 200, "type": CARD_RESPONSE,
            "value": card.model_dump(mode="json", exclude_none=True, by_alias=True)}


def _aad(data: dict[str, Any]) -> str | None:
    """The sender's Entra object id, as Teams sends it."""
    got = (data.get("from") or {}).get("aadObjectId")
    return str(got) if got else None
