"""Taking a step on a transfer: one handler per catalogue command, its form and its card."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot import actions, duties, pickers, views
from bot import commands as cmd
from bot.calendar import WorkingCalendar
from bot.domain import (
    UK_TIME,
    DomainError,
    Transfer,
    local_date,
)
from bot.errors import FormErrors
from bot.org import Actor, Org
from bot.policy import PolicyPack
from bot.ports import (
    StaleTransfer,
    UnitOfWork,
)
from bot.usecases.access import actor_for, record_read, sees, visible
from bot.usecases.common import _commit, _once_per, calendar, load, transfer_deadlines


@dataclass(frozen=True)
class Context:
    """What a step's handler may need besides the transfer and the actor."""

    org: Org
    pack: PolicyPack
    cal: WorkingCalendar
    now: datetime


def _worker(org: Org, t: Transfer, user: str | None) -> str | None:
    """A named worker must be in the receiving team (member or manager)."""
    if user is None:
        return None
    team = org.team(t.receiving_team)
    if user not in (*team.members, *team.managers):
        raise DomainError(f"The named worker must be in {team.name}; choose someone from that "
                          "team.", field="named_worker")
    return user


def _h_request(t: Transfer, a: Actor, c: Context, m: cmd.Request) -> None:
    t.request(a, c.now, c.pack)


def _h_assess(t: Transfer, a: Actor, c: Context, m: cmd.StartAssessment) -> None:
    t.start_assessment(a, c.now)


def _h_accept(t: Transfer, a: Actor, c: Context, m: cmd.Accept) -> None:
    t.accept(a, c.now, c.pack, named_worker=_worker(c.org, t, m.named_worker), agreed_date=m.agreed_date,
             rationale=m.rationale)


def _h_agree_date(t: Transfer, a: Actor, c: Context, m: cmd.AgreeDate) -> None:
    t.agree_date(a, c.now, c.pack, agreed_date=m.agreed_date)


def _h_decline(t: Transfer, a: Actor, c: Context, m: cmd.Decline) -> None:
    t.decline(a, c.now, c.pack, rationale=m.rationale, reason_category=m.reason_category)


def _h_work(t: Transfer, a: Actor, c: Context, m: cmd.RequestWork) -> None:
    due = m.due or c.cal.add_working_days(local_date(c.now), c.pack.remedial_work_days)
    t.request_work(a, c.now, items=m.items, due=due)


def _h_work_done(t: Transfer, a: Actor, c: Context, m: cmd.WorkDone) -> None:
    t.work_done(a, c.now)


def _h_confirm(t: Transfer, a: Actor, c: Context, m: cmd.Confirm) -> None:
    if not m.items:
        raise DomainError("Tick at least one item to confirm.", field="items")
    for checklist, item in m.items:
        t.confirm(a, c.now, c.pack, checklist=checklist, item=item)


def _h_attendance(t: Transfer, a: Actor, c: Context, m: cmd.RecordAttendance) -> None:
    point = next((p for p in c.pack.transfer_points if p.id == t.transfer_point), None)
    if point is not None and point.both_attend and m.holding_attended is None:
        raise DomainError(f"Say whether the holding team attended {point.label} too: the "
                          f"{c.pack.title} policy says \"{point.both_attend}\".", field="holding_attended")
    t.record_attendance(a, c.now, attended=m.attended, agreed_absence=m.agreed_absence, note=m.note,
                        holding_attended=m.holding_attended if point is not None and point.both_attend
                        else None)


def _h_allocate(t: Transfer, a: Actor, c: Context, m: cmd.Allocate) -> None:
    t.allocate(a, c.now, named_worker=_worker(c.org, t, m.named_worker) or "")


def _h_complete(t: Transfer, a: Actor, c: Context, m: cmd.Complete) -> None:
    t.complete(a, c.now, c.pack)


def _h_withdraw(t: Transfer, a: Actor, c: Context, m: cmd.Withdraw) -> None:
    t.withdraw(a, c.now, reason=m.reason)


def _h_dispute(t: Transfer, a: Actor, c: Context, m: cmd.Dispute) -> None:
    t.dispute(a, c.now, reason=m.reason)


def _h_escalate(t: Transfer, a: Actor, c: Context, m: cmd.Escalate) -> None:
    t.escalate(a, c.now, c.pack, reason=m.reason)


def _h_capacity(t: Transfer, a: Actor, c: Context, m: cmd.CapacityConcern) -> None:
    t.raise_capacity_concern(a, c.now, c.pack, concern=m.concern)


def _h_capacity_done(t: Transfer, a: Actor, c: Context, m: cmd.CapacityResolved) -> None:
    t.resolve_capacity_concern(a, c.now, c.pack, note=m.note)


def _h_decide(t: Transfer, a: Actor, c: Context, m: cmd.Decide) -> None:
    t.decide(a, c.now, outcome=m.outcome, rationale=m.rationale, pack=c.pack)


