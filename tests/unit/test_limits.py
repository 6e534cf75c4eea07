"""Everything Baton posts fits each platform's published limits at national size (issue 24):
Slack's 50 blocks a message and 100 a modal or home tab, 3,000 characters a section, 100
options a select and 75 characters an option; Teams' message of about 28 KB. Where a list is
cut, it says how many more and how to see them."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from bot import views
from bot.calendar import calendar_for
from bot.ports import TransferSummary
from bot.reports import Summary, TeamLine
from handlers.slack import blocks, teampicker
from handlers.teams import cards, fit
from handlers.teams import search as teams_search
from sandbox.national import national_org

TODAY = date(2026, 11, 23)
CAL = calendar_for("ENG")
ORG = national_org(teams=250, people=15_000)


def _row(i: int, *, overdue: bool = False) -> TransferSummary:
    return TransferSummary(id=i, case_ref=f"X{i:06d}", policy="probation", state="requested",
                           holding_team=ORG.teams[i % 250].id, receiving_team=ORG.teams[(i + 1) % 250].id,
                           kind="permanent", requested_on=TODAY, due_clock="resolution",
                           due_on=TODAY - timedelta(days=3) if overdue else TODAY + timedelta(days=20),
                           closed_at=None)


def _summary(teams: int) -> Summary:
    return Summary(start=TODAY - timedelta(days=6), end=TODAY, opened=9999, resolved=9999, breached=999,
                   awaiting_endorsement=99, open_now=50_000, overdue_now=5000, median_days_to_resolution=14.5,
                   by_team=[TeamLine(team=ORG.teams[i % 250].id, open=200, opened=40, resolved=38,
                                     breached=4, overdue=20) for i in range(teams)])


def _slack_ok(bs: list[dict[str, Any]], max_blocks: int = 50) -> str:
    assert len(bs) <= max_blocks
    for b in bs:
        if b["type"] == "section" and "text" in b:
            assert len(b["text"]["text"]) <= 3000
    return json.dumps(bs)


@pytest.mark.parametrize("teams", [30, 250, 600])
def test_the_weekly_digest_fits_slack_and_teams_and_says_how_many_teams_it_left_out(teams: int) -> None:
    summary = _summary(teams)
    slack = _slack_ok(blocks.weekly_digest(summary))
    card = cards.weekly_card(summary, chart_png=b"\x89PNG" + b"0" * 15_000)
    assert fit.size(card) <= fit.CARD_BUDGET < fit.MESSAGE_MAX
    text = json.dumps(card.model_dump(mode="json", exclude_none=True, by_alias=True))
    if teams == 600:
        assert "+140 more teams not shown" in slack and "/transfer export" in slack
    else:
        assert ORG.teams[teams - 1].id in slack  # every team's line
    if teams == 600:
        assert "more teams not shown" in text and "transfer export" in text
    else:
        assert f'"{ORG.teams[teams - 1].id}"' in text  # every team's line
    assert ("data:image/png" in text) == (teams == 30)  # the chart only where every line fits too


def test_a_teams_digest_of_45_cases_with_their_buttons_fits_and_says_what_it_left_out() -> None:
    steps = [("accept", "Accept"), ("decline", "Decline"), ("request_work", "Ask for work")]
    items = tuple(views.DigestItem(f"X{i:06d}", i, "Decision overdue by 3 working days; decide by "
                                   "27 Nov 2026 or the transfer is escalated to senior management. " * 3,
                                   tuple(views.Button(a, label, i) for a, label in steps)) for i in range(45))
    card = cards.digest_card(views.Digest(items))
    assert fit.fits(card)
    text = json.dumps(card.model_dump(mode="json", exclude_none=True, by_alias=True))
    shown = text.count('"Accept"')
    assert shown == 45 or f"and {45 - shown} more that need your attention" in text


def test_lists_home_and_history_fit_teams_at_national_size() -> None:
    rows = [_row(i, overdue=i % 3 == 0) for i in range(2000)]
    listed = cards.list_card(rows, title="Transfers: team", today=TODAY, org=ORG, cal=CAL)
    assert fit.fits(listed)
    assert "more not shown" in json.dumps(listed.model_dump(mode="json", by_alias=True))
    waiting: list[tuple[TransferSummary, tuple[views.Button, ...]]] = [
        (r, (views.Button("accept", "Accept", r.id), views.Button("decline", "Decline", r.id)))
        for r in rows[:300]]
    home = cards.home_card(waiting=waiting, holding=rows, receiving=rows, today=TODAY, org=ORG, cal=CAL)
    assert fit.fits(home)
    assert "transfer list mine shows them" in json.dumps(home.model_dump(mode="json", by_alias=True))
    events: list[tuple[str, str | views.Person, str]] = [
        ("23 Nov 2026 10:00", views.Person(ORG.teams[0].members[i % 50]), "note: " + "x" * 300)
              for i in range(400)]
    history = cards.history_card("X000001", events, org=ORG)
    assert fit.fits(history)
    assert "earlier events not shown" in json.dumps(history.model_dump(mode="json", by_alias=True))


def test_slack_home_and_lists_stay_inside_their_block_limits_and_say_how_to_see_the_rest() -> None:
    rows = [_row(i, overdue=i % 3 == 0) for i in range(2000)]
    waiting: list[tuple[TransferSummary, tuple[views.Button, ...]]] = [
        (r, (views.Button("accept", "Accept", r.id),)) for r in rows[:300]]
    # each transfer in one section only (bot/home.py): four sets, each far over what a section shows
    home = blocks.home_view(waiting=waiting, holding=rows[300:1000], receiving=rows[1000:1700],
                            escalated=rows[1700:], today=TODAY, cal=CAL, org=ORG).to_dict()
    text = _slack_ok(home["blocks"], max_blocks=100)
    assert "`/transfer list mine` lists them" in text and "`/transfer list team` lists them" in text
    listed = _slack_ok(blocks.summary_list(rows, today=TODAY, cal=CAL, title="Transfers: team", org=ORG))
    assert "+1952 more" in listed and "/transfer export" in listed


def test_the_receiving_team_pickers_stay_inside_slacks_and_teams_option_limits() -> None:
    holding = ORG.teams[0].id
    modal = blocks.raise_modal(ORG.pack_for(holding), ORG, holding).to_dict()  # slack_sdk checks lengths
    assert len(modal["blocks"]) <= 100
    answer = teampicker.suggestions(ORG, holding, "")
    options = [o for g in answer["option_groups"] for o in g["options"]]
    assert len(options) == 100 and all(len(o["text"]["text"]) <= 75 for o in options)
    assert all(len(g["label"]["text"]) <= 75 for g in answer["option_groups"])
    card = cards.raise_card(ORG.pack_for(holding), ORG, holding, token="t")
    assert fit.fits(card)
    # "People who must never see it": thousands could see a transfer at this size, so neither
    # platform lists them (nor silently cuts the list at 100): each offers its own people picker
    excluded = next(b for b in modal["blocks"] if b.get("block_id") == "excluded")
    assert excluded["element"]["type"] == "multi_users_select"
    picker = next(e for e in card.model_dump(mode="json", by_alias=True, exclude_none=True)["body"]
                  if e.get("id") == "excluded")
    assert picker["choices.data"]["dataset"] == "graph.microsoft.com/users" and picker["isMultiSelect"]
    found = teams_search.answer(ORG, ORG.teams[0].members[0], {
        "dataset": teams_search.DATASET + holding, "queryText": "", "queryOptions": {"skip": 240, "top": 15}})
    assert [r["value"] for r in found["value"]["results"]] == [t.id for t in ORG.teams[241:250]]


def test_the_weekly_chart_of_a_national_org_draws_the_20_busiest_teams_and_says_so() -> None:
    from handlers.charts import digest_figure

    summary = _summary(250)
    summary.by_team[137].opened = 500  # the busiest team is charted wherever it is in the list
    fig = digest_figure(summary)
    ax = fig.axes[0]
    assert "the 20 busiest of 250 teams" in ax.get_title()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert len(labels) == 20 and ORG.teams[137].id in labels
