"""The Transfer aggregate: states, allowed transitions, who may make them, what they record.

Pure: no Slack, no SQL, no clock. Every method takes the acting :class:`~bot.org.Actor` and
``now``, checks the step is allowed, changes state and appends a :class:`TimelineEvent`.
An illegal step raises :class:`DomainError` whose message tells the user what to do instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot import actions
from bot.actions import MAX_TEXT, clean_text
from bot.calendar import UK_TIME, local_date
from bot.capacity import capacity_words
from bot.errors import DomainError, FormErrors, NotPermitted
from bot.org import Actor, Role
from bot.policy import PolicyPack
from bot.states import (
    AWAITING_DECISION,
    CLOSED,
    IN_DISPUTE,
    LIVE,
    OPEN,
    STATE_LABELS,
    State,
    states_text,
)

__all__ = [
    "AWAITING_DECISION", "CLOSED", "IN_DISPUTE", "LIVE", "MAX_TEXT", "OPEN", "STATE_LABELS", "UK_TIME",
    "DomainError", "FormErrors", "NotPermitted", "State", "TimelineEvent", "Transfer",
    "local_date", "new_transfer", "validate_case_ref",
]


HOLDING = (Role.holding_practitioner, Role.holding_manager)
MANAGERS = (Role.holding_manager, Role.receiving_manager)


@dataclass(frozen=True)
class TimelineEvent:
    """One entry in a transfer's append-only timeline."""

    at: datetime
    actor: str
    kind: str
    from_state: str | None = None
    to_state: str | None = None
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Transfer:
    """A case moving from a holding team to a receiving team under one policy pack."""

    case_ref: str
    policy: str
    holding_team: str
    receiving_team: str
    kind: str
    state: State
    created_at: datetime
    requested_by: str
    requested_on: date | None = None
    heads_up_on: date | None = None
    transfer_point: str | None = None
    transfer_point_date: date | None = None
    move_date: date | None = None
    move_end_date: date | None = None  # probation: the end the responsible officer set for a temporary move
    order_date: date | None = None
    accommodated_on: date | None = None  # BURY S20: the date the child was accommodated
    flags: tuple[str, ...] = ()
    linked_refs: tuple[str, ...] = ()
    funding_note: str | None = None
    named_worker: str | None = None
    agreed_date: date | None = None
    checklist: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    escalation_level: str | None = None
    work_due: date | None = None
    work_items: tuple[str, ...] = ()
    closed_at: datetime | None = None
    restricted: bool = False  # limited to the people named on it: no channel posts, brief DMs
    excluded: tuple[str, ...] = ()  # people who may never see it or hear of it
    id: int | None = None
    version: int = 0
    timeline: list[TimelineEvent] = field(default_factory=list)
    new_events: list[TimelineEvent] = field(default_factory=list)

    # ---- queries -------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """Whether the transfer still needs someone to act."""
        return self.state in OPEN

    def last_event(self, kind: str) -> TimelineEvent | None:
        """The most recent event of this kind, or None."""
        for ev in reversed(self.timeline):
            if ev.kind == kind:
                return ev
        return None

    def checklist_missing(self, pack: PolicyPack, step: str) -> list[str]:
        """Labels of unconfirmed items in checklists that gate ``step``."""
        missing = []
        for cl in pack.gating(step, self.kind):
            if not cl.applies(self.kind, self.flags):
                continue
            done = self.checklist.get(cl.id, {})
            missing += [f"{cl.label}: {it.label}" for it in cl.guards(self.kind) if it.id not in done]
        return missing

    def capacity_level(self) -> str | None:
        """The capacity route level a concern about this transfer last went to (None: never raised)."""
        ev = self.last_event("capacity_concern_raised")
        return str(ev.detail.get("level")) if ev is not None else None

    def capacity_held(self) -> str | None:
        """The capacity route level holding a concern not yet dealt with (None: none open)."""
        raised = self.last_event("capacity_concern_raised")
        done = self.last_event("capacity_concern_resolved")
        if raised is None or (done is not None and self.timeline.index(done) > self.timeline.index(raised)):
            return None
        return str(raised.detail.get("level"))

    def _started(self) -> bool:
        return any(e.kind in ("requested", "heads_up", "imported") for e in self.timeline)

    # ---- recording -----------------------------------------------------------------------
    def _record(
        self,
        actor: Actor,
        now: datetime,
        kind: str,
        *,
        to: State | None = None,
        reason: str | None = None,
        **detail: Any,
    ) -> TimelineEvent:
        ev = TimelineEvent(
            at=now,
            actor=actor.user,
            kind=kind,
            from_state=self.state.value,
            to_state=(to or self.state).value,
            reason=reason,
            detail={k: v for k, v in detail.items() if v not in (None, (), [], "")},
        )
        if to is not None:
            self.state = to
            if to in CLOSED:
                self.closed_at = now
            else:
                self.closed_at = None
        self.timeline.append(ev)
        self.new_events.append(ev)
        return ev

    def _require(self, name: str, actor: Actor, pack: PolicyPack | None = None) -> None:
        """The catalogue's rule for step ``name`` (states, roles, condition): the same one the
        chat surfaces use to decide which buttons to show."""
        if name in actions.INTERNAL:
            roles, states = actions.INTERNAL[name]
            if self.state not in states:
                raise DomainError(f"{self.case_ref} is {STATE_LABELS[self.state].lower()}; "
                                  f"that step is only possible when it is {states_text(states)}.")
            if not actor.has(*roles, Role.system):
                raise NotPermitted(f"Only {' or '.join(actions.ROLE_WORDS[r] for r in roles)} "
                                   f"can do that on {self.case_ref}; nothing has changed.")
            return
        actions.check(actions.BY_NAME[name], self, actor, pack)

    # ---- transitions ---------------------------------------------------------------------
    def sign_off_awaited(self, pack: PolicyPack) -> str | None:
        """The ladder level (S2: the Group Manager) whose agreement the request waits for, having
        gone before its checklist was signed off; None once agreed or signed off."""
        asked = self.last_event("sign_off_override_asked")
        if asked is None or self.last_event("sign_off_override_agreed") is not None:
            return None
        if not self.checklist_missing(pack, "request"):
            return None
        return str(asked.detail.get("level") or "")

    def request(self, actor: Actor, now: datetime, pack: PolicyPack, *,
                urgent_reason: str | None = None) -> None:
        """Turn an early heads up into a transfer request (or record a new request). Where the
        checklist gating the request is not signed off but the pack lets a ladder level agree
        otherwise (S2 "where this may cause unnecessary delay for a child the Group Manager will
        be contacted"), ``urgent_reason`` sends the request with that level asked to agree."""
        if self._started():
            if self.state != State.heads_up:
                raise DomainError(f"{self.case_ref} has already been requested.")
            self._require("request", actor, pack)
        elif not actor.has(*HOLDING, Role.system):
            raise NotPermitted(
                f"Only the holding team can request a transfer of "
                f"{self.case_ref}; nothing has changed."
            )
        missing = self.checklist_missing(pack, "request")
        override = next((cl for cl in pack.gating("request", self.kind)
                         if cl.override_by and cl.applies(self.kind, self.flags)), None)
        reason = clean_text(urgent_reason or "")
        if missing and not (override and reason):
            first = "The checklist must be signed off before the transfer is requested"
            if override is not None:
                first = (f"Sign off the checklist, or say why waiting would delay the child: the "
                         f"{pack.level_label(override.override_by or '')} is asked to agree")
            raise DomainError(first + ". Missing: " + "; ".join(missing), field="checklist")
        if missing and override is not None and len(reason) < 20:
            raise DomainError("Why waiting for the sign-off would delay the child: write at least 20 "
                              f"characters ({len(reason)} so far).", field="urgent_reason")
        self.requested_on = local_date(now)
        self._record(actor, now, "requested", to=State.requested)
        if missing and override is not None:
            self._record(actor, now, "sign_off_override_asked", reason=_text(reason, "the reason"),
                         level=override.override_by, missing=missing)

    def agree_without_sign_off(self, actor: Actor, now: datetime, pack: PolicyPack, *,
                               note: str | None = None) -> None:
        """The ladder level asked (S2: the Group Manager) agrees the request goes before the
        Practice Manager's sign-off; the receiving team may then decide."""
        self._require("agree_without_sign_off", actor, pack)
        self._record(actor, now, "sign_off_override_agreed", reason=clean_text(note or "") or None)

    def give_heads_up(self, actor: Actor, now: datetime) -> None:
        """Record an early heads up that a transfer is coming (Rochdale)."""
        if self._started():
            raise DomainError(f"{self.case_ref} already has a transfer in progress.")
        if not actor.has(*HOLDING, Role.system):
            raise NotPermitted(
                f"Only the holding team can give a heads up for "
                f"{self.case_ref}; nothing has changed."
            )
        self.heads_up_on = local_date(now)
        self.state = State.heads_up
        self._record(actor, now, "heads_up", to=State.heads_up)

    def start_assessment(self, actor: Actor, now: datetime) -> None:
        """The receiving manager starts assessing the request."""
        self._require("start_assessment", actor)
        self._record(actor, now, "assessment_started", to=State.under_assessment)

    def accept(self, actor: Actor, now: datetime, pack: PolicyPack, *,
               named_worker: str | None = None, agreed_date: date | None = None,
               rationale: str | None = None) -> None:
        """The receiving manager accepts; optionally names the worker and agreed date (and, where
        the pack asks, records the decision's rationale: FAQ "ensure the decision and rationale
        is fully recorded")."""
        self._require("accept", actor, pack)
        why = clean_text(rationale or "")
        if pack.accept_rationale and pack.accept_rationale_force == "guard" and len(why) < 20:
            raise DomainError("Record the decision's rationale (at least 20 characters): the "
                              f"{pack.title} policy asks for it (\"{pack.accept_rationale[:120]}\").",
                              field="rationale")
        if len(why) > MAX_TEXT:
            raise DomainError(f"Keep the rationale under {MAX_TEXT} characters.", field="rationale")
        missing = self.checklist_missing(pack, "accept")
        if missing:
            raise DomainError("Confirm the checklist before accepting (use Confirm checklist). "
                              "Missing: " + "; ".join(missing))
        if agreed_date is not None and agreed_date < local_date(now):
            raise DomainError(f"The agreed transfer date {agreed_date.isoformat()} is in the past.",
                              field="agreed_date")
        if pack.named_worker_before == "accept" and not named_worker:
            raise DomainError(f"Name the worker who will hold the case: the {pack.title} policy "
                              "asks for one on acceptance.", field="named_worker")
        self.agreed_date = agreed_date
        to = State.allocated if named_worker else State.accepted
        self._record(actor, now, "accepted", to=State.accepted, reason=why or None,
                     agreed_date=agreed_date.isoformat() if agreed_date else None)
        if named_worker:
            self.named_worker = named_worker
            self._record(actor, now, "allocated", to=to, named_worker=named_worker)

    def date_awaiting(self, pack: PolicyPack) -> str | None:
        """BURY step 5: the side ('holding' or 'receiving') whose manager has still to agree the
        transfer date the other side gave; None when agreed, not given, or not the pack's rule."""
        if not pack.date_agreed_by_both or self.agreed_date is None:
            return None
        for ev in reversed(self.timeline):
            if ev.kind == "date_agreed":
                if ev.detail.get("agreed"):
                    return None
                return "receiving" if ev.detail.get("side") == "holding" else "holding"
            if ev.kind == "accepted" and ev.detail.get("agreed_date"):
                return "holding"
        return "holding"

    def agree_date(self, actor: Actor, now: datetime, pack: PolicyPack, *,
                   agreed_date: date | None) -> None:
        """A team manager agrees the transfer date the other team's manager gave (empty date, or
        the same one), or gives another, which the other side then agrees (BURY step 5)."""
        self._require("agree_date", actor, pack)
        side = "holding" if actor.has(Role.holding_manager) else "receiving"
        if agreed_date is not None and agreed_date < local_date(now):
            raise DomainError(f"The transfer date {agreed_date.isoformat()} is in the past.",
                              field="agreed_date")
        if agreed_date is None and self.agreed_date is None:
            raise DomainError("Give the transfer date you propose.", field="agreed_date")
        waiting = self.date_awaiting(pack)
        if agreed_date in (None, self.agreed_date) and waiting == side:
            self._record(actor, now, "date_agreed", side=side, agreed=True,
                         agreed_date=(self.agreed_date or agreed_date or local_date(now)).isoformat())
            return
        if agreed_date is None or agreed_date == self.agreed_date:
            raise DomainError("That date waits for the other team's manager to agree it; give another "
                              "date to propose a change.", field="agreed_date")
        self.agreed_date = agreed_date
        self._record(actor, now, "date_agreed", side=side, agreed=False, agreed_date=agreed_date.isoformat())

    def allocate(self, actor: Actor, now: datetime, *, named_worker: str) -> None:
        """Name the worker in the receiving team who will hold the case."""
        self._require("allocate", actor)
        if not named_worker:
            raise DomainError("Choose the named worker who will hold the case.", field="named_worker")
        self.named_worker = named_worker
        self._record(actor, now, "allocated", to=State.allocated, named_worker=named_worker)

    def complete(self, actor: Actor, now: datetime, pack: PolicyPack) -> None:
        """Responsibility passes to the receiving team (BURY point 4: not before this)."""
        self._require("complete", actor, pack)
        if self.state in AWAITING_DECISION:  # ROCH: transferred without acceptance
            self._record(actor, now, "transferred_anyway",
                         reason="The receiving team missed the pick-up point without prior agreement.")
        missing = self.checklist_missing(pack, "complete")
        if missing:
            raise DomainError("Confirm the checklist before completing. Missing: " + "; ".join(missing))
        waiting = self.date_awaiting(pack) if pack.date_agreed_force == "guard" else None
        if waiting is not None and self.state not in AWAITING_DECISION:
            raise DomainError(f"The transfer date the managers agree waits for the {waiting} team's "
                              "manager (Agree transfer date): the " + pack.title + " policy has both "
                              "managers agree it.")
        if pack.named_worker_before == "complete" and not self.named_worker and \
                self.state not in AWAITING_DECISION:
            raise DomainError("Name the worker who will hold the case (Allocate worker) before the "
                              f"transfer completes: the {pack.title} policy asks for a named worker.")
        self._record(actor, now, "completed", to=State.completed)

    def withdraw(self, actor: Actor, now: datetime, *, reason: str) -> None:
        """The holding team withdraws the request."""
        self._require("withdraw", actor)
        self._record(actor, now, "withdrawn", to=State.withdrawn,
                     reason=_text(reason, "a reason for withdrawing", "reason"))

    def decline(self, actor: Actor, now: datetime, pack: PolicyPack, *,
                rationale: str, reason_category: str | None = None) -> None:
        """The receiving manager declines, with a written rationale (and category if the pack asks)."""
        self._require("decline", actor, pack)
        missing = self.checklist_missing(pack, "decline")
        if missing:
            raise DomainError("Confirm the checklist before deciding (use Confirm checklist). "
                              "Missing: " + "; ".join(missing))
        rationale = _text(rationale, "a written rationale for declining", "rationale")
        if pack.capacity is not None:  # ROCH, S2: capacity is never a reason to decline
            found = capacity_words(rationale, reason_category, pack.reason_label(reason_category))
            if found:
                raise DomainError(f"That reason is about capacity (\"{found[:60]}\"). "
                                  + pack.capacity.decline_note, field="rationale")
        if pack.decline_reasons:
            ids = [r.id for r in pack.decline_reasons]
            if reason_category not in ids:
                raise DomainError(f"{pack.decline_reasons_intro}: choose one of them.",
                                  field="reason_category")
        self._record(actor, now, "declined", to=State.declined, reason=rationale,
                     category=reason_category)

    def dispute(self, actor: Actor, now: datetime, *, reason: str) -> None:
        """Either team's manager disputes a decline or any disagreement about the transfer; the
        dispute clock starts (LEICS "All disputes will be resolved within 5 Working Days")."""
        self._require("dispute", actor)
        reason = _text(reason, "the reason for the dispute", "reason")  # before anything changes
        self.escalation_level = "team_manager"
        self._record(actor, now, "disputed", to=State.disputed, reason=reason)

    def escalate(self, actor: Actor, now: datetime, pack: PolicyPack, *,
                 reason: str | None = None, clock: str | None = None) -> str:
        """Climb one level of the pack's ladder; returns the level now holding it."""
        if actor.has(Role.system):
            self._require("sweep_escalate", actor)
        else:
            self._require("escalate", actor, pack)
        current = self.escalation_level or pack.escalation.levels[0].name
        above = pack.escalation.above(current)
        if above is None:
            raise DomainError(
                f"{self.case_ref} is already with the top of the ladder "
                f"({pack.escalation.levels[-1].label})."
            )
        self.escalation_level = above.name
        to = State.escalated if self.state in IN_DISPUTE else None
        self._record(actor, now, "escalated", to=to, reason=reason, level=above.name, clock=clock)
        return above.name

    def raise_capacity_concern(self, actor: Actor, now: datetime, pack: PolicyPack, *,
                               concern: str) -> str:
        """A capacity pressure goes to the next level of the pack's capacity route (ROCH HoS, SMT,
        AD; S2 the Senior Leadership Team); the transfer and its clocks go on unchanged ("Demand
        and capacity ... will not be a barrier"). Returns the level it went to."""
        self._require("capacity_concern", actor, pack)
        concern = _text(concern, "the capacity pressure", "concern")
        assert pack.capacity is not None  # the catalogue's condition
        level = pack.capacity.after(self.capacity_held())
        assert level is not None  # the catalogue's condition
        self._record(actor, now, "capacity_concern_raised", reason=concern, level=level.name)
        return level.name

    def resolve_capacity_concern(self, actor: Actor, now: datetime, pack: PolicyPack, *,
                                 note: str) -> str:
        """The capacity route's level holding a concern marks it dealt with (ROCH "the HOS will be
        responsible for discussing pressures and reaching solutions with colleagues in SMT"),
        saying how. Returns the level that dealt with it."""
        self._require("capacity_resolved", actor, pack)
        level = self.capacity_held()
        assert level is not None  # the catalogue's condition
        self._record(actor, now, "capacity_concern_resolved",
                     reason=_text(note, "how the capacity pressure was dealt with", "note"), level=level)
        return level

    def decide(self, actor: Actor, now: datetime, *, outcome: str, rationale: str,
               pack: PolicyPack | None = None) -> None:
        """The level holding a dispute decides it (at the first rung the two team managers, as
        ROCH "managed between the responsible PM and the PM the case is to transfer to"): the
        transfer proceeds, or the case stays."""
        self._require("decide", actor, pack)
        if outcome not in ("transfer", "remain"):
            raise DomainError("Choose an outcome: transfer (it proceeds) or remain (it stays).",
                              field="outcome")
        to = State.accepted if outcome == "transfer" else State.decided
        self._record(actor, now, "decided", to=to, reason=_text(rationale, "the rationale", "rationale"),
                     outcome=outcome)

    def request_work(self, actor: Actor, now: datetime, *, items: list[str] | tuple[str, ...],
                     due: date) -> None:
        """The receiving manager's audit found work outstanding (BURY step 6); never delays transfer."""
        self._require("request_work", actor)
        clean = [_text(i, "a work item", "items") for i in items if i.strip()]
        if not clean:
            raise DomainError("List at least one piece of work the holding team must complete.",
                              field="items")
        if sum(len(i) + 1 for i in clean) - 1 > MAX_TEXT:
            raise DomainError(f"Keep the work items under {MAX_TEXT} characters in all.", field="items")
        if due < local_date(now):
            raise DomainError(f"The date {due.isoformat()} is in the past.", field="due")
        self.work_items = tuple(clean)
        self.work_due = due
        self._record(actor, now, "work_requested", items=clean, due=due.isoformat())

    def work_done(self, actor: Actor, now: datetime) -> None:
        """The holding team has completed the remedial work."""
        self._require("work_done", actor)
        self._record(actor, now, "work_completed", items=list(self.work_items))
        self.work_items = ()
        self.work_due = None

    def record_delay(self, actor: Actor, now: datetime, *, reason: str, actions: str,
                     pack: PolicyPack | None = None) -> None:
        """The transferring area records why the transfer is late and the actions in hand."""
        self._require("record_delay", actor, pack)
        self._record(actor, now, "delay_recorded", reason=_text(reason, "the reason for delay", "reason"),
                     actions=_text(actions, "the actions being taken", "actions"))

    def endorse_extension(self, actor: Actor, now: datetime, *, rationale: str,
                          pack: PolicyPack | None = None, expected_by: date | None = None) -> None:
        """Senior management endorses running past the endorsement deadline (probation), with the
        date the transfer is now expected by (the clocks that the pack extends follow it)."""
        self._require("endorse", actor, pack)
        if expected_by is not None and expected_by <= local_date(now):
            raise DomainError(f"The date the transfer is expected by ({expected_by:%a %d %b %Y}) "
                              "must be after today.", field="expected_by")
        self._record(actor, now, "extension_endorsed",
                     reason=_text(rationale, "the rationale", "rationale"),
                     expected_by=expected_by.isoformat() if expected_by else None)

    def address_assessed(self, actor: Actor, now: datetime, *, outcome: str,
                         pack: PolicyPack | None = None) -> None:
        """The receiving area records its address assessment."""
        self._require("address_assessed", actor, pack)
        self._record(actor, now, "address_assessed", reason=_text(outcome, "the outcome", "outcome"))

    def record_attendance(self, actor: Actor, now: datetime, *, attended: bool,
                          agreed_absence: bool | None = None, note: str | None = None,
                          holding_attended: bool | None = None) -> None:
        """Whether the receiving team attended the transfer point (pick-up point, ICPC ...), and
        if not whether it had agreed its absence in advance; where both teams attend it (BURY's
        first Core Group), whether the holding team did."""
        self._require("attendance", actor)
        kind = "transfer_point_attended" if attended else "transfer_point_missed"
        both: dict[str, Any] = {} if holding_attended is None else {"holding_attended": holding_attended}
        self._record(actor, now, kind, reason=_text(note, "the note", "note") if clean_text(note or "")
                     else None,
                     agreed_absence=None if attended else bool(agreed_absence),
                     point=self.transfer_point, on=self.transfer_point_date.isoformat()
                     if self.transfer_point_date else None,
                     **both)

    def confirm(self, actor: Actor, now: datetime, pack: PolicyPack, *, checklist: str,
                item: str) -> None:
        """A manager confirms one checklist item; who and when are kept."""
        if not self.is_open:
            raise DomainError(f"{self.case_ref} is closed; its checklist cannot change.")
        try:
            cl = pack.checklist(checklist)
        except KeyError as exc:
            raise DomainError(str(exc.args[0]), field="items") from exc
        if item not in {i.id for i in cl.items}:
            raise DomainError(f"{cl.label} has no item {item!r}.", field="items")
        if not actor.has(*actions.confirmers(cl.confirmed_by), Role.system):
            raise NotPermitted(f"Only {actions.ROLE_WORDS[Role(cl.confirmed_by)]} can confirm "
                               f"{cl.label}; nothing has changed.", field="items")
        if item in self.checklist.get(checklist, {}):
            raise DomainError(f"{cl.label}: that item is already confirmed.", field="items")
        self.checklist.setdefault(checklist, {})[item] = {"by": actor.user, "at": now.isoformat()}
        self._record(actor, now, "checklist_confirmed", checklist=checklist, item=item)

    def convert_to_permanent(self, actor: Actor, now: datetime) -> None:
        """A temporary move becomes a permanent transfer (probation)."""
        self._require("convert", actor)
        self.kind = "permanent"
        self._record(actor, now, "converted_to_permanent")


