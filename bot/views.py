"""Platform-neutral views: what a card, a form, a digest or a list says, for any chat platform.

The core builds these; each platform's renderer (Block Kit for Slack, Adaptive Cards for Teams)
turns them into its own markup and escapes text for itself. Text is a tuple of plain strings
and :class:`Person` references, so a renderer can mention a person without the core knowing how.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from bot import actions, card_facts, obligations
from bot.actions import Action, FieldKind, FormField
from bot.calendar import WorkingCalendar
from bot.card_facts import Button, arrange
from bot.clocks import Deadline
from bot.clocks import deadlines as clocks_of
from bot.domain import UK_TIME, TimelineEvent, Transfer, local_date
from bot.obligations import Obligation
from bot.org import Actor, Org
from bot.pickers import trim
from bot.policy import Choice, PolicyPack
from bot.states import AWAITING_DECISION, STATE_LABELS, State

if TYPE_CHECKING:
    from bot.ports import TransferSummary

SYSTEM = "baton"
RESTRICTED_NOTE = "Restricted case: Baton shows only its reference, state and actions in chat."
DATE_FMT = "%a %d %b %Y"
TIME_FMT = "%d %b %Y %H:%M"


@dataclass(frozen=True)
class Person:
    """A chat user, by id (never a name), with their role and team where the card knows it
    ("South PDU's Team Manager"): what a platform shows when it has no display name."""

    id: str
    role: str = field(default="", compare=False)


Rich = tuple["str | Person", ...]


def rich(*parts: str | Person) -> Rich:
    """Text made of plain strings and people."""
    return tuple(parts)


@dataclass(frozen=True)
class Card:
    """A transfer as one message: headline, facts, where it stands, and this viewer's actions."""

    transfer_id: int
    case_ref: str
    title: str
    headline: tuple[str, ...]
    fields: tuple[tuple[str, Rich], ...]
    status: Rich
    buttons: tuple[Button, ...]
    fallback: str
    todo: str = ""  # who must do what by when, in the pack's words ("South PDU: decide on ...")
    rag: str | None = None  # 'red', 'amber' or 'green' for the next deadline; None when none runs
    you: str = ""  # what happened and what this viewer must do, one sentence each, read first

    @property
    def in_sight(self) -> tuple[Button, ...]:
        """The buttons shown (three at most, the primary first)."""
        return arrange(self.buttons)[0]

    @property
    def more(self) -> tuple[Button, ...]:
        """The buttons in the card's overflow menu."""
        return arrange(self.buttons)[1]


@dataclass(frozen=True)
class DigestItem:
    """One case in a digest of reminders and escalations."""

    case_ref: str
    transfer_id: int
    text: str
    buttons: tuple[Button, ...] = ()
    link: str = ""  # opens the reader's card of the case, where the platform gives a link
    record: bool = False  # a case record's duty (bot/record_clocks.py), not a transfer's step


@dataclass(frozen=True)
class Digest:
    """Reminders and escalations for one recipient from one sweep (one page of them)."""

    items: tuple[DigestItem, ...]
    page: int = 1
    pages: int = 1

    @property
    def fallback(self) -> str:
        """The notification text."""
        if len(self.items) == 1:
            return f"{self.items[0].case_ref}: {self.items[0].text}"
        return self.title

    @property
    def title(self) -> str:
        """How many need attention, in words about what they are: "3 transfers need attention",
        "2 case record duties need attention", "1 transfer and 1 case record duty need attention"."""
        records = sum(1 for i in self.items if i.record)
        moves = len(self.items) - records
        parts = ([f"{moves} transfer{'s' if moves != 1 else ''}"] if moves else []) + \
            ([f"{records} case record dut{'ies' if records != 1 else 'y'}"] if records else [])
        one = len(self.items) == 1
        return " and ".join(parts) + (" needs attention" if one else " need attention")


@dataclass(frozen=True)
class Text:
    """A plain message."""

    text: str

    @property
    def fallback(self) -> str:
        """The notification text."""
        return self.text


Message = Card | Digest | Text


