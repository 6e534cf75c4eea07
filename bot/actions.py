"""The catalogue of actions: every lifecycle step a person can take on a transfer, declared once.

Each :class:`Action` says what it is called, what its button and form say, which timeline event
it records, who may take it (roles), from which states, on which transfers (``when``) and the
fields its form asks for. :func:`refusal` is the one rule: the domain enforces it on every step
and the chat surfaces use it (through :func:`available`) to show exactly the buttons a person may
press now. An action may also say its button is offered only while the policy awaits the step
(``awaited``): a delay reason is asked for at the 20-day breach, and once it is recorded the
button goes; the step itself stays allowed, as an update by the typed command. Pure: no chat
platform, no SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from bot import commands as cmd
from bot.action_forms import OUTCOMES as OUTCOMES
from bot.action_forms import YES_NO as YES_NO
from bot.action_forms import choices as choices
from bot.action_forms import form_fields as form_fields
from bot.action_forms import parse as parse
from bot.action_rules import (
    HOLDING,
    MANAGERS,
    RECEIVING,
    SENIOR,
    Awaited,
    Condition,
    _address_clock,
    _always,
    _can_climb,
    _capacity_held,
    _capacity_route,
    _date_to_agree,
    _delay_awaited,
    _dispute_awaited,
    _dispute_ok,
    _endorsable,
    _has_clock_action,
    _may_accept,
    _may_complete,
    _may_decide,
    _point_pending,
    _sign_off_asked,
    _sign_off_settled,
    _something_to_confirm,
    _temporary,
    _work_owed,
)
from bot.action_rules import confirmable as confirmable
from bot.action_rules import confirmers as confirmers
from bot.action_rules import delay_awaited as delay_awaited
from bot.errors import DomainError, NotPermitted
from bot.org import Actor, Role
from bot.policy import BreachAction, PolicyPack
from bot.states import AWAITING_DECISION, IN_DISPUTE, LIVE, OPEN, STATE_LABELS, State, states_text

if TYPE_CHECKING:
    from bot.clocks import Deadline
    from bot.domain import Transfer

# The form fields and their value rules live in bot/fields.py; re-exported here for existing callers.
from bot.fields import FIRST_DAY as FIRST_DAY
from bot.fields import MAX_TEXT as MAX_TEXT
from bot.fields import NO_NAMES as NO_NAMES
from bot.fields import RAISE_FIELDS as RAISE_FIELDS
from bot.fields import YEARS_AHEAD as YEARS_AHEAD
from bot.fields import FieldKind as FieldKind
from bot.fields import FormField as FormField
from bot.fields import clean_text as clean_text
from bot.fields import day_in_range as day_in_range
from bot.fields import raise_fields as raise_fields

ROLE_WORDS = {
    Role.holding_practitioner: "the holding practitioner",
    Role.holding_manager: "the holding team's managers",
    Role.receiving_manager: "the receiving team's managers (or their cover)",
    Role.receiving_member: "the receiving team",
    Role.escalation: "senior managers on the escalation ladder",
    Role.holding_escalation: "the transferring area's senior managers",
    Role.capacity_level: "the capacity route's level the concern is with",
    Role.service_representative: "the receiving service's representatives",
    Role.system: "Baton",
}
# Receiving-side steps a service representative may take after the pick-up point (ROCH)
RECEIVING_OR_REP = (Role.receiving_manager, Role.service_representative)
REP_WORDS = ("(Rochdale) after the pick-up point, or with the receiving managers away and no cover, "
             "also the receiving HoS and service representatives")


@dataclass(frozen=True)
class Action:
    """One lifecycle step: its words, its rule (roles, states, when) and its form."""

    name: str
    label: str  # the button
    title: str  # the form's title (Slack allows 24 characters)
    submit: str  # the form's submit button
    event: str  # the timeline event it records
    command: type[cmd.Step]
    roles: tuple[Role, ...]
    states: frozenset[State]
    fields: tuple[FormField, ...] = ()
    explain: str = ""  # the first line of the form
    records: str = ""  # what it records, for people reading the README
    style: str | None = None  # 'primary' or 'danger' for the button
    # Why the step does not apply to this transfer (None: it applies). ``pack`` is None when
    # the domain checks a step it has no pack for: pack-dependent conditions then pass.
    when: Condition = _always
    when_text: str = ""  # the condition in words, for the README
    # The button is offered only while the policy awaits the step (None: whenever it may be
    # taken). Outside that the step stays allowed (``refusal``), by the typed command: an update.
    awaited: Awaited | None = None
    awaited_text: str = ""  # when the button is offered, in words, for the README
    update_note: str = ""  # the form's line when the step is taken while not awaited

    def field(self, name: str) -> FormField:
        """The form field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


