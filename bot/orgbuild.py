"""An org file from a staff list (CSV), the people's work e-mails resolved to chat user ids by an
injected lookup. Every row is checked first; the YAML is produced only when all are good.

Columns (a header row; names are case-blind, spaces and hyphens read as ``_``):

- ``team``: the team id (lower-case letters, digits, hyphens); blank on org-wide rows;
- ``team_name``: the team's display name (on at least one of its rows);
- ``role``: ``manager``, ``member`` (``practitioner``), ``auditor``, ``report_reader``, or an
  escalation level of a pack (``head_of_service``, ``smt``, ...): org-wide with ``team`` blank,
  that team's own contact with it given;
- ``email``: the person's work e-mail (blank on an escalation row that names only a channel);
- ``channel``: the team's channel id on a team row, the level's channel on an escalation row: a
  Slack channel id (``C0NORTH``), or a Teams channel id (``19:...@thread.tacv2``, also as the
  link Teams copies, ``19%3a...%40thread.tacv2``);
- optional ``policy``, ``buddy`` (team id) and ``front_door`` (yes/no) for the team.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import yaml
from pydantic import ValidationError

from bot.org import Org
from bot.policy import PACK_NAMES, all_builtin_packs, format_validation_error

COLUMNS = ("team", "team_name", "role", "email", "channel")
OPTIONAL = ("policy", "buddy", "front_door")
ALIASES = {"e_mail": "email", "work_email": "email", "work_e_mail": "email", "name": "team_name",
           "team_id": "team"}
ROLE_ALIASES = {"practitioner": "member", "worker": "member", "report_readers": "report_reader",
                "auditors": "auditor", "managers": "manager", "members": "member"}
TEAM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
TEAMS_CHANNEL = re.compile(r"^19:[A-Za-z0-9_.\-]{1,180}@thread\.(tacv2|skype)$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class NotResolved(Exception):
    """An e-mail that gives no usable chat account; its message says why."""


@dataclass(frozen=True)
class Found:
    """How the chat platforms know one work e-mail: the id the org file names them by (a Slack
    user id, or the e-mail itself when they are on Teams only), their Entra object id, and a
    note for a warning (on one platform of two)."""

    user: str
    entra_id: str | None = None
    note: str | None = None


@dataclass
class Built:
    """The org file's YAML, or the problems (by line) that stopped it; warnings either way."""

    yaml: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _key(name: str) -> str:
    k = re.sub(r"[\s-]+", "_", name.strip().lower())
    return ALIASES.get(k, k)


def levels() -> list[str]:
    """Escalation level names an org file may give contacts for (every pack's, past the first)."""
    out: list[str] = []
    for pack in all_builtin_packs().values():
        for lv in pack.escalation.levels[1:]:
            if lv.name not in out:
                out.append(lv.name)
    return out


@dataclass
class _Team:
    line: int
    fields: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (value, line)
    managers: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    manager_rows: int = 0
    escalation: dict[str, dict[str, Any]] = field(default_factory=dict)


