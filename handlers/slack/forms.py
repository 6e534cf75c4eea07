"""Reading what a person submitted in a Slack form (values by block, dates, a raise request) and
answering whoever pressed a button privately. Moved out of handlers/slack/app.py, which re-exports
them."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk import WebClient

from bot import services
from bot.domain import DomainError
from handlers.slack import blocks, ids


def _block_for(field: str | None, values: dict[str, Any]) -> str:
    """The input block an error about ``field`` belongs under (the form's last input otherwise)."""
    if field and field in values:
        return field
    return list(values)[-1] if values else str(field)


def _form_values(values: dict[str, Any]) -> dict[str, Any]:
    """A catalogue form's state as {field name: value}; grouped checkboxes are merged."""
    out: dict[str, Any] = {}
    for block in values:
        name = ids.field_of_block(block)
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