# ---- the catalogue ---------------------------------------------------------------------------
F = FieldKind
CATALOGUE: tuple[Action, ...] = (
    Action(
        "request", "Send the request", "Send the request", "Send", "requested", cmd.Request,
        HOLDING, frozenset({State.heads_up}),
        explain="The early heads up becomes the transfer request: the receiving team's clock starts.",
        records="the request; the policy's clocks start", style="primary",
    ),
    Action(
        "accept", "Accept", "Accept transfer", "Accept", "accepted", cmd.Accept,
        RECEIVING_OR_REP, AWAITING_DECISION, when=_may_accept,
        when_text="every checklist gating acceptance is confirmed (Leicestershire: Children in "
                  "Care, by the holding manager); (S2) the sign-off is given or the Group Manager "
                  "agreed to go without it; " + REP_WORDS,
        fields=(
            FormField("named_worker", "Named worker", F.person, required=False,
                      hint="The worker in your team who will hold the case (you can allocate later)."),
            FormField("agreed_date", "Agreed transfer date", F.date, required=False,
                      hint="The date the two managers agreed for the transfer."),
            FormField("rationale", "The decision and its rationale", F.text, min_length=20,
                      multiline=True, hint=NO_NAMES),
        ),
        records="acceptance, with the named worker and agreed date if given (probation: with its "
                "rationale)", style="primary",
    ),
    Action(
        "agree_date", "Agree transfer date", "Agree transfer date", "Agree", "date_agreed",
        cmd.AgreeDate, MANAGERS, frozenset({State.accepted, State.allocated}),
        fields=(FormField("agreed_date", "Transfer date", F.date, required=False,
                          hint="Leave it empty to agree the date the other team's manager gave; a "
                               "different date goes to them to agree."),),
        explain="Both team managers agree the transfer date, set by the child's best interests, not "
                "team logistics.",
        when=_date_to_agree,
        when_text="(Bury) both team managers agree the transfer date: the other side's manager "
                  "agrees the one given, or gives another",
        records="the date given or agreed, and by which side",
    ),
    Action(
        "decline", "Decline", "Decline transfer", "Decline", "declined", cmd.Decline,
        RECEIVING, AWAITING_DECISION, when=_sign_off_settled,
        when_text="(S2) the sign-off is given or the Group Manager agreed to go without it",
        fields=(
            FormField("reason_category", "Reason for declining", F.choice),
            FormField("rationale", "Rationale", F.text, min_length=20, multiline=True, hint=NO_NAMES),
        ),
        records="the decline, its reason and written rationale", style="danger",
    ),
    Action(
        "request_work", "Ask for work", "Ask for work", "Send", "work_requested", cmd.RequestWork,
        RECEIVING, LIVE,
        fields=(
            FormField("items", "Work outstanding (one item per line)", F.text, min_length=5,
                      max_length=2000, multiline=True, lines=True, hint=NO_NAMES),
            FormField("due", "To be done by", F.date, required=False,
                      hint="The date agreed with the holding team (left empty: the policy's timescale)."),
        ),
        explain="The holding team completes the work by the date; it never delays the transfer.",
        records="the work items and the date they are due",
    ),
    Action(
        "work_done", "Mark work done", "Work done", "Mark done", "work_completed", cmd.WorkDone,
        HOLDING, LIVE, when=_work_owed, when_text="work has been asked for",
        explain="The work the receiving team asked for is done.",
        records="that the remedial work is complete",
    ),
    Action(
        "confirm", "Confirm checklist", "Confirm checklist", "Confirm", "checklist_confirmed",
        cmd.Confirm, (Role.holding_practitioner, Role.holding_manager, Role.receiving_manager), OPEN,
        fields=(FormField("items", "Items to confirm", F.items),),
        when=_something_to_confirm,
        when_text="an item of a checklist this person confirms is still open",
        records="each item, with who confirmed it and when",
    ),
    Action(
        "attendance", "Record attendance", "Transfer point", "Record", "transfer_point_attended",
        cmd.RecordAttendance, MANAGERS, LIVE | {State.heads_up},
        fields=(
            FormField("attended", "Did the receiving team attend the transfer point?", F.yes_no),
            FormField("agreed_absence", "If not: had the receiving team agreed its absence in advance?",
                      F.yes_no, required=False,
                      hint="Without prior agreement the holding manager may transfer the case anyway "
                           "(where the policy says so)."),
            FormField("holding_attended", "Did the holding team attend too?", F.yes_no, required=False,
                      hint="Asked where both teams attend the transfer point (the first Core Group)."),
            FormField("note", "Note (for example, attendance agreed in advance)", F.text,
                      required=False, max_length=500, multiline=True, hint=NO_NAMES),
        ),
        when=_point_pending, when_text="a transfer point date is set and attendance is not yet recorded",
        records="whether the receiving team attended the transfer point",
    ),
    Action(
        "allocate", "Allocate worker", "Allocate worker", "Allocate", "allocated", cmd.Allocate,
        RECEIVING_OR_REP, frozenset({State.accepted, State.allocated}),
        fields=(FormField("named_worker", "Named worker", F.person),),
        when_text=REP_WORDS,
        records="the named worker", style="primary",
    ),
    Action(
        "complete", "Complete transfer", "Complete transfer", "Complete", "completed", cmd.Complete,
        (*MANAGERS, Role.service_representative),
        frozenset({State.accepted, State.allocated}) | AWAITING_DECISION,
        when=_may_complete,
        when_text="accepted (Bury: with a named worker); or (Rochdale) the pick-up point was "
                  "missed without prior agreement, by the holding team's managers; " + REP_WORDS,
        explain="Responsibility for the case passes to the receiving team now.",
        records="completion: responsibility passes to the receiving team", style="primary",
    ),
    Action(
        "withdraw", "Withdraw", "Withdraw transfer", "Withdraw", "withdrawn", cmd.Withdraw,
        HOLDING, OPEN - IN_DISPUTE,
        fields=(FormField("reason", "Why the transfer is withdrawn", F.text, min_length=10,
                          multiline=True, hint=NO_NAMES),),
        records="the withdrawal and its reason", style="danger",
    ),
    Action(
        "dispute", "Raise a dispute", "Raise a dispute", "Dispute", "disputed", cmd.Dispute,
        MANAGERS, LIVE | {State.declined},
        fields=(FormField("reason", "What the disagreement is about", F.text, min_length=20,
                          multiline=True, hint=NO_NAMES),),
        explain="A decline, or any disagreement about the transfer, goes up the policy's ladder "
                "until it is decided. It never delays the service to the child or person.",
        when=_dispute_ok, when_text="a decline is disputed by the holding team's managers",
        awaited=_dispute_awaited,
        awaited_text="after a decline, within the dispute window (dispute_window_working_days)",
        records="the dispute and its reason", style="danger",
    ),
    Action(
        "escalate", "Escalate", "Escalate", "Escalate", "escalated", cmd.Escalate,
        (*MANAGERS, Role.escalation), IN_DISPUTE,
        fields=(FormField("reason", "Why it goes up a level", F.text, min_length=10, multiline=True,
                          hint=NO_NAMES),),
        explain="The next level of the escalation ladder is asked to decide.",
        when=_can_climb, when_text="a level above the one holding the dispute remains",
        records="the escalation, the level reached and why",
    ),
    Action(
        "capacity_concern", "Raise a capacity concern", "Capacity concern", "Raise",
        "capacity_concern_raised", cmd.CapacityConcern, (*MANAGERS, Role.capacity_level),
        LIVE | {State.heads_up},
        fields=(FormField("concern", "The capacity pressure", F.text, min_length=20, multiline=True,
                          hint=NO_NAMES),),
        explain="Capacity is never a reason to decline: the concern goes to the policy's capacity "
                "route and the transfer goes ahead, its clocks running.",
        when=_capacity_route,
        when_text="the policy has a capacity route (Rochdale HoS, SMT, AD; S2 Senior Leadership "
                  "Team): a team's manager raises it, each level raises it to the next",
        records="the capacity concern and the level it went to",
    ),
    Action(
        "capacity_resolved", "Capacity concern dealt with", "Capacity dealt with", "Record",
        "capacity_concern_resolved", cmd.CapacityResolved, (Role.capacity_level,),
        LIVE | {State.heads_up, State.completed},
        fields=(FormField("note", "How the pressure was dealt with", F.text, min_length=10,
                          multiline=True, hint=NO_NAMES),),
        explain="The level holding the capacity concern records how it was dealt with (e.g. "
                "allocation across the service area, or a whole service solution).",
        when=_capacity_held,
        when_text="a capacity concern is open: the level it is with marks it dealt with",
        records="how the capacity concern was dealt with, and by which level",
    ),
    Action(
        "decide", "Decide the dispute", "Decide the dispute", "Decide", "decided", cmd.Decide,
        (*MANAGERS, *SENIOR), IN_DISPUTE, when=_may_decide,
        when_text="at the ladder's first rung the team managers; above it the level holding it",
        fields=(
            FormField("outcome", "Decision", F.choice),
            FormField("rationale", "Rationale", F.text, min_length=20, multiline=True, hint=NO_NAMES),
        ),
        records="the decision (transfer goes ahead, or case stays) and its rationale",
    ),
    Action(
        "record_delay", "Record delay reason", "Record delay", "Record", "delay_recorded",
        cmd.RecordDelay, HOLDING, OPEN - {State.heads_up},
        fields=(
            FormField("reason", "Reason for the delay", F.text, min_length=10, multiline=True,
                      hint=NO_NAMES),
            FormField("actions", "Actions being taken to progress it", F.text, min_length=10,
                      multiline=True, hint=NO_NAMES),
        ),
        when=_has_clock_action(BreachAction.record_delay),
        when_text="the policy asks the transferring area for delay reasons",
        awaited=_delay_awaited,
        awaited_text="from the 20-day breach until a reason is recorded, and again at a new breach "
                     "(the endorsed expected-by date missed); a further reason is an update, by "
                     "`/transfer delay CRN`",
        update_note="No reason is asked for now (no deadline is missed, or its reason is "
                    "recorded): this records one as an update, with the actions in hand.",
        records="the reason for delay and the actions in hand",
    ),
    Action(
        "endorse", "Endorse extension", "Endorse extension", "Endorse", "extension_endorsed",
        cmd.Endorse, (Role.holding_escalation,), OPEN - {State.heads_up},
        fields=(FormField("expected_by", "Date the transfer is now expected to be completed by",
                          F.date, hint="The transfer's clock and every card follow this date."),
                FormField("rationale", "Why the extension is endorsed", F.text, min_length=10,
                          multiline=True, hint=NO_NAMES)),
        when=_endorsable,
        when_text="the policy asks senior management to endorse extensions, and it is not yet endorsed",
        records="senior management's endorsement, its rationale and the date the transfer is now expected by",
    ),
    Action(
        "address_assessed", "Record address assessment", "Address assessment", "Record",
        "address_assessed", cmd.AddressAssessed, RECEIVING, AWAITING_DECISION,
        fields=(FormField("outcome", "Outcome of the address assessment", F.text, min_length=10,
                          multiline=True, hint=NO_NAMES),),
        when=_address_clock,
        when_text="the request says the receiving area does the home visit (the policy's address assessment)",
        records="the outcome of the receiving area's address assessment",
    ),
    Action(
        "agree_without_sign_off", "Agree without sign-off", "Agree without sign-off", "Agree",
        "sign_off_override_agreed", cmd.AgreeWithoutSignOff, (Role.holding_escalation,),
        AWAITING_DECISION,
        fields=(FormField("note", "Note (optional)", F.text, required=False, max_length=1000,
                          multiline=True, hint=NO_NAMES),),
        when=_sign_off_asked,
        when_text="the request went before the checklist's sign-off, with a reason why waiting "
                  "would delay the child",
        explain="The request went before the Practice Manager signed off the checklist, because "
                "waiting may cause unnecessary delay for the child. Agreeing lets the receiving "
                "team decide now; its clocks are already running.",
        records="the agreement that the request goes before the sign-off", style="primary",
    ),
    Action(
        "convert", "Convert to permanent", "Convert to permanent", "Convert",
        "converted_to_permanent", cmd.Convert, (Role.holding_manager,), OPEN - {State.heads_up},
        when=_temporary, when_text="the transfer is a temporary move",
        explain="The temporary move becomes a permanent transfer.",
        records="the change from a temporary move to a permanent transfer",
    ),
)

