"""Case records where people look (issue 21): a case's open record duties in `/transfer list`,
on App Home and the Teams home card (the same section on both), in the reminder digests worded
as records, and to nobody outside the case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

import sqlalchemy as sa
from slack_sdk import WebClient

from bot import services, views
from bot.domain import UK_TIME
from bot.org import Org
from bot.usecases.raising import RaiseRequest
from sandbox.slack_api import SlackStandIn
from sandbox.teams.driver import TeamsDriver
from sandbox.teams.standin import card_of, card_text
from scheduler.sweep import tick
from store.repo import SqlUnitOfWork
from tests.e2e.conftest import texts
from tests.e2e.slack import TOKEN, SlackDriver, slack_delivery, wait

UoW = Callable[[], SqlUnitOfWork]
FRCD_SW, FRCD_MGR, CIC_SW, CIC_MGR, BURY_MGR = "U0LFSW1", "U0LFMGR", "U0LCSW1", "U0LCMGR", "U0BAMGR"
IVA = "record 123456 viability_referral 2026-11-23 09:30"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A UK time."""
    return datetime.combine(day, time(hour, minute), tzinfo=UK_TIME)


def _said(slack: SlackDriver, user: str, words: str) -> str:
    before = len(slack.api.responses)
    slack.command(user, words)
    wait(slack.api, lambda: len(slack.api.responses) > before)
    said = slack.api.responses[-1]
    return str(said.payload["text"]) + texts(said.payload.get("blocks"))


def _home(slack: SlackDriver, user: str, event: str) -> str:
    before = len(slack.api.calls_to("views.publish"))
    slack.event({"type": "app_home_opened", "user": user, "tab": "home"}, event)
    wait(slack.api, lambda: len(slack.api.calls_to("views.publish")) > before)
    view = slack.api.home_view(user)
    assert view is not None
    return texts(view.blocks)


def test_slack_list_and_app_home_show_a_case_records_duty_to_its_team_only(slack: SlackDriver) -> None:
    """LEICS: "In the case of urgent placement IVA's these need to be completed within 48 hours":
    the recorded referral's duty is in the recorder's and their manager's `/transfer list` and
    App Home with its due time; another team (the same council's CiC, or Bury) sees nothing."""
    _said(slack, FRCD_SW, IVA)
    mine = _said(slack, FRCD_SW, "list mine")
    assert "Case record duties (1)" in mine and "123456" in mine
    assert "case record Urgent" in mine
    assert "by 09:30 Wed 25 Nov 2026" in mine
    assert "123456" in _said(slack, FRCD_MGR, "list team")
    assert "123456" in _said(slack, FRCD_MGR, "list mine")  # the managers owe it too
    assert "123456" not in _said(slack, FRCD_MGR, "list overdue")
    for other in (CIC_SW, CIC_MGR, BURY_MGR):
        for scope in ("mine", "team", "overdue"):
            assert "123456" not in _said(slack, other, f"list {scope}")
    home = _home(slack, FRCD_MGR, "EvR1")
    assert "Case record duties (1)" in home and "123456" in home and "09:30 Wed 25 Nov 2026" in home
    assert "Case record duties" not in _home(slack, CIC_MGR, "EvR2")


def test_teams_home_card_and_list_show_the_same_record_section(teams: TeamsDriver) -> None:
    """LEICS: "these need to be completed within 48 hours": typed in the Teams chat, the duty is
    on the home card under the App Home's section title, and in `transfer list`; not to CiC."""
    for person in (FRCD_SW, CIC_MGR):
        teams.install(person)
    teams.ask(FRCD_SW, "transfer " + IVA)
    home = card_text(card_of(teams.ask(FRCD_SW, "transfer home")) or {})
    assert "Case record duties (1)" in home and "123456" in home and "09:30 Wed 25 Nov 2026" in home
    listed = card_text(card_of(teams.ask(FRCD_SW, "transfer list team")) or {})
    assert "Case record duties (1)" in listed and "123456" in listed
    assert "Case record duties" not in card_text(card_of(teams.ask(CIC_MGR, "transfer home")) or {})
    assert "123456" not in card_text(card_of(teams.ask(CIC_MGR, "transfer list team")) or {})


