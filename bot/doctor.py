"""Pre-go-live checks that need no chat platform: findings, the escalation ladder's reach, and
the table ``baton doctor`` prints. Each platform's own checks (token, scopes, tenant, people,
channels) live beside its adapter (handlers/slack/workspace.py, handlers/teams/checks.py) and
return the same :class:`Finding`."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from bot.org import Org


@dataclass(frozen=True)
class Finding:
    """One thing wrong: which check, what it is about, the problem in plain words, and the fix.
    A blocking finding stops go-live; the others are warnings."""

    check: str
    subject: str
    problem: str
    fix: str
    blocking: bool = True


def escalation_reach(org: Org, bad_users: Collection[str], bad_channels: Collection[str]) -> list[Finding]:
    """Every team's every ladder level must reach someone who can act: a manager or contact whose
    account works, or a channel Baton can post in. ``bad_*`` are those the workspace refused."""
    out: list[Finding] = []
    for team in org.teams:
        pack = org.pack_for(team.id)
        if not [u for u in team.managers if u not in bad_users]:
            out.append(Finding(
                "escalation", f"team {team.id} ({pack.escalation.levels[0].label})",
                "no manager of this team can be reached, so nobody can accept its transfers",
                f"put a manager Baton can reach under managers: for team {team.id} in the org file "
                "(a working Slack user id, or on Teams someone with an Entra object id)"))
        for level in pack.escalation.levels[1:]:
            contact = org.contact(team.id, level.name)
            where = f"team {team.id}: {level.name} ({level.label})"
            if contact is None:
                out.append(Finding(
                    "escalation", where, "nobody hears this escalation level",
                    f"add {level.name}: {{users: [...], channel: ...}} under escalation: in the org file"))
                continue
            users_ok = [u for u in contact.users if u not in bad_users]
            channel_ok = any(c not in bad_channels for c in contact.places)
            if not users_ok and not channel_ok:
                out.append(Finding(
                    "escalation", where, "every person and channel named for this level failed its check",
                    "fix the people or channel above, or name someone else for this level"))
    return out


ORDER = ("settings", "org file", "token", "scopes", "tenant", "person", "channel", "escalation", "database")


def table(findings: Iterable[Finding]) -> str:
    """The findings as an aligned plain-text table, blocking ones first."""
    rows = sorted(findings, key=lambda f: (not f.blocking, ORDER.index(f.check) if f.check in ORDER
                                           else len(ORDER), f.subject))
    head = ("", "check", "what", "problem", "how to fix it")
    cells = [("BLOCKS" if f.blocking else "warn", f.check, f.subject, f.problem, f.fix) for f in rows]
    widths = [max(len(r[i]) for r in [head, *cells]) for i in range(4)]
    lines = []
    for r in [head, *cells]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    return "\n".join(line.rstrip() for line in lines)
