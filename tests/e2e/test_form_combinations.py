"""Forms by combination: every form (raise, heads up, each catalogue action) of every pack, on
Slack and on Teams, filled as a person fills it (found by its labels in the rendered form) with
each mix of optional fields present and absent and edge values (empty, whitespace only, very
long text, control characters, dates in the past, far future, on weekends and bank holidays, a
date that is no date, an option no form offers, people outside the transfer). Whatever is sent,
the answer is an error under a field of the form, or the step saved: never Baton's apology, never
a 500, and an error changes nothing in the database.

Hypothesis draws the combinations with a fixed seed (``derandomize``) and a bounded number of
examples per form, so the run is the same every time and stays fast."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from bot import actions, services
from bot.org import Org
from bot.ports import UnitOfWork
from tests.conftest import NOW
from tests.e2e.forms import (
    CHOICE,
    DATE,
    MULTI,
    PEOPLE,
    PERSON,
    TEXT,
    UNKNOWN,
    Answer,
    Field,
    SlackForms,
    TeamsForms,
    snapshot,
)
from tests.e2e.test_catalogue import CASES, Case

UoW = Callable[[], UnitOfWork]
# Per form and platform; the fixed seed makes them the same every run. FORMS_EXAMPLES=500 for a long run.
EXAMPLES = int(os.environ.get("FORMS_EXAMPLES") or 10)
ACTION_EXAMPLES = max(1, EXAMPLES * 6 // 10)  # an action's form has fewer fields than the raise form
SURVEY = os.environ.get("FORMS_SURVEY")  # a file: a long run writes each failure there and goes on

# Dates a person could pick (NOW is Monday 23 November 2026): the past, today, a weekend, bank
# holidays (Christmas; Boxing Day's substitute Monday 28 December 2026), an ordinary working day,
# the far future; and what is no date at all.
DATES = ("2020-01-06", "2026-11-20", "2026-11-23", "2026-11-28", "2026-12-25", "2026-12-28",
         "2026-12-02", "2027-03-01", "2999-12-31", "9999-12-31", "0001-01-01", "2026-02-30", "not a date")
GOOD_TEXT = "the case needs a review of the risk plan before the move; agreed on the call"
TEXTS = ("", "   ", " \n\t ", "ab", GOOD_TEXT, f"  {GOOD_TEXT}  ", "x" * 3001, "y " * 6000,
         "tab\tand\x00nul\x07bell " + GOOD_TEXT, "X999999 123456 LCS1", "\u200b" * 40, "é" * 25)
_refs = itertools.count(410000)


def fresh_ref(org: Org, team: str) -> str:
    """A case reference no transfer has yet, in the pack's format."""
    n = next(_refs)
    return f"X{n:06d}" if org.pack_for(team).name == "probation" else str(n)


def edge(f: Field, people: list[str], ref: str) -> st.SearchStrategy[Any]:
    """What a person may put in ``f`` at the edges: nothing, whitespace, too much, a day no
    calendar has, an option no form offers, someone outside the transfer."""
    absent = st.none()
    if f.kind == TEXT:
        if f.label == "Case reference":
            return st.sampled_from([ref, "", "   ", ref.lower(), f" {ref} ", ref + "0" * 40, "JohnSmith",
                                    "X999999", "\uff11\uff12\uff13\uff14\uff15\uff16",
                                    ref[:-1] + "\u200b" + ref[-1:]])
        return st.one_of(absent, st.sampled_from(TEXTS))
    if f.kind == DATE:
        return st.one_of(absent, st.sampled_from(DATES))
    if f.kind == CHOICE:
        offered = [st.sampled_from(sorted(f.options))] if f.options else []
        return st.one_of(absent, st.just(UNKNOWN), *offered)
    if f.kind == MULTI:
        return st.lists(st.sampled_from(sorted(f.options)), unique=True) if f.options else st.just([])
    if f.kind == PERSON:
        return st.one_of(absent, st.sampled_from([*people, "U0NOBODY"]))
    if f.kind == PEOPLE:
        return st.lists(st.sampled_from([*people, "U0NOBODY"]), unique=True, max_size=3)
    raise AssertionError(f.kind)


def sensible(f: Field, people: list[str], ref: str) -> st.SearchStrategy[Any]:
    """What a person filling ``f`` in with care puts there."""
    if f.kind == TEXT:
        if f.label == "Case reference":
            return st.just(ref)
        return st.just(ref) if "case references" in f.label.lower() else st.just(GOOD_TEXT)
    if f.kind == DATE:  # a working day just gone (dates of orders, moves) or a week ahead
        return st.sampled_from(["2026-11-20", "2026-12-02"])
    if f.kind == CHOICE:
        return st.sampled_from(sorted(f.options)) if f.options else st.none()
    if f.kind == MULTI:
        every = sorted(f.options)
        if not every:
            return st.just([])
        return st.one_of(st.just(every), st.lists(st.sampled_from(every), unique=True))
    if f.kind == PERSON:
        return st.sampled_from(people)
    if f.kind == PEOPLE:
        return st.just([])
    raise AssertionError(f.kind)