def test_someone_excluded_from_the_cases_transfer_never_sees_its_record(uow: UoW, org: Org) -> None:
    """Need-to-know as transfers: once the case's open transfer excludes the recorder, its
    record's duty leaves their list and home; the manager on it still sees it."""
    now = at(date(2026, 11, 23), 10)
    with uow() as u:
        services.record_case(u, org, FRCD_SW, ["123456", "viability_referral", "2026-11-23", "09:30"], now)
    with uow() as u:
        assert [d.case_ref for d in services.record_duties(u, org, FRCD_SW, "team", now)] == ["123456"]
    with uow() as u:
        services.raise_transfer(u, org, FRCD_MGR, RaiseRequest(
            case_ref="123456", receiving_team="leics-cic", excluded=(FRCD_SW,)), now)
    with uow() as u:
        assert services.record_duties(u, org, FRCD_SW, "team", now) == []
        assert services.home(u, org, FRCD_SW, now).records == []
        assert [d.case_ref for d in services.record_duties(u, org, FRCD_MGR, "mine", now)] == ["123456"]


def test_a_missed_record_duty_is_listed_as_overdue(uow: UoW, org: Org) -> None:
    """LEICS: "within 48 hours": past its due time the duty is in `/transfer list overdue`."""
    now = at(date(2026, 11, 23), 10)
    with uow() as u:
        services.record_case(u, org, FRCD_SW, ["123456", "viability_referral", "2026-11-23", "09:30"], now)
    later = at(date(2026, 11, 25), 10)
    with uow() as u:
        late = services.record_duties(u, org, FRCD_SW, "overdue", later)
    assert [d.overdue for d in late] == [True] and "overdue by" in late[0].text


def test_slack_reminder_digest_of_two_records_says_case_record_duties(
        slack: SlackDriver, api: SlackStandIn, engine: sa.Engine, org: Org) -> None:
    """LEICS: "these need to be completed within 48 hours": two referrals' reminders reach the
    recorder as one digest headed "2 case record duties need attention", each line naming the
    record, never "2 transfers need attention"."""
    _said(slack, FRCD_SW, IVA)
    _said(slack, FRCD_SW, "record 654321 viability_referral 2026-11-23 09:30")
    client = WebClient(token=TOKEN, base_url=api.api_url)
    tick(engine, org, slack_delivery(engine, org, client), at(date(2026, 11, 25), 2))
    night = wait(api, lambda: api.messages(FRCD_SW))
    said = texts(night[-1].blocks)
    assert "2 case record duties need attention" in said and "transfers need" not in said
    assert said.count("case record Urgent") == 2


def test_digest_title_counts_transfers_and_record_duties_apart() -> None:
    """A digest says what needs attention: transfers, case record duties, or both."""
    t = views.DigestItem("X1", 1, "Reminder")
    r = views.DigestItem("123456", 0, "Reminder: case record ...", record=True)
    assert views.Digest((t, t)).title == "2 transfers need attention"
    assert views.Digest((r,)).title == "1 case record duty needs attention"
    assert views.Digest((t, r, r)).title == "1 transfer and 2 case record duties need attention"


def test_teams_digest_card_heads_record_duties_as_records() -> None:
    """The Teams digest says what needs attention as Slack's does: case record duties, not transfers."""
    from handlers.teams import cards

    def head(*items: views.DigestItem) -> str:
        return card_text(cards.attachment(cards.digest_card(views.Digest(items)))["content"])

    r = views.DigestItem("123456", 0, "Reminder: case record ...", record=True)
    t = views.DigestItem("X1", 1, "Reminder")
    assert "Case record duties that need your attention" in head(r, r)
    assert "Transfers and case record duties" in head(t, r)
    assert "Transfers that need your attention" in head(t, t)
