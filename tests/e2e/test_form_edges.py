"""Form edges found by the combination walk (tests/e2e/test_form_combinations.py), each kept as a
plain test on Slack and on Teams, the form filled by its labels: a transfer point chosen with its
date left empty raises the transfer; a day no calendar has, or one Baton cannot count to, is
refused under its own field and changes nothing; a typed step on a case Baton does not know is
answered in words."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa

from bot import actions, services
from bot.org import Org
from bot.ports import UnitOfWork
from handlers.common import APOLOGY
from sandbox.teams.standin import card_of, card_text
from tests.e2e.forms import CHOICE, DATE, MULTI, Field, SlackForms, TeamsForms, snapshot
from tests.e2e.slack import SlackDriver, wait
from tests.e2e.test_catalogue import CASES
from tests.e2e.test_form_combinations import _prepare, fresh_ref

UoW = Callable[[], UnitOfWork]
POINT_PACKS = [("roch-frt-1", "U0RFMGR", False), ("roch-frt-1", "U0RFSW1", True),
               ("leics-frcd", "U0LFMGR", False), ("bury-assessment", "U0BAMGR", False),
               ("s2-mash", "U0SMMGR", False)]


def _forms(platform: str, request: pytest.FixtureRequest) -> tuple[Any, Org]:
    if platform == "slack":
        return SlackForms(request.getfixturevalue("slack")), request.getfixturevalue("org")
    org = request.getfixturevalue("teams_demo_org")
    return TeamsForms(request.getfixturevalue("teams"), org), org


def required(fields: list[Field], ref: str) -> dict[str, Any]:
    """What a person must fill in: the case reference, the first option of each required
    choice, every item of a required checklist (and of the sign-off checklist)."""
    out: dict[str, Any] = {}
    for f in fields:
        if f.label == "Case reference":
            out[f.label] = ref
        elif f.required and f.kind == CHOICE:
            out[f.label] = next(iter(f.options))
        elif f.kind == MULTI and (f.required or "signed off" in f.label):
            out[f.label] = list(f.options)
    return out


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_a_transfer_point_chosen_with_its_date_left_empty_raises_the_transfer(
        platform: str, request: pytest.FixtureRequest, uow: UoW) -> None:
    """Rochdale, Leicestershire, Bury, S2 (raise) and Rochdale (heads up): the date of the
    transfer point is optional on the form; left empty beside a chosen point, the transfer is
    raised (or the heads up given) with the point and no date; no apology."""
    forms, org = _forms(platform, request)
    for team, person, heads_up in POINT_PACKS:
        if platform == "teams":
            forms.teams.install(person)
        fields = forms.open_raise(person, heads_up)
        point = next(f for f in fields if f.label == "Transfer point")
        assert not point.required
        assert not next(f for f in fields if f.label == "Date of the transfer point").required
        ref = fresh_ref(org, team)
        answer = forms.submit(person, {**required(fields, ref), "Transfer point": next(iter(point.options))})
        assert not answer.apologised and not answer.errors, (team, heads_up, answer.said[:500])
        with uow() as u:
            t = services.load(u, case_ref=ref)
        assert t.transfer_point and t.transfer_point_date is None
        assert t.state == ("heads_up" if heads_up else "requested")


BAD_DAYS = {"9999-12-31": "check the year", "0001-01-01": "check the year", "2026-02-30": "not a date"}


def _raise_dates(forms: Any, org: Org, platform: str) -> list[tuple[str, str, str]]:
    """(team, its manager, a date's label) for each date of three packs' raise forms."""
    out = []
    for team in ("pdu-north", "roch-frt-1", "bury-assessment"):
        person = org.team(team).managers[0]
        if platform == "teams":
            forms.teams.install(person)
        out += [(team, person, f.label) for f in forms.open_raise(person, False) if f.kind == DATE]
    return out


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_a_day_out_of_range_on_the_raise_form_is_refused_on_its_own_field(
        platform: str, request: pytest.FixtureRequest, engine: sa.Engine) -> None:
    """Year 9999, year 1, 30 February in any date of the raise form (probation's move and order
    dates, Rochdale's transfer point, Bury's accommodation date): the error is under that date
    (never the apology, never under another field) and nothing is saved."""
    forms, org = _forms(platform, request)
    for team, person, label in _raise_dates(forms, org, platform):
        for day, says in BAD_DAYS.items():
            fields = forms.open_raise(person, False)
            sent = {**required(fields, fresh_ref(org, team)), label: day}
            if label == "Date of the transfer point":
                point = next(f for f in fields if f.label == "Transfer point")
                sent["Transfer point"] = next(iter(point.options))
            before = snapshot(engine)
            answer = forms.submit(person, sent)
            assert not answer.apologised, answer.said[:400]
            assert list(answer.errors) == [label], (team, label, day, answer.errors)
            assert says in answer.errors[label], (team, label, day, answer.errors)
            assert snapshot(engine) == before


DATED = [n for n, a in actions.BY_NAME.items() if any(f.kind == actions.FieldKind.date for f in a.fields)]


def _action_dates(forms: Any, org: Org, platform: str, uow: UoW) -> list[tuple[str, str, Any, int]]:
    """(action, a date's label, its case, a transfer where it applies) for each dated form."""
    out = []
    for name in DATED:
        c = CASES[name]
        if platform == "teams":
            forms.teams.install(c.allowed)
        tid = _prepare(uow, org, c)
        out += [(name, f.label, c, tid) for f in forms.open_action(c.allowed, name, tid) if f.kind == DATE]
    return out


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_a_day_out_of_range_on_an_action_form_is_refused_on_its_own_field(
        platform: str, request: pytest.FixtureRequest, engine: sa.Engine, uow: UoW) -> None:
    """The same for each date of an action's form (accept's agreed date, the work's due date,
    the endorsed expected-by date)."""
    forms, org = _forms(platform, request)
    assert {"accept", "request_work", "endorse"} <= set(DATED)
    for name, label, c, tid in _action_dates(forms, org, platform, uow):
        for day, says in BAD_DAYS.items():
            fields = forms.open_action(c.allowed, name, tid)
            typed = {k: v.get("value") for k, v in c.values.items() if v.get("type") == "plain_text_input"}
            sent = {**{f.label: typed[f.key] for f in fields if f.key in typed}, label: day}
            sent.update({f.label: next(iter(f.options)) for f in fields if f.required and f.kind == CHOICE
                         and f.label not in sent})
            before = snapshot(engine)
            answer = forms.submit(c.allowed, sent)
            assert not answer.apologised, answer.said[:400]
            assert label in answer.errors and says in answer.errors[label], (name, label, day, answer.errors)
            assert snapshot(engine) == before


def _answers_since(slack: SlackDriver, n: int) -> list[Any]:
    return list(slack.api.responses[n:])


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_a_step_typed_on_a_case_baton_does_not_know_is_answered_in_words(
        platform: str, request: pytest.FixtureRequest) -> None:
    """`/transfer decline X999999` (``transfer decline X999999`` on Teams), for every action:
    Baton says it knows no such transfer; never the apology."""
    slack: SlackDriver | None = request.getfixturevalue("slack") if platform == "slack" else None
    for word in [a.name.replace("_", "-") for a in actions.CATALOGUE]:
        if slack is not None:
            before = len(slack.api.responses)
            slack.command("U0SMGR", f"{word} X999999")
            said = str(wait(slack.api, partial(_answers_since, slack, before))[0].payload)
        else:
            teams = request.getfixturevalue("teams")
            teams.install("U0SMGR") if word == "request" else None
            said = card_text(card_of(teams.ask("U0SMGR", f"transfer {word} X999999")))
        assert APOLOGY not in said and "X999999" in said, (word, said)