def plain(fields: list[Field], people: list[str], ref: str) -> dict[str, Any]:
    """The plainest careful fill: each required field's first sensible value, a reason where a
    field asks why, the rest empty."""
    out: dict[str, Any] = {}
    for f in fields:
        if not f.required:
            if f.kind == TEXT and "why" in f.label.lower():
                out[f.label] = GOOD_TEXT
            continue
        if f.kind == TEXT:
            out[f.label] = ref if f.label == "Case reference" or "case references" in f.label.lower() \
                else GOOD_TEXT
        elif f.kind == DATE:
            out[f.label] = "2026-11-20"
        elif f.kind == CHOICE:
            out[f.label] = sorted(f.options)[0] if f.options else None
        elif f.kind == MULTI:
            out[f.label] = sorted(f.options)
        elif f.kind == PERSON:
            out[f.label] = people[0]
        else:
            out[f.label] = []
    return out


def drawn(data: st.DataObject, fields: list[Field], people: list[str], ref: str) -> dict[str, Any]:
    """Every field's value: filled with care (optional fields present or absent) or at the edges."""
    careful = data.draw(st.booleans(), label="filled with care")
    out = {}
    for f in fields:
        good = sensible(f, people, ref)
        way = (good if f.required else st.one_of(st.none(), good)) if careful else edge(f, people, ref)
        out[f.label] = data.draw(way, label=f.label)
    return out


def check(answer: Answer, before: Any, after: Any, fields: list[Field], sent: dict[str, Any]) -> str:
    """An error under a field of this form, changing nothing; or the step saved. Never an apology."""
    if SURVEY:  # a long run: every failure written down, none stops it
        try:
            _check(answer, before, after, fields, sent)
        except AssertionError as exc:
            with open(SURVEY, "a", encoding="utf-8") as fh:
                fh.write(str(exc).split("\n")[0][:1500] + "\n")
            return "failed"
    else:
        _check(answer, before, after, fields, sent)
    return "refused" if answer.errors else "saved"


def _check(answer: Answer, before: Any, after: Any, fields: list[Field], sent: dict[str, Any]) -> None:
    where = f"sent {sent!r}; answered {answer.said[:600]}"
    assert answer.status == 200, where
    assert not answer.apologised, where
    assert not answer.stray, f"errors under no field {answer.stray}: {where}"
    labels = {f.label for f in fields}
    assert set(answer.errors) <= labels, where
    if answer.errors:
        assert after == before, f"an error changed the database: {where}"
    else:
        assert after != before, f"neither an error on a field nor saved: {where}"


WANTED = {"refused", "saved"}  # each form's examples meet both answers (unless only surveying)
pytestmark = pytest.mark.filterwarnings(  # the app's own ids use random between two draws
    "ignore::hypothesis.errors.HypothesisDeprecationWarning")
SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Each pack's raise form, from a team of that pack (raised by its practitioner or its manager).
RAISES = [("probation", "pdu-north", False), ("rochdale", "roch-frt-1", False),
          ("rochdale", "roch-frt-1", True), ("bury", "bury-assessment", False),
          ("leicestershire", "leics-frcd", False), ("council-s2", "s2-mash", False)]


def _people(org: Org, *teams: str) -> list[str]:
    return sorted({p for t in teams for p in (*org.team(t).managers, *org.team(t).members)})