@dataclass(frozen=True)
class FormInput:
    """A field of a form, with the options it offers on this transfer and its starting value."""

    field: FormField
    options: tuple[Choice, ...] = ()
    initial: Any = None


@dataclass(frozen=True)
class Form:
    """An action's form for one transfer: title, what it does, the fields, the submit button."""

    action: str
    transfer_id: int
    case_ref: str
    title: str
    submit: str
    intro: tuple[Rich, ...]
    inputs: tuple[FormInput, ...] = field(default_factory=tuple)


# ---- builders ----------------------------------------------------------------------------------
def day(d: date | None) -> str:
    """A date as people read it: Tue 22 Dec 2026."""
    return d.strftime(DATE_FMT) if d else "-"


def when(at: datetime) -> str:
    """A moment in UK time."""
    return (at.astimezone(UK_TIME) if at.tzinfo is not None else at).strftime(TIME_FMT)


def actor_part(user: str, role: str = "") -> str | Person:
    """Who did something: Baton itself, or a person (with their role and team, if known)."""
    return "Baton" if user == SYSTEM else Person(user, role)


def person(user: str, org: Org | None, t: Transfer | None = None, pack: PolicyPack | None = None
           ) -> str | Person:
    """A person on a card, with their role and team from the org file."""
    return actor_part(user, card_facts.role_of(user, org, t, pack))


def buttons(t: Transfer, offered: list[Action], owed: Obligation | None = None) -> tuple[Button, ...]:
    """Buttons for the actions a viewer may take: exactly one primary, destructive ones so styled."""
    return card_facts.styled(t, offered, owed)


def deadline_text(o: Obligation | None, cal: WorkingCalendar, today: date) -> str:
    """The deadline of the obligation due first, in the pack's words, with working days left or
    overdue: "Transfer to be completed by Tue 22 Dec 2026 (5 working days left)"."""
    if o is None:
        return "Closed: nothing is owed"
    return obligations.deadline_words(o.deadline, cal, today)


def policy_named(title: str) -> str:
    """A pack's title as "the ... policy", without "Transfer Policy policy"."""
    return f"the {title}" if title.lower().endswith("policy") else f"the {title} policy"


def team_name(org: Org | None, team_id: str) -> str:
    """A team as the org file names it (its id only when the org does not know it)."""
    return org.team(team_id).name if org is not None and org.has_team(team_id) else team_id


def raised_by(t: Transfer, pack: PolicyPack | None, org: Org | None) -> str:
    """Who raised a transfer, by team and role, never by name: "North PDU's practitioner"."""
    team = team_name(org, t.holding_team)
    if t.requested_by == SYSTEM:
        return f"{team} (adopted from the tracker)"
    manager = org is not None and org.has_team(t.holding_team) and (
        t.requested_by in org.team(t.holding_team).managers)
    if manager and pack is not None:
        role = pack.escalation.levels[0].label
    elif manager:
        role = "manager"
    else:
        role = pack.practitioner_label if pack is not None else "practitioner"
    return f"{team}'s {role}"


def summary_parts(r: TransferSummary, org: Org | None, today: date,
                  cal: WorkingCalendar) -> tuple[str, str, str]:
    """A list row in words, labels not ids: (state, "North PDU → South PDU", "day 5 · Transfer
    to be completed by Tue 22 Dec 2026 (15 working days left)")."""
    state = STATE_LABELS[State(r.state)] if r.state in State.__members__ else r.state
    teams = f"{team_name(org, r.holding_team)} → {team_name(org, r.receiving_team)}"
    due = "closed"
    if r.due_on is not None:
        label = "Due"
        if org is not None and r.due_clock and org.has_team(r.holding_team):
            label = org.pack_for(r.holding_team).clock_label(r.due_clock)
        due = f"{label} {day(r.due_on)} ({obligations.days_left_text(r.due_on, cal, today)})"
    if r.requested_on is not None:
        due = f"day {cal.working_days_between(r.requested_on, today)} · {due}"
    return state, teams, due


