"""Block Kit builders: valid for Slack, the right ids, escaped text, paging, no names."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot import actions, guide, views
from bot.calendar import calendar_for
from bot.clocks import Deadline
from bot.domain import Transfer, new_transfer
from bot.org import Actor, Org, Role, load_org
from bot.policy import builtin_pack
from bot.ports import TransferSummary
from handlers.slack import blocks, ids

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday
TODAY = NOW.date()
CAL = calendar_for("ENG")
PP = Actor("U0NPP1", frozenset({Role.holding_practitioner}))
SMGR = Actor("U0SMGR", frozenset({Role.receiving_manager}))
NASTY = "<!channel> & <@U123>"


@pytest.fixture(scope="module")
def org() -> Org:
    """The demo org."""
    return load_org()


def _transfer(pack: str = "probation", **fields: Any) -> Transfer:
    ref = "X123456" if pack == "probation" else "123456"  # the children's packs take digits
    t = new_transfer(case_ref=ref, pack=builtin_pack(pack), holding_team="pdu-north",
                     receiving_team="pdu-south", kind="permanent", actor=PP, now=NOW, **fields)
    t.request(PP, NOW, builtin_pack(pack))
    t.id = 7
    return t


def _summary(i: int, *, state: str = "requested", due_on: date | None = None) -> TransferSummary:
    return TransferSummary(id=i, case_ref=f"X{i:06d}", policy="probation", state=state,
                           holding_team="pdu-north", receiving_team="pdu-south", kind="permanent",
                           requested_on=TODAY, due_clock="resolution", due_on=due_on, closed_at=None)


def _by_id(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def _actions(bs: list[dict[str, Any]]) -> list[str]:
    return [el["action_id"] for b in bs if b["type"] == "actions" for el in b["elements"]]


def _text(bs: list[dict[str, Any]]) -> str:
    return json.dumps(bs, ensure_ascii=False)


def test_escape_neutralises_mentions_and_ampersands() -> None:
    """<!channel>, <@U123> and & in user text become entities that ping no one."""
    assert blocks.escape(NASTY) == "&lt;!channel&gt; &amp; &lt;@U123&gt;"


def test_raise_modal_has_required_fields_and_holding_team_metadata(org: Org) -> None:
    """The raise form asks for case ref, team and kind, carries the holding team, excludes it."""
    view = blocks.raise_modal(builtin_pack("probation"), org, "pdu-north").to_dict()
    assert view["callback_id"] == ids.RAISE_VIEW
    assert view["private_metadata"] == "pdu-north"
    by = _by_id(view)
    for required in (ids.CASE_REF, ids.RECEIVING_TEAM, ids.KIND):
        assert not by[required].get("optional")
    assert by[ids.FLAGS]["optional"] and by[ids.FUNDING]["optional"]
    hint = builtin_pack("probation").case_ref_hint
    assert by[ids.CASE_REF]["hint"]["text"].lower() == hint.lower()
    assert by[ids.FUNDING]["hint"]["text"] == f"{blocks.NO_NAMES} Up to {blocks.MAX_TEXT} characters."
    teams = [o["value"] for o in by[ids.RECEIVING_TEAM]["element"]["options"]]
    assert "pdu-south" in teams and "pdu-north" not in teams
    assert ids.TRANSFER_POINT not in by and ids.CHECKLIST not in by


def test_a_childrens_raise_form_hints_the_org_files_case_record_id(org: Org) -> None:
    """The demo org's case_record_id (4 to 10 digits) is what the Bury raise form asks for."""
    by = _by_id(blocks.raise_modal(org.pack_for("bury-cin"), org, "bury-cin").to_dict())
    hint = by[ids.CASE_REF]["hint"]["text"]
    assert "digits only (4 to 10)" in hint and "never a name" in hint


