"""Policy packs: the shipped packs follow the seeds, and bad pack files are refused clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.policy import (
    PACK_NAMES,
    PolicyError,
    PolicyPack,
    Unit,
    all_builtin_packs,
    builtin_pack,
    load_pack,
)


def _minimal_pack() -> dict[str, Any]:
    """A small pack that loads; tests break one thing in it."""
    return {
        "name": "test",
        "title": "Test pack",
        "source": "test",
        "kinds": [{"id": "permanent", "label": "Permanent transfer"}],
        "clocks": [
            {
                "name": "resolution",
                "label": "Resolved",
                "length": 20,
                "stops": ["accepted", "withdrawn"],
            }
        ],
        "escalation": {
            "levels": [
                {"name": "team_manager", "label": "Team Manager"},
                {"name": "smt", "label": "Senior management"},
            ]
        },
    }


def _write(tmp_path: Path, data: dict[str, Any], name: str = "pack.yml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --- the shipped packs -----------------------------------------------------------------------


def test_every_builtin_pack_loads() -> None:
    """Every pack named in PACK_NAMES loads from policies/ and carries its own name."""
    packs = all_builtin_packs()
    assert set(packs) == set(PACK_NAMES)
    for name, pack in packs.items():
        assert isinstance(pack, PolicyPack)
        assert pack.name == name


def test_every_pack_offers_a_permanent_transfer() -> None:
    """Every pack knows the permanent kind of transfer."""
    for pack in all_builtin_packs().values():
        assert "permanent" in pack.kind_ids


def test_every_clock_cites_its_seed() -> None:
    """Every clock in every pack quotes the seed text it comes from."""
    for pack in all_builtin_packs().values():
        for clock in pack.clocks:
            assert clock.source.strip(), f"{pack.name}.{clock.name} has no source"


@pytest.mark.parametrize(
    ("clock", "days"), [("resolution", 20), ("endorsement", 30), ("address_assessment", 10)]
)
def test_probation_clocks_run_in_working_days(clock: str, days: int) -> None:
    """Probation's resolution, endorsement, address assessment clocks: 20/30/10 working days."""
    c = builtin_pack("probation").clock(clock)
    assert (c.length, c.unit) == (days, Unit.working_days)


@pytest.mark.parametrize(
    ("pack", "levels"),
    [
        ("bury", ["team_manager", "strategic_lead"]),
        ("rochdale", ["team_manager", "head_of_service"]),
        ("leicestershire", ["team_manager", "service_manager", "head_of_service"]),
        ("council-s2", ["team_manager", "group_manager", "senior_leadership_team"]),
    ],
)
def test_escalation_ladders_climb_lowest_first(pack: str, levels: list[str]) -> None:
    """Each children's pack escalates through its seed's levels, lowest first."""
    assert [lv.name for lv in builtin_pack(pack).escalation.levels] == levels


def test_every_ladder_starts_with_the_team_manager() -> None:
    """The first rung of every pack's ladder is called team_manager."""
    for pack in all_builtin_packs().values():
        assert pack.escalation.levels[0].name == "team_manager"


def test_leicestershire_ladder_steps_every_five_working_days() -> None:
    """Leicestershire disputes climb one level every 5 working days."""
    assert builtin_pack("leicestershire").escalation.step_working_days == 5


def test_council_s2_request_needs_practice_manager_sign_off() -> None:
    """council-s2 has a checklist that must be signed off before a transfer is requested."""
    gating = builtin_pack("council-s2").gating("request")
    assert gating
    assert all(c.confirmed_by == "holding_manager" for c in gating)


def test_leicestershire_dispute_clock_is_five_working_days_with_every_level_inside_them() -> None:
    """LEICS: "All disputes will be resolved within 5 Working Days. If Team Managers are unable to
    resolve any dispute, then this should be escalated to the respective Service Managers ... a
    Head of Service should be consulted": the levels climb inside the 5 days (days 3 and 5)."""
    c = builtin_pack("leicestershire").clock("dispute")
    assert (c.length, c.unit, c.starts) == (5, Unit.working_days, "disputed")
    assert "decided" in c.stops
    assert c.escalate_on_days == (3, 5) and "escalate" not in c.at_breach


