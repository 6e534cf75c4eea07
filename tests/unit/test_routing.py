"""Whose case is it: the children's packs' remit tables, `/transfer route`, the raise's check
against them, and who `/transfer lastteam` answers (issue 21, item 1). Each test quotes its seed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot import access, remit, routing, services
from bot.domain import DomainError
from bot.org import Org, load_org
from bot.policy import all_builtin_packs
from bot.services import RaiseRequest
from tests.conftest import NOW
from tests.fakes import FakeUnitOfWork

S2_SIGN_OFF = (("pm_sign_off", "checks_and_paperwork"), ("pm_sign_off", "work_before_transfer"),
               ("pm_sign_off", "pm_signed_off"))


@pytest.fixture(scope="module")
def org() -> Org:
    """The demo org, whose children's teams name their services."""
    return load_org()


def _s2(uow: FakeUnitOfWork, org: Org, **kw: object) -> services.Transfer:
    req = RaiseRequest(case_ref="200001", receiving_team="s2-fsp", confirmed=S2_SIGN_OFF, **kw)  # type: ignore[arg-type]
    return services.raise_transfer(uow, org, "U0SMMGR", req, NOW)


def test_every_childrens_pack_carries_its_remit_table_and_probation_none() -> None:
    """Each children's pack names its services and rules, each rule with the seed's words."""
    packs = all_builtin_packs()
    assert packs["probation"].routing is None
    for name in ("bury", "leicestershire", "council-s2", "rochdale"):
        table = packs[name].routing
        assert table is not None and table.rules, name
        assert all(len(r.source) > 20 for r in table.rules), name


def test_the_re_referral_rules_agree_with_the_packs_windows() -> None:
    """BURY "re-referral within 12 weeks"; LEICS "Cases closed for less than 3 months": the remit
    table's window and the pack's re-referral setting are the same."""
    packs = all_builtin_packs()
    bury = packs["bury"].routing.rule("rereferral")  # type: ignore[union-attr]
    leics = packs["leicestershire"].routing.rule("rereferral")  # type: ignore[union-attr]
    assert bury and bury.window and (bury.window.length, bury.window.unit) == (12, "weeks")
    assert packs["bury"].rereferral_weeks == 12 and bury.window.after == "advice_assessment"
    assert leics and leics.window and (leics.window.length, leics.window.unit) == (3, "months")
    assert packs["leicestershire"].rereferral_months == 3


def test_route_answers_the_team_and_point_the_policy_names_without_raising(org: Org) -> None:
    """BURY: "Where the Child Protection process has started in the Advice and Assessment teams
    they will transfer to Safeguarding teams at the Initial Child Protection Core Group"."""
    uow = FakeUnitOfWork()
    said = remit.route_text(uow, org, "U0BAMGR", ["cp_started_in_aa"], NOW)
    assert "Safeguarding" in said and "Initial Child Protection Core Group" in said
    assert "transfer to Safeguarding teams at the Initial Child Protection Core Group" in said
    assert uow.commits == 0 and not uow.transfers.rows
    listing = remit.route_text(uow, org, "U0BAMGR", [], NOW)
    assert "cp_started_in_aa: Child protection process started in A&A" in listing


def test_route_names_the_org_teams_of_the_service(org: Org) -> None:
    """S2: "Arranges an ICPC - child is subject of a CPP. FSP ICPC": the org's FSP team is named."""
    said = remit.route_text(FakeUnitOfWork(), org, "U0SMMGR", ["icpc_cp_plan"], NOW)
    assert "FSP (Family Safeguarding and Protection)" in said
    assert "Initial Child Protection Conference" in said


def test_rochdale_route_is_the_aligned_locality_buddy(org: Org) -> None:
    """ROCH: "Service alignment between FRT/CP is FRT 1 CP 1 to FRT5 CP 5"."""
    said = remit.route_text(FakeUnitOfWork(), org, "U0RFMGR", ["frt_to_cp"], NOW)
    assert "Child Protection Team 1" in said


def test_an_unknown_circumstance_is_refused_with_the_way_to_list_them(org: Org) -> None:
    """A typo gets a specific message, not a guess."""
    with pytest.raises(DomainError, match=r"no circumstance 'cp_strated'.*lists them"):
        remit.route_text(FakeUnitOfWork(), org, "U0BAMGR", ["cp_strated"], NOW)


def test_leicestershire_three_year_window_for_sgo_support_runs_from_the_order(org: Org) -> None:
    """LEICS: "SGO/CAO - If support is needed within 3 years of the making of the order - Adoption
    Service SGO/CAO - if support needed after the first 3 years of the making of the order -
    Locality Fieldwork/DCS"."""
    uow = FakeUnitOfWork()
    inside = remit.route_text(uow, org, "U0LFMGR", ["sgo_cao_support_only", "2024-01-10"], NOW)
    outside = remit.route_text(uow, org, "U0LFMGR", ["sgo_cao_support_only", "2023-01-10"], NOW)
    asks = remit.route_text(uow, org, "U0LFMGR", ["sgo_cao_support_only"], NOW)
    assert "Adoption Service" in inside and "within 3 years (to 10 Jan 2027 inclusive)" in inside
    assert "Locality Fieldwork" in outside and "more than 3 years" in outside
    assert "give the day the order was made" in asks