def test_raise_modal_offers_only_teams_a_transfer_can_go_to(org: Org) -> None:
    """A transfer between teams under different packs runs only where the org file's
    cross_policy allows the pair: North's form lists South alone, until (pdu-north, roch-cp-1)
    is allowed."""
    def teams(o: Org) -> list[str]:
        view = blocks.raise_modal(builtin_pack("probation"), o, "pdu-north").to_dict()
        return [opt["value"] for opt in _by_id(view)[ids.RECEIVING_TEAM]["element"]["options"]]

    assert teams(org) == ["pdu-south"]
    allowed = Org.model_validate({**org.model_dump(), "cross_policy": [("pdu-north", "roch-cp-1")]})
    assert teams(allowed) == ["pdu-south", "roch-cp-1"]


def test_raise_modal_lists_gating_checklist_for_council_s2(org: Org) -> None:
    """S2's practice manager sign-off appears as checkboxes valued checklist:item."""
    view = blocks.raise_modal(builtin_pack("council-s2"), org, "s2-mash").to_dict()
    options = _by_id(view)[ids.CHECKLIST]["element"]["options"]
    assert [o["value"] for o in options] == [
        "pm_sign_off:checks_and_paperwork", "pm_sign_off:work_before_transfer", "pm_sign_off:pm_signed_off"]
    assert all(len(o["text"]["text"]) <= 75 for o in options)


def test_raise_modal_offers_transfer_points_for_bury(org: Org) -> None:
    """Bury's transfer points are a select, with a date picker beside them."""
    view = blocks.raise_modal(builtin_pack("bury"), org, "bury-assessment").to_dict()
    by = _by_id(view)
    points = [o["value"] for o in by[ids.TRANSFER_POINT]["element"]["options"]]
    assert "initial_core_group" in points and "first_ico_hearing" in points
    assert by[ids.TRANSFER_POINT_DATE]["element"]["type"] == "datepicker"


def test_headsup_modal_uses_headsup_callback(org: Org) -> None:
    """The heads up form is the raise form under its own callback id."""
    view = blocks.raise_modal(builtin_pack("rochdale"), org, "roch-frt-1", heads_up=True).to_dict()
    assert view["callback_id"] == ids.HEADSUP_VIEW
    assert view["private_metadata"] == "roch-frt-1"


@pytest.mark.parametrize("name", ["probation", "bury", "rochdale", "leicestershire", "council-s2"])
def test_raise_modal_is_valid_for_every_pack(org: Org, name: str) -> None:
    """Every shipped pack fits Slack's limits (option lengths, counts)."""
    team = next(t.id for t in org.teams if (t.policy or org.policy) == name)
    view = blocks.raise_modal(builtin_pack(name), org, team).to_dict()
    assert len(view["blocks"]) <= 100


def _form(name: str, t: Transfer, actor: Actor = SMGR) -> dict[str, Any]:
    """The Slack modal of catalogue action ``name`` on ``t`` as ``actor`` sees it."""
    pack = builtin_pack(t.policy)
    return blocks.form_modal(views.form(actions.BY_NAME[name], t, pack, actor, cal=CAL,
                                        now=NOW)).to_dict()


def _card(t: Transfer, viewer: Actor, deadlines: list[Deadline] | None = None) -> list[dict[str, Any]]:
    """The Slack blocks of ``t``'s card for ``viewer``, offering what the catalogue allows."""
    pack = builtin_pack(t.policy)
    return blocks.card_blocks(views.card(t, deadlines or [], cal=CAL, today=TODAY,
                                         offered=actions.available(t, viewer, pack, clocks=deadlines or [],
                                                                 today=TODAY), pack=pack))


def test_decline_form_requires_rationale_and_probation_reason() -> None:
    """Probation's decline needs a rationale and one of the presumption's reasons."""
    view = _form("decline", _transfer())
    assert view["callback_id"] == ids.DECLINE_VIEW and view["private_metadata"] == "7"
    by = _by_id(view)
    assert not by[ids.RATIONALE].get("optional") and by[ids.RATIONALE]["element"]["multiline"]
    assert by[ids.RATIONALE]["element"]["min_length"] == 20
    assert by[ids.RATIONALE]["hint"]["text"] == f"{blocks.NO_NAMES} Up to {blocks.MAX_TEXT} characters."
    assert not by[ids.DECLINE_REASON].get("optional")
    assert by[ids.DECLINE_REASON]["element"]["type"] == "static_select"
    assert [o["value"] for o in by[ids.DECLINE_REASON]["element"]["options"]] == [
        "heightened_risk", "intervention_missing"]
    assert "X123456" in _text(view["blocks"])