def test_leicestershire_children_in_care_clock_is_ten_working_days() -> None:
    """Leicestershire's transfer to Children in Care runs 10 working days from the request."""
    c = builtin_pack("leicestershire").clock("children_in_care")
    assert (c.length, c.unit, c.starts) == (10, Unit.working_days, "requested")
    assert c.kinds == ("children_in_care",)


def test_leicestershire_cic_checklist_has_eight_lines_gating_acceptance() -> None:
    """Leicestershire's CiC transfer checklist has the seed's 8 lines and gates acceptance."""
    pack = builtin_pack("leicestershire")
    cic = pack.checklist("cic_transfer")
    assert [i.id for i in cic.items] == [
        "assessment",
        "chronology",
        "placement_plan",
        "care_plan",
        "delegated_authority",
        "statutory_visits",
        "supervision_notes",
        "transfer_document",
    ]
    assert cic.gates == "accept"
    assert cic in pack.gating("accept")


def test_only_rochdale_gives_an_early_heads_up() -> None:
    """Rochdale's pack sends the buddy an early heads up; no other pack does."""
    assert {n for n, p in all_builtin_packs().items() if p.early_heads_up} == {"rochdale"}


def test_rochdale_electronic_transfer_is_due_next_working_day() -> None:
    """Rochdale's electronic transfer is due the working day after the pick-up point."""
    c = builtin_pack("rochdale").clock("electronic_transfer")
    assert (c.length, c.starts, c.day_one_is_next_working_day) == (1, "transfer_point", True)
    assert c.at_breach == ("transfer_anyway",)


def test_rochdales_hos_smt_ad_route_is_for_capacity_not_a_missed_electronic_transfer() -> None:
    """ROCH: "the HOS will be responsible for discussing pressures and reaching solutions with
    colleagues in SMT. Where resolution cannot be reached the matter will be raised with the
    respective AD": that route is the capacity route; disagreements go PM -> HoS; a missed
    electronic transfer goes to the service representatives, climbing no ladder."""
    pack = builtin_pack("rochdale")
    assert pack.capacity is not None
    assert [lv.name for lv in pack.capacity.levels] == ["head_of_service", "smt", "assistant_director"]
    assert [lv.name for lv in pack.escalation.levels] == ["team_manager", "head_of_service"]
    c = pack.clock("electronic_transfer")
    assert "escalate" not in c.at_breach and "escalation" not in c.breach_notify
    assert "service_representatives" in c.breach_notify


def test_s2_capacity_goes_to_the_senior_leadership_team() -> None:
    """S2: "any issues of service area capacity are then addressed to the Senior Leadership team"."""
    pack = builtin_pack("council-s2")
    assert pack.capacity is not None
    assert [lv.name for lv in pack.capacity.levels] == ["senior_leadership_team"]
    assert "not a reason to decline" in pack.capacity.decline_note


def test_only_rochdale_and_s2_have_a_capacity_route() -> None:
    """The two seeds that say capacity is no barrier are the two with a capacity route."""
    assert {n for n, p in all_builtin_packs().items() if p.capacity} == {"rochdale", "council-s2"}


def test_escalate_only_where_the_seeds_say() -> None:
    """Only probation's 20-day clock ("escalated to Senior Managers") climbs a ladder after a
    breach, and only Leicestershire's dispute clock climbs inside its 5 days; the CiC 10-day
    clock ("No later than 10 Working Days") names no escalation, so it only notifies."""
    climbing = {(n, c.name) for n, p in all_builtin_packs().items() for c in p.clocks
                if "escalate" in c.at_breach or c.escalate_on_days}
    assert climbing == {("probation", "resolution"), ("leicestershire", "dispute")}


def test_a_ladder_without_an_interval_in_its_seed_says_so() -> None:
    """Where a seed gives no interval between levels the pack says so (its ladder's reading)."""
    for name in ("bury", "rochdale", "council-s2", "probation"):
        assert "interval" in builtin_pack(name).escalation.reading or \
            "timescale" in builtin_pack(name).escalation.reading, name


def test_rochdale_checklists_are_advisory() -> None:
    """None of Rochdale's checklists blocks a step."""
    assert all(c.gates is None for c in builtin_pack("rochdale").checklists)