BY_NAME: dict[str, Action] = {a.name: a for a in CATALOGUE}
BY_COMMAND: dict[type[cmd.Step], Action] = {a.command: a for a in CATALOGUE}
# Steps the domain knows that no one takes from a button (the sweep climbs the ladder itself).
INTERNAL: dict[str, tuple[tuple[Role, ...], frozenset[State]]] = {
    "start_assessment": (RECEIVING, frozenset({State.requested})),
    "sweep_escalate": ((Role.system,), IN_DISPUTE | LIVE),
}


def action(name: str) -> Action:
    """The catalogue entry called ``name``; DomainError listing the actions otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise DomainError(f"Unknown action {name!r}; Baton knows: {', '.join(BY_NAME)}.") from None


def who_can(a: Action) -> str:
    """The people who may take ``a``, in words."""
    # ROCH's service representatives stand in only after the pick-up point: said in ``when_text``
    words = [ROLE_WORDS[r] for r in a.roles if r != Role.service_representative]
    if a.roles == HOLDING:
        words = ["the holding team"]
    if a.name == "decide":
        words = ["the ladder level holding the dispute (at first the team managers)"]
    return " or ".join(words)


def refusal(a: Action, t: Transfer, actor: Actor, pack: PolicyPack | None) -> DomainError | None:
    """Why ``actor`` may not take ``a`` on ``t`` now (state, then role, then condition); None if
    they may. The one rule behind every button, form, typed command and domain method."""
    verb = a.label[:1].lower() + a.label[1:]
    if t.state not in a.states:
        return DomainError(
            f"{t.case_ref} is {STATE_LABELS[t.state].lower()}, so you cannot {verb} now "
            f"(only when it is {states_text(a.states)}); nothing has changed.")
    if not actor.has(*a.roles, Role.system):
        return NotPermitted(f"Only {who_can(a)} can {verb} on {t.case_ref}; nothing has changed.")
    why = a.when(pack, t, actor)
    return DomainError(why) if isinstance(why, str) else why


def check(a: Action, t: Transfer, actor: Actor, pack: PolicyPack | None) -> None:
    """Raise the refusal of :func:`refusal`, if any."""
    err = refusal(a, t, actor, pack)
    if err is not None:
        raise err


def available(t: Transfer, actor: Actor, pack: PolicyPack, *, clocks: Sequence[Deadline],
              today: date) -> list[Action]:
    """The buttons this person is offered on this transfer now, in catalogue order: the actions
    they may take, less those the policy does not await now (``awaited``; still typed)."""
    if actor.has(Role.system) or not actor.roles:
        return []
    return [a for a in CATALOGUE
            if refusal(a, t, actor, pack) is None and offered_now(a, t, pack, clocks, today)]


def offered_now(a: Action, t: Transfer, pack: PolicyPack, clocks: Sequence[Deadline], today: date
                ) -> bool:
    """Whether ``a``'s button is due now, whoever may press it (its ``awaited`` rule only)."""
    return a.awaited is None or a.awaited(pack, t, clocks, today)


