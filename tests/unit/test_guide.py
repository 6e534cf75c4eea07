"""Help for its reader (issue 22): the reader's own pack and role first, the rest behind
"more", the same on Slack and Teams."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot import guide, home, services, views
from bot.org import Org
from bot.ports import TransferSummary
from handlers.slack import blocks
from handlers.teams import cards


def _usages(entries: tuple[guide.Entry, ...]) -> list[str]:
    return [e.usage.split()[0] for e in entries]


def test_a_probation_practitioner_sees_their_own_steps_first_and_no_other_policys(org: Org) -> None:
    """Probation has no capacity route, no sign-off override and no transfer points: a North
    PDU practitioner's help shows none of those steps up front, nor managers' commands."""
    h = guide.for_reader(org, "U0NPP1")
    assert h.reader == ("Probation Practitioner in North PDU, under the "
                        f"{org.pack_for('pdu-north').title} policy")
    yours = _usages(h.yours)
    assert yours[:3] == ["new", "list", "status"]
    for other in ("capacity-concern", "agree-without-sign-off", "attendance", "decide", "agenda", "closed"):
        assert other not in yours
        assert other in _usages(h.more)
    assert {"withdraw", "record-delay", "work-done"} <= set(yours)


def test_a_rochdale_manager_sees_the_capacity_concern_and_attendance(org: Org) -> None:
    """Rochdale's policy has the capacity route and the pick-up point: its managers' own steps."""
    yours = _usages(guide.for_reader(org, "U0RFMGR").yours)
    assert {"capacity-concern", "attendance", "agenda", "closed", "lastteam", "headsup"} <= set(yours)


def test_help_has_no_brackets_inside_brackets(org: Org) -> None:
    """"(... (S2) ...)" reads badly: every help line, for everyone in the org, has at most one
    level of brackets."""
    for e in (e for who in org.everyone() for h in [guide.for_reader(org, who)] for e in (*h.yours, *h.more)):
        depth = 0
        for ch in e.words:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            assert depth <= 1, e.words


def test_teams_help_says_what_slacks_says_with_the_rest_behind_more(org: Org) -> None:
    """Teams lists the same commands as Slack (cover, agenda, lastteam, closed, export, home
    included, in the reader's own or under More), More opening in place."""
    h = guide.for_reader(org, "U0NMGR")
    card = cards.help_card("", h).model_dump(mode="json", exclude_none=True, by_alias=True)
    shown = "\n".join(el["text"] for el in card["body"])
    more = "\n".join(el["text"] for el in card["actions"][0]["card"]["body"])
    assert card["actions"][0]["type"] == "Action.ShowCard" and card["actions"][0]["title"] == "More"
    for e in h.yours:
        assert f"transfer {cards.escape(e.typed('teams'))}" in shown
    for e in h.more:
        assert f"transfer {cards.escape(e.typed('teams'))}" in more
    for sub in ("cover", "agenda", "lastteam", "closed", "export", "home"):
        assert f"transfer {sub}" in shown + more
    slack = json.dumps(blocks.help_blocks(h), ensure_ascii=False)
    assert [f"/transfer {e.usage}" in slack or bool(e.slack_place) for e in h.yours] == [True] * len(h.yours)


def _row(i: int, **kw: object) -> TransferSummary:
    base: dict[str, object] = dict(id=i, case_ref=f"X10000{i}", policy="probation", state="requested",
                                   holding_team="pdu-north", receiving_team="pdu-south", kind="permanent",
                                   requested_on=date(2026, 11, 20), due_clock="decision",
                                   due_on=date(2026, 12, 21), closed_at=None)
    base.update(kw)
    return TransferSummary(**base)  # type: ignore[arg-type]


def test_a_home_whose_inbound_all_waits_on_you_shows_no_empty_inbound(org: Org) -> None:
    """Three inbound transfers waiting on the manager: "Waiting on you (3)", never "Inbound (0)
    Nothing here." under them; Slack's App Home and Teams' home card list the same sections in
    the same order."""
    rows = [_row(i) for i in (1, 2, 3)]
    waiting = [(r, (views.Button("accept", "Accept", r.id, "primary"),)) for r in rows]
    kw: dict[str, Any] = dict(waiting=waiting, holding=[_row(4, holding_team="pdu-south",
                                                              receiving_team="pdu-north")],
                              receiving=rows, today=date(2026, 11, 23))
    slack = json.dumps(blocks.home_view(**kw, cal=services.calendar(org), org=org).to_dict())
    teams = json.dumps(cards.home_card(**kw, org=org, cal=services.calendar(org)).model_dump(
        mode="json", exclude_none=True, by_alias=True))
    for text in (slack, teams):
        assert "Waiting on you (3)" in text and "Outbound (1)" in text
        assert "(0)" not in text and "Nothing here" not in text and "Inbound" not in text
    titles = [s.title for s in home.sections(**kw)]
    assert titles == ["Waiting on you (3)", "Outbound (1)"]
    assert [slack.index(t) for t in titles] == sorted(slack.index(t) for t in titles)
    assert [teams.index(t) for t in titles] == sorted(teams.index(t) for t in titles)