def _h_delay(t: Transfer, a: Actor, c: Context, m: cmd.RecordDelay) -> None:
    t.record_delay(a, c.now, reason=m.reason, actions=m.actions, pack=c.pack)


def _h_endorse(t: Transfer, a: Actor, c: Context, m: cmd.Endorse) -> None:
    t.endorse_extension(a, c.now, rationale=m.rationale, pack=c.pack, expected_by=m.expected_by)


def _h_address(t: Transfer, a: Actor, c: Context, m: cmd.AddressAssessed) -> None:
    t.address_assessed(a, c.now, outcome=m.outcome, pack=c.pack)


def _h_agree_sign_off(t: Transfer, a: Actor, c: Context, m: cmd.AgreeWithoutSignOff) -> None:
    t.agree_without_sign_off(a, c.now, c.pack, note=m.note)


def _h_convert(t: Transfer, a: Actor, c: Context, m: cmd.Convert) -> None:
    t.convert_to_permanent(a, c.now)


Handler = Callable[[Transfer, Actor, Context, Any], None]


HANDLERS: dict[type[cmd.Step], Handler] = {
    cmd.Request: _h_request,
    cmd.StartAssessment: _h_assess,
    cmd.Accept: _h_accept,
    cmd.Decline: _h_decline,
    cmd.RequestWork: _h_work,
    cmd.WorkDone: _h_work_done,
    cmd.Confirm: _h_confirm,
    cmd.RecordAttendance: _h_attendance,
    cmd.Allocate: _h_allocate,
    cmd.Complete: _h_complete,
    cmd.Withdraw: _h_withdraw,
    cmd.Dispute: _h_dispute,
    cmd.Escalate: _h_escalate,
    cmd.CapacityConcern: _h_capacity,
    cmd.CapacityResolved: _h_capacity_done,
    cmd.AgreeDate: _h_agree_date,
    cmd.Decide: _h_decide,
    cmd.RecordDelay: _h_delay,
    cmd.Endorse: _h_endorse,
    cmd.AddressAssessed: _h_address,
    cmd.AgreeWithoutSignOff: _h_agree_sign_off,
    cmd.Convert: _h_convert,
}


RACE_RETRIES = 25  # attempts at a step whose transfer others keep changing meanwhile


class LostRace(DomainError):
    """A step refused because someone else moved the transfer first: says who, what and when."""

    def __init__(self, t: Transfer, reason: DomainError) -> None:
        last = t.timeline[-1] if t.timeline else None
        self.case_ref, self.reason = t.case_ref, str(reason)
        self.event = last.kind.replace("_", " ") if last else "changed"
        self.by = last.actor if last else ""
        self.time = last.at.astimezone(UK_TIME).strftime("%H:%M") if last else ""
        who = f" by {self.by}" if self.by else ""
        super().__init__(f"{t.case_ref} was {self.event}{who} at {self.time} while you were "
                         f"deciding. {self.reason}")


def _retrying(uow: UnitOfWork, transfer_id: int, step: Callable[[], Transfer]) -> Transfer:
    """Run ``step``; when it loses a race (StaleTransfer) run it again on the fresh transfer, so
    steps that do not conflict (a delay reason, a note, a checklist item) are never lost and a
    step the new state refuses is answered with what happened (:class:`LostRace`)."""
    lost = False
    for attempt in range(RACE_RETRIES):
        try:
            return step()
        except StaleTransfer:
            uow.rollback()
            lost = True
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # spread the retries out
        except FormErrors:
            raise
        except DomainError as exc:
            if not lost or isinstance(exc, LostRace):
                raise
            raise LostRace(load(uow, transfer_id=transfer_id), exc) from exc
    raise DomainError("Several people are changing this transfer at once; try again in a moment.")


def _handle_once(uow: UnitOfWork, org: Org, command: cmd.Step, now: datetime,
                 token: str | None = None, loaded: tuple[Transfer, Actor] | None = None) -> Transfer:
    """One attempt at a step; ``loaded`` is the transfer and actor already read and checked in
    this attempt (a form's), so they are not read twice."""
    if loaded is None:
        _once_per(uow, token)
        uow.transfers.lock(command.transfer_id)  # writers to one transfer take turns, not retries
        t = visible(uow, org, command.user, now, transfer_id=command.transfer_id)
        actor = actor_for(uow, org, t, command.user, local_date(now))
    else:
        t, actor = loaded
    pack = org.pack_for(t.holding_team)
    a = actions.BY_COMMAND.get(type(command))
    if a is not None and loaded is None:
        actions.check(a, t, actor, pack)
    HANDLERS[type(command)](t, actor, Context(org, pack, calendar(org), now), command)
    _commit(uow, org, t, now, token=token)
    return t