def test_bury_re_referral_route_from_the_closure_record(org: Org) -> None:
    """BURY: "If a case has been closed and there is a re-referral within 12 weeks then the last
    case holding team resumes case responsibility ... If a case has been closed for over 12 weeks
    then the Advice and Assessment Team will reassess."""
    uow = FakeUnitOfWork()
    services.record_closure(uow, org, "U0BCMGR", "104242", NOW, on=date(2026, 11, 23))
    inside = remit.route_text(uow, org, "U0BAMGR", ["rereferral", "104242"], NOW + timedelta(days=84))
    assert "Bury Children in Need Team" in inside and "within 12 weeks (to 15 Feb 2027 inclusive)" in inside
    with pytest.raises(access.NotVisible):
        remit.route_text(uow, org, "U0BAMGR", ["rereferral", "104242"], NOW + timedelta(days=86))


def test_a_raise_following_the_table_gets_its_point_proposed_and_recorded(org: Org) -> None:
    """S2: "Arranges an ICPC - child is subject of a CPP. FSP ICPC": MASH raising to FSP with the
    circumstance named gets the ICPC as its transfer point and a route_followed entry."""
    uow = FakeUnitOfWork()
    t = _s2(uow, org, circumstance="icpc_cp_plan")
    assert t.transfer_point == "icpc"
    ev = t.last_event("route_followed")
    assert ev is not None and ev.detail["rule"] == "icpc_cp_plan" and ev.detail["service"] == "fsp"


def test_a_raise_against_the_table_asks_why_and_records_the_reason(org: Org) -> None:
    """S2: "'adolescent on edge of care' (child is over 11yrs). AFRS At point of referral." A raise
    from MASH to FSP instead asks for the reason on its field, changes nothing, and with a reason
    records it on the timeline ("the casework transfer points are adhered too at all times")."""
    uow = FakeUnitOfWork()
    with pytest.raises(DomainError) as exc:
        _s2(uow, org, circumstance="edge_of_care")
    assert exc.value.field == "route_reason" and "the policy names AFRS" in str(exc.value)
    assert not uow.transfers.rows and uow.commits == 0
    t = _s2(uow, org, circumstance="edge_of_care",
            route_reason="AFRS has agreed FSP leads while a sibling is on a CP plan there")
    ev = t.last_event("route_departed")
    assert ev is not None and ev.reason and "AFRS has agreed" in ev.reason
    assert ev.detail["service"] == "afrs"


def test_a_raise_is_read_against_the_table_from_its_flags(org: Org) -> None:
    """S2: "Case would remain with allocated worker for duration of supervision order": a raise
    flagged Supervision Order is asked why it moves at all."""
    with pytest.raises(DomainError, match="keeps this case with the team that holds it"):
        _s2(FakeUnitOfWork(), org, flags=("supervision_order",))


def test_a_raise_at_another_point_than_the_table_names_asks_why(org: Org) -> None:
    """S2: the ICPC is the point for a child made subject of a CP plan; the EPO/ICO hearing is not."""
    with pytest.raises(DomainError, match="it moves at Initial Child Protection Conference"):
        _s2(FakeUnitOfWork(), org, circumstance="icpc_cp_plan", transfer_point="epo_ico_hearing")


def test_lastteam_about_an_open_case_is_the_neutral_answer_to_someone_not_on_it(org: Org) -> None:
    """Issue 21: lastteam about an open probation case, asked by a Bury manager not on it, was a
    probe for the case's existence; it now gets the same answer as an unknown reference."""
    uow = FakeUnitOfWork()
    services.raise_transfer(uow, org, "U0NPP1", RaiseRequest(case_ref="X123456",
                                                             receiving_team="pdu-south"), NOW)
    open_case = _refusal(lambda: services.last_team_for(uow, org, "U0BAMGR", "X123456", NOW))
    unknown = _refusal(lambda: services.last_team_for(uow, org, "U0BAMGR", "X654321", NOW))
    assert open_case.replace("X123456", "X654321") == unknown
    assert services.last_team_for(uow, org, "U0NMGR", "X123456", NOW).team == "pdu-north"


def test_lastteam_inside_the_window_answers_the_front_door_and_not_other_managers(org: Org) -> None:
    """LEICS: "Where a referral is received within 3 months of previous intervention from CSC the
    case will be transferred for allocation and review by the team most recently involved": the
    front door (FRCD) is told; a manager of an unrelated team is not."""
    uow = FakeUnitOfWork()
    services.record_closure(uow, org, "U0LCMGR", "300003", NOW, on=date(2026, 11, 20))
    later = NOW + timedelta(days=30)
    assert services.last_team_for(uow, org, "U0LFSW1", "300003", later).team == "leics-cic"
    with pytest.raises(access.NotVisible):
        services.last_team_for(uow, org, "U0SFMGR", "300003", later)
    with pytest.raises(access.NotVisible):  # outside every window: neutral to the front door too
        services.last_team_for(uow, org, "U0LFSW1", "300003", NOW + timedelta(days=4 * 366))


