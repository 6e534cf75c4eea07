"""The one answer to "who must do what by when" on a transfer.

:func:`current` is a pure function of the transfer, its pack, the org, the working calendar and
the day: the open transfer's obligations now, each naming who owes it (people by role, a team's
managers, or a ladder level), the catalogue action that meets it (the button), the date it is
due by (a clock of the pack, an agreed date, or where the seed gives no timescale the date Baton
asks for within ``agree_within_working_days``) and what a miss brings. Cards' To do and deadline
lines, their colour and the buttons, reminders, digests, App Home and lists read it; nothing
else words who or when.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot import actions
from bot.calendar import WorkingCalendar
from bot.clocks import ClockStatus, Deadline, baton_dates
from bot.clocks import deadlines as clocks_of
from bot.domain import Transfer
from bot.org import Org
from bot.policy import AGREE_BY, DISPUTE_WINDOW, Anchor, BreachAction, Clock, PolicyPack, Recipient
from bot.record_clocks import CaseRecord, running
from bot.states import AWAITING_DECISION, IN_DISPUTE, State


@dataclass(frozen=True)
class Party:
    """Who owes an obligation: a role on the transfer, or a ladder level (``level``)."""

    role: Recipient
    label: str  # as people read it: "South PDU", "Service Manager"
    level: str | None = None


@dataclass(frozen=True)
class Obligation:
    """One thing an open transfer waits for: who, which catalogue action, by when, if missed."""

    parties: tuple[Party, ...]
    action: str  # the catalogue action that meets it: the button its people hold
    verb: str  # "decide on X100001 (accept or decline)"
    deadline: Deadline
    miss: str  # what a miss brings, in words
    also: tuple[str, ...] = ()  # other catalogue actions that meet it too (Decline beside Accept)
    title: str = ""  # who owes it, when the parties' own labels do not say it: "SPO (North and South)"

    @property
    def actions(self) -> tuple[str, ...]:
        """Every catalogue action that meets it, the main one first."""
        return (self.action, *self.also)

    @property
    def due_on(self) -> date:
        """The date it is due by."""
        return self.deadline.due_on

    @property
    def who(self) -> str:
        """Who owes it, in words: "South PDU", "Team Manager (North PDU and South PDU)"."""
        return self.title or " and ".join(dict.fromkeys(p.label for p in self.parties))

    def line(self, cal: WorkingCalendar, today: date) -> str:
        """The To do line: "South PDU: decide on X100001 (accept or decline). Transfer to be
        completed by Mon 21 Dec 2026 (5 working days left)."."""
        return f"{self.who}: {self.verb}. {deadline_words(self.deadline, cal, today)}."


def days_left_text(due: date, cal: WorkingCalendar, today: date) -> str:
    """Working days left, due today, or overdue, as of ``today`` (never a negative count)."""
    left = cal.working_days_between(today, due)
    if left < 0 or (left == 0 and today > due):
        late = max(-left, 1)
        return f"overdue by {late} working day{'s' if late != 1 else ''}"
    if left == 0:
        return "due today"
    return f"{left} working day{'s' if left != 1 else ''} left"


def deadline_words(d: Deadline, cal: WorkingCalendar, today: date, now: datetime | None = None) -> str:
    """A deadline in the pack's words: "Transfer to be completed by Tue 22 Dec 2026 (5 working
    days left)"; an hours clock's with its time, "... by 14:30 Wed 9 Dec 2026 (5 hours left)"."""
    if d.due_at is not None:
        from bot.record_clocks import RecordDeadline, due_words
        at = now or datetime.combine(today, datetime.min.time(), tzinfo=d.due_at.tzinfo)
        return due_words(RecordDeadline(d.clock, d.label, at, d.due_on, d.due_at, d.clock), cal, at)
    return f"{d.label} {d.due_on:%a %d %b %Y} ({days_left_text(d.due_on, cal, today)})"


def rag(d: Deadline, cal: WorkingCalendar, today: date) -> str:
    """The colour of a deadline today: red past it, amber within 3 working days, else green."""
    return d.rag(cal, today)