def handle(uow: UnitOfWork, org: Org, command: cmd.Step, now: datetime) -> Transfer:
    """Apply one step to a transfer and commit it with its notices; the catalogue's rule is
    checked first, so a refused step changes nothing. A lost race is retried on the fresh
    transfer (see :func:`_retrying`)."""
    return _retrying(uow, command.transfer_id, lambda: _handle_once(uow, org, command, now))


def submit(uow: UnitOfWork, org: Org, user: str, transfer_id: int, action: str,
           raw: Mapping[str, Any], now: datetime, *, token: str | None = None) -> Transfer:
    """A form submitted from any surface: check the rule, parse the fields, handle the command;
    a lost race is retried on the fresh transfer. With a ``token`` (the submission's id) the
    same submission is applied at most once; sent again it raises AlreadySaved."""
    a = actions.action(action)

    def once() -> Transfer:
        _once_per(uow, token)
        uow.transfers.lock(transfer_id)  # writers to one transfer take turns, not retries
        t = visible(uow, org, user, now, transfer_id=transfer_id)
        pack = org.pack_for(t.holding_team)
        actor = actor_for(uow, org, t, user, local_date(now))
        refused = actions.refusal(a, t, actor, pack)
        if refused is not None:
            if t.state not in a.states and t.timeline:
                # a form is opened only while its step is open: someone (in another window,
                # perhaps this person) moved the transfer while it was being filled in
                raise LostRace(t, refused)
            raise refused
        values = actions.parse(a, pack, t, actor, raw)
        return _handle_once(uow, org, actions.command_for(a, transfer_id, user, values), now, token,
                            (t, actor))

    return _retrying(uow, transfer_id, once)


def act(uow: UnitOfWork, org: Org, user: str, transfer_id: int, action: str, now: datetime,
        **kwargs: Any) -> Transfer:
    """Apply one step by action name with typed values (the CLI, imports and tests)."""
    if action == "start_assessment":
        return handle(uow, org, cmd.StartAssessment(transfer_id, user), now)
    if action == "confirm" and "checklist" in kwargs:
        kwargs = {"items": ((kwargs.pop("checklist"), kwargs.pop("item")),)}
    if action == "request_work" and "items" in kwargs:
        kwargs["items"] = tuple(kwargs["items"])
    return handle(uow, org, actions.action(action).command(transfer_id, user, **kwargs), now)


def form_for(uow: UnitOfWork, org: Org, user: str, transfer_id: int, action: str,
             now: datetime) -> views.Form:
    """The form of ``action`` for ``user``; DomainError saying why and who can when refused."""
    a = actions.action(action)
    t = visible(uow, org, user, now, transfer_id=transfer_id)
    pack = org.pack_for(t.holding_team)
    actor = actor_for(uow, org, t, user, local_date(now))
    actions.check(a, t, actor, pack)
    form = views.form(a, t, pack, actor, cal=calendar(org), now=now)
    advice = duties.advice_at(pack, a.name, t.kind, t.flags, t.checklist)  # advice at its step
    workers = pickers.worker_choices(org, t.receiving_team)  # a worker picker offers its team only
    person = actions.FieldKind.person
    return replace(form, intro=(*form.intro, *(views.rich(line) for line in advice[:6])),
                   inputs=tuple(replace(fi, options=workers) if fi.field.kind == person else fi
                                for fi in form.inputs))


def card_for(uow: UnitOfWork, org: Org, t: Transfer, viewer: str | None, now: datetime, *,
             headline: tuple[str, ...] = (), brief: bool = False) -> views.Card:
    """A transfer's card as ``viewer`` sees it now: with the buttons they may press (none for a
    channel, where many people read one message); ``brief`` for a restricted transfer's message."""
    pack = org.pack_for(t.holding_team)
    today = local_date(now)
    offered: list[actions.Action] = []
    clocks = transfer_deadlines(org, t)
    if viewer is not None:
        offered = actions.available(t, actor_for(uow, org, t, viewer, today), pack, clocks=clocks,
                                    today=today)
    return views.card(t, clocks, cal=calendar(org), today=today,
                      offered=offered, headline=headline, pack=pack, org=org, brief=brief)


def message_card(uow: UnitOfWork, org: Org, t: Transfer, viewer: str | None, now: datetime, *,
                 headline: tuple[str, ...] = ()) -> views.Card | None:
    """The card a message sends or redraws for ``viewer``: None when they are not on the
    transfer (nothing is sent); brief for a restricted transfer, whose every view is recorded."""
    if viewer is not None and not sees(uow, org, t, viewer, local_date(now)):
        return None
    if viewer is None and t.restricted:
        return None
    card = card_for(uow, org, t, viewer, now, headline=headline, brief=t.restricted)
    if t.restricted and viewer is not None:
        record_read(uow, t, viewer, "card", now)
        uow.commit()
    return card