def test_lastteam_answers_leicestershires_3_year_windows_as_its_3_months(org: Org) -> None:
    """LEICS: "Section 7/Section 37/Tribunal Reports (including 85/86) directed by the Courts where
    child is known to Locality/DCS in the previous 3 years. Locality Fieldwork/DCS - Last
    allocated team"; "Children subject to Private Law Proceedings open to Locality or previously
    closed within the last 3 years": four months after closing, past the 3 months, the front door
    is still told the last team, with the 3-year windows open to it and how to ask the repeat
    pregnancy one (from the proceedings' end); an unrelated manager is not told."""
    uow = FakeUnitOfWork()
    services.record_closure(uow, org, "U0LCMGR", "300003", NOW, on=date(2026, 11, 20))
    later = NOW + timedelta(days=120)
    last = services.last_team_for(uow, org, "U0LFSW1", "300003", later)
    assert last.team == "leics-cic" and last.goes_back is False
    said = " ".join(w for w, _ in last.windows)
    assert "S7 / S37 / Tribunal report" in said and "within 3 years of closing (to 20 Nov 2029" in said
    assert "Private Law" in said
    assert ("route repeat_pregnancy CASE YYYY-MM-DD" in [a for _, a in last.windows])
    with pytest.raises(access.NotVisible):
        services.last_team_for(uow, org, "U0SFMGR", "300003", later)


def test_repeat_pregnancy_window_runs_from_the_proceedings_end_not_the_closure(org: Org) -> None:
    """LEICS: "Repeat Pregnancies where care proceedings initiated by Leicestershire County Council
    have concluded within the last 3 years. Locality Fieldwork - Last allocated team": the route
    counts 3 years from the day the proceedings concluded, given with the case; without that day
    it asks for it."""
    uow = FakeUnitOfWork()
    services.record_closure(uow, org, "U0LCMGR", "300003", NOW, on=date(2026, 11, 20))
    asks = remit.route_text(uow, org, "U0LFSW1", ["repeat_pregnancy", "300003"], NOW)
    assert "give the day the care proceedings concluded" in asks
    inside = remit.route_text(uow, org, "U0LFSW1", ["repeat_pregnancy", "300003", "2024-01-10"], NOW)
    assert "within 3 years (to 10 Jan 2027 inclusive)" in inside and "Children in Care" in inside
    outside = remit.route_text(uow, org, "U0LFSW1", ["repeat_pregnancy", "300003", "2023-01-10"],
                               NOW + timedelta(days=10))
    assert "more than 3 years" in outside


def test_a_team_naming_a_service_its_policy_lacks_is_refused() -> None:
    """The org file's service must be one its pack's remit table names."""
    base = load_org().model_dump(mode="python")
    base["teams"][0]["service"] = "safeguarding"  # pdu-north is probation: no remit table
    with pytest.raises(ValueError, match="names service 'safeguarding'; its policy names no services"):
        Org.model_validate(base)


def test_matching_reads_the_most_specific_rule_from_kind_and_flags() -> None:
    """BURY: "no later than 5 months following accommodation ... transfer to the Children & Young
    People in Care team": a transfer to CYPiC is that circumstance without being asked."""
    table = all_builtin_packs()["bury"].routing
    assert table is not None
    rule = routing.matching(table, "children_in_care", ())
    assert rule is not None and rule.to == "cypic" and rule.point == "second_lac_review"
    assert routing.matching(table, "permanent", ()) is None


def _refusal(fn: object) -> str:
    try:
        fn()  # type: ignore[operator]
    except access.NotVisible as exc:
        return str(exc)
    raise AssertionError("expected the neutral answer")


@pytest.mark.parametrize("pack_rule", [(n, r.id) for n, p in all_builtin_packs().items() if p.routing
                                       for r in p.routing.rules])
def test_every_routing_rule_answers_with_its_seeds_words(pack_rule: tuple[str, str], org: Org) -> None:
    """Each row of each remit table (BURY's points of transfer, S2's table, ROCH's pick-up points,
    LEICS Appendix 1) answers `/transfer route` with the service it names and the seed's words."""
    name, rule_id = pack_rule
    asker = {"bury": "U0BAMGR", "council-s2": "U0SMMGR", "rochdale": "U0RFMGR",
             "leicestershire": "U0LFMGR"}[name]
    table = all_builtin_packs()[name].routing
    assert table is not None
    rule = table.rule(rule_id)
    assert rule is not None
    said = remit.route_text(FakeUnitOfWork(), org, asker, [rule_id], NOW)
    assert rule.source in said and rule.question in said
    if rule.window is None and rule.to not in routing.SPECIAL:
        assert table.label(rule.to) in said
