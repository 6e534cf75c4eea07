"""The conditions of the catalogue's actions: why a step does not apply to a transfer (``when``)
and whether the policy awaits it today (``awaited``). Moved out of bot/actions.py, which re-exports
what callers use. Pure: no chat platform, no SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from bot.calendar import local_date
from bot.errors import DomainError, NotPermitted
from bot.org import Actor, Role
from bot.policy import BreachAction, PolicyPack
from bot.states import AWAITING_DECISION, STATE_LABELS, State

if TYPE_CHECKING:
    from bot.clocks import Deadline
    from bot.domain import Transfer


HOLDING = (Role.holding_practitioner, Role.holding_manager)
MANAGERS = (Role.holding_manager, Role.receiving_manager)
RECEIVING = (Role.receiving_manager,)
SENIOR = (Role.escalation,)


def _always(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | DomainError | None:
    return None


def _may_complete(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | DomainError | None:
    """Completion needs acceptance, except ROCH's pick-up point missed without prior agreement:
    "then the holding PM will transfer the case electronically into the receiving PM"."""
    # the button waits for a checklist gating completion, as the step itself does (LEICS)
    unconfirmed = t.checklist_missing(pack, "complete") if pack is not None else []
    gate = "Confirm the checklist before completing. Missing: " + "; ".join(unconfirmed)
    if t.state not in AWAITING_DECISION:
        if pack is not None and pack.named_worker_before == "complete" and not t.named_worker:
            return DomainError(f"Name the worker who will hold {t.case_ref} (Allocate worker) first: "
                               f"the {pack.title} policy asks for a named worker before the transfer "
                               "completes.")
        return gate if unconfirmed else None
    missed = t.last_event("transfer_point_missed")
    anyway = pack is None or any(BreachAction.transfer_anyway in c.at_breach for c in pack.clocks)
    if anyway and missed is not None and not missed.detail.get("agreed_absence"):
        if actor.has(Role.holding_manager, Role.system):
            return gate if unconfirmed else None
        return NotPermitted(f"Only the holding team's managers can transfer {t.case_ref} without "
                            "acceptance; nothing has changed.")
    return DomainError(f"{t.case_ref} is {STATE_LABELS[t.state].lower()}: it can be completed once "
                       "the receiving team has accepted it; nothing has changed.")


def _dispute_ok(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | DomainError | None:
    if t.state == State.declined and not actor.has(Role.holding_manager, Role.system):
        return NotPermitted(f"Only the holding team's managers can dispute the decline of {t.case_ref}; "
                            "nothing has changed.")
    return None


# A condition returns why the step does not apply (a message, or the error itself), or None.
Condition = Callable[["PolicyPack | None", "Transfer", Actor], "str | DomainError | None"]
# Whether the policy awaits the step on this transfer today, given its clocks: the button's rule.
Awaited = Callable[["PolicyPack", "Transfer", "Sequence[Deadline]", date], bool]


# ---- conditions ------------------------------------------------------------------------------
def _has_clock_action(action: BreachAction) -> Condition:
    def cond(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
        if pack is None or any(action in c.at_breach for c in pack.clocks):
            return None
        return f"The {pack.title} policy has no such step."
    return cond


def _endorsable(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | DomainError | None:
    """Senior management endorses once; after that the button goes (its date moves the clock)."""
    missing = _has_clock_action(BreachAction.request_endorsement)(pack, t, actor)
    if missing is not None:
        return missing
    done = t.last_event("extension_endorsed")
    if done is not None:
        until = done.detail.get("expected_by")
        return ("Senior management already endorsed the extension"
                + (f" (expected by {until})" if until else "") + "; nothing has changed.")
    return None


def delay_awaited(pack: PolicyPack, t: Transfer, clocks: Sequence[Deadline], today: date
                  ) -> Deadline | None:
    """The missed clock whose reason for delay the policy awaits from the transferring area, if
    any: one asking for it at its breach (probation's 20 working days: "Where this cannot be
    achieved, the reasons for the delay and actions being undertaken to progress must be fully
    recorded"), running and past its due date, with no reason recorded since that date passed.
    A new breach (the endorsed expected-by date missed too) awaits a new reason."""
    last = t.last_event("delay_recorded")
    for d in clocks:
        clock = next((c for c in pack.clocks if c.name == d.clock), None)
        if clock is None or BreachAction.record_delay not in clock.at_breach or not d.overdue(today):
            continue
        if last is None or local_date(last.at) <= d.due_on:
            return d
    return None


def _delay_awaited(pack: PolicyPack, t: Transfer, clocks: Sequence[Deadline], today: date) -> bool:
    return delay_awaited(pack, t, clocks, today) is not None


def _address_clock(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
    if pack is None:
        return None
    for c in pack.clocks:
        if c.name == "address_assessment":
            if c.flag is None or c.flag in t.flags:
                return None
            return (f"{t.case_ref} does not ask the receiving area for an address assessment "
                    "(the transferring officer does the home visit).")
    return f"The {pack.title} policy has no address assessment."


def _work_owed(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
    return None if t.work_items else f"No work has been asked for on {t.case_ref}."


def _temporary(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
    return None if t.kind == "temporary" else f"{t.case_ref} is not a temporary move."


def _point_pending(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
    if t.transfer_point_date is None:
        return f"{t.case_ref} has no transfer point date set."
    if t.last_event("transfer_point_attended") or t.last_event("transfer_point_missed"):
        return f"Attendance at the transfer point of {t.case_ref} is already recorded."
    return None


def _may_accept(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
    """S2's sign-off settled, and no checklist gating acceptance left open (LEICS: the holding
    manager confirms the Children in Care checklist first): no live Accept before that."""
    why = _sign_off_settled(pack, t, actor)
    if why is not None or pack is None:
        return why
    missing = t.checklist_missing(pack, "accept")
    if missing:
        return ("Confirm the checklist before accepting (the holding team's manager confirms it). "
                "Missing: " + "; ".join(missing))
    return None


def _may_decide(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
    """At the ladder's first rung the team managers decide (ROCH "initially be managed between
    the responsible PM and the PM the case is to transfer to"; BURY, LEICS "Team Managers"); above
    it, the level holding it."""
    if actor.has(Role.system) or pack is None:
        return None
    first = pack.escalation.levels[0].name
    level = t.escalation_level or first
    if level == first:
        if actor.has(*MANAGERS):
            return None
        above = pack.escalation.above(first)
        return (f"The dispute about {t.case_ref} is with the team managers "
                f"({pack.level_label(first)}) first: they decide it, or escalate it"
                + (f" to the {above.label}" if above else "") + "; nothing has changed.")
    if actor.has(Role.escalation):
        return None
    return (f"The dispute about {t.case_ref} is with the {pack.level_label(level)}: they decide it "
            "now; nothing has changed.")


def _can_climb(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
    """Escalate only while a level above the one holding the dispute remains."""
    if pack is None:
        return None
    if pack.escalation.above(t.escalation_level or pack.escalation.levels[0].name) is None:
        return (f"{t.case_ref} is already with the top of the ladder "
                f"({pack.escalation.levels[-1].label}): it decides; nothing has changed.")
    return None


def _dispute_awaited(pack: PolicyPack, t: Transfer, clocks: Sequence[Deadline], today: date) -> bool:
    """A decline may be disputed from a button while its window runs (``dispute_window_working_days``)."""
    if t.state != State.declined:
        return True
    window = next((d for d in clocks if d.clock == "dispute_window"), None)
    return window is not None and today <= window.due_on


def _sign_off_settled(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
    """S2: a request sent before the PM's sign-off waits for the Group Manager's agreement."""
    level = t.sign_off_awaited(pack) if pack is not None else None
    if not level or pack is None:
        return None
    return (f"{t.case_ref} was requested before the Practice Manager's sign-off: it waits for the "
            f"{pack.level_label(level)}'s agreement (or the sign-off) before your team decides.")


def _capacity_route(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
    """ROCH, S2: capacity pressures have a route of their own; at its top there is no further."""
    if pack is None:
        return None
    if pack.capacity is None:
        return f"The {pack.title} policy has no capacity route."
    held = t.capacity_held()
    if pack.capacity.after(held) is None:
        top = pack.capacity.levels[-1].label
        return f"The capacity concern about {t.case_ref} is already with the {top}, the top of the route."
    if held is None and not actor.has(*MANAGERS, Role.system):
        return f"The capacity concern about {t.case_ref} is raised first by a team's manager."
    if held is not None and not actor.has(Role.capacity_level, Role.system):
        return (f"The capacity concern about {t.case_ref} is with the "
                f"{pack.level_label(held)}: they raise it further.")
    return None


def _date_to_agree(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
    """BURY step 5: the date waits for the other side's manager (either may propose a change)."""
    if pack is None:
        return None
    if not pack.date_agreed_by_both:
        return f"The {pack.title} policy has no transfer date for both managers to agree."
    waiting = t.date_awaiting(pack)
    mine = {"holding": Role.holding_manager, "receiving": Role.receiving_manager}
    if waiting is not None and not actor.has(mine[waiting], Role.system) and not actor.has(
            mine["holding" if waiting == "receiving" else "receiving"]):
        return f"The transfer date of {t.case_ref} waits for the {waiting} team's manager."
    return None


