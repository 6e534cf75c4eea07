"""The Slack surface: a Bolt app whose listeners ack, parse, call a service and answer.

Listeners never touch SQL or post notices themselves: services change state and write the
outbox in one transaction, and the delivery thread (scheduler/delivery.py) sends what they wrote
once it is woken. Every catalogue action (bot/actions.py) gets one button listener and one form
listener, registered from the catalogue; ``/transfer ACTION CASE`` opens the same form.
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from slack_bolt import Ack, App, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler

from bot import access, actions, freetext, guide, remit, services, teampick
from bot.domain import DomainError, FormErrors, NotPermitted, local_date
from bot.errors import CommitUncertain
from bot.liveorg import LiveOrg
from bot.org import Org, UnknownTeam
from bot.ports import UnitOfWork
from handlers import strangers
from handlers.common import (
    APOLOGY,
    SAVE_LATER,
    UNSURE,
    action_name,
    case_record,
    closed_text,
    closure_args,
    last_team_text,
    period,
)
from handlers.common import clip as _clip
from handlers.slack import blocks, ids, teampicker

log = logging.getLogger("baton.slack")
FORM_CACHE = 512  # forms kept, by (transfer, version, action, person, day)
MAX_COMMAND = 500  # characters of /transfer text Baton reads (a word, a case reference, a date)


@dataclass
class Deps:
    """What the listeners need, injected: the live org, units of work, the clock, and a way to
    wake delivery once something was written to the outbox."""

    live: LiveOrg
    uow: Callable[[], UnitOfWork]
    clock: Callable[[], datetime]
    wake: Callable[[], None] = lambda: None
    outage: Callable[[BaseException], bool] = lambda exc: False  # the store is unreachable

    @property
    def org(self) -> Org:
        """The org in use now (a reload swaps it whole)."""
        return self.live.current


SLACK_FAILED = "Slack did not open the form; press the button (or type the command) again."


def _trouble(deps: Deps, exc: BaseException, where: str) -> str:
    """What to tell a person about an unexpected failure, after one log line (no traceback, no
    SQL, no text anyone typed)."""
    if isinstance(exc, CommitUncertain):  # never "cannot save" for what may have been saved
        log.warning("%s: the database stopped answering during a commit", where)
        return UNSURE
    if deps.outage(exc):
        log.warning("database_unreachable", extra={"where": where, "error": type(exc).__name__})
        return SAVE_LATER
    if isinstance(exc, SlackApiError):
        log.warning("slack_refused_call", extra={"where": where, "error": exc.response.get("error")})
        return SLACK_FAILED
    log.error("listener_failed", extra={"where": where, "error": type(exc).__name__})
    return APOLOGY


class _NoDebug(logging.Filter):
    """Drops DEBUG records: at DEBUG, Bolt and slack_sdk log whole request and response bodies
    (typed rationales, case references)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def slack_logger(name: str) -> logging.Logger:
    """A logger for Bolt or the Web API client that never writes DEBUG records, whatever level
    the root, 'baton' or the library loggers are set to; the libraries' own loggers too."""
    for lib in ("slack_sdk", "slack_bolt", name):
        lg = logging.getLogger(lib)
        lg.setLevel(logging.INFO)
        if not any(isinstance(f, _NoDebug) for f in lg.filters):
            lg.addFilter(_NoDebug())
    return logging.getLogger(name)


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in the submitter's context, so the request id bound for a
    Slack request (bot/logs.py) follows it into its listener and the services it calls."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn`` in a copy of the caller's context variables."""
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def web_client(token: str, api_url: str, *, wait_on_429: bool = True) -> WebClient:
    """A Web API client (its log never holds request bodies). With ``wait_on_429`` it waits out
    Slack's Retry-After itself (twice at most), as listeners answering a person need; delivery
    passes False, so a 429 comes back at once and the outbox waits instead (no thread asleep)."""
    handlers: list[RetryHandler] = [RateLimitErrorRetryHandler(max_retry_count=2)] if wait_on_429 else []
    return WebClient(token=token, base_url=api_url, logger=slack_logger("baton.slack.web"),
                     retry_handlers=handlers)


