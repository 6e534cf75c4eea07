"""The partial rows of issue 21 made whole where the seed gives Baton something to do: each
test quotes its seed (docs/rules-coverage.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

import pytest

from bot import actions, card_facts, remit, services
from bot.domain import UK_TIME, DomainError
from bot.org import Org
from bot.usecases.raising import RaiseRequest
from store.repo import SqlUnitOfWork
from tests.fakes import FakeUnitOfWork

UoW = Callable[[], SqlUnitOfWork]
MON = datetime.combine(date(2026, 11, 23), time(10), tzinfo=UK_TIME)
AUDIT = tuple(("holding_manager_audit", i) for i in (
    "assessments_complete", "recording_up_to_date", "chronology_current"))


def test_bury_both_teams_attendance_at_the_first_core_group_is_recorded(uow: UoW, org: Org) -> None:
    """BURY: "The holding and receiving Social Work teams will both attend the Initial Child
    Protection Conference and the first Core Group": the attendance form at that point asks
    whether the holding team attended too, refuses without it, and the card says both."""
    bury, roch = org.pack_for("bury-assessment"), org.pack_for("roch-frt-1")
    attend = actions.action("attendance")
    assert "holding_attended" in {f.name for f in actions.form_fields(attend, bury)}
    assert "holding_attended" not in {f.name for f in actions.form_fields(attend, roch)}
    with uow() as u:
        t = services.raise_transfer(u, org, "U0BAMGR", RaiseRequest(
            case_ref="2001234", receiving_team="bury-cin", transfer_point="initial_core_group",
            transfer_point_date=date(2026, 11, 27), confirmed=AUDIT,
            route_reason="The CIN team holds this family's other children"), MON)
    assert t.id is not None
    with uow() as u, pytest.raises(DomainError) as no:
        services.act(u, org, "U0BAMGR", t.id, "attendance", MON, attended=True)
    assert no.value.field == "holding_attended" and "both attend" in str(no.value)
    with uow() as u:
        done = services.act(u, org, "U0BAMGR", t.id, "attendance", MON, attended=True,
                            holding_attended=False)
    assert card_facts.attendance(done) == "receiving team attended; holding team not attended"


def test_probation_unpaid_work_highly_unlikely_in_12_months_asks_for_the_extension_now(org: Org) -> None:
    """FAQ: "their unpaid work requirement has not been completed within 12 months (or where it is
    highly unlikely that it will be completed within 12 months), it is important that an
    application is made to Court to extend the requirement as a priority": the request asks it
    (a flag on the raise form); ticked, the request tells both areas to apply to court now, though
    the 12 months from the order end long after the transfer completes (or no order date is given)."""
    assert "upw_unlikely_in_12_months" in {f.id for f in org.pack_for("pdu-north").flags}
    uow = FakeUnitOfWork()
    t = services.raise_transfer(uow, org, "U0NPP1", RaiseRequest(
        case_ref="X123456", receiving_team="pdu-south", order_date=date(2026, 9, 1),
        flags=(services.UPW_UNLIKELY,)), MON)
    ev = t.last_event("upw_extension_due")
    assert ev is not None and ev.detail["unlikely"] and ev.detail["ends"] == "2027-09-01"
    lines = {r: n.lines for n, _ in uow.notices if n.kind == "card" for r in n.audience}
    for who in ("U0SMGR", "U0NPP1"):
        assert any("highly unlikely" in x and "apply to court to extend the requirement now, as a "
                   "priority" in x for x in lines[who])
    plain = services.raise_transfer(FakeUnitOfWork(), org, "U0NPP1", RaiseRequest(
        case_ref="X123457", receiving_team="pdu-south", order_date=date(2026, 9, 1)), MON)
    assert plain.last_event("upw_extension_due") is None
    alone = services.raise_transfer(FakeUnitOfWork(), org, "U0NPP1", RaiseRequest(
        case_ref="X123458", receiving_team="pdu-south", flags=(services.UPW_UNLIKELY,)), MON)
    ev = alone.last_event("upw_extension_due")  # without the order date: still asked now
    assert ev is not None and ev.detail["unlikely"] and ev.detail.get("ends") is None


def test_leicestershire_iva_support_request_goes_ahead_only_after_the_cdm_lpm_decision(org: Org) -> None:
    """LEICS: "Requests for IVA support can be made directly to the Kinship Team Manager. These
    requests should only be progressed once there is a decision from Childrens Decision Making
    Meeting/Legal Planning Meeting.": a raise under that circumstance without the decision's flag
    is refused on the flags field and records nothing; with it, it goes ahead."""
    req = RaiseRequest(case_ref="123456", receiving_team="leics-cic", circumstance="iva_support",
                       route_reason="The CiC service holds the kinship support for this council")
    uow = FakeUnitOfWork()
    with pytest.raises(DomainError) as no:
        services.raise_transfer(uow, org, "U0LFSW1", req, MON)
    assert no.value.field == "flags" and "Decision Making Meeting" in str(no.value)
    assert uow.transfers.get_open_by_case("123456") is None
    t = services.raise_transfer(FakeUnitOfWork(), org, "U0LFSW1", RaiseRequest(
        **{**req.__dict__, "flags": ("cdm_lpm_decision",)}), MON)
    assert t.id is not None
    with FakeUnitOfWork() as u:
        said = remit.route_text(u, org, "U0LFSW1", ["iva_support"], MON)
    assert "Kinship" in said and "Legal Planning Meeting" in said


@pytest.mark.parametrize(("rule", "seed", "said"), [
    ("ehash_contact", "spoken to by the EHASH manager", "the EHASH manager speaks to the locality PM"),
    ("long_term_care", "through Legal Care Planning process", "Legal Care Planning tracker"),
])
def test_rochdale_route_answers_give_the_urgent_ehash_call_and_the_early_alert(
        org: Org, rule: str, seed: str, said: str) -> None:
    """ROCH: "Any contact which is considered urgent i.e. a child injury, section 47 then the PM of
    the locality will be contacted and spoken to by the EHASH manager"; "An early alert system will
    be established through Legal Care Planning process whereby a tracker identifying children where
    the long-term permanence plan has been agreed will be populated": `/transfer route` says each
    at its step, with the seed's words (the call and the tracker are outside Baton)."""
    with FakeUnitOfWork() as u:
        text = remit.route_text(u, org, "U0RFMGR", [rule], MON)
    assert seed in text and said in text