def test_decline_form_has_no_reason_select_without_decline_reasons() -> None:
    """A pack without decline reasons asks for the rationale only."""
    view = _form("decline", _transfer("rochdale"))
    assert ids.DECLINE_REASON not in _by_id(view) and ids.RATIONALE in _by_id(view)


def test_accept_form_has_optional_worker_and_date() -> None:
    """Accepting may name a worker (a user picker) and an agreed date, both optional."""
    view = _form("accept", _transfer())
    assert view["callback_id"] == ids.ACCEPT_VIEW and view["private_metadata"] == "7"
    by = _by_id(view)
    assert by[ids.NAMED_WORKER]["optional"] and by[ids.NAMED_WORKER]["element"]["type"] == "users_select"
    assert by[ids.AGREED_DATE]["optional"] and by[ids.AGREED_DATE]["element"]["type"] == "datepicker"


def test_work_form_requires_items_and_shows_due_date() -> None:
    """Asking for work needs the items; the date picker starts at the policy's due date
    (ten working days from Monday 23 November 2026 is Monday 7 December)."""
    view = _form("request_work", _transfer())
    assert view["callback_id"] == ids.WORK_VIEW
    by = _by_id(view)
    assert not by[ids.WORK_ITEMS].get("optional") and by[ids.WORK_ITEMS]["element"]["multiline"]
    assert by[ids.WORK_DUE]["element"]["type"] == "datepicker"
    assert by[ids.WORK_DUE]["element"]["initial_date"] == "2026-12-07"


def _offered(bs: list[dict[str, Any]]) -> list[str]:
    """Every catalogue action a card offers: its buttons, then its overflow menu's options."""
    out = []
    for b in bs:
        for el in b.get("elements", []) if b["type"] == "actions" else []:
            if el["type"] == "button":
                out.append(ids.action_of_button(el["action_id"]))
            else:
                out += [ids.of_more_value(o["value"])[0] for o in el["options"]]
    return out


def test_card_shows_only_the_buttons_the_viewer_may_press() -> None:
    """The receiving manager sees Accept (the one primary) and Decline (red) in sight, the rest
    of their steps in an overflow menu of two to five, each option valued with its action and
    the transfer id; the holding practitioner sees the holding team's steps; someone with no
    role sees none."""
    t = _transfer()
    d = Deadline("resolution", "Resolution", TODAY, date(2026, 12, 21), ())
    bs = _card(t, SMGR, [d])
    assert bs[0]["type"] == "header" and "X123456" in bs[0]["text"]["text"]
    expected = [a.name for a in actions.available(t, SMGR, builtin_pack("probation"), clocks=[d],
                                                      today=TODAY)]
    assert sorted(_offered(bs)) == sorted(expected) and len(expected) > 3
    [row] = [b for b in bs if b["type"] == "actions"]
    assert len(row["elements"]) <= 3
    buttons = [el for el in row["elements"] if el["type"] == "button"]
    assert [b["action_id"] for b in buttons] == [ids.ACCEPT, ids.DECLINE]
    assert {b["value"] for b in buttons} == {"7"}
    assert [b.get("style") for b in buttons] == ["primary", "danger"]
    menu = row["elements"][-1]
    assert menu["type"] == "overflow" and menu["action_id"] == ids.MORE
    assert 2 <= len(menu["options"]) <= 5
    assert all(o["value"].endswith(":7") for o in menu["options"])
    assert "20 working days left" in _text(bs)
    holding = _offered(_card(t, PP, [d]))
    assert "accept" not in holding and "decline" not in holding
    assert "withdraw" in holding
    assert _actions(_card(t, Actor("U0NOBODY", frozenset()), [d])) == []


