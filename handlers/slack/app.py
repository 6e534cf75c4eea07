"""The Slack surface: a Bolt app whose listeners ack, parse, call a service and answer.

Listeners never touch SQL or post notices themselves: services change state and write the
outbox in one transaction, and the delivery thread (scheduler/delivery.py) sends what they wrote
once it is woken. Every catalogue action (bot/actions.py) gets one button listener and one form
listener, registered from the catalogue; ``/transfer ACTION CASE`` opens the same form.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any

from slack_bolt import Ack, App, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import access, actions, freetext, services, teampick
from bot.domain import DomainError, FormErrors, NotPermitted, local_date
from bot.org import UnknownTeam
from handlers import strangers
from handlers.common import APOLOGY as APOLOGY
from handlers.common import SAVE_LATER as SAVE_LATER
from handlers.common import UNSURE as UNSURE
from handlers.common import action_name
from handlers.common import clip as _clip
from handlers.slack import blocks, ids, teampicker
from handlers.slack.client import ContextExecutor, slack_logger, web_client
from handlers.slack.deps import SLACK_FAILED as SLACK_FAILED
from handlers.slack.deps import Deps, _trouble
from handlers.slack.forms import _block_for, _form_values, _raise_request, _tell
from handlers.slack.lookups import CoverArgs as CoverArgs
from handlers.slack.lookups import _lookup
from handlers.slack.lookups import cover_args as cover_args

log = logging.getLogger("baton.slack")
FORM_CACHE = 512  # forms kept, by (transfer, version, action, person, day)
MAX_COMMAND = 500  # characters of /transfer text Baton reads (a word, a case reference, a date)


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
