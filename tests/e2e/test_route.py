"""Whose case is it, asked as people ask it: `/transfer route` on Slack and `transfer route` in
the Teams chat answer without raising anything; the Slack raise form's circumstance asks why
on its own field when the raise goes against the policy's table (issue 21)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import sqlalchemy as sa

from bot import services
from bot.org import Org
from handlers.slack import ids
from sandbox.teams.driver import TeamsDriver
from sandbox.teams.standin import card_of, card_text
from store.repo import SqlUnitOfWork
from tests.conftest import NOW
from tests.e2e.slack import SlackDriver, checks, select, text_input, wait

UoW = Callable[[], SqlUnitOfWork]
MASH = "U0SMMGR"
SIGNED_OFF = checks("pm_sign_off:checks_and_paperwork", "pm_sign_off:work_before_transfer",
                    "pm_sign_off:pm_signed_off")


def _transfers(engine: sa.Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.text("SELECT count(*) FROM transfer")).scalar_one())


def test_slack_route_names_the_service_and_point_privately_and_raises_nothing(
        slack: SlackDriver, engine: sa.Engine) -> None:
    """BURY: "If a child is made subject to ... they will transfer to Safeguarding teams at the
    Initial Child Protection Core Group": the answer is ephemeral and nothing is saved."""
    slack.command("U0BAMGR", "route cp_started_in_aa")
    wait(slack.api, lambda: slack.api.responses)
    said = slack.api.responses[-1]
    assert "Safeguarding" in said.payload["text"]
    assert "Initial Child Protection Core Group" in said.payload["text"]
    assert said.effect == "ephemeral" and _transfers(engine) == 0
    slack.command("U0BAMGR", "route")
    wait(slack.api, lambda: len(slack.api.responses) > 1)
    assert "rereferral: Re-referral of a closed case" in slack.api.responses[-1].payload["text"]


def test_slack_raise_against_the_table_asks_why_on_its_field_then_records_it(
        slack: SlackDriver, uow: UoW) -> None:
    """S2: "'adolescent on edge of care' (child is over 11yrs). AFRS At point of referral": MASH
    raising it to Family Safeguarding and Protection is asked why on the reason's field; with the
    reason the request goes and the timeline keeps it."""
    slack.command(MASH, "new")
    wait(slack.api, lambda: slack.api.modal_stack(MASH))
    form = {ids.CASE_REF: text_input("200077"), ids.RECEIVING_TEAM: select("s2-fsp"),
            ids.KIND: select("permanent"), ids.CHECKLIST: SIGNED_OFF, "circumstance": select("edge_of_care")}
    status, answer = slack.submit(MASH, form)
    assert status == 200 and answer.get("response_action") == "errors"
    assert "the policy names AFRS" in answer["errors"]["route_reason"]
    status, answer = slack.submit(MASH, {**form, "route_reason": text_input(
        "AFRS agreed FSP leads: the older sibling is on a CP plan with FSP")})
    assert status == 200 and "errors" not in answer
    with uow() as u:
        t = u.transfers.get_open_by_case("200077")
    assert t is not None
    ev = t.last_event("route_departed")
    assert ev is not None and ev.reason and "older sibling" in ev.reason


def test_teams_route_answers_in_the_chat(teams: TeamsDriver, engine: sa.Engine) -> None:
    """S2: "Arranges an ICPC - child is subject of a CPP. FSP ICPC", typed in the 1:1 chat."""
    teams.install(MASH)
    card = card_of(teams.ask(MASH, "transfer route icpc_cp_plan"))
    assert card is not None
    said = card_text(card)
    assert "Family Safeguarding and Protection" in said and "Initial Child Protection Conference" in said
    assert "`" not in said and _transfers(engine) == 0
    help_text = card_text(card_of(teams.ask(MASH, "transfer help")) or {})
    assert "transfer route" in help_text


def test_lastteam_and_route_answer_leicestershires_3_year_windows_in_both_chats(
        slack: SlackDriver, teams: TeamsDriver, uow: UoW, org: Org) -> None:
    """LEICS: "Section 7/Section 37/Tribunal Reports (including 85/86) directed by the Courts where
    child is known to Locality/DCS in the previous 3 years. Locality Fieldwork/DCS - Last allocated
    team": a case closed five months ago is past the 3 months, and the front door's lastteam
    still names its last team with the 3-year windows; route court_report_known with the case
    answers the same; on Teams the same words, typed without a slash."""
    with uow() as u:
        services.record_closure(u, org, "U0LCMGR", "300003", NOW, on=date(2026, 6, 20))
    slack.command("U0LFSW1", "lastteam 300003")
    wait(slack.api, lambda: slack.api.responses)
    said = slack.api.responses[-1].payload["text"]
    assert "Children in Care Service" in said and "within 3 years of closing (to 20 Jun 2029" in said
    assert "`/transfer route repeat_pregnancy CASE YYYY-MM-DD`" in said
    slack.command("U0LFSW1", "route court_report_known 300003")
    wait(slack.api, lambda: len(slack.api.responses) > 1)
    assert "within 3 years (to 20 Jun 2029 inclusive)" in slack.api.responses[-1].payload["text"]
    teams.install("U0LFSW1")
    card = card_text(card_of(teams.ask("U0LFSW1", "transfer lastteam 300003")) or {}).replace("\\", "")
    assert "within 3 years of closing" in card and "transfer route repeat_pregnancy" in card
