"""Case records where people look: a case's open record duties in ``/transfer list``, on App
Home and the Teams home card (bot/home.py), each in the words of its obligation
(:func:`bot.obligations.of_record`).

Need-to-know, as transfers: a record is seen by its team (whoever recorded it, the team's
members and managers); once a duty is missed, by the team's next ladder level, whom the breach
told. Nobody else sees it; someone excluded from the case's open transfer never sees its
records, and of a restricted one only those on it (and whoever recorded it) see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from bot import access, obligations
from bot.calendar import UK_TIME, local_date
from bot.domain import DomainError, Transfer
from bot.org import Org
from bot.policy import Recipient
from bot.ports import UnitOfWork
from bot.usecases.common import calendar

SCOPES = ("mine", "team", "overdue")


@dataclass(frozen=True)
class RecordDuty:
    """One open duty of a case record, as a list or home shows it (a case reference, no names)."""

    case_ref: str
    record: str  # the record's kind in words: "Accommodated under S20"
    on: date
    who: str  # "Front Door (whoever recorded it)", "Manager of FRCD"
    verb: str  # the duty in the seed's words
    when: str  # "Urgent viability assessment to be completed by 14:30 Wed 9 Dec 2026 (5 hours left)"
    due: datetime
    overdue: bool

    @property
    def text(self) -> str:
        """The line without its case reference: "case record Accommodated under S20 (01 Dec
        2026): Front Door (whoever recorded it): ... . ... by ... (5 working days left)."."""
        return f"case record {self.record} ({self.on:%d %b %Y}): {self.who}: {self.verb}. {self.when}."

    @property
    def line(self) -> str:
        """The whole line, its case reference first."""
        return f"{self.case_ref}: {self.text}"


def _next_level_teams(org: Org, user: str) -> set[str]:
    """Teams whose next ladder level (the one a record's breach tells) names ``user``."""
    out = set()
    for team in org.teams:
        levels = org.pack_for(team.id).escalation.levels
        c = org.contact(team.id, levels[1].name) if len(levels) > 1 else None
        if c is not None and user in c.users:
            out.add(team.id)
    return out


def record_duties(uow: UnitOfWork, org: Org, user: str, scope: str, now: datetime) -> list[RecordDuty]:
    """The open record duties ``user`` may see, first due first: 'team' (every one of their
    teams' records), 'mine' (those they owe: recorded by them, or of a team they manage, or
    missed and put to their ladder level) or 'overdue' (the missed ones of either)."""
    if scope not in SCOPES:
        raise DomainError(f"Unknown list {scope!r}: use mine, team or overdue.")
    mine = {t.id for t in org.teams_of(user)}
    managed = {t.id for t in org.managed_by(user)}
    above = _next_level_teams(org, user) - mine
    records = uow.case_records.open_of_teams(sorted(mine | above))
    if not records:
        return []
    cal = calendar(org)
    today = local_date(now)
    covers = uow.covers.active_on(today)
    # the cases' open transfers, in two statements however many records (need-to-know below)
    ids = uow.transfers.open_case_refs({r.case_ref for r in records})
    loaded = uow.transfers.get_many(sorted(set(ids.values()))) if ids else {}
    open_transfer: dict[str, Transfer] = {ref: loaded[i] for ref, i in ids.items() if i in loaded}
    out: list[RecordDuty] = []
    for r in records:
        if not org.has_team(r.team):
            continue
        t = open_transfer.get(r.case_ref)
        if t is not None and (user in t.excluded or (
                t.restricted and user != r.recorded_by and not access.can_see(org, t, user, covers))):
            continue  # need-to-know: the case's transfer is kept from them, so is its record
        pack = org.pack_for(r.team)
        kind = pack.record_kind(r.kind)
        for o in obligations.of_record(r, pack, org, cal, now):
            d = o.deadline
            due = d.due_at or datetime.combine(d.due_on, time(23, 59), tzinfo=UK_TIME)
            late = now > d.due_at if d.due_at is not None else today > d.due_on
            if r.team in above and not late:
                continue  # the ladder level hears of it at the breach, not before
            owes = (r.team in above or r.team in managed
                    or (user == r.recorded_by and any(p.role == Recipient.holding_practitioner
                                                      for p in o.parties)))
            if (scope == "mine" and not owes) or (scope == "overdue" and not late):
                continue
            out.append(RecordDuty(r.case_ref, kind.label if kind else r.kind, r.on, o.who, o.verb,
                                  obligations.deadline_words(d, cal, today, now), due, late))
    return sorted(out, key=lambda x: (x.due, x.case_ref))
