"""The forms of the catalogue's actions: the fields a pack's form shows, the options they offer
and the typed values read from a submitted form. Moved out of bot/actions.py, which re-exports
them. Pure: no chat platform, no SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.action_rules import confirmable
from bot.errors import DomainError, FormErrors
from bot.fields import FieldKind, FormField, clean_text, day_in_range
from bot.org import Actor
from bot.policy import Choice, PolicyPack

if TYPE_CHECKING:
    from bot.actions import Action
    from bot.domain import Transfer


# ---- forms -----------------------------------------------------------------------------------
OUTCOMES = (
    Choice(id="transfer", label="The transfer goes ahead (the receiving team takes the case)"),
    Choice(id="remain", label="The case stays with the holding team"),
)
YES_NO = (Choice(id="yes", label="Yes"), Choice(id="no", label="No"))


def choices(a: Action, f: FormField, pack: PolicyPack, t: Transfer, actor: Actor) -> tuple[Choice, ...]:
    """The options a choice or items field offers on this transfer."""
    if f.kind == FieldKind.yes_no:
        return YES_NO
    if a.name == "decline" and f.name == "reason_category":
        return pack.decline_reasons
    if a.name == "decide" and f.name == "outcome":
        return OUTCOMES
    if a.name == "confirm":
        # "checklist.item" is no identifier a pack could declare, so the Choice is built unvalidated;
        # each item is labelled alone, its checklist's title the hint the surfaces group it under
        titles = {cl.id: cl.label for cl in pack.checklists}
        return tuple(Choice.model_construct(id=f"{c}.{i}", label=label.removeprefix(f"{titles[c]}: "),
                                            hint=titles[c])
                     for c, i, label in confirmable(pack, t, actor))
    return ()


def form_fields(a: Action, pack: PolicyPack) -> tuple[FormField, ...]:
    """The fields this pack's form for ``a`` shows (a decline asks for a reason only where the
    pack lists reasons)."""
    if a.name == "decline" and not pack.decline_reasons:
        return tuple(f for f in a.fields if f.name != "reason_category")
    if a.name == "attendance" and not any(p.both_attend for p in pack.transfer_points):
        return tuple(f for f in a.fields if f.name != "holding_attended")
    if a.name == "accept":  # FAQ: "ensure the decision and rationale is fully recorded"
        guard = pack.accept_rationale_force == "guard"
        return tuple(replace(f, required=guard, min_length=20 if guard else 0) if f.name == "rationale"
                     else f for f in a.fields if f.name != "rationale" or pack.accept_rationale)
    return a.fields


def parse(a: Action, pack: PolicyPack, t: Transfer, actor: Actor,
          raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed command values from a submitted form, or :class:`FormErrors` naming every bad field.

    ``raw`` maps field names to what the surface read: text, an ISO date or date, a user id, a
    choice id, a list of choice ids, or 'yes'/'no' (or a bool)."""
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in form_fields(a, pack):
        value = raw.get(f.name)
        try:
            out[f.name] = _field_value(a, f, pack, t, actor, value)
        except DomainError as exc:
            errors[f.name] = str(exc)
    if errors:
        raise FormErrors(errors)
    return out


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _field_value(a: Action, f: FormField, pack: PolicyPack, t: Transfer, actor: Actor,
                 value: Any) -> Any:
    label = f.label.split(" (")[0].rstrip("?")
    reasons = {c.id for c in pack.decline_reasons}
    if a.name == "decline" and f.name == "reason_category" and value not in reasons:
        raise DomainError(pack.decline_reasons_intro + ": "
                          + "; ".join(c.label for c in pack.decline_reasons) + ".", field=f.name)
    if _empty(value) if not isinstance(value, str) else not value.strip():
        if f.required:
            raise DomainError(f"Give the {label[:1].lower() + label[1:]}.", field=f.name)
        return () if f.kind == FieldKind.items or f.lines else None
    if f.kind == FieldKind.text:
        text = clean_text(str(value))
        if len(text) < f.min_length:
            raise DomainError(f"{label}: write at least {f.min_length} characters "
                              f"({len(text)} so far).", field=f.name)
        if len(text) > f.max_length:
            raise DomainError(f"{label}: keep it under {f.max_length} characters "
                              f"({len(text)} now).", field=f.name)
        if f.lines:
            return tuple(line.strip() for line in text.splitlines() if line.strip())
        return text
    if f.kind == FieldKind.date:
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
        except ValueError:
            raise DomainError(f"{label}: {str(value)[:20]!r} is not a date (YYYY-MM-DD).",
                              field=f.name) from None
        return day_in_range(day, t.created_at.date(), label, f.name)
    if f.kind == FieldKind.person:
        return str(value).strip()
    if f.kind == FieldKind.yes_no:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("yes", "no"):
            return str(value).lower() == "yes"
        raise DomainError(f"{label}: choose yes or no.", field=f.name)
    known = {c.id for c in choices(a, f, pack, t, actor)}
    if f.kind == FieldKind.choice:
        if str(value) not in known:
            raise DomainError(f"{label}: choose one of the options.", field=f.name)
        return str(value)
    picked = [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    bad = [v for v in picked if v not in known]
    if bad:
        raise DomainError(f"{label}: {', '.join(bad)[:60]} cannot be confirmed now.", field=f.name)
    return tuple(tuple(v.split(".", 1)) for v in picked)
