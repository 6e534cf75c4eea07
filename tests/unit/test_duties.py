"""Duties with the force the seed gives them (issue 21, item 2): a guard waits for its line, advice
is shown at its step, and a council sets each in its org file. Each test quotes its seed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.domain import DomainError, State, Transfer, new_transfer
from bot.duties import duty_rows
from bot.org import Actor, Org, Role, load_org
from bot.policy import PolicyPack, all_builtin_packs, builtin_pack

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PP = Actor("U0HPP", frozenset({Role.holding_practitioner}))
HM = Actor("U0HMGR", frozenset({Role.holding_manager}))
RM = Actor("U0RMGR", frozenset({Role.receiving_manager}))
LEICS, BURY, PROBATION = builtin_pack("leicestershire"), builtin_pack("bury"), builtin_pack("probation")


def _requested(pack: PolicyPack, **kw: Any) -> Transfer:
    ref = "X123456" if pack.name == "probation" else "101001"
    t = new_transfer(case_ref=ref, pack=pack, holding_team="hold", receiving_team="recv",
                     kind="permanent", actor=PP, now=NOW, **kw)
    for cl in pack.gating("request", t.kind):
        for item in cl.items:
            t.confirm(HM, NOW, pack, checklist=cl.id, item=item.id)
    t.request(PP, NOW, pack)
    return t


def _org(duties: dict[str, dict[str, str]]) -> Org:
    data = load_org().model_dump(mode="python")
    data["duties"] = duties
    return Org.model_validate(data)


def test_leicestershire_will_require_guards_completion_and_should_is_advice() -> None:
    """LEICS: "Any transfer of work ... will require: - manager oversight to confirm the change of
    worker/team and any rationale for transfer - a timely handover ... - a 'warm' handover"; but
    "Transfer of work should always be accompanied by an up-to date Chronology, Genogram" is
    advice: completion waits for the five 'will require' lines only."""
    t = _requested(LEICS)
    t.accept(RM, NOW + timedelta(hours=1), LEICS)
    with pytest.raises(DomainError, match="Manager oversight confirms the change"):
        t.complete(RM, NOW + timedelta(hours=2), LEICS)
    cl = LEICS.checklist("transfer_requirements")
    assert [i.id for i in cl.guards("permanent")] == ["manager_oversight", "timely_handover",
                                                       "recording_up_to_date", "warm_handover",
                                                       "communication"]
    for item in cl.guards("permanent"):
        t.confirm(HM, NOW + timedelta(hours=2), LEICS, checklist=cl.id, item=item.id)
    t.complete(RM, NOW + timedelta(hours=3), LEICS)
    assert t.state == State.completed and "chronology_genogram" not in t.checklist.get(cl.id, {})


def test_a_council_relaxes_or_tightens_a_duty_in_its_org_file() -> None:
    """FAQ: "Safeguarding and police checks must be undertaken by the transferring area as part of
    their initial assessment of suitability": shipped as advice (a setting), an org file makes
    them guard the decision; another relaxes Leicestershire's warm handover."""
    org = _org({"probation": {"transferring_checks.safeguarding_checks": "guard",
                              "transferring_checks.police_checks": "guard"},
                "leicestershire": {"transfer_requirements.warm_handover": "advice"}})
    pack = org.pack_for("pdu-north")
    t = _requested(pack)
    with pytest.raises(DomainError, match=r"Safeguarding enquiries done; .*Police checks done"):
        t.accept(RM, NOW + timedelta(hours=1), pack, rationale="Risk manageable at the address")
    for item in ("safeguarding_checks", "police_checks"):
        t.confirm(PP, NOW + timedelta(hours=1), pack, checklist="transferring_checks", item=item)
    t.accept(RM, NOW + timedelta(hours=2), pack, rationale="Risk manageable at the address")
    leics = org.pack_for("leics-frcd").checklist("transfer_requirements")
    assert "warm_handover" not in [i.id for i in leics.guards("permanent")]
    assert PROBATION.checklist("transferring_checks").guards("permanent") == ()


def test_an_org_file_naming_an_unknown_duty_is_refused() -> None:
    """A typo in `duties:` is refused naming the pack and its duties, not ignored."""
    with pytest.raises(ValueError, match=r"the bury pack has no duty \['holding_handover.nope'\]"):
        _org({"bury": {"holding_handover.nope": "guard"}})


def test_probation_acceptance_records_its_rationale() -> None:
    """FAQ: "Receiving areas will need to undertake assessments on individual cases with regard to
    this, and ensure the decision and rationale is fully recorded": Accept asks for it and keeps
    it on the timeline; where an org makes it a guard, an acceptance without it is refused on
    its field and changes nothing."""
    t = _requested(PROBATION)
    t.accept(RM, NOW + timedelta(hours=1), PROBATION,
             rationale="No heightened risk at the address; interventions available here")
    ev = t.last_event("accepted")
    assert ev is not None and ev.reason and "interventions available" in ev.reason
    strict = _org({"probation": {"accept_rationale": "guard"}}).pack_for("pdu-north")
    t = _requested(strict)
    with pytest.raises(DomainError) as exc:
        t.accept(RM, NOW + timedelta(hours=1), strict)
    assert exc.value.field == "rationale" and t.state == State.requested


