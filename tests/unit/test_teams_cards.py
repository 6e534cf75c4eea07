"""Adaptive Cards from the core's views: Action.Execute buttons for the viewer's actions, a
refresh for whoever looks, forms with each error under its field, people's text escaped."""

from __future__ import annotations

import json
from typing import Any

from bot import views
from bot.actions import FieldKind, FormField
from bot.org import load_org
from handlers.teams import cards


def _dump(card: Any) -> dict[str, Any]:
    out: dict[str, Any] = cards.attachment(card)["content"]
    return out


def test_a_transfer_card_offers_the_viewers_actions_as_action_execute_with_a_refresh() -> None:
    card = views.Card(transfer_id=7, case_ref="X123456", title="Case transfer: X123456", headline=("New",),
                      fields=(("From", views.rich("North PDU")),), status=views.rich("Awaiting"),
                      buttons=(views.Button("accept", "Accept", 7, "primary"),
                               views.Button("decline", "Decline", 7, "danger")), fallback="X123456")
    out = _dump(cards.transfer_card(card, refresh_users=["29:1abc"]))
    assert out["version"] == "1.5"
    assert [(a["verb"], a["data"], a.get("style")) for a in out["actions"]] == [
        ("open:accept", {"transfer_id": 7}, "positive"), ("open:decline", {"transfer_id": 7}, "destructive")]
    refresh = {"type": "Action.Execute", "verb": "refresh", "data": {"transfer_id": 7}}
    assert out["refresh"] == {"action": refresh, "userIds": ["29:1abc"]}


def test_the_card_shows_the_deadlines_colour_marker_in_teams_colours_with_its_words() -> None:
    """Issue 22: Teams at parity with Slack, the red/amber/green marker says where the transfer
    stands at a glance (Teams' Attention, Warning and Good colours), beside the words that say
    it for a screen reader."""
    for rag, colour in (("red", "Attention"), ("amber", "Warning"), ("green", "Good")):
        due = views.rich("Transfer to be completed by Mon 21 Dec 2026")
        card = views.Card(transfer_id=7, case_ref="X123456", title="Case transfer: X123456", headline=(),
                          fields=(("Next deadline", due),),
                          status=views.rich("Awaiting"), buttons=(), fallback="X123456", rag=rag)
        body = _dump(cards.transfer_card(card))["body"]
        marker = next(b for b in body if b.get("color"))
        words = cards.RAG_WORDS[rag]
        assert (marker["text"], marker["color"]) == (f"\u25cf {words}", colour)
        facts = next(b for b in body if b["type"] == "FactSet")["facts"]
        assert facts[0]["value"] == f"{words}: Transfer to be completed by Mon 21 Dec 2026"


def test_a_form_shows_each_error_under_its_field_and_keeps_what_was_typed() -> None:
    form = views.Form(action="decline", transfer_id=7, case_ref="X123456", title="Decline", submit="Decline",
                      intro=(views.rich("Case X123456."),),
                      inputs=(views.FormInput(FormField("rationale", "Rationale", FieldKind.text,
                                                        multiline=True)),))
    out = _dump(cards.form_card(form, token="t", errors={"rationale": "Give the rationale."},
                                values={"rationale": "too *short*"}))
    body = out["body"]
    i = next(n for n, b in enumerate(body) if b.get("id") == "rationale")
    assert body[i]["value"] == "too *short*" and body[i]["errorMessage"] == "Give the rationale."
    assert body[i + 1] == {"type": "TextBlock", "id": "rationale__error", "text": "Give the rationale.",
                           "size": "Small", "color": "Attention", "wrap": True}
    assert out["actions"][0]["data"] == {"transfer_id": 7, "token": "t"}


def test_peoples_text_is_escaped_and_people_are_shown_by_role_and_team_never_an_email() -> None:
    """Teams shows a person by the display name the org file gives, else by role and team: never
    "Accepted by @u0smgr@demo..." (an e-mail after an @) nor an id."""
    org = load_org()
    assert cards.escape("*bold* [link](x) _u_") == r"\*bold\* \[link\](x) \_u\_"
    said = cards.rich(views.rich("by ", views.Person("U0SMGR")), org)
    assert said == "by South PDU's Senior Probation Officer"
    named = org.model_copy(update={"people": tuple(
        p.model_copy(update={"name": "Sam Okafor"}) if p.id == "U0SMGR" else p for p in org.people)})
    named._index = None
    assert cards.rich(views.rich("by ", views.Person("U0SMGR")), named) == "by Sam Okafor"