def test_a_card_has_exactly_one_primary_and_its_destructive_steps_styled_so() -> None:
    """Whoever looks, at most three buttons are in sight and exactly one is primary; Decline,
    Withdraw and Raise a dispute are red wherever they are buttons."""
    t = _transfer()
    d = Deadline("resolution", "Resolution", TODAY, date(2026, 12, 21), ())
    for viewer in (SMGR, PP):
        [row] = [b for b in _card(t, viewer, [d]) if b["type"] == "actions"]
        buttons = [el for el in row["elements"] if el["type"] == "button"]
        assert len(row["elements"]) <= 3
        assert [b.get("style") for b in buttons].count("primary") == 1
        for b in buttons:
            if ids.action_of_button(b["action_id"]) in ("decline", "withdraw", "dispute"):
                assert b["style"] == "danger"


def test_card_after_decision_names_decider_by_id() -> None:
    """Once accepted the decision buttons are gone, and a context line says who accepted, as a
    mention."""
    t = _transfer()
    t.accept(SMGR, NOW + timedelta(hours=1), builtin_pack("probation"))
    bs = _card(t, SMGR)
    assert ids.ACCEPT not in _actions(bs) and ids.DECLINE not in _actions(bs)
    context = [b for b in bs if b["type"] == "context"]
    assert "Accepted by <@U0SMGR>" in context[-1]["elements"][0]["text"]


def test_card_escapes_decline_rationale() -> None:
    """A rationale of "<!channel> & <@U123>" is shown escaped."""
    t = _transfer()
    t.decline(SMGR, NOW, builtin_pack("probation"), rationale=NASTY, reason_category="heightened_risk")
    text = _text(_card(t, SMGR))
    assert "<!channel>" not in text and "<@U123>" not in text
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in text


def test_summary_list_shows_rag_by_working_days() -> None:
    """Overdue is red, within 3 working days amber, later green."""
    rows = [_summary(1, due_on=TODAY - timedelta(days=1)), _summary(2, due_on=date(2026, 11, 26)),
            _summary(3, due_on=date(2026, 12, 21))]
    bs = blocks.summary_list(rows, today=TODAY, cal=CAL, title="Transfers: mine")
    lines = [b["text"]["text"] for b in bs if b["type"] == "section"]
    assert lines[0].startswith(":red_circle:") and "X000001" in lines[0]
    assert lines[1].startswith(":large_orange_circle:") and "3 working days left" in lines[1]
    assert lines[2].startswith(":large_green_circle:") and "pdu-north → pdu-south" in lines[2]


def test_summary_list_pages_at_fifty_blocks() -> None:
    """120 rows give 50 blocks, the last saying how many more there are."""
    rows = [_summary(i, due_on=date(2026, 12, 21)) for i in range(120)]
    bs = blocks.summary_list(rows, today=TODAY, cal=CAL, title="Transfers: team")
    assert len(bs) == 50
    assert bs[-1]["type"] == "context" and bs[-1]["elements"][0]["text"].startswith("+72 more: ")
    assert "`/transfer list overdue`" in bs[-1]["elements"][0]["text"]  # and how to see them
    assert len(blocks.summary_list(rows[:49], today=TODAY, cal=CAL, title="t")) == 50


def test_timeline_blocks_show_london_time_actor_ids_and_escaped_reason() -> None:
    """History lines: UK time, <@id> or Baton, words for the event, states, escaped reason."""
    t = _transfer()
    t.decline(SMGR, datetime(2026, 7, 1, 23, 30, tzinfo=UTC), builtin_pack("probation"),
              rationale=NASTY, reason_category="heightened_risk")
    bs = blocks.timeline_blocks(t)
    text = _text(bs)
    assert "History of X123456" in text
    assert "02 Jul 2026 00:30" in text  # BST
    assert "<@U0SMGR>" in text and "Declined" in text and "Requested → Declined" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def test_mention_shows_baton_for_the_scheduler_and_escapes_non_ids() -> None:
    """"baton" reads as Baton; a user id becomes a mention; anything else is escaped text."""
    assert blocks.mention("baton") == "Baton"
    assert blocks.mention("U0SMGR") == "<@U0SMGR>"
    assert blocks.mention("<!here>") == "&lt;!here&gt;"