def build_app(deps: Deps, *, token: str, signing_secret: str, api_url: str) -> App:
    """A Bolt app wired to Baton's services, talking to the Web API at ``api_url``."""
    # Listeners ack first and keep working after the HTTP answer has gone; a roomy pool keeps
    # slow follow-up work (views.open) from queueing the next request's ack.
    app = App(client=web_client(token, api_url), signing_secret=signing_secret,
              token_verification_enabled=False, logger=slack_logger("baton.slack.bolt"),
              listener_executor=ContextExecutor(max_workers=8, thread_name_prefix="baton-listener"))

    @app.error
    def failed(error: Exception, body: dict[str, Any]) -> BoltResponse:
        """A listener failed in a way it did not handle: one log line, never a traceback or a 500."""
        _trouble(deps, error, f"{body.get('type') or 'command'} listener")
        return BoltResponse(status=200, body="")

    @app.middleware
    def once(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse | None:
        """A repeated Events API delivery (same event_id) is acknowledged and not processed again."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            with deps.uow() as u:
                if not u.first_delivery(str(event_id), deps.clock()):
                    return BoltResponse(status=200, body="")
        return next()

    @lru_cache(maxsize=256)
    def raise_form(generation: int, team: str, heads_up: bool, may_sign_off: bool = True,
                   note: str = "", receiving: str | None = None, kind: str | None = None) -> dict[str, Any]:
        """The raise form for a team, built once per org (a reloaded org has a new generation)."""
        org = deps.org
        return blocks.raise_modal(org.pack_for(team), org, team, heads_up=heads_up,
                                  may_sign_off=may_sign_off, note=note, receiving=receiving,
                                  kind=kind).to_dict()

    @app.options(ids.RECEIVING_TEAM)
    def receiving_teams(ack: Ack, body: dict[str, Any]) -> None:
        """The raise form's Receiving team as the person types (an external select's options)."""
        holding = str((body.get("view") or {}).get("private_metadata") or "")
        user = str((body.get("user") or {}).get("id") or "")
        if not deps.org.knows(user) or not deps.org.has_team(holding):
            ack(options=[])
            return
        ack(**teampicker.suggestions(deps.org, holding, str(body.get("value") or "")))

    @app.action(ids.KIND)
    def kind_chosen(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """The kind chosen on the raise form: redrawn with that kind's checklist lines only (what
        was typed stays: the blocks keep their ids)."""
        ack()
        view = body.get("view") or {}
        team, user = str(view.get("private_metadata") or ""), body["user"]["id"]
        kind = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")
        heads_up = view.get("callback_id") == ids.HEADSUP_VIEW
        if view.get("callback_id") not in (ids.RAISE_VIEW, ids.HEADSUP_VIEW) or not deps.org.has_team(team):
            return
        try:
            with deps.uow() as u:
                may = services.raise_access(u, deps.org, user, team, today(), heads_up=heads_up)
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=raise_form(
                deps.live.generation, team, heads_up, may.may_sign_off, may.note, None,
                kind if kind in deps.org.pack_for(team).kind_ids else None))
        except SlackApiError as exc:  # another redraw won (hash_conflict): the form stays as it is
            log.info("raise_form_not_redrawn", extra={"error": str(exc.response.get("error"))})

    def today() -> date:
        return local_date(deps.clock())

    forms: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
    forms_lock = threading.Lock()

    def open_form(client: WebClient, body: dict[str, Any], user: str, tid: int, name: str,
                  tell: Callable[[str], None]) -> None:
        """Open an action's form, or say privately why this person cannot take it (and who can);
        a card pressed after the transfer moved on is redrawn. A form already built for this
        person, transfer version and day is sent again (the submission is checked in full)."""
        now = deps.clock()
        try:
            with deps.uow() as u:
                key = (tid, u.transfers.version_of(tid), name, user, local_date(now), deps.live.generation)
                with forms_lock:
                    view = forms.get(key)
                if view is None:
                    view = blocks.form_modal(services.form_for(u, deps.org, user, tid, name, now)).to_dict()
                    with forms_lock:
                        forms[key] = view
                        while len(forms) > FORM_CACHE:
                            forms.popitem(last=False)
        except DomainError as exc:
            tell(str(exc))
            if not isinstance(exc, (NotPermitted, access.NotVisible)):
                stale_card(tid)
            return
        except Exception as exc:
            tell(_trouble(deps, exc, "opening a form"))
            return
        try:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as exc:
            tell(_trouble(deps, exc, "opening a form"))

    def stale_card(tid: int) -> None:
        try:
            with deps.uow() as u:
                t = u.transfers.get(tid)
                if t is not None:
                    services.refresh_cards(u, t, deps.clock())
        except Exception:  # a redraw is a courtesy: never let it hide the answer already given
            log.exception("card_redraw_failed", extra={"transfer_id": tid})
        deps.wake()

    def personal(user: str, form: str, values: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, str]:
        """Warnings for typed text that looks like a name, date of birth, address or phone number;
        text the person submits again unchanged after a warning is kept as written."""
        out: dict[str, str] = {}
        for block, els in values.items():
            for el in (els or {}).values():
                text = el.get("value") if el.get("type") == "plain_text_input" else None
                found = freetext.looks_personal(text) if block not in skip else []
                if not found:
                    continue
                with deps.uow() as u:  # kept in the database: any instance sees the confirmation
                    if not u.first_warning(freetext.confirmation_key(user, form, block, str(text)),
                                           deps.clock()):
                        continue
                out[block] = _clip(freetext.warning(found), 150)
        return out

    @app.command("/transfer")
    def transfer_command(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()

        def tell(text: str) -> None:
            respond(response_type="ephemeral", text=blocks.escape(text))

        try:
            command(body, client, respond, tell)
        except Exception as exc:  # answered privately: the store is down, or Slack refused
            try:
                tell(_trouble(deps, exc, "/transfer"))
            except Exception as again:
                log.warning("private_answer_failed",
                            extra={"where": "/transfer", "error": type(again).__name__})

    def command(body: dict[str, Any], client: WebClient, respond: Respond,
                tell: Callable[[str], None]) -> None:
        """``/transfer …``: open a form, or answer privately."""
        user = body["user_id"]
        typed = actions.clean_text(str(body.get("text") or ""))  # no NUL or control characters
        if len(typed) > MAX_COMMAND:
            tell(f"That is too long for /transfer (keep it under {MAX_COMMAND} characters): "
                 "give a word and a case reference, as /transfer help shows.")
            return
        words = typed.split()
        sub = words[0].lower() if words else "new"
        if not deps.org.knows(user):  # people not in the org file: what to ask for, and the help text
            why = strangers.on_slack(deps.org, user)
            respond(response_type="ephemeral", text="Here is what /transfer can do.", blocks=[
                {"type": "section", "text": {"type": "plain_text", "text": why}}, *blocks.help_blocks()])
            return
        if sub in ("new", "headsup"):
            teams = deps.org.teams_of(user)
            if not teams:
                tell("You are not in any team in Baton's org file, so you cannot raise a transfer. "
                     "Ask your administrator to add you.")
                return
            pack = deps.org.pack_for(teams[0].id)
            if sub == "headsup" and not pack.early_heads_up:
                tell(f"The {pack.title} policy has no early heads up; use /transfer new.")
                return
            with deps.uow() as u:  # what this person cannot do, said before they fill anything in
                may = services.raise_access(u, deps.org, user, teams[0].id, today(),
                                            heads_up=sub == "headsup")
            if may.refusal:
                tell(may.refusal)
                return
            receiving = None
            if len(words) > 1:  # /transfer new North PDU: the receiving team, by its name or id
                try:
                    receiving = deps.org.find_team(" ".join(words[1:])).id
                except UnknownTeam as exc:
                    tell(f"{str(exc).capitalize()}. Type /transfer {sub} alone to choose from the form.")
                    return
                refused = teampick.why_not(deps.org, teams[0].id, receiving)
                if refused:
                    tell(refused)
                    return
            client.views_open(trigger_id=body["trigger_id"],
                              view=raise_form(deps.live.generation, teams[0].id, sub == "headsup",
                                              may.may_sign_off, may.note, receiving))
            return
        name = action_name(sub)
        if name is not None:
            if len(words) < 2:
                tell(f"Give a case reference: /transfer {sub} X123456.")
                return
            try:
                with deps.uow() as u:
                    t = services.load_for_action(u, deps.org, user, words[1], deps.clock())
            except DomainError as exc:
                tell(str(exc))
                return
            open_form(client, body, user, t.id or 0, name, tell)
            return
        respond(response_type="ephemeral", **_lookup(deps, user, sub, words[1:]))

    @app.view(ids.RAISE_VIEW)
    @app.view(ids.HEADSUP_VIEW)
    def raise_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        values = view["state"]["values"]
        holding = view.get("private_metadata") or None
        warnings = personal(user, view["callback_id"], values, skip=(ids.CASE_REF,))
        if warnings:
            ack(response_action="errors", errors=warnings)
            return
        try:
            req = _raise_request(values, holding, heads_up=view["callback_id"] == ids.HEADSUP_VIEW)
            with deps.uow() as u:
                services.raise_transfer(u, deps.org, user, req, deps.clock(), token=view.get("id"))
        except services.AlreadySaved:  # this very form was saved (a second click, a replay)
            ack()
            return
        except (DomainError, UnknownTeam) as exc:
            field: str = (ids.RECEIVING_TEAM if isinstance(exc, UnknownTeam) else exc.field) or ""
            shown = {b.get("block_id") for b in view.get("blocks") or []} | set(values)
            if field == ids.CHECKLIST and field not in values and ids.URGENT_REASON in values:
                field = ids.URGENT_REASON  # no checklist on this person's form: the reason instead
            if field not in shown:  # about the request as a whole: under the case reference
                field = ids.CASE_REF
            ack(response_action="errors", errors={field: _clip(str(exc))})
            return
        except Exception as exc:  # unless it was saved after all, the form stays open with the reason
            if saved(view):
                ack()
                deps.wake()
                return
            ack(response_action="errors", errors={ids.CASE_REF: _trouble(deps, exc, "raise form")})
            return
        ack()
        deps.wake()

    def saved(view: dict[str, Any]) -> bool:
        """Whether a submission that failed was saved after all (the commit reached the database
        but its answer was lost): then it is answered as saved, never as an error."""
        if not view.get("id"):
            return False
        try:
            with deps.uow() as u:
                return u.submitted(str(view["id"]))
        except Exception:  # still unreachable: say it could not be saved; a retry is answered right
            return False

    def on_button(ack: Ack, body: dict[str, Any], client: WebClient, action: dict[str, Any]) -> None:
        """A catalogue action's button: open its form for this person, or say why not."""
        ack()
        name = ids.action_of_button(action["action_id"])
        try:
            tid = int(action.get("value") or 0)
        except ValueError:
            tid = 0
        press(client, body, name, tid)

    def on_more(ack: Ack, body: dict[str, Any], client: WebClient, action: dict[str, Any]) -> None:
        """An option of a card's overflow menu (or its "More actions" select): routed exactly as
        the button it stands for, its form opened with the same trigger."""
        ack()
        name, tid = ids.of_more_value(str((action.get("selected_option") or {}).get("value") or ""))
        if name not in actions.BY_NAME:
            _tell(client, body, "That option is out of date: look at the case's latest card.")
            return
        press(client, body, name, tid)

    def press(client: WebClient, body: dict[str, Any], name: str, tid: int) -> None:
        def tell(text: str) -> None:
            try:
                _tell(client, body, text)
            except SlackApiError as exc:
                log.warning("private_answer_failed",
                            extra={"where": "button", "error": exc.response.get("error")})

        open_form(client, body, body["user"]["id"], tid, name, tell)

    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        """A catalogue action's form: parse it, take the step, and put any error on its field."""
        user = body["user"]["id"]
        name = ids.action_of_form(view["callback_id"])
        values = view["state"]["values"]
        warnings = personal(user, f"{view['callback_id']}:{view.get('private_metadata')}", values)
        if warnings:
            ack(response_action="errors", errors=warnings)
            return
        try:
            tid = int(view.get("private_metadata") or 0)
            with deps.uow() as u:
                services.submit(u, deps.org, user, tid, name, _form_values(values), deps.clock(),
                                token=view.get("id"))
        except services.AlreadySaved:  # this very form was saved (a second click, a replay)
            ack()
            return
        except FormErrors as exc:
            ack(response_action="errors", errors={_block_for(f, values): _clip(m)
                                                  for f, m in exc.errors.items()})
            return
        except services.LostRace as race:  # someone else moved it first: say who, redraw cards
            ack(response_action="update", view=blocks.notice_modal(
                actions.action(name).title, blocks.lost_race(
                    race.case_ref, race.event, race.by, race.time, race.reason), escaped=True).to_dict())
            stale_card(tid)
            return
        except (DomainError, ValueError) as exc:
            message = str(exc) if isinstance(exc, DomainError) else "That form is out of date."
            field = exc.field if isinstance(exc, DomainError) else None
            if field and field in values:
                ack(response_action="errors", errors={field: _clip(message)})
            else:  # about the step as a whole: the form gives way to a message saying why
                ack(response_action="update",
                    view=blocks.notice_modal(actions.action(name).title, message).to_dict())
            return
        except Exception as exc:  # unless it was saved after all, the form stays open with the reason
            if saved(view):
                ack()
                deps.wake()
                return
            why = _trouble(deps, exc, f"{name} form")
            if values:
                ack(response_action="errors", errors={_block_for(None, values): why})
            else:  # a form without fields: it gives way to the reason (pressing again retries)
                ack(response_action="update",
                    view=blocks.notice_modal(actions.action(name).title, why).to_dict())
            return
        ack()
        deps.wake()

    for a in actions.CATALOGUE:  # one button and one form per catalogue entry
        app.action(ids.button(a.name))(on_button)
        app.view(ids.form(a.name))(on_submit)
    app.action(ids.MORE)(on_more)  # the rest of a card's steps, in its overflow menu

    @app.view(ids.NOTICE_VIEW)
    def notice_closed(ack: Ack) -> None:
        ack()

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient) -> None:
        user = event["user"]
        with deps.uow() as u:
            lists = services.home(u, deps.org, user, deps.clock())
        client.views_publish(user_id=user, view=blocks.home_view(
            waiting=lists.waiting, holding=lists.outbound, receiving=lists.inbound, today=today(),
            cal=services.calendar(deps.org), escalated=lists.escalated, org=deps.org,
            records=lists.records))

    @app.event("app_uninstalled")
    def uninstalled(body: dict[str, Any]) -> None:
        with deps.uow() as u:
            services.record_install_event(u, "app_uninstalled", body.get("team_id"), deps.clock())
        log.warning("app_uninstalled", extra={"workspace": body.get("team_id"),
                                              "effect": "delivery stops until reinstalled"})

    @app.event("tokens_revoked")
    def revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        bot = bool((event.get("tokens") or {}).get("bot"))  # Baton holds a bot token only
        with deps.uow() as u:
            services.record_install_event(u, "tokens_revoked" if bot else "user_tokens_revoked",
                                          body.get("team_id"), deps.clock())
        if bot:
            log.warning("bot_token_revoked", extra={"workspace": body.get("team_id"),
                                                    "effect": "delivery stops until reinstalled"})

    return app


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






