"""The Slack surface: a Bolt app whose listeners ack, parse, call a service and answer.

Listeners never touch SQL or post messages themselves: services change state and write the
outbox in one transaction; :func:`scheduler.outbox.deliver` sends what they wrote.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from slack_bolt import Ack, App, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot import services
from bot.domain import AWAITING_DECISION, OPEN, STATE_LABELS, DomainError, Transfer, local_date
from bot.org import Org, UnknownTeam
from bot.ports import UnitOfWork
from handlers import blocks, ids
from scheduler import outbox

log = logging.getLogger("baton.slack")


@dataclass
class Deps:
    """What the listeners need, injected: org, units of work, engine, the clock."""

    org: Org
    uow: Callable[[], UnitOfWork]
    engine: sa.Engine
    clock: Callable[[], datetime]


def build_app(deps: Deps, *, token: str, signing_secret: str, api_url: str) -> App:
    """A Bolt app wired to Baton's services, talking to the Web API at ``api_url``."""
    client = WebClient(token=token, base_url=api_url,
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    # Listeners ack first and keep working after the HTTP answer has gone; a roomy pool keeps
    # slow follow-up work (Web API calls, delivery) from queueing the next request's ack.
    app = App(client=client, signing_secret=signing_secret, token_verification_enabled=False,
              listener_executor=ThreadPoolExecutor(max_workers=64, thread_name_prefix="baton-listener"))
    services.clear_hooks()
    services.on_change(outbox.notify_change)

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
    def raise_form(team: str, heads_up: bool) -> dict[str, Any]:
        """The raise form for a team, built once (the org and packs do not change while running)."""
        return blocks.raise_modal(deps.org.pack_for(team), deps.org, team, heads_up=heads_up).to_dict()

    def today() -> date:
        return local_date(deps.clock())

    def load(tid: int) -> Transfer | None:
        with deps.uow() as u:
            return u.transfers.get(tid)

    def flush() -> None:
        outbox.deliver(deps.engine, client, deps.org, load, deps.clock())

    @app.command("/transfer")
    def transfer_command(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user = body["user_id"]
        words = (body.get("text") or "").split()
        sub = words[0].lower() if words else "new"
        if sub in ("new", "headsup"):
            ack()
            teams = deps.org.teams_of(user)
            if not teams:
                respond(response_type="ephemeral", text="You are not in any team in Baton's org "
                        "file, so you cannot raise a transfer. Ask your administrator to add you.")
                return
            pack = deps.org.pack_for(teams[0].id)
            if sub == "headsup" and not pack.early_heads_up:
                respond(response_type="ephemeral",
                        text=f"The {pack.title} policy has no early heads up; use `/transfer new`.")
                return
            client.views_open(trigger_id=body["trigger_id"], view=raise_form(teams[0].id, sub == "headsup"))
            return
        ack()
        respond(response_type="ephemeral", **_lookup(deps, user, sub, words[1:]))

    @app.view(ids.RAISE_VIEW)
    @app.view(ids.HEADSUP_VIEW)
    def raise_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        values = view["state"]["values"]
        holding = view.get("private_metadata") or None
        errors: dict[str, str] = {}
        try:
            req = _raise_request(values, holding, heads_up=view["callback_id"] == ids.HEADSUP_VIEW)
            with deps.uow() as u:
                services.raise_transfer(u, deps.org, user, req, deps.clock())
        except (DomainError, UnknownTeam) as exc:
            errors[_field_for(str(exc))] = str(exc)[:150]
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        flush()

    receiving = ((services.Role.receiving_manager,), "the receiving team's managers (or their cover)")
    holding = ((services.Role.holding_practitioner, services.Role.holding_manager), "the holding team")
    senior = ((services.Role.escalation,), "senior managers on the escalation ladder")

    def _open(action_view: Callable[[Transfer], Any],
              who: tuple[tuple[services.Role, ...], str] = receiving,
              states: frozenset[Any] = AWAITING_DECISION) -> Callable[..., None]:
        def listener(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            tid = int(body["actions"][0]["value"])
            user = body["user"]["id"]
            try:
                with deps.uow() as u:
                    t, actor = services.transfer_and_actor(u, deps.org, tid, user, today())
            except DomainError as exc:
                _tell(client, body, str(exc))
                return
            if not actor.has(*who[0]):
                _tell(client, body, f"Only {who[1]} can do this on {t.case_ref}; nothing has changed.")
                return
            if t.state not in states:
                _tell(client, body, f"{t.case_ref} is already {STATE_LABELS[t.state].lower()}.")
                return
            client.views_open(trigger_id=body["trigger_id"], view=action_view(t))
        return listener

    def _pack(t: Transfer) -> Any:
        return deps.org.pack_for(t.holding_team)

    app.action(ids.ACCEPT)(_open(lambda t: blocks.accept_modal(t.id or 0, t.case_ref)))
    app.action(ids.DECLINE)(_open(lambda t: blocks.decline_modal(t.id or 0, t.case_ref, _pack(t))))
    app.action(ids.ASK_WORK)(_open(lambda t: blocks.work_modal(
        t.id or 0, t.case_ref,
        services.calendar(deps.org).add_working_days(today(), _pack(t).remedial_work_days))))

    app.action(ids.RECORD_DELAY)(_open(lambda t: blocks.delay_modal(t.id or 0, t.case_ref),
                                       holding, OPEN))
    app.action(ids.ENDORSE)(_open(lambda t: blocks.endorse_modal(t.id or 0, t.case_ref),
                                  senior, OPEN))

    def _submit(action: str, parse: Callable[[dict[str, Any]], dict[str, Any]],
                fields: tuple[tuple[str, str], ...] = ()) -> Callable[..., None]:
        """A modal submission: parse, act, and on a refusal show the message on its field.

        ``fields`` maps words in the message to the block that should carry it; otherwise the
        last input of the form (its main free-text field) does."""
        def listener(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
            user = body["user"]["id"]
            tid = int(view["private_metadata"])
            try:
                kwargs = parse(view["state"]["values"])
                with deps.uow() as u:
                    services.act(u, deps.org, user, tid, action, deps.clock(), **kwargs)
            except DomainError as exc:
                message = str(exc)
                inputs = list(view["state"]["values"]) or [ids.RATIONALE]
                block = next((b for word, b in fields if word in message.lower() and b in inputs),
                             inputs[-1])
                ack(response_action="errors", errors={block: message[:150]})
                return
            ack()
            flush()
        return listener

    app.view(ids.ACCEPT_VIEW)(_submit("accept", _accept_args, (("date", ids.AGREED_DATE),
                                                              ("worker", ids.NAMED_WORKER))))
    app.view(ids.DECLINE_VIEW)(_submit("decline", _decline_args, (("reasons", ids.DECLINE_REASON),
                                                                  ("rationale", ids.RATIONALE))))
    app.view(ids.WORK_VIEW)(_submit("request_work", _work_args))
    app.view(ids.DELAY_VIEW)(_submit("record_delay", lambda v: {
        "reason": _value(v, ids.DELAY_REASON) or "", "actions": _value(v, ids.DELAY_ACTIONS) or ""},
        (("reason for delay", ids.DELAY_REASON), ("actions", ids.DELAY_ACTIONS))))
    app.view(ids.ENDORSE_VIEW)(_submit("endorse", lambda v: {
        "rationale": _value(v, ids.ENDORSE_RATIONALE) or ""}))

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient) -> None:
        user = event["user"]
        day = today()
        with deps.uow() as u:
            holding, receiving = services.home_lists(u, deps.org, user, day)
        client.views_publish(user_id=user, view=blocks.home_view(
            holding=holding, receiving=receiving, today=day, cal=services.calendar(deps.org)))

    return app


def _tell(client: WebClient, body: dict[str, Any], text: str) -> None:
    """A private answer to whoever pressed a button."""
    channel = (body.get("channel") or {}).get("id") or body["user"]["id"]
    client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)


def _value(values: dict[str, Any], block: str) -> Any:
    """The submitted value of an input block, whatever its element type."""
    for el in (values.get(block) or {}).values():
        kind = el.get("type")
        if kind == "plain_text_input":
            return el.get("value")
        if kind == "static_select":
            return (el.get("selected_option") or {}).get("value")
        if kind == "users_select":
            return el.get("selected_user")
        if kind == "datepicker":
            return el.get("selected_date")
        if kind == "checkboxes":
            return [o["value"] for o in el.get("selected_options") or []]
    return None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _raise_request(values: dict[str, Any], holding: str | None, *, heads_up: bool) -> services.RaiseRequest:
    checklist = [tuple(v.split(":", 1)) for v in _value(values, ids.CHECKLIST) or []]
    return services.RaiseRequest(
        case_ref=_value(values, ids.CASE_REF) or "",
        receiving_team=_value(values, ids.RECEIVING_TEAM) or "",
        kind=_value(values, ids.KIND) or "permanent",
        holding_team=holding,
        transfer_point=_value(values, ids.TRANSFER_POINT),
        transfer_point_date=_date(_value(values, ids.TRANSFER_POINT_DATE)),
        flags=tuple(_value(values, ids.FLAGS) or ()),
        funding_note=_value(values, ids.FUNDING),
        confirmed=tuple((a, b) for a, b in checklist),
        heads_up=heads_up,
    )


def _field_for(message: str) -> str:
    """Which raise-form field an error belongs on."""
    m = message.lower()
    if "receiving team" in m or "unknown team" in m:
        return ids.RECEIVING_TEAM
    if "checklist" in m or "signed off" in m:
        return ids.CHECKLIST
    if "transfer point" in m:
        return ids.TRANSFER_POINT
    if "kind" in m:
        return ids.KIND
    return ids.CASE_REF


def _accept_args(values: dict[str, Any]) -> dict[str, Any]:
    return {"named_worker": _value(values, ids.NAMED_WORKER),
            "agreed_date": _date(_value(values, ids.AGREED_DATE))}


def _decline_args(values: dict[str, Any]) -> dict[str, Any]:
    return {"rationale": _value(values, ids.RATIONALE) or "",
            "reason_category": _value(values, ids.DECLINE_REASON)}


def _work_args(values: dict[str, Any]) -> dict[str, Any]:
    return {"items": (_value(values, ids.WORK_ITEMS) or "").splitlines()}


def _lookup(deps: Deps, user: str, sub: str, args: list[str]) -> dict[str, Any]:
    """Answers to /transfer list|status|history|cover|help, as message kwargs."""
    today = local_date(deps.clock())
    cal = services.calendar(deps.org)
    try:
        if sub == "list":
            scope = args[0].lower() if args else "mine"
            with deps.uow() as u:
                rows = services.list_for(u, deps.org, user, scope, today)
            return {"text": f"{len(rows)} transfer(s)",
                    "blocks": blocks.summary_list(rows, today=today, cal=cal,
                                                  title=f"Transfers: {scope}")}
        if sub in ("status", "history"):
            if not args:
                return {"text": f"Give a case reference: `/transfer {sub} X123456`."}
            with deps.uow() as u:
                t = services.load(u, case_ref=args[0])
            if sub == "history":
                return {"text": f"History of {t.case_ref}", "blocks": blocks.timeline_blocks(t)}
            return {"text": f"{t.case_ref}: {t.state.value}",
                    "blocks": blocks.transfer_card(t, services.transfer_deadlines(deps.org, t),
                                                   cal=cal, today=today, buttons=False)}
        if sub == "agenda":
            with deps.uow() as u:
                items = services.agenda(u, deps.org, user, today)
            return {"text": f"Transfer meeting agenda: {len(items)} case(s)",
                    "blocks": blocks.agenda_blocks(items, today=today,
                                                   title=f"Transfer meeting agenda, {today:%d %b %Y}")}
        if sub == "lastteam":
            if not args:
                return {"text": "Give a case reference: `/transfer lastteam X123456`."}
            with deps.uow() as u:
                last = services.last_team_answer(u, deps.org, args[0], today)
            ref = blocks.escape(args[0].strip().upper())
            if last is None:
                return {"text": f"Baton has no closed transfer for {ref}."}
            text = f"{last.case_ref} was last held by {last.team}; closed {last.closed_on:%d %b %Y}."
            if last.goes_back is True:
                text += f" Closed less than {last.rule} ago: a re-referral goes back to {last.team}."
            elif last.goes_back is False:
                text += f" Closed more than {last.rule} ago: a re-referral is assessed afresh."
            return {"text": text}
        if sub == "cover":
            m = re.match(r"^(?:<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|nobody)\s+until\s+(\S+)$", " ".join(args))
            if not m:
                return {"text": "Usage: `/transfer cover @colleague until YYYY-MM-DD` (or `cover nobody "
                                "until YYYY-MM-DD`: your transfers go one level up while you are away)."}
            try:
                until = date.fromisoformat(m.group(2))
            except ValueError:
                return {"text": f"{m.group(2)!r} is not a date; use YYYY-MM-DD."}
            with deps.uow() as u:
                services.set_cover(u, deps.org, user, m.group(1), until, deps.clock())
            if m.group(1) is None:
                return {"text": f"While you are away until {until:%d %b %Y}, what would come to you "
                                "goes one level up."}
            return {"text": f"<@{m.group(1)}> covers your transfers until {until:%d %b %Y}."}
    except DomainError as exc:
        return {"text": str(exc)}
    prefix = "" if sub == "help" else f"I don't know `{blocks.escape(sub)}`. "
    return {"text": prefix + "Here is what /transfer can do.", "blocks": blocks.help_blocks()}