RAISE_DAYS = {"transfer_point_date": "Date of the transfer point", "move_date": "Move date",
              "move_end_date": "End date", "order_date": "Order date", "accommodated_on": "Accommodated on"}


def new_transfer(*, case_ref: str, pack: PolicyPack, holding_team: str, receiving_team: str,
                 kind: str, actor: Actor, now: datetime, **fields: Any) -> Transfer:
    """A transfer not yet requested; validates what the pack and org can check without a store."""
    ref = validate_case_ref(case_ref, pack)
    if holding_team == receiving_team:
        raise DomainError(
            "The receiving team must differ from the holding team.",
            field="receiving_team")
    if kind not in pack.kind_ids:
        raise DomainError(f"Unknown kind {kind!r}; choose one of: {', '.join(pack.kind_ids)}.",
                          field="kind")
    flags = tuple(fields.pop("flags", ()) or ())
    unknown = sorted(set(flags) - {f.id for f in pack.flags})
    if unknown:
        raise DomainError(f"Unknown flag(s) {unknown}; this policy knows {[f.id for f in pack.flags]}.",
                          field="flags")
    tp = fields.get("transfer_point")
    if tp and not pack.transfer_points:
        raise DomainError(f"The {pack.title} policy has no transfer points; leave it empty.",
                          field="transfer_point")
    if tp and tp not in {t.id for t in pack.transfer_points}:
        raise DomainError(
            f"Unknown transfer point {tp!r}; choose one of {[t.id for t in pack.transfer_points]}.",
            field="transfer_point")
    for name, label in RAISE_DAYS.items():
        if fields.get(name) is not None:
            actions.day_in_range(fields[name], now.date(), label, name)
    try:
        linked = tuple(validate_case_ref(r, pack) for r in fields.pop("linked_refs", ()) or ())
    except DomainError as exc:
        raise DomainError(f"Linked case: {exc}", field="linked_refs") from None
    note = fields.pop("funding_note", None)
    return Transfer(
        case_ref=ref, policy=pack.name, holding_team=holding_team, receiving_team=receiving_team,
        kind=kind, state=State.requested, created_at=now, requested_by=actor.user, flags=flags,
        linked_refs=linked, funding_note=_text(note, "funding note", "funding_note") if note else None,
        **fields,
    )