def _block_for(field: str | None, values: dict[str, Any]) -> str:
    """The input block an error about ``field`` belongs under (the form's last input otherwise)."""
    if field and field in values:
        return field
    return list(values)[-1] if values else str(field)


def _form_values(values: dict[str, Any]) -> dict[str, Any]:
    """A catalogue form's state as {field name: value}; grouped checkboxes are merged."""
    out: dict[str, Any] = {}
    for block in values:
        name = block.split("__", 1)[0]
        value = _value(values, block)
        if isinstance(value, list):
            out[name] = [*out.get(name, []), *value]
        elif name not in out:
            out[name] = value
    return out


def _tell(client: WebClient, body: dict[str, Any], text: str) -> None:
    """A private answer to whoever pressed a button: visible only to them where the button was,
    or a direct message when it was in the App Home (which has no channel)."""
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id")
    if channel:
        client.chat_postEphemeral(channel=channel, user=user, text=blocks.escape(text))
    else:
        client.chat_postMessage(channel=user, text=blocks.escape(text))


def _value(values: dict[str, Any], block: str) -> Any:
    """The submitted value of an input block, whatever its element type."""
    for el in (values.get(block) or {}).values():
        kind = el.get("type")
        if kind == "plain_text_input":
            return el.get("value")
        if kind in ("static_select", "external_select"):
            return (el.get("selected_option") or {}).get("value")
        if kind == "users_select":
            return el.get("selected_user")
        if kind == "multi_users_select":
            return list(el.get("selected_users") or [])
        if kind == "multi_static_select":
            return [o["value"] for o in el.get("selected_options") or []]
        if kind == "datepicker":
            return el.get("selected_date")
        if kind == "checkboxes":
            return [o["value"] for o in el.get("selected_options") or []]
    return None