def build_org(text: str, lookup: Callable[[str], str | Found], *, name: str, policy: str, region: str,
              source: str = "staff.csv", tenants: tuple[str, ...] = ()) -> Built:
    """The org file for the staff list ``text``; ``lookup`` turns an e-mail into a Slack user id
    or a :class:`Found`, or raises NotResolved. Nothing is produced unless every row is good.
    People with an Entra object id are listed under ``people:`` (with ``tenants``) for Teams."""
    out = Built()
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        out.errors.append(f"{source}: empty: give a header row ({', '.join(COLUMNS)})")
        return out
    keys = [_key(h) for h in header]
    unknown = [h for h, k in zip(header, keys, strict=True) if k and k not in COLUMNS + OPTIONAL]
    missing = [c for c in COLUMNS if c not in keys]
    if missing or unknown:
        if missing:
            out.errors.append(f"{source}: line 1: missing column(s) {', '.join(missing)}")
        if unknown:
            out.errors.append(f"{source}: line 1: unknown column(s) {', '.join(unknown)}; the columns "
                              f"are {', '.join(COLUMNS + OPTIONAL)}")
        return out
    known_levels = levels()
    roles = ("manager", "member", "auditor", "report_reader", *known_levels)
    teams: dict[str, _Team] = {}
    org_escalation: dict[str, dict[str, Any]] = {}
    auditors: list[str] = []
    readers: list[str] = []
    resolved: dict[str, Found | NotResolved] = {}
    people: dict[str, dict[str, str]] = {}  # user id -> its people: entry

    def err(line: int, problem: str) -> None:
        out.errors.append(f"{source}: line {line}: {problem}")

    def person(line: int, email: str) -> str | None:
        if not EMAIL.match(email):
            err(line, f"{email!r} is not an e-mail address")
            return None
        key = email.lower()
        if key not in resolved:
            try:
                got = lookup(email)
                resolved[key] = got if isinstance(got, Found) else Found(got)
            except NotResolved as exc:
                resolved[key] = exc
            found = resolved[key]
            if isinstance(found, Found) and found.note:
                out.warnings.append(f"{source}: line {line}: {email}: {found.note}")
        found = resolved[key]
        if isinstance(found, NotResolved):
            err(line, f"{email}: {found}")
            return None
        if found.entra_id:
            entry = {"id": found.user} | ({"email": key} if found.user.lower() != key else {})
            people[found.user] = {**entry, "entra_id": found.entra_id}
        return found.user

    def add(bucket: list[str], user: str) -> None:
        if user not in bucket:
            bucket.append(user)

    for line, raw in enumerate(reader, start=2):
        if not any(c.strip() for c in raw):
            continue
        row = {k: (raw[i].strip() if i < len(raw) else "") for i, k in enumerate(keys) if k}
        team, role = row["team"], ROLE_ALIASES.get(_key(row["role"]), _key(row["role"]))
        email, channel = row["email"], unquote(row["channel"])
        teams_channel = channel if TEAMS_CHANNEL.match(channel) else ""
        row["teams_channel"], row["channel"] = teams_channel, "" if teams_channel else channel
        if role not in roles:
            err(line, f"role {row['role']!r} is not one of {', '.join(roles)}")
            continue
        if channel and not CHANNEL.match(channel) and not teams_channel:
            err(line, f"channel {channel!r} is not a channel id: on Slack C or G and capitals and digits "
                      "(e.g. C0NORTH: channel details, at the bottom); on Teams 19:...@thread.tacv2 "
                      "(the channel's ... > Get link to channel)")
            continue
        if team and not TEAM_ID.match(team):
            err(line, f"team {team!r} is not an id: use lower-case letters, digits and hyphens "
                      "(e.g. pdu-north) and put the display name in team_name")
            continue
        if role in ("auditor", "report_reader"):
            user = person(line, email) if email else None
            if not email:
                err(line, f"a {role} needs an e-mail")
            elif user:
                add(auditors if role == "auditor" else readers, user)
            continue
        if role in ("manager", "member") and not team:
            err(line, f"a {role} needs a team")
            continue
        t = None
        if team:
            t = teams.setdefault(team, _Team(line))
            places = ("channel", "teams_channel") if role in ("manager", "member") else ()
            for col in ("team_name", "policy", "buddy", "front_door", *places):
                value = row.get(col, "")
                if not value:
                    continue
                before = t.fields.get(col)
                if before is not None and before[0] != value:
                    err(line, f"{col} {value!r} differs from {before[0]!r} on line {before[1]} "
                              f"for team {team}")
                elif before is None:
                    t.fields[col] = (value, line)
        if role in ("manager", "member"):
            if t is not None and role == "manager":
                t.manager_rows += 1
            if not email:
                err(line, f"a {role} needs an e-mail")
                continue
            user = person(line, email)
            if user and t is not None:
                add(t.managers if role == "manager" else t.members, user)
            continue
        # an escalation level: org-wide, or this team's own contact
        if not email and not channel:
            err(line, f"escalation level {role} needs an e-mail, a channel, or both")
            continue
        contacts = t.escalation if t is not None else org_escalation
        contact = contacts.setdefault(role, {})
        if email:
            user = person(line, email)
            if user:
                contact.setdefault("users", [])
                add(contact["users"], user)
        if channel:
            key = "teams_channel" if teams_channel else "channel"
            if contact.get(key) not in (None, channel):
                err(line, f"escalation level {role} already has channel {contact[key]}")
            contact[key] = channel

    for tid, t in teams.items():
        if "team_name" not in t.fields:
            err(t.line, f"team {tid} has no team_name on any row")
        if not t.manager_rows:
            err(t.line, f"team {tid} has no manager (a row with role manager)")
        policy_field = t.fields.get("policy")
        if policy_field and policy_field[0] not in PACK_NAMES:
            err(policy_field[1], f"policy {policy_field[0]!r} is not one of {', '.join(PACK_NAMES)}")
    if out.errors:
        return out
    data: dict[str, Any] = {"name": name, "policy": policy, "region": region, "teams": []}
    for tid, t in teams.items():
        entry: dict[str, Any] = {"id": tid, "name": t.fields["team_name"][0], "managers": t.managers}
        if t.members:
            entry["members"] = t.members
        for col in ("channel", "teams_channel", "buddy", "policy"):
            if col in t.fields:
                entry[col] = t.fields[col][0]
        if "front_door" in t.fields:
            entry["front_door"] = t.fields["front_door"][0].lower() in ("yes", "y", "true", "1")
        if t.escalation:
            entry["escalation"] = t.escalation
        data["teams"].append(entry)
    if org_escalation:
        data["escalation"] = org_escalation
    if auditors:
        data["auditors"] = auditors
    if readers:
        data["report_readers"] = readers
    if tenants:
        data["tenants"] = list(tenants)
    if people:
        data["people"] = list(people.values())
    try:
        org = Org.model_validate(data)
    except ValidationError as exc:
        out.errors.append(format_validation_error(source, exc))
        return out
    out.warnings += org.problems()
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, allow_unicode=True)
    out.yaml = f"# Built by `baton org build` from {source}; check it with `baton org check`.\n{body}"
    return out
