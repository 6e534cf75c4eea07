"""Forms scoped to their reader (issue 22): pickers offer only the people who can be chosen, a
checklist groups its items under its title, and nothing is cut mid-word."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot import services
from bot.org import Org
from bot.services import RaiseRequest
from handlers.slack import blocks
from handlers.teams import cards
from store.repo import SqlUnitOfWork
from tests.conftest import NOW

UoW = Callable[[], SqlUnitOfWork]


def _raise(uow: UoW, org: Org, user: str, **kw: Any) -> int:
    with uow() as u:
        t = services.raise_transfer(u, org, user, RaiseRequest(**kw), NOW)
    assert t.id is not None
    return t.id


def _inputs(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view["blocks"] if b["type"] == "input"]


def test_the_named_worker_picker_offers_only_the_receiving_teams_people(uow: UoW, org: Org) -> None:
    """"RTM will identify SW to be allocated" (a worker of the receiving team): the accept form's
    picker lists South PDU's practitioner and manager only, on Slack as a static select (not a
    picker of the whole workspace) and on Teams as a ChoiceSet."""
    tid = _raise(uow, org, "U0NPP1", case_ref="X123456", receiving_team="pdu-south")
    with uow() as u:
        form = services.form_for(u, org, "U0SMGR", tid, "accept", NOW)
    slack = {b["block_id"]: b for b in _inputs(blocks.form_modal(form).to_dict())}
    worker = slack["named_worker"]["element"]
    assert worker["type"] == "static_select"
    assert [o["value"] for o in worker["options"]] == ["U0SPP1", "U0SMGR"]
    assert worker["options"][0]["text"]["text"] == "u0spp1@demo.example.gov.uk"
    card = cards.form_card(form, org, token="t").model_dump(mode="json", exclude_none=True, by_alias=True)
    choice = next(el for el in card["body"] if el.get("id") == "named_worker")
    assert [c["value"] for c in choice["choices"]] == ["U0SPP1", "U0SMGR"]
    assert "choices.data" not in choice  # no search over the whole directory


def test_a_leicestershire_confirm_form_lists_each_item_once_under_its_checklist(uow: UoW, org: Org) -> None:
    """Twenty items over three checklists: every one offered, none repeating its checklist's
    80-character title, grouped under each title, no group marked optional beside a required one."""
    tid = _raise(uow, org, "U0LFMGR", case_ref="1234567", receiving_team="leics-cic", kind="children_in_care")
    with uow() as u:
        form = services.form_for(u, org, "U0LFMGR", tid, "confirm", NOW)
    groups = _inputs(blocks.form_modal(form).to_dict())
    title = org.pack_for("leics-frcd").checklists[0].label
    options = [o for g in groups for o in g["element"]["options"]]
    assert len(options) == 20  # 8 + 6, and the seed's best-practice principles (advice, issue 21)
    assert not any(title in o["text"]["text"] for o in options)
    assert [g["label"]["text"] for g in groups] == [
        f"Items to confirm: {title}", "Items to confirm: Requirements of any transfer of work",
        "Items to confirm: Best practice principles (advice at completion)"]
    assert {g["optional"] for g in groups} == {True}
    assert groups[0]["hint"]["text"] == "Tick at least one item, in any of the lists."
    card = cards.form_card(form, org, token="t").model_dump(mode="json", exclude_none=True, by_alias=True)
    sets = [el for el in card["body"] if el.get("type") == "Input.ChoiceSet"]
    assert [s["id"] for s in sets] == ["items", "items__1", "items__2"]
    assert sum(len(s["choices"]) for s in sets) == 20