def miss_text(clock: Clock, pack: PolicyPack) -> str:
    """What missing a clock brings, in words."""
    if clock.name == DISPUTE_WINDOW:
        return "after it the decline stands and the case stays with the holding team"
    parts = []
    if clock.remind_before:
        parts.append("a reminder " + " and ".join(
            f"{n} working day{'s' if n != 1 else ''} before" if n else "on the day"
            for n in clock.remind_before))
    told = [_ROLE_WORDS.get(r, r.value.replace("_", " ")) for r in clock.breach_notify]
    if told:
        parts.append("when missed " + ", ".join(told) + " are told")
    if BreachAction.escalate in clock.at_breach or clock.escalate_on_days:
        parts.append("it climbs the ladder (" + ", ".join(lv.label for lv in pack.escalation.levels[1:])
                     + ")")
    if BreachAction.record_delay in clock.at_breach:
        parts.append("the transferring area records the reason for delay")
    if BreachAction.request_endorsement in clock.at_breach:
        parts.append("senior management endorses an extension")
    if BreachAction.transfer_anyway in clock.at_breach:
        parts.append("the case is transferred electronically anyway")
    return "; ".join(parts) or "nothing further"


_ROLE_WORDS = {Recipient.holding_practitioner: "the holding practitioner",
               Recipient.holding_manager: "the holding managers",
               Recipient.receiving_manager: "the receiving managers",
               Recipient.escalation: "the next ladder level",
               Recipient.service_representatives: "the service representatives"}


def _team(org: Org | None, team_id: str) -> str:
    return org.team(team_id).name if org is not None and org.has_team(team_id) else team_id


def current(t: Transfer, pack: PolicyPack, org: Org | None, cal: WorkingCalendar, today: date,
            clocks: Sequence[Deadline] | None = None) -> list[Obligation]:
    """The transfer's obligations on ``today``, the most pressing first; empty once nothing is
    owed (a closed transfer, or a decline whose dispute window has passed)."""
    ds = list(clocks) if clocks is not None else clocks_of(t, pack, cal)
    ds += baton_dates(t, pack, cal, ds)  # a caller's own list of clocks may leave them out
    running = [d for d in ds if d.status == ClockStatus.running]
    by_name = {d.clock: d for d in running}
    holding, receiving = _team(org, t.holding_team), _team(org, t.receiving_team)
    hold = (Party(Recipient.holding_practitioner, holding), Party(Recipient.holding_manager, holding))
    hold_mgr = (Party(Recipient.holding_manager, holding),)
    recv = (Party(Recipient.receiving_manager, receiving),)
    ref = t.case_ref

    def ob(parties: tuple[Party, ...], action: str, verb: str, d: Deadline,
           also: tuple[str, ...] = ()) -> Obligation:
        return Obligation(parties, action, verb, d, miss_text(pack.clock(d.clock), pack), also)

    if t.state == State.declined:
        window = by_name.get(DISPUTE_WINDOW)
        if window is None or today > window.due_on:
            return []
        return [ob(hold_mgr, "dispute", f"dispute the decline on {ref}, or keep the case", window)]
    if not t.is_open or not running:
        return []
    main_clocks = [d for d in running if pack.clock(d.clock).starts not in (Anchor.work_requested,
                                                                             Anchor.work_due)]
    main = min(main_clocks or running, key=lambda d: d.due_on)
    out: list[Obligation] = []
    if t.state == State.heads_up:
        out.append(ob(hold, "request", f"send the request for {ref} when it is ready "
                                       f"({receiving} is told early)", main))
    elif t.state in AWAITING_DECISION:
        out += _awaiting_decision(t, pack, ob, main, by_name, hold_mgr, recv, receiving)
    elif t.state in IN_DISPUTE:
        level = t.escalation_level or pack.escalation.levels[0].name
        d = by_name.get("dispute", main)
        if level == pack.escalation.levels[0].name:
            parties = hold_mgr + recv
            out.append(Obligation(parties, "decide", f"decide the dispute on {ref}", d,
                                  miss_text(pack.clock(d.clock), pack), ("escalate",),
                                  f"{pack.level_label(level)} ({holding} and {receiving})"))
        else:
            out.append(ob((Party(Recipient.escalation, pack.level_label(level), level),), "decide",
                          f"decide the dispute on {ref}", d))
    else:  # accepted or allocated
        d = by_name.get("agreed_transfer_date", main)
        gates = [cl for cl in pack.gating("complete", t.kind) if cl.applies(t.kind, t.flags)
                 and any(it.id not in t.checklist.get(cl.id, {}) for it in cl.guards(t.kind))]
        if t.named_worker is None and (pack.named_worker_before == "complete" or t.state == State.accepted):
            if pack.named_worker_before == "complete":  # BURY: the worker before completion
                out.append(ob(recv, "allocate", f"name the worker for {ref} and complete the "
                                                "transfer", d))
            else:  # no seed asks for the worker first: either step meets it
                out.append(ob(recv, "allocate", f"complete the transfer of {ref} (name the worker "
                                                "who will hold it now or later)", d,
                              () if gates else ("complete",)))
        elif not gates:
            out.append(ob((*recv, *hold_mgr), "complete", f"complete the transfer of {ref}", d))
        for cl in gates:  # LEICS "Any transfer of work ... will require": confirmed before completing
            who = {"receiving_manager": recv, "holding_practitioner": hold}.get(cl.confirmed_by or "",
                                                                                hold_mgr)
            out.append(ob(who, "confirm", f"confirm the {cl.label} on {ref}: the transfer completes "
                                          "once it is", d))
    owed = actions.delay_awaited(pack, t, running, today)
    if owed is not None:  # the 20-day breach: the late side stays in To do, the reason is added
        out.append(ob(hold, "record_delay", f"record the reason for delay on {ref} and the actions "
                                            "in hand", owed))
    if t.work_items:
        work = next((d for d in running if pack.clock(d.clock).starts in (Anchor.work_requested,
                                                                          Anchor.work_due)), main)
        out.append(ob(hold, "work_done", f"do the work asked for on {ref}: " + "; ".join(t.work_items),
                      work))
    return out


