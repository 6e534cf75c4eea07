"""Who a notification goes to: recipient roles resolved against the org file and cover."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.domain import Transfer
from bot.org import Org
from bot.policy import PolicyPack, Recipient

SYSTEM = "baton"  # the scheduler's actor id


@dataclass(frozen=True)
class Cover:
    """A manager's leave from ``starts_on`` to ``ends_on`` inclusive, and who covers."""

    manager: str
    cover: str | None
    starts_on: date
    ends_on: date


def effective_managers(org: Org, team_id: str, covers: Iterable[Cover]) -> tuple[str, ...]:
    """A team's managers on a day: those on leave are replaced by their cover, if any."""
    by_manager = {c.manager: c for c in covers}
    out: list[str] = []
    for m in org.team(team_id).managers:
        c = by_manager.get(m)
        who = (c.cover if c else m) if c is None or c.cover else None
        if who and who not in out:
            out.append(who)
    return tuple(out)


def resolve(org: Org, covers: Iterable[Cover], t: Transfer, who: Recipient,
            pack: PolicyPack) -> list[str]:
    """Chat ids (users and channels) that a recipient role means for a transfer today."""
    covers = list(covers)

    def managers(team: str) -> list[str]:
        found = list(effective_managers(org, team, covers))
        return found or level_contacts(org, t, pack, pack.escalation.levels[1].name)

    if who == Recipient.holding_practitioner:
        # An imported transfer has no practitioner on record: its managers hear instead.
        return [t.requested_by] if t.requested_by != SYSTEM else managers(t.holding_team)
    if who == Recipient.holding_manager:
        return managers(t.holding_team)
    if who == Recipient.receiving_manager:
        return managers(t.receiving_team)
    if who == Recipient.buddy_manager:  # ROCH: "FRT PM will have a discussion with their locality 'buddy'"
        buddy = org.team(t.holding_team).buddy
        return managers(buddy) if buddy else []
    if who == Recipient.receiving_channel:
        return list(channels(org, t.receiving_team))
    if who == Recipient.holding_channel:
        return list(channels(org, t.holding_team))
    if who == Recipient.service_representatives:  # ROCH: "a service representative will complete
        return list(org.service_representatives_of(t.receiving_team, pack))  # the allocation"
    current = t.escalation_level or pack.escalation.levels[0].name
    above = pack.escalation.above(current)
    return level_contacts(org, t, pack, (above or pack.escalation.levels[-1]).name)


def level_contacts(org: Org, t: Transfer, pack: PolicyPack, level: str) -> list[str]:
    """Users and channel who hear escalations at ``level`` for either team of a transfer (the
    sides the pack's ladder names: both by default)."""
    out: list[str] = []
    sides = pack.escalation.sides
    for team in [x for side, x in (("holding", t.holding_team), ("receiving", t.receiving_team))
                 if side in sides]:
        c = org.contact(team, level)
        if c:
            for x in (*c.users, *c.places):
                if x not in out:
                    out.append(x)
    return out


def channels(org: Org, team_id: str) -> tuple[str, ...]:
    """A team's channels: on Slack, on Teams, or both (during a move an org runs both)."""
    team = org.team(team_id)
    return tuple(c for c in (team.channel, team.teams_channel) if c)
