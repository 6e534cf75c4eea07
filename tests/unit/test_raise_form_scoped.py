"""The raise forms scoped to their reader (issue 22): required items first and only those of
the kind, a "never see it" list of the people who could see the case, text cut at a word."""

from __future__ import annotations

from typing import Any

from bot import pickers
from bot.org import Org
from handlers.slack import blocks, ids
from handlers.slack.app import _raise_request
from handlers.teams import cards


def _slack_raise(org: Org, team: str) -> list[dict[str, Any]]:
    return [b for b in blocks.raise_modal(org.pack_for(team), org, team).to_dict()["blocks"]
            if b["type"] == "input"]


def test_burys_required_audit_follows_the_kind_and_leaves_out_the_cypic_line(org: Org) -> None:
    """Bury: "An assessment within the preceding 12 months relevant to the child's current plan
    (transfers to CYPiC)" is asked of a transfer to CYPiC only, so it sits in its own group named
    for that kind; the audit every transfer needs comes right after the kind, before the options."""
    inputs = _slack_raise(org, "bury-assessment")
    order = [b["block_id"] for b in inputs]
    assert order[:5] == [ids.CASE_REF, ids.RECEIVING_TEAM, ids.KIND, ids.CHECKLIST, f"{ids.CHECKLIST}__1"]
    audit, cypic = inputs[3], inputs[4]
    assert audit["optional"] is False
    assert not any("CYPiC" in o["text"]["text"] for o in audit["element"]["options"])
    assert cypic["optional"] is True
    assert cypic["label"]["text"] == ("Only when the kind of transfer is: Transfer to Children & Young "
                                      "People in Care (CYPiC)")


def test_a_raise_sends_the_common_and_the_kinds_own_checklist_items_together() -> None:
    """The two groups of the raise form's checklist arrive as one sign-off on both platforms."""
    def boxes(*values: str) -> dict[str, Any]:
        return {"x": {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}}
    values = {ids.CHECKLIST: boxes("holding_manager_audit:assessments_complete"),
              f"{ids.CHECKLIST}__1": boxes("holding_manager_audit:cypic_assessment")}
    req = _raise_request(values, "bury-assessment", heads_up=False)
    assert req.confirmed == (("holding_manager_audit", "assessments_complete"),
                             ("holding_manager_audit", "cypic_assessment"))


def test_the_never_see_it_list_holds_only_people_who_could_see_a_probation_transfer(org: Org) -> None:
    """From North PDU: its own people, South PDU's, and the probation escalation contacts;
    nobody from the children's services."""
    people = {c.id for c in pickers.excludable(org, "pdu-north")}
    assert {"U0NMGR", "U0NPP1", "U0SMGR", "U0SPP1", "U0SMT1"} <= people
    assert not people & {"U0BAMGR", "U0LCSW1", "U0RFMGR", "U0SMSW1", "U0GRPMGR"}
    element = next(b for b in _slack_raise(org, "pdu-north") if b["block_id"] == ids.EXCLUDED)["element"]
    assert element["type"] == "multi_static_select"
    assert {o["value"] for o in element["options"]} == people


def test_the_teams_raise_card_names_teams_by_label_and_offers_the_never_see_it_list(org: Org) -> None:
    """A team reads "South PDU", not "South PDU (pdu-south)"; the excluded list is scoped too."""
    card = cards.raise_card(org.pack_for("pdu-north"), org, "pdu-north", token="t").model_dump(
        mode="json", exclude_none=True, by_alias=True)
    by_id = {el.get("id"): el for el in card["body"]}
    assert [c["title"] for c in by_id["receiving_team"]["choices"]] == ["South PDU"]
    assert {c["value"] for c in by_id["excluded"]["choices"]} == {
        c.id for c in pickers.excludable(org, "pdu-north")}


def test_text_is_trimmed_at_a_word_with_an_ellipsis() -> None:
    """"...will be raised with the respecti" never happens: a cut falls between words."""
    text = "Any concerns about the transfer will be raised with the respective team manager"
    assert pickers.trim(text, 60) == "Any concerns about the transfer will be raised with the…"
    assert pickers.trim("short", 60) == "short"


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "text" and isinstance(v, str)] + [
            t for k, v in node.items() if k != "text" for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


def test_no_form_text_is_cut_mid_word_in_any_pack(org: Org) -> None:
    """Every label, option and hint of every pack's raise and decline forms that had to be
    shortened ends at a whole word of the policy's text, with an ellipsis."""
    from bot import actions, views
    from bot.policy import PACK_NAMES, builtin_pack

    decline = actions.action("decline")
    cut = 0
    for name in PACK_NAMES:
        pack = builtin_pack(name)
        words = " ".join(str(v) for v in pack.model_dump().values())
        team = next(t.id for t in org.teams if org.pack_for(t.id).name == name)
        form = views.Form("decline", 1, "X1", "Decline", "Decline", (), tuple(
            views.FormInput(f, pack.decline_reasons if f.name == "reason_category" else ())
            for f in actions.form_fields(decline, pack)))
        texts = [*_texts(blocks.raise_modal(pack, org, team).to_dict()),
                 *_texts(blocks.form_modal(form).to_dict())]
        for text in texts:
            if text.endswith("…"):
                stem = text[:-1].lstrip("…").rstrip()
                assert any(stem + c in words for c in " ,;:.()"), (name, text)
                cut += 1
    assert cut > 0  # some long labels were shortened, so the rule was put to the test


def test_a_shortened_option_is_given_in_full_under_its_input(org: Org) -> None:
    """Probation's unpaid work flag carries a hint longer than Slack's 75 characters: the option
    shows it cut at a word, and a context line under the flags gives it in full."""
    pack = org.pack_for("pdu-north")
    flag = next(f for f in pack.flags if len(f.hint) > 75)
    view = blocks.raise_modal(pack, org, "pdu-north").to_dict()["blocks"]
    at = next(i for i, b in enumerate(view) if b.get("block_id") == ids.FLAGS)
    assert view[at + 1]["type"] == "context"
    assert f"{flag.label}: {flag.hint}" in view[at + 1]["elements"][0]["text"]