def test_timeline_blocks_stay_within_fifty_blocks() -> None:
    """A long history keeps its latest events and says how many earlier ones are hidden."""
    t = _transfer()
    for i in range(80):
        t.record_delay(PP, NOW + timedelta(minutes=i), reason="waiting", actions="chasing")
    bs = blocks.timeline_blocks(t)
    assert len(bs) == 50 and "earlier events not shown" in _text(bs)


def test_help_lists_every_catalogue_action_between_the_readers_own_and_more(org: Org) -> None:
    """Help names every action of the catalogue as a subcommand: the reader's own steps first,
    every other one under /transfer help more with the people who may take it."""
    h = guide.for_reader(org, "U0NPP1")
    text = _text(blocks.help_blocks(h)) + _text(blocks.help_blocks(h, more=True))
    for a in actions.CATALOGUE:
        assert f"/transfer {a.name.replace('_', '-')} CASE" in text, a.name
    more = _text(blocks.help_blocks(h, more=True))
    assert blocks.escape(actions.who_can(actions.action("decide"))) in more


def test_help_names_route_to_a_childrens_services_reader(org: Org) -> None:
    """Whose case is it: /transfer route is among a children's services manager's own commands
    (their policy carries a remit table), and under more for a probation practitioner."""
    rochdale = _text(blocks.help_blocks(guide.for_reader(org, "U0RFMGR")))
    assert "/transfer route [CIRCUMSTANCE] [CASE|YYYY-MM-DD]" in rochdale
    probation = guide.for_reader(org, "U0NPP1")
    assert "/transfer route" not in _text(blocks.help_blocks(probation))
    assert "/transfer route" in _text(blocks.help_blocks(probation, more=True))


def test_help_blocks_list_every_subcommand(org: Org) -> None:
    """Help names new, list, status, history, cover and help to a practitioner; agenda, closed,
    lastteam and export are under more for them."""
    h = guide.for_reader(org, "U0NPP1")
    mine, more = _text(blocks.help_blocks(h)), _text(blocks.help_blocks(h, more=True))
    for sub in ("new", "list [mine|team|overdue]", "status CASE", "history CASE",
                "cover @user until YYYY-MM-DD", "help"):
        assert f"/transfer {sub}" in mine
    assert "Baton's Home tab" in mine and "/transfer home" not in mine  # a tab on Slack, no command
    for sub in ("headsup", "agenda", "lastteam CASE", "closed CASE", "export"):
        assert f"/transfer {sub}" in more and f"/transfer {sub}" not in mine


def _waiting(i: int) -> tuple[TransferSummary, tuple[views.Button, ...]]:
    """A row waiting on the viewer with its Accept and Decline buttons."""
    return (_summary(i, due_on=date(2026, 12, 21)),
            (views.Button("accept", "Accept", i, "primary"), views.Button("decline", "Decline", i, "danger")))


def test_home_view_puts_buttons_on_waiting_rows_only() -> None:
    """Rows waiting on the viewer get their buttons; other inbound and outbound rows do not."""
    view = blocks.home_view(
        waiting=[_waiting(1)],
        holding=[_summary(3, due_on=date(2026, 12, 21))],
        receiving=[_summary(1, due_on=date(2026, 12, 21)), _summary(2, state="accepted")],
        today=TODAY, cal=CAL,
    ).to_dict()
    assert view["type"] == "home"
    text = _text(view["blocks"])
    assert "*Waiting on you (1)*" in text and "*Other inbound (1)*" in text and "*Outbound (1)*" in text
    assert "working days left" in text and ":large_green_circle:" in text
    action_blocks = [b for b in view["blocks"] if b["type"] == "actions"]
    assert [b["block_id"] for b in action_blocks] == [f"{ids.DECISION_ACTIONS}:1:0"]
    assert [el["action_id"] for el in action_blocks[0]["elements"]] == [ids.ACCEPT, ids.DECLINE]
    assert {el["value"] for el in action_blocks[0]["elements"]} == {"1"}