def _decisive_event(t: Transfer) -> TimelineEvent | None:
    for ev in reversed(t.timeline):
        if ev.to_state == t.state.value and ev.from_state != ev.to_state:
            return ev
    return t.timeline[-1] if t.timeline else None


def _status(t: Transfer, pack: PolicyPack | None = None, org: Org | None = None) -> Rich:
    """Where the transfer stands: the decision and who took it, by role and team."""
    if t.state in AWAITING_DECISION:
        return rich("Awaiting the receiving team's decision.")
    ev = _decisive_event(t)
    line = STATE_LABELS[t.state]
    if ev is not None and ev.kind == "decided":  # a dispute decided, either way
        line = ("Dispute decided: the transfer goes ahead," if ev.detail.get("outcome") == "transfer"
                else "Dispute decided: the case stays with the holding team,")
        said: Rich = (f"{line} by ", person(ev.actor, org, t, pack), f" on {when(ev.at)}")
        return (*said, f": {ev.reason}") if ev.reason else said
    accepted = t.last_event("accepted")
    if t.state == State.allocated and accepted is not None:
        ev, line = accepted, "Accepted"
    if ev is None:
        return rich(line)
    parts: list[str | Person] = [f"{line} by ", person(ev.actor, org, t, pack), f" on {when(ev.at)}"]
    category = ev.detail.get("category") if ev.detail else None
    if category and pack is not None:
        parts.append(f" ({pack.reason_label(str(category))})")
    if ev.reason:
        parts.append(f": {ev.reason}")
    return tuple(parts)


def card(t: Transfer, deadlines: list[Deadline], *, cal: WorkingCalendar, today: date,
         offered: list[Action], headline: tuple[str, ...] = (), pack: PolicyPack | None = None,
         org: Org | None = None, brief: bool = False) -> Card:
    """A transfer's card as of ``today`` for a viewer who may take ``offered``: what happened
    (the headline), what they must do (To do, from the obligation: verb and date), then the
    facts, content rather than pointers (checklist progress, the reason for delay, attendance,
    the decision and who took it); a ``brief`` card (a restricted transfer's message) carries
    the case reference, its state and the actions only."""
    if brief:
        return Card(transfer_id=t.id or 0, case_ref=t.case_ref, title=f"Case transfer: {t.case_ref}",
                    headline=headline, fields=(("State", rich(STATE_LABELS[t.state])),),
                    status=rich(RESTRICTED_NOTE),
                    buttons=buttons(t, offered), fallback=headline[0] if headline else t.case_ref)
    obs = obligations.current(t, pack, org, cal, today, deadlines) if pack is not None else []
    first = obligations.first_due(obs)
    owed = card_facts.owed_by_viewer(obs, offered)
    kind = pack.kind_label(t.kind) if pack else t.kind
    deadline = (card_facts.deadline_words(first.deadline, pack, cal, today) if first is not None
                else deadline_text(None, cal, today))
    holding, receiving = team_name(org, t.holding_team), team_name(org, t.receiving_team)
    fields: list[tuple[str, Rich]] = [
        ("Transfer", rich(f"{holding} → {receiving} · {kind} · {STATE_LABELS[t.state]}")),
        ("Next deadline", rich(deadline)),
    ]
    fields += content_fields(t, pack, org)
    to_do = obligations.todo_text(obs, cal, today)
    fallback = f"Transfer {t.case_ref}: {STATE_LABELS[t.state]}"
    if headline:
        fallback = f"{t.case_ref}: {headline[0]}"
    if to_do:
        fallback += f" {to_do}"
    return Card(transfer_id=t.id or 0, case_ref=t.case_ref, title=f"Case transfer: {t.case_ref}",
                headline=headline, fields=tuple(fields[:10]),
                status=(*_status(t, pack, org), f" · As of {day(today)}.") if obs else _status(t, pack, org),
                buttons=buttons(t, offered, owed), fallback=fallback, todo=to_do,
                rag=first.deadline.rag(cal, today) if first is not None else None,
                you=card_facts.todo_line(obs, owed))