def test_bury_transfer_date_is_agreed_by_both_managers() -> None:
    """BURY step 5: "The Receiving Team Manager (RTM) and holding team manager will discuss the
    case and agree transfer timescale" and "all cases will be transferred on the agreed transfer
    date as agreed by Team Managers": the date the receiving manager gives on Accept waits for the
    holding manager; a different date from the holding manager goes back to the receiving one."""
    t = _requested(BURY)
    t.accept(RM, NOW + timedelta(hours=1), BURY, named_worker="U0RSW", agreed_date=date(2026, 12, 4))
    assert t.date_awaiting(BURY) == "holding"
    with pytest.raises(DomainError, match="waits for the holding team's manager"):
        t.complete(HM, NOW + timedelta(hours=2), BURY)
    t.agree_date(HM, NOW + timedelta(hours=2), BURY, agreed_date=date(2026, 12, 7))
    assert t.agreed_date == date(2026, 12, 7) and t.date_awaiting(BURY) == "receiving"
    with pytest.raises(DomainError, match="waits for the other team's manager"):
        t.agree_date(HM, NOW + timedelta(hours=3), BURY, agreed_date=None)
    t.agree_date(RM, NOW + timedelta(hours=3), BURY, agreed_date=None)
    assert t.date_awaiting(BURY) is None
    t.complete(HM, NOW + timedelta(hours=4), BURY)
    assert t.state == State.completed


def test_every_duty_carries_the_seeds_words_and_the_tables_show_its_force() -> None:
    """Each checklist line quotes the seed that gives its force; `baton policy tables` lists it."""
    for pack in all_builtin_packs().values():
        rows = "\n".join(duty_rows(pack))
        for cl in pack.checklists:
            for i in cl.items:
                assert i.quote, f"{pack.name} {cl.id}.{i.id}"
                assert f"`{cl.id}.{i.id}`" in rows and f"| {cl.force_of(i)} |" in rows


def test_advice_is_shown_on_the_form_of_the_step_it_belongs_to() -> None:
    """BURY: "In Supervision the Holding SW will be asked to complete a transfer summary": an advice
    line of the holding team's handover shows, with the seed's words, on the Complete form, and
    nothing waits for it."""
    from bot import commands as cmd
    from bot import services
    from tests.fakes import FakeUnitOfWork

    org, uow = load_org(), FakeUnitOfWork()
    audit = tuple(("holding_manager_audit", i) for i in ("assessments_complete", "recording_up_to_date",
                                                          "chronology_current"))
    t = services.raise_transfer(uow, org, "U0BAMGR", services.RaiseRequest(
        case_ref="201009", receiving_team="bury-cin", confirmed=audit), NOW)
    services.handle(uow, org, cmd.Accept(t.id or 0, "U0BCMGR", named_worker="U0BCSW1"), NOW)
    form = services.form_for(uow, org, "U0BAMGR", t.id or 0, "complete", NOW)
    lines = ["".join(str(p) for p in line) for line in form.intro]
    assert any(line.startswith("Advice: Transfer summary completed by the holding SW") and
               "will be asked to complete a transfer summary" in line for line in lines)
    services.handle(uow, org, cmd.Complete(t.id or 0, "U0BAMGR"), NOW)
    assert uow.transfers.get(t.id or 0).state == State.completed  # type: ignore[union-attr]


def test_advice_quoting_a_long_seed_passage_is_cut_at_a_word_never_mid_word() -> None:
    """Issue 22 ("nothing cut mid-word"): the accept form's advice quotes the seed, "If the
    home area is relatively close to the proposed address in the receiving area, the
    responsible officer should consider undertaking the home visit to best inform the
    transfer request.", trimmed at a word with an ellipsis, not "...to best i"."""
    from bot.duties import advice_at

    for pack in all_builtin_packs().values():
        for action in ("accept", "decline", "complete", "request"):
            for kind in ("permanent", "temporary"):
                for line in advice_at(pack, action, kind, (), {}):
                    quoted = line.partition(' ("')[2].removesuffix('")')
                    full = next((i.quote for cl in pack.checklists for i in cl.items
                                 if i.quote and i.quote.startswith(quoted.rstrip("…"))), "")
                    assert quoted == full or (quoted.endswith("…") and
                                              full[len(quoted) - 1] in " ,;:-("), line


def test_probation_case_transfer_nsi_is_advice_at_the_request_and_an_org_file_makes_it_a_guard() -> None:
    """FAQ: "In order to initiate a case transfer the Probation Practitioner (PP) in the
    transferring area must add a case transfer NSI should contact the Senior Probation Officer
    (SPO) in the receiving area": the NSI is on nDelius, so the request shows it as advice with
    the seed's words; an org file that makes it a guard refuses a request that does not confirm it."""
    from bot import services
    from tests.fakes import FakeUnitOfWork

    item = next(i for i in PROBATION.checklist("practice").items if i.id == "nsi_added")
    assert item.force == "advice" and "must add a case transfer NSI" in item.quote
    org = _org({"probation": {"practice.nsi_added": "guard"}})
    req = services.RaiseRequest(case_ref="X123456", receiving_team="pdu-south")
    with pytest.raises(DomainError, match="NSI"):
        services.raise_transfer(FakeUnitOfWork(), org, "U0NPP1", req, NOW)
    t = services.raise_transfer(FakeUnitOfWork(), org, "U0NPP1", services.RaiseRequest(
        case_ref="X123456", receiving_team="pdu-south", confirmed=(("practice", "nsi_added"),)), NOW)
    assert t.id is not None