def validate_case_ref(ref: str, pack: PolicyPack) -> str:
    """The case reference, trimmed and upper-cased, or DomainError saying what it should be."""
    raw = ref.strip()
    if not raw:
        raise DomainError(f"Give a case reference ({pack.case_ref_hint}).", field="case_ref")
    if re.search(r"\s", raw):
        raise DomainError(
            f"The case reference contains spaces; give {pack.case_ref_hint}, never a name.",
            field="case_ref")
    if not raw.isascii() or unicodedata.normalize("NFKC", raw) != raw or not raw.isprintable():
        # never folded silently ("ﬁle1" is not FILE1), nor echoed back
        raise DomainError(f"The case reference has characters other than plain letters and digits; "
                          f"give {pack.case_ref_hint}.", field="case_ref")
    norm = raw.upper()
    if not pack.case_ref_ok(norm):
        raise DomainError(f"That case reference is not valid here: give {pack.case_ref_hint}.",
                          field="case_ref")
    return norm


def _text(value: str | None, what: str, field: str | None = None) -> str:
    text = clean_text(value or "")
    if not text:
        raise DomainError(f"Give {what}.", field=field)
    if len(text) > MAX_TEXT:
        raise DomainError(f"Keep {what} under {MAX_TEXT} characters.", field=field)
    return text
