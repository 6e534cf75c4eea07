"""A generated national-size org: a whole probation service in one Baton (issue 24).

``national_org(teams=250, people=15_000)`` gives a probation org of ``teams`` delivery units in
12 regions (each team's ``group:``), every person reachable on Slack (a user id) and on Teams
(a work e-mail and an Entra object id), each team with a Slack and a Teams channel, escalation
contacts for every level of the probation pack. Deterministic: the same sizes give the same
org, so tests and benches can name its people. Used by the scale test, ``bench/scale.py`` and
``python -m sandbox.national FILE`` (writes it as an org file).
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import yaml

from bot.org import Org

REGIONS = ("North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
           "East of England", "London", "Kent, Surrey and Sussex", "South West", "South Central",
           "Wales", "Greater Manchester")
TENANT = "00000000-0000-4000-8000-00000000b470"
_NS = uuid.UUID("5f0c1e2a-6d3b-4c7e-9a1f-2b8d4e6f0a13")


def user_id(n: int) -> str:
    """The n-th person's Slack user id (U + 8 base-36 digits)."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    for _ in range(8):
        n, r = divmod(n, 36)
        out = digits[r] + out
    return "U" + out


def team_id(i: int) -> str:
    """The i-th team's id (1-based): pdu-001 ..."""
    return f"pdu-{i:03d}"


def _channel(prefix: str, i: int) -> str:
    return f"{prefix}{i:06d}"


def national_data(teams: int = 250, people: int = 15_000) -> dict[str, Any]:
    """The org file's content as a mapping (see the module's docstring)."""
    per = max(2, people // teams)
    everyone: list[str] = []
    team_rows: list[dict[str, Any]] = []
    n = 0
    for i in range(1, teams + 1):
        region = REGIONS[(i - 1) * len(REGIONS) // teams]
        ids = [user_id(n + k) for k in range(per)]
        n += per
        everyone += ids
        team_rows.append({"id": team_id(i), "name": f"{region} PDU {i:03d}", "group": region,
                          "managers": ids[:2] if per > 20 else ids[:1],
                          "members": ids[2:] if per > 20 else ids[1:],
                          "channel": _channel("C", i), "teams_channel": f"19:{team_id(i)}@thread.tacv2"})
    levels = ("smt", "head_of_service", "assistant_director", "strategic_lead")
    contacts = {}
    for j, level in enumerate(levels):
        uid = user_id(n + j)
        everyone.append(uid)
        contacts[level] = {"users": [uid], "channel": _channel("CE", j),
                           "teams_channel": f"19:escalation-{j}@thread.tacv2"}
    n += len(levels)
    return {
        "name": "National Probation Service (generated)", "policy": "probation", "region": "ENG",
        "teams": team_rows, "escalation": contacts, "tenants": [TENANT],
        "people": [{"id": u, "email": f"{u.lower()}@probation.example.gov.uk",
                    "entra_id": str(uuid.uuid5(_NS, u))} for u in everyone],
    }


def national_org(teams: int = 250, people: int = 15_000) -> Org:
    """The generated org, validated as an org file is."""
    return Org.model_validate(national_data(teams, people))


def busiest_manager(org: Org) -> str:
    """A manager of the first team (the one the benches load with transfers)."""
    return org.teams[0].managers[0]


def main() -> None:
    """``python -m sandbox.national FILE [TEAMS [PEOPLE]]``: write the org file."""
    args = sys.argv[1:]
    if not args:
        raise SystemExit("usage: python -m sandbox.national FILE [TEAMS [PEOPLE]]")
    sizes = [int(a) for a in args[1:3]]
    Path(args[0]).write_text(yaml.safe_dump(national_data(*sizes), sort_keys=False))


if __name__ == "__main__":
    main()