_Make = Callable[..., "Obligation"]  # ``ob`` inside :func:`current`


def _awaiting_decision(t: Transfer, pack: PolicyPack, ob: _Make, main: Deadline,
                       by_name: dict[str, Deadline], hold_mgr: tuple[Party, ...],
                       recv: tuple[Party, ...], receiving: str) -> list[Obligation]:
    """A request waiting on a decision: the level asked to agree it before the sign-off (S2),
    the checklist that gates Accept (its confirmers), the holding manager who transfers it after
    a missed pick-up point (Rochdale), or the receiving team's decision."""
    ref = t.case_ref
    level = t.sign_off_awaited(pack)
    if level:
        label = pack.level_label(level)
        return [ob((Party(Recipient.escalation, label, level),), "agree_without_sign_off",
                   f"agree that {ref} goes before the Practice Manager's sign-off", main)]
    missed = t.last_event("transfer_point_missed")
    if missed is not None and not missed.detail.get("agreed_absence") and any(
            BreachAction.transfer_anyway in c.at_breach for c in pack.clocks):
        d = by_name.get("electronic_transfer", main)
        return [ob(hold_mgr, "complete", f"transfer {ref} electronically into {receiving}: the "
                                         "pick-up point was missed without prior agreement", d)]
    out: list[Obligation] = []
    seen: set[str] = set()
    for step in ("accept", "decision"):
        for cl in pack.gating(step, t.kind):
            if not cl.applies(t.kind, t.flags) or cl.id in seen:
                continue
            seen.add(cl.id)
            done = t.checklist.get(cl.id, {})
            if all(it.id in done for it in cl.items_for(t.kind)):
                continue
            if cl.confirmed_by == "receiving_manager":
                out.append(ob(recv, "confirm", f"confirm the {cl.label} on {ref}, then decide "
                                               "(accept or decline)", main, ("decline",)))
            else:
                out.append(ob(hold_mgr, "confirm", f"confirm the {cl.label} on {ref}: {receiving} "
                                                   "cannot accept before it", main))
    if out and not any(o.parties == recv for o in out):  # Accept waits for the holding side
        out.append(ob(recv, "decline", f"decide on {ref}: Accept comes once the checklist is "
                                       "confirmed (or decline)", main))
    elif not out:
        out.append(ob(recv, "accept", f"decide on {ref} (accept or decline)", main, ("decline",)))
    return out