def test_home_view_stays_within_a_hundred_blocks() -> None:
    """Long lists are cut with a "+N more" line so the tab stays valid."""
    many = [_summary(i, due_on=date(2026, 12, 21)) for i in range(200, 400)]
    waiting = [_waiting(i) for i in range(200)]
    view = blocks.home_view(waiting=waiting, holding=many, receiving=[r for r, _ in waiting], today=TODAY,
                            cal=CAL).to_dict()
    text = _text(view["blocks"])
    assert len(view["blocks"]) <= 100
    assert "+188 more" in text  # 12 waiting rows shown
    assert "+190 more" in text  # 10 outbound rows shown


def test_home_view_lists_overdue_transfers_in_their_own_section() -> None:
    """A transfer past its deadline appears under Overdue, red."""
    view = blocks.home_view(waiting=[], holding=[_summary(3, due_on=date(2026, 11, 20))],
                            receiving=[], today=TODAY, cal=CAL).to_dict()
    text = _text(view["blocks"])
    assert "*Overdue (1)*" in text and ":red_circle:" in text


def test_builders_show_case_refs_and_user_ids_not_names(org: Org) -> None:
    """No builder puts a person's name in Slack: messages carry the ref, team ids and user ids."""
    t = _transfer()
    t.accept(SMGR, NOW, builtin_pack("probation"), named_worker="U0SPP1")
    text = _text(_card(t, SMGR)) + _text(blocks.timeline_blocks(t))
    assert "X123456" in text and "<@U0SPP1>" in text and "<@U0SMGR>" in text
    known_names = {team.name for team in org.teams}
    assert not any(name in text for name in known_names)


def test_escape_keeps_plain_channel_mentions_and_channel_links_from_going_live() -> None:
    """User text is escaped for Slack: `<!channel>` and plain `@channel`, `@here`, `#general`
    notify no one (a word joiner follows the sigil); transfer numbers like (#12) are untouched."""
    from handlers.slack.blocks import WORD_JOINER, escape

    out = escape("ping @channel @here #general <!channel> (#12) a@b.org")
    assert "@channel" not in out and "@here" not in out and "#general" not in out
    assert f"@{WORD_JOINER}channel" in out and f"#{WORD_JOINER}general" in out
    assert "&lt;!channel&gt;" in out and "(#12)" in out and "a@b.org" in out


def test_every_free_text_field_shows_its_limit(org: Org) -> None:
    """The raise form's funding note and every catalogue text field say how long they may be,
    matching the limit Slack enforces on the input."""
    view = blocks.raise_modal(builtin_pack("bury"), org, "bury-assessment").to_dict()
    funding = next(b for b in view["blocks"] if b.get("block_id") == ids.FUNDING)
    assert funding["hint"]["text"].endswith(f"Up to {funding['element']['max_length']} characters.")
    for a in actions.CATALOGUE:
        for f in a.fields:
            if f.kind == actions.FieldKind.text:
                block = blocks._input(views.FormInput(f))[0].to_dict()
                assert block["hint"]["text"].endswith(f"Up to {f.max_length} characters.")
                assert len(block["hint"]["text"]) <= 150


def test_long_decline_reasons_and_checklist_lines_are_split_where_a_clause_ends_never_cut() -> None:
    """Slack allows 75 characters an option: probation's "Specific, heightened risk that cannot
    reasonably be managed at the proposed address" reads on into the description, whole, with
    no "…"; so does every long label of every pack."""
    opt = blocks._option("heightened_risk", builtin_pack("probation").decline_reasons[0].label)
    assert opt.to_dict()["text"]["text"] == "Specific, heightened risk that cannot reasonably be managed"
    assert opt.to_dict()["description"]["text"] == "at the proposed address"
    for name in ("probation", "bury", "rochdale", "leicestershire", "council-s2"):
        pack = builtin_pack(name)
        labels = [c.label for c in (*pack.kinds, *pack.flags, *pack.transfer_points,
                                    *pack.decline_reasons)]
        labels += [i.label for cl in pack.checklists for i in cl.items]
        for label in labels:
            d = blocks._option("x", label).to_dict()
            shown = d["text"]["text"] + " " + d.get("description", {}).get("text", "")
            assert "…" not in shown, label
            assert [w.strip("(),:;") for w in shown.split()] == [w.strip("(),:;") for w in label.split()]