def _raise_forms(platform: str, request: pytest.FixtureRequest) -> tuple[Any, Org]:
    if platform == "slack":
        return SlackForms(request.getfixturevalue("slack")), request.getfixturevalue("org")
    org = request.getfixturevalue("teams_demo_org")
    return TeamsForms(request.getfixturevalue("teams"), org), org


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_raise_and_heads_up_forms_answer_on_a_field_or_save(
        platform: str, request: pytest.FixtureRequest, engine: sa.Engine, uow: UoW) -> None:
    """Each pack's raise form (and heads up): every mix of its fields gets an error on a field
    and nothing saved, or the transfer raised; never an apology."""
    forms, org = _raise_forms(platform, request)
    seen: dict[str, set[str]] = {}
    for pack, team, heads_up in RAISES:
        with uow() as u:  # those the form opens for (others are told why not)
            raisers = [p for p in _people(org, team) if not services.raise_access(
                u, org, p, team, NOW.date(), heads_up=heads_up).refusal]
        if platform == "teams":
            for p in raisers:
                forms.teams.install(p)
        others = _people(org, *[t.id for t in org.teams if org.pack_for(t.id).name == pack])

        form = f"{pack} heads up" if heads_up else f"{pack} raise"

        def walk(raisers: list[str], others: list[str], team: str, heads_up: bool, form: str
                 ) -> Callable[[], None]:
            @SETTINGS
            @given(st.data())
            def one(data: st.DataObject) -> None:
                note(f"the {form} form on {platform}")
                user = data.draw(st.sampled_from(raisers), label="who")
                fields = forms.open_raise(user, heads_up)
                sent = drawn(data, fields, others, fresh_ref(org, team))
                before = snapshot(engine)
                seen.setdefault(form, set()).add(
                    check(forms.submit(user, sent), before, snapshot(engine), fields, sent))
            return one

        # the plainest careful fill first, so each form is seen to save whatever the draws below
        user, fields = raisers[0], forms.open_raise(raisers[0], heads_up)
        sent = plain(fields, others, fresh_ref(org, team))
        before = snapshot(engine)
        seen.setdefault(form, set()).add(check(forms.submit(user, sent), before, snapshot(engine),
                                               fields, sent))
        walk(raisers, others, team, heads_up, form)()
    for form, got in seen.items():
        assert got >= WANTED, f"{form}: the examples drawn never {WANTED - got}"


# ---- every catalogue action's form --------------------------------------------------------------
def _prepare(uow: UoW, org: Org, c: Case) -> int:
    """A transfer brought to where the action applies, under a case reference of its own."""
    ref = fresh_ref(org, org.teams_of(c.raiser)[0].id)
    with uow() as u:
        t = services.raise_transfer(u, org, c.raiser, services.RaiseRequest(
            case_ref=ref, receiving_team=c.receiving_team, kind=c.kind, heads_up=c.heads_up,
            confirmed=c.confirmed, transfer_point="icpc" if c.point_date else None, flags=c.flags,
            transfer_point_date=c.point_date, urgent_reason=c.urgent_reason, **c.extra),
            NOW - timedelta(days=c.raised_days_ago))
    assert t.id is not None
    for user, name, values in c.before:
        with uow() as u:
            services.act(u, org, user, t.id, name, NOW, **values)
    return t.id


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_action_forms_answer_on_a_field_or_save(platform: str, request: pytest.FixtureRequest,
                                                engine: sa.Engine, uow: UoW) -> None:
    """Each catalogue action's form, by the person who may take it (on Teams as a card and as a
    dialog): every mix of its fields gets an error on a field and nothing changed, or the step
    recorded; never an apology."""
    forms, org = _raise_forms(platform, request)
    seen: dict[str, set[str]] = {}
    for name, c in CASES.items():
        if platform == "teams":
            forms.teams.install(c.allowed)
        people = _people(org, org.teams_of(c.raiser)[0].id, c.receiving_team)

        def walk(name: str, c: Case, people: list[str]) -> Callable[[], None]:
            @settings(SETTINGS, max_examples=ACTION_EXAMPLES)
            @given(st.data())
            def one(data: st.DataObject) -> None:
                note(f"the {name} form on {platform}")
                tid = _prepare(uow, org, c)
                dialog = platform == "teams" and data.draw(st.booleans(), label="as a dialog")
                fields = (forms.open_action(c.allowed, name, tid, dialog=dialog) if platform == "teams"
                          else forms.open_action(c.allowed, name, tid))
                sent = drawn(data, fields, people, fresh_ref(org, c.receiving_team))
                before = snapshot(engine)
                got = seen.setdefault(name, set())
                got.add(check(forms.submit(c.allowed, sent), before, snapshot(engine), fields, sent))
                if any(f.required for f in fields):
                    got.add("asks")
            return one

        walk(name, c, people)()
    for name, got in seen.items():  # a form that requires something met both answers; others saved
        assert got >= (WANTED if "asks" in got else {"saved"}), f"{name}: {got}"


def test_every_form_of_every_pack_is_covered() -> None:
    """The walk covers the raise form of each pack, the heads up where a pack has one, and each
    catalogue action."""
    from bot.org import load_org

    org = load_org()
    packs = {org.pack_for(t.id).name for t in org.teams}
    assert {p for p, _, h in RAISES if not h} == packs
    assert {p for p, _, h in RAISES if h} == {org.pack_for(t.id).name for t in org.teams
                                              if org.pack_for(t.id).early_heads_up}
    assert set(CASES) == set(actions.BY_NAME)