def _date(value: str | None, field: str) -> date | None:
    """A datepicker's day; a value that is no day is refused on its field."""
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        raise DomainError("That is not a date: choose one from the calendar.", field=field) from None


def _raise_request(values: dict[str, Any], holding: str | None, *, heads_up: bool) -> services.RaiseRequest:
    ticked = _form_values(values).get(ids.CHECKLIST) or []  # the common items and each kind's own
    checklist = [tuple(v.split(":", 1)) for v in ticked]
    return services.RaiseRequest(
        case_ref=_value(values, ids.CASE_REF) or "",
        receiving_team=_value(values, ids.RECEIVING_TEAM) or "",
        kind=_value(values, ids.KIND) or "permanent",
        holding_team=holding,
        transfer_point=_value(values, ids.TRANSFER_POINT),
        transfer_point_date=_date(_value(values, ids.TRANSFER_POINT_DATE), ids.TRANSFER_POINT_DATE),
        flags=tuple(_value(values, ids.FLAGS) or ()),
        funding_note=_value(values, ids.FUNDING),
        confirmed=tuple((a, b) for a, b in checklist),
        urgent_reason=_value(values, ids.URGENT_REASON),
        move_date=_date(_value(values, "move_date"), "move_date"),
        move_end_date=_date(_value(values, "move_end_date"), "move_end_date"),
        order_date=_date(_value(values, "order_date"), "order_date"),
        accommodated_on=_date(_value(values, "accommodated_on"), "accommodated_on"),
        linked_refs=services.case_refs(_value(values, "linked_refs")),
        siblings_reason=_value(values, "siblings_reason"),
        circumstance=_value(values, "circumstance"),
        route_reason=_value(values, "route_reason"),
        heads_up=heads_up,
        restricted=bool(_value(values, ids.RESTRICTED)),
        excluded=tuple(_value(values, ids.EXCLUDED) or ()),
    )




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
