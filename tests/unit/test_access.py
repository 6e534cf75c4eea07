"""Who may see a transfer (bot/access.py): one rule from the org file, per role."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from bot import access
from bot.domain import State, Transfer
from bot.org import Org
from bot.recipients import Cover
from tests.conftest import NOW

# pdu-north (U0NMGR; U0NPP1, U0NPP2) -> pdu-south (U0SMGR; U0SPP1) under probation.
OUTSIDER, STRANGER, AUDITOR, SMT = "U0BASW1", "U0NOBODY", "U0AUDIT", "U0SMT1"


def transfer(**kw: object) -> Transfer:
    """A probation transfer North -> South raised by U0NPP1."""
    t = Transfer(case_ref="X123456", policy="probation", holding_team="pdu-north",
                 receiving_team="pdu-south", kind="permanent", state=State.requested,
                 created_at=NOW, requested_by="U0NPP1", id=1)
    return replace(t, **kw)  # type: ignore[arg-type]


def sees(org: Org, t: Transfer, user: str, covers: list[Cover] | None = None,
         today: date = date(2026, 11, 23)) -> bool:
    """The rule as services apply it, with no clock due yet."""
    covers = covers or []
    levels = access.reached_levels(org, t, org.pack_for(t.holding_team), covers, (), today)
    return access.can_see(org, t, user, covers, levels=levels)


@pytest.mark.parametrize("user", ["U0NPP1", "U0NPP2", "U0NMGR", "U0SMGR", "U0SPP1", AUDITOR])
def test_teams_members_managers_and_auditors_see_a_transfer(org: Org, user: str) -> None:
    """The holding and receiving teams' members and managers, and the org's auditors, see it."""
    assert sees(org, transfer(), user)


@pytest.mark.parametrize("user", [OUTSIDER, STRANGER, SMT, "U0RCMGR"])
def test_outsiders_strangers_and_unreached_levels_do_not_see_it(org: Org, user: str) -> None:
    """A member of an unrelated team, someone not in the org file, and senior management before
    the transfer reached them, do not see it."""
    assert not sees(org, transfer(), user)


def test_escalation_contacts_see_it_once_it_reached_their_level(org: Org) -> None:
    """SMT sees a transfer escalated to SMT, or disputed (the dispute is put to SMT)."""
    assert sees(org, transfer(escalation_level="smt", state=State.escalated), SMT)
    assert sees(org, transfer(escalation_level="team_manager", state=State.disputed), SMT)


def test_cover_sees_only_on_the_days_they_cover(org: Org) -> None:
    """U0RCMGR covering U0SMGR from 1 to 4 December sees the transfer those days only."""
    cover = Cover("U0SMGR", "U0RCMGR", date(2026, 12, 1), date(2026, 12, 4))

    def on(day: date) -> bool:
        active = [cover] if cover.starts_on <= day <= cover.ends_on else []
        return sees(org, transfer(), "U0RCMGR", active, day)

    assert not on(date(2026, 11, 30))
    assert on(date(2026, 12, 1)) and on(date(2026, 12, 4))
    assert not on(date(2026, 12, 4) + timedelta(days=1))


def test_restricted_transfer_is_limited_to_the_people_named_on_it(org: Org) -> None:
    """Restricted: its teams' managers, who raised it and the auditors see it; other members do not."""
    t = transfer(restricted=True)
    assert all(sees(org, t, u) for u in ("U0NPP1", "U0NMGR", "U0SMGR", AUDITOR))
    assert not any(sees(org, t, u) for u in ("U0NPP2", "U0SPP1", OUTSIDER))


def test_excluded_person_never_sees_it_whatever_their_role(org: Org) -> None:
    """A receiving manager on the excluded list does not see it; nor does an excluded auditor."""
    t = transfer(restricted=True, excluded=("U0SMGR", AUDITOR))
    assert not sees(org, t, "U0SMGR") and not sees(org, t, AUDITOR)


def test_excluded_people_and_channels_are_dropped_from_a_restricted_audience() -> None:
    """A restricted transfer's notices go to no channel and never to an excluded person."""
    t = transfer(restricted=True, excluded=("U0SMGR",))
    assert access.audience(t, ["U0SMGR", "C0SOUTH", "U0NMGR"]) == ("U0NMGR",)
    assert access.audience(transfer(), ["C0SOUTH", "U0SMGR"]) == ("C0SOUTH", "U0SMGR")


def test_lastteam_is_for_managers_and_front_door_teams(org: Org) -> None:
    """Team managers and front-door members (MASH, FRCD) may ask who held a case last; a
    practitioner elsewhere and a stranger may not."""
    assert access.may_ask_last_team(org, "U0NMGR")
    assert access.may_ask_last_team(org, "U0SMSW1") and access.may_ask_last_team(org, "U0LFSW1")
    assert not access.may_ask_last_team(org, "U0NPP1")
    assert not access.may_ask_last_team(org, STRANGER)


def test_the_org_file_knows_team_people_levels_and_auditors_only(org: Org) -> None:
    """Everyone in a team, at an escalation level or named as auditor is known; others are not."""
    assert all(org.knows(u) for u in ("U0NPP1", SMT, AUDITOR, "U0REPORT"))
    assert not org.knows(STRANGER)


def test_neutral_answer_is_the_same_for_any_case_but_the_reference() -> None:
    """The refusal names only the reference asked about."""
    assert str(access.NotVisible("x1")) == "No transfer you can see has the reference X1."


def test_a_team_is_left_without_managers_only_when_all_of_them_are_excluded(org: Org) -> None:
    """Excluding practitioners leaves both teams managers; excluding South's only one names South PDU."""
    t = transfer()
    assert access.left_without_managers(org, t, ["U0SPP1", "U0NPP2"]) == []
    assert access.left_without_managers(org, t, ["U0SMGR"]) == ["South PDU"]
    assert access.left_without_managers(org, t, ["U0SMGR", "U0NMGR"]) == ["North PDU", "South PDU"]