def test_probation_escalation_tells_both_areas_senior_managers_a_setting_of_the_ladder(org: Org) -> None:
    """FAQ: "The framework outlines the circumstances in which this should be escalated to Senior
    Managers" (no area named) and "The responsibility for recording the reasons for delay and
    Senior Management endorsement lies with the transferring area": the day-21 escalation tells
    both areas' senior managers (``sides: [holding, receiving]``, a setting of the ladder); a
    pack with ``sides: [holding]`` tells only the transferring area's."""
    from bot.org import load_org
    from bot.recipients import level_contacts

    base = load_org().model_dump(mode="python")
    for team in base["teams"]:
        if team["id"] == "pdu-south":
            team["escalation"] = {"smt": {"users": ["U0SOUTHSMT"]}}
    two = Org.model_validate(base)
    pack = two.pack_for("pdu-north")
    assert pack.escalation.sides == ("holding", "receiving")
    t = services.raise_transfer(FakeUnitOfWork(), two, "U0NPP1", RaiseRequest(
        case_ref="X123456", receiving_team="pdu-south"), MON)
    assert set(level_contacts(two, t, pack, "smt")) >= {"U0SMT1", "U0SOUTHSMT"}
    holding_only = pack.model_copy(update={"escalation": pack.escalation.model_copy(
        update={"sides": ("holding",)})})
    assert "U0SOUTHSMT" not in level_contacts(two, t, holding_only, "smt")


def test_bury_only_the_team_manager_raises_unless_the_org_file_relaxes_the_audit() -> None:
    """BURY step 2: "The case should not be placed on the transfer list for discussion unless an
    audit has been completed and is satisfactory" (the Holding Team Manager's audit): Baton's
    request is that listing, so a social worker is told only the Team Manager raises; the audit's
    force is a setting, and an org file that makes it advice lets the holding social worker raise."""
    from bot.org import load_org

    base = load_org().model_dump(mode="python")
    assert services.raise_access(FakeUnitOfWork(), Org.model_validate(base), "U0BASW1",
                                 "bury-assessment", MON.date()).refusal
    base["duties"] = {"bury": {f"holding_manager_audit.{i}": "advice" for i in (
        "assessments_complete", "recording_up_to_date", "chronology_current", "cypic_assessment")}}
    relaxed = Org.model_validate(base)
    assert services.raise_access(FakeUnitOfWork(), relaxed, "U0BASW1", "bury-assessment",
                                 MON.date()).refusal is None