def test_bury_remedial_work_is_ten_working_days() -> None:
    """BURY step 6: "the work will be completed in 10 working days"; a breach tells both team
    managers, not the Strategic Lead (the seed names no escalation for it)."""
    pack = builtin_pack("bury")
    c = pack.clock("remedial_work")
    assert (c.length, c.unit, c.starts) == (10, Unit.working_days, "work_requested")
    assert "work_completed" in c.stops
    assert c.at_breach == ("notify",)
    assert set(c.breach_notify) == {"holding_manager", "receiving_manager"}
    assert pack.remedial_work_days == 10


def test_bury_tracks_the_transfer_date_the_team_managers_agreed() -> None:
    """BURY: "all cases will be transferred on the agreed transfer date as agreed by Team
    Managers": a clock on the agreed date, stopped only by completion (or withdrawal)."""
    c = builtin_pack("bury").clock("agreed_transfer_date")
    assert (c.length, c.starts) == (0, "agreed") and set(c.stops) == {"completed", "withdrawn"}
    assert set(c.breach_notify) == {"holding_manager", "receiving_manager"}


def test_bury_cypic_assessment_is_asked_only_of_transfers_to_cypic() -> None:
    """BURY: "All cases transferring to CYPiC must have an assessment within the preceding 12
    months": that line of the audit is for CYPiC transfers only."""
    cl = builtin_pack("bury").checklist("holding_manager_audit")
    assert "cypic_assessment" not in {i.id for i in cl.items_for("permanent")}
    assert "cypic_assessment" in {i.id for i in cl.items_for("children_in_care")}


def test_bury_holding_manager_audit_gates_the_request() -> None:
    """Bury's holding manager's audit must be done before the case is put up for transfer."""
    assert [c.id for c in builtin_pack("bury").gating("request")] == ["holding_manager_audit"]


@pytest.mark.parametrize("pack", ["bury", "rochdale", "council-s2"])
def test_transfer_point_clock_is_due_on_the_day(pack: str) -> None:
    """The transfer point clock falls due on the transfer point date itself."""
    c = builtin_pack(pack).clock("transfer_point")
    assert (c.length, c.starts, c.day_one_is_next_working_day) == (0, "transfer_point", False)
    assert c.remind_before


# --- bad pack files --------------------------------------------------------------------------


def test_minimal_pack_loads(tmp_path: Path) -> None:
    """The minimal pack the refusal tests start from is itself valid."""
    assert load_pack(_write(tmp_path, _minimal_pack())).name == "test"


def test_yaml_syntax_error_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    """A YAML syntax error is refused with the file name and the line of the problem."""
    path = tmp_path / "broken.yml"
    path.write_text("name: broken\ntitle: Broken\nkinds: [\n  {id: permanent\n", encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_pack(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "line " in msg
    assert "not valid YAML" in msg


def test_unknown_key_is_refused_naming_file_and_key_path(tmp_path: Path) -> None:
    """A misspelt key is refused naming the file and the full key path."""
    data = _minimal_pack()
    data["clocks"][0]["lenght"] = data["clocks"][0].pop("length")
    path = _write(tmp_path, data)
    with pytest.raises(PolicyError) as err:
        load_pack(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "clocks.0.lenght" in msg
    assert "unknown key" in msg


def test_unknown_stop_event_is_refused(tmp_path: Path) -> None:
    """A clock that stops on an event Baton does not know is refused, naming the event."""
    data = _minimal_pack()
    data["clocks"][0]["stops"] = ["accepted", "acepted"]
    path = _write(tmp_path, data)
    with pytest.raises(PolicyError) as err:
        load_pack(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "clocks.0.stops" in msg
    assert "acepted" in msg


def test_bad_case_ref_regex_is_refused(tmp_path: Path) -> None:
    """A case reference pattern that is not a valid regular expression is refused."""
    data = _minimal_pack()
    data["case_ref_pattern"] = "^[A-Z"
    path = _write(tmp_path, data)
    with pytest.raises(PolicyError) as err:
        load_pack(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "case_ref_pattern" in msg
    assert "regular expression" in msg


def test_clock_naming_unknown_kind_is_refused(tmp_path: Path) -> None:
    """A clock limited to a kind the pack does not declare is refused, naming clock and kind."""
    data = _minimal_pack()
    data["clocks"][0]["kinds"] = ["temporary"]
    path = _write(tmp_path, data)
    with pytest.raises(PolicyError) as err:
        load_pack(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "'resolution'" in msg
    assert "'temporary'" in msg