def command_for(a: Action, transfer_id: int, user: str, values: Mapping[str, Any]) -> cmd.Step:
    """The command value of action ``a`` with parsed form values."""
    return a.command(transfer_id, user, **values)



# ---- the catalogue in words ---------------------------------------------------------------------
def applies_to(a: Action, pack: PolicyPack) -> bool:
    """Whether a pack ever offers ``a`` (its policy has the step at all)."""
    if a.name == "record_delay":
        return any(BreachAction.record_delay in c.at_breach for c in pack.clocks)
    if a.name == "endorse":
        return any(BreachAction.request_endorsement in c.at_breach for c in pack.clocks)
    if a.name == "address_assessed":
        return any(c.name == "address_assessment" for c in pack.clocks)
    if a.name == "convert":
        return "temporary" in pack.kind_ids
    if a.name == "attendance":
        return bool(pack.transfer_points)
    if a.name == "confirm":
        return bool(pack.checklists)
    if a.name == "request":
        return pack.early_heads_up
    if a.name == "agree_without_sign_off":
        return any(cl.override_by for cl in pack.checklists)
    if a.name == "agree_date":
        return bool(pack.date_agreed_by_both)
    if a.name in ("capacity_concern", "capacity_resolved"):
        return pack.capacity is not None
    return True


def catalogue_table(packs: Mapping[str, PolicyPack]) -> str:
    """Every action as a Markdown table: who may take it, from which states, on which transfers,
    under which packs (the README's table, and ``baton actions``)."""
    rows = ["| action (`/transfer …`) | button | who may take it | from | only when | button offered "
            "only | packs | records |",
            "|---|---|---|---|---|---|---|---|"]
    for a in CATALOGUE:
        names = [n for n, p in packs.items() if applies_to(a, p)]
        rows.append(
            f"| `{a.name.replace('_', '-')}` | {a.label} | {who_can(a)} | {states_text(a.states)} | "
            f"{a.when_text or '-'} | {a.awaited_text or '-'} | "
            f"{'all' if len(names) == len(packs) else ', '.join(names)} | "
            f"{a.records} |")
    return "\n".join(rows)