def people(o: Obligation, t: Transfer, pack: PolicyPack, org: Org, covers: Iterable[object] = ()
           ) -> list[str]:
    """The people (never channels) an obligation names today, cover counted."""
    from bot.access import is_channel
    from bot.recipients import level_contacts, resolve

    out: list[str] = []
    names = [lv.name for lv in pack.escalation.levels]
    for p in o.parties:
        if p.level is None:
            found = resolve(org, list(covers), t, p.role, pack)  # type: ignore[arg-type]
        else:  # a level the org names nobody at: the nearest level below it that has people
            below = names[1:names.index(p.level) + 1] if p.level in names else [p.level]
            found = next((people for lv in reversed(below)
                          if (people := [x for x in level_contacts(org, t, pack, lv)
                                         if not is_channel(x)])), [])
        out += [x for x in found if x not in out and not is_channel(x)]
    return out


def first_due(obs: Sequence[Obligation]) -> Obligation | None:
    """The obligation due first (the card's deadline line and colour), or None."""
    return min(obs, key=lambda o: o.due_on) if obs else None


def todo_text(obs: Sequence[Obligation], cal: WorkingCalendar, today: date) -> str:
    """The card's To do: every obligation, each with its date."""
    return " ".join(o.line(cal, today) for o in obs)


# ---- case records: clocks that run with or without a transfer (bot/record_clocks.py) ----------
def of_record(r: CaseRecord, pack: PolicyPack, org: Org | None, cal: WorkingCalendar, now: datetime
              ) -> list[Obligation]:
    """A case record's obligations now, the most pressing first: for each clock still running,
    who owes it (the person who recorded it and their team's managers, or the managers alone),
    the duty in the seed's words and its date (with its time for an hours clock). Met by
    ``transfer record done CASE KIND`` (no catalogue button), or by the transfer it asks for."""
    team = _team(org, r.team)
    out = []
    for clock, d in running(r, pack.record_clocks, cal, now):
        parties = (() if clock.owner == "managers" else (Party(Recipient.holding_practitioner, team),)
                   ) + (Party(Recipient.holding_manager, team),)
        verb = clock.duty.replace("{ref}", r.case_ref) + (f". {clock.note.rstrip('.')}" if clock.note else "")
        deadline = Deadline(clock.name, clock.label, d.starts_at.date(), d.due_on, (),
                            due_at=d.due_at)
        miss = "when missed the team's managers" + (" and the next ladder level" if clock.escalate
                                                    else "") + " are told"
        out.append(Obligation(parties, "", verb, deadline, miss,
                              title="" if clock.owner == "managers" else f"{team} (whoever recorded it)"))
    return out


def record_people(o: Obligation, r: CaseRecord, pack: PolicyPack, org: Org, *, breach: bool = False
                  ) -> list[str]:
    """The people a record's obligation names (never channels): the person who recorded it where
    they owe it (their reminders are theirs alone), the team's managers where they owe it or at a
    breach; at a breach the team's next ladder level's people too."""
    from bot.access import is_channel

    out: list[str] = []
    recorder_owes = any(p.role == Recipient.holding_practitioner for p in o.parties)
    for p in o.parties:
        if p.role == Recipient.holding_practitioner:
            out.append(r.recorded_by)
        elif p.role == Recipient.holding_manager and org.has_team(r.team) and (breach or not recorder_owes):
            out += list(org.team(r.team).managers)
    if breach and len(pack.escalation.levels) > 1:
        contact = org.contact(r.team, pack.escalation.levels[1].name) if org.has_team(r.team) else None
        out += list(contact.users) if contact is not None else []
    return [x for x in dict.fromkeys(out) if not is_channel(x)]


__all__ = ["AGREE_BY", "Obligation", "Party", "current", "days_left_text", "deadline_words",
           "first_due", "miss_text", "people", "todo_text"]