def test_people_on_a_card_are_mentioned_by_their_entra_id() -> None:
    org = load_org()
    card = views.Card(transfer_id=7, case_ref="X123456", title="Case transfer: X123456", headline=(),
                      fields=(("Named worker", views.rich(views.Person("U0SPP1"))),),
                      status=views.rich("Accepted by ", views.Person("U0SMGR")), buttons=(), fallback="X")
    out = _dump(cards.transfer_card(card, org))
    tags = [(e["text"], e["mentioned"]["id"]) for e in out["msteams"]["entities"]]
    assert tags == [("<at>South PDU's Probation Practitioner</at>", org.person("U0SPP1").entra_id),
                    ("<at>South PDU's Senior Probation Officer</at>", org.person("U0SMGR").entra_id)]
    assert out["body"][-1]["text"] == "Accepted by <at>South PDU's Senior Probation Officer</at>"
    assert "@demo" not in json.dumps(out)


def test_a_digest_card_has_one_container_per_case_with_its_buttons() -> None:
    delay = views.Button("record_delay", "Record delay", 1)
    d = views.Digest((views.DigestItem("X1", 1, "Overdue", (delay,)), views.DigestItem("X2", 2, "Due soon")),
                     page=1, pages=2)
    out = _dump(cards.digest_card(d))
    assert "(1 of 2)" in out["body"][0]["text"]
    assert out["body"][1]["items"][1]["actions"][0]["verb"] == "open:record_delay"
    assert len(out["body"][2]["items"]) == 1


def test_every_drop_down_of_the_raise_form_says_what_to_choose_rather_than_showing_a_blank_box() -> None:
    """Issue 22's walk: on the Teams page the raise form's receiving team, kind and transfer point
    were blank boxes; each compact choice now has a placeholder ("Choose a team", "Choose one")."""
    org = load_org()
    card = _dump(cards.raise_card(org.pack_for("leics-frcd"), org, "leics-frcd", token="t"))
    compact = [b for b in card["body"] if b.get("type") == "Input.ChoiceSet" and b.get("style") == "compact"
               and not b.get("isMultiSelect")]
    assert compact and all(b.get("placeholder") for b in compact), compact


def test_the_home_card_rows_carry_app_homes_coloured_marker_before_the_case() -> None:
    """Issue 22: App Home and the Teams home card say the same things in the same order; each
    row of both starts with the deadline's red / amber / green marker, then the case in bold."""
    from datetime import date

    from bot.calendar import calendar_for
    from bot.ports import TransferSummary

    org = load_org()
    cal = calendar_for(org.region, org.closure_items())
    today = date(2026, 12, 18)
    rows = [TransferSummary(id=i, case_ref=ref, policy="probation", state="requested",
                            holding_team="pdu-north", receiving_team="pdu-south", kind="permanent",
                            requested_on=date(2026, 11, 23), due_clock="completion", due_on=due,
                            closed_at=None)
            for i, (ref, due) in enumerate((("X1", date(2026, 12, 17)), ("X2", date(2026, 12, 21)),
                                            ("X3", date(2027, 2, 1))), start=1)]
    card = _dump(cards.home_card(waiting=[], holding=rows, receiving=[], today=today, org=org, cal=cal))
    marked = [b["inlines"] for b in json.loads(json.dumps(card))["body"] if b["type"] == "RichTextBlock"]
    seen = {r[1]["text"]: (r[0]["text"], r[0]["color"], r[1]["text"], r[1]["weight"]) for r in marked}
    assert [seen[ref] for ref in ("X1", "X2", "X3")] == [
        ("\u25cf ", "Attention", "X1", "Bolder"), ("\u25cf ", "Warning", "X2", "Bolder"),
        ("\u25cf ", "Good", "X3", "Bolder")]