def content_fields(t: Transfer, pack: PolicyPack | None, org: Org | None) -> list[tuple[str, Rich]]:
    """The facts a card carries in full, each only where it applies: checklist progress and who
    is awaited, the reason for delay and the actions in hand, the extension, the transfer point
    and its attendance, the named worker, dates, work asked for, flags and the policy's own."""
    fields: list[tuple[str, Rich]] = []
    progress = card_facts.checklist_progress(t, pack, org)
    if progress:
        fields.append(("Checklist", rich(progress)))
    delay = card_facts.delay_reason(t)
    if delay:
        fields.append(("Reason for delay", rich(delay)))
    endorsed = t.last_event("extension_endorsed")
    if endorsed is not None:
        until = endorsed.detail.get("expected_by")
        fields.append(("Extension endorsed", rich(
            (f"now expected by {day(date.fromisoformat(str(until)))}" if until else "endorsed")
            + (f": {endorsed.reason}" if endorsed.reason else ""))))
    if t.flags:
        fields.append(("Flags", rich("; ".join(pack.flag_labels(t.flags) if pack else t.flags))))
    if t.transfer_point:
        point = pack.point_label(t.transfer_point) if pack else t.transfer_point
        seen = card_facts.attendance(t)
        fields.append(("Transfer point", rich(f"{point} ({day(t.transfer_point_date)})"
                                              + (f": {seen}" if seen else ""))))
    if t.named_worker:
        fields.append(("Named worker", rich(person(t.named_worker, org, t, pack))))
    if t.agreed_date:
        fields.append(("Agreed date", rich(day(t.agreed_date))))
    if t.work_items and t.work_due:
        fields.append(("Work due", rich(f"{day(t.work_due)}: " + "; ".join(t.work_items))))
    asked = t.last_event("sign_off_override_asked")
    if asked is not None and pack is not None and t.is_open:
        level = pack.level_label(str(asked.detail.get("level", "")))
        if t.sign_off_awaited(pack):
            status = f"requested before it; waiting for the {level}'s agreement. Why: {asked.reason}"
        else:
            status = f"requested before it; the {level} agreed or the PM signed off. Why: {asked.reason}"
        fields.append(("PM sign-off", rich(status)))
    return fields + policy_fields(t, pack)


def detail_words(d: dict[str, Any], pack: PolicyPack | None, org: Org | None) -> list[str]:
    """A timeline event's details in the pack's words: reason, level, checklist item and clock
    by their labels, dates as people read them, never an id."""
    out: list[str] = []

    def label(kind: str, value: str) -> str:
        if pack is None:
            return value
        if kind == "category":
            return pack.reason_label(value)
        if kind == "level":
            return pack.level_label(value)
        if kind == "clock":
            return pack.clock_label(value)
        if kind == "point":
            return pack.point_label(value)
        return value

    def when_(value: str) -> str:
        try:
            return day(date.fromisoformat(value))
        except ValueError:
            return value

    for key, word in (("agreed_date", "agreed date"), ("due", "due"), ("expected_by", "expected by"),
                      ("category", "reason"), ("level", "level"), ("outcome", "outcome"),
                      ("point", "transfer point"), ("clock", "clock")):
        if d.get(key):
            value = str(d[key])
            value = when_(value) if key in ("agreed_date", "due", "expected_by") else label(key, value)
            out.append(f"{word}: {value}")
    if d.get("checklist") and d.get("item"):
        item = (pack.item_label(str(d["checklist"]), str(d["item"])) if pack is not None
                else f"{d['checklist']}: {d['item']}")
        out.append(f"item: {item}")
    if d.get("items"):
        out.append("items: " + "; ".join(str(i) for i in d["items"]))
    if d.get("actions"):
        out.append("actions: " + str(d["actions"]))
    return out