def _capacity_held(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
    """A capacity concern is marked dealt with by the level holding it, while it is open."""
    if pack is not None and pack.capacity is None:
        return f"The {pack.title} policy has no capacity route."
    if t.capacity_held() is None:
        return f"No capacity concern about {t.case_ref} is waiting to be dealt with."
    return None


def _sign_off_asked(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
    if pack is None or t.sign_off_awaited(pack):
        return None
    return f"{t.case_ref} is not waiting for anyone's agreement to go without the sign-off."


def confirmable(pack: PolicyPack, t: Transfer, actor: Actor) -> list[tuple[str, str, str]]:
    """Checklist items of this transfer that ``actor`` may confirm and nobody has yet:
    (checklist id, item id, label)."""
    out = []
    for cl in pack.checklists:
        if not cl.applies(t.kind, t.flags):
            continue
        if not actor.has(*confirmers(cl.confirmed_by), Role.system):
            continue
        done = t.checklist.get(cl.id, {})
        out += [(cl.id, it.id, f"{cl.label}: {it.label}") for it in cl.items_for(t.kind) if it.id not in done]
    return out


def confirmers(role: str) -> tuple[Role, ...]:
    """Who may confirm a checklist whose pack says ``confirmed_by: role``."""
    r = Role(role)
    return (r, Role.holding_manager) if r == Role.holding_practitioner else (r,)


def _something_to_confirm(pack: PolicyPack | None, t: Transfer, actor: Actor) -> str | None:
    if pack is None or confirmable(pack, t, actor):
        return None
    return f"Nothing on the checklists of {t.case_ref} is waiting for you to confirm."