def policy_fields(t: Transfer, pack: PolicyPack | None) -> list[tuple[str, Rich]]:
    """A card's facts that only some policies ask for: a temporary move's dates, unpaid work's
    order (and that 12 months run out first), the S20 accommodation date, linked siblings (and
    why they are apart), a capacity concern."""
    out: list[tuple[str, Rich]] = []
    if t.move_date:
        end = (f" to {day(t.move_end_date)} (the date the responsible officer set)" if t.move_end_date
               else " (residential placement: reviewed at 12 weeks)")
        out.append(("Temporary move", rich(f"from {day(t.move_date)}{end}")))
    if t.order_date:
        upw = t.last_event("upw_extension_due")
        more = ("" if upw is None else
                f"; highly unlikely to be completed in the 12 months (to {upw.detail.get('ends')}): "
                "apply to court to extend now, as a priority" if upw.detail.get("unlikely") else
                f"; its 12 months end {upw.detail.get('ends')}, before the transfer can complete: "
                "apply to court to extend, as a priority")
        out.append(("Unpaid work order", rich(f"{day(t.order_date)}{more}")))
    if t.accommodated_on:
        out.append(("Accommodated (S20)", rich(day(t.accommodated_on))))
    if t.linked_refs:
        apart = t.last_event("siblings_apart")
        text = ", ".join(t.linked_refs)
        if apart is not None:
            text += f": apart from {', '.join(apart.detail.get('siblings', ()))}. Why: {apart.reason}"
        out.append(("Siblings", rich(text)))
    concern = t.last_event("capacity_concern_raised")
    if concern is not None and pack is not None:
        out.append(("Capacity concern", rich(f"with the {pack.level_label(str(concern.detail.get('level')))}"
                                              f" (the transfer goes ahead): {concern.reason}")))
    return out


def history_events(t: Transfer) -> list[TimelineEvent]:
    """What ``/transfer history`` shows of a transfer's timeline: everything, but for a restricted
    transfer only who did what and when, and the state it moved to (no reasons or details)."""
    if not t.restricted:
        return list(t.timeline)
    return [replace(ev, reason=None, detail={}) for ev in t.timeline]


def form(a: Action, t: Transfer, pack: PolicyPack, actor: Actor, *, cal: WorkingCalendar,
         now: datetime) -> Form:
    """The form for action ``a`` on ``t``, as ``actor`` would fill it in now."""
    today = local_date(now)
    intro: list[Rich] = [rich(f"Case {t.case_ref}.")]
    if a.explain:
        intro.append(rich(a.explain))
    if a.update_note and not actions.offered_now(a, t, pack, clocks_of(t, pack, cal), today):
        intro.append(rich(a.update_note))  # typed, though no button asks for it now
    if a.name == "decline" and pack.decline_reasons:
        intro.append(rich(pack.decline_reasons_intro + "."))
    if a.name == "decline" and pack.capacity is not None:  # ROCH, S2: never a reason to decline
        intro.append(rich(pack.capacity.decline_note))
    if a.name == "capacity_concern" and pack.capacity is not None:
        level = pack.capacity.after(t.capacity_level())
        if level is not None:
            intro.append(rich(f"It goes to the {level.label}. " + trim(pack.capacity.source, 300)))
    asked = t.last_event("sign_off_override_asked")
    if a.name == "agree_without_sign_off" and asked is not None:
        intro.append(rich(f"Why waiting would delay the child: {asked.reason}"))
    if a.name == "confirm":
        for cl in pack.checklists:
            if not cl.applies(t.kind, t.flags):
                continue
            for it in cl.items_for(t.kind):
                done = t.checklist.get(cl.id, {}).get(it.id)
                if done:
                    intro.append(rich(f"Confirmed: {cl.label}: {it.label} (by ", actor_part(done["by"]),
                                      f", {when(datetime.fromisoformat(done['at']))})"))
    inputs = []
    for f in actions.form_fields(a, pack):
        initial: Any = None
        if a.name == "request_work" and f.name == "due":
            initial = cal.add_working_days(today, pack.remedial_work_days)
        if f.kind in (FieldKind.choice, FieldKind.items, FieldKind.yes_no):
            inputs.append(FormInput(f, actions.choices(a, f, pack, t, actor), initial))
        else:
            inputs.append(FormInput(f, (), initial))
    return Form(action=a.name, transfer_id=t.id or 0, case_ref=t.case_ref, title=a.title,
                submit=a.submit, intro=tuple(intro), inputs=tuple(inputs))
