"""Proof by exploration: Hypothesis drives all five packs through random raises, any catalogue
action by any person in the org (allowed or not), button presses and clock moves, on the real
store (SQLite, or PostgreSQL when DATABASE_URL is set), and after every step checks what must
always hold:

- every open transfer has an obligation with a date and a named person;
- one of those people is offered the obligation's action (holds its button);
- every button shown to anyone is accepted when pressed;
- no card (Slack blocks, Teams Adaptive Card) says "None", a negative or contradictory day count,
  or a team id;
- a closed transfer offers nothing (a decline only its dispute, while its window runs);
- each person (and channel) holds at most one card per case, and each card, as last drawn,
  shows the To do bot/obligations.py gives now (its working-days count as of its drawing).
- whoever an obligation names is told: one of its people holds a message (card or digest line,
  as last drawn) of the transfer with the obligation's button, or has a notice waiting in the
  outbox for the working day;
- every digest line delivered says what the obligation model says now (who must do what).

`make test` runs a fixed seed with a small budget; `make explore` runs it long
(BATON_EXPLORE_EXAMPLES, default 500). A failure shrinks to a few steps: it becomes a journey
test in tests/integration/test_obligation_journeys.py.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlmodel import col

from bot import actions, obligations, services, views
from bot.domain import UK_TIME, DomainError, local_date
from bot.org import Org, load_org
from bot.policy import PolicyPack
from bot.services import AlreadySaved, RaiseRequest
from handlers.slack import blocks
from handlers.teams import cards
from scheduler.delivery import Delivery, viewer_of
from scheduler.sweep import sweep
from store import outbox
from store.models import NotificationRow
from store.repo import SqlUnitOfWork
from tests.conftest import wipe
from tests.fakes import FakeChat

EXAMPLES = int(os.environ.get("BATON_EXPLORE_EXAMPLES", "0") or 0)
START = datetime.combine(date(2026, 11, 23), time(10), tzinfo=UK_TIME)  # Mon 23 Nov 2026

# One pair of teams per pack: (holding, receiving)
PAIRS = {"probation": ("pdu-north", "pdu-south"), "rochdale": ("roch-frt-1", "roch-cp-1"),
         "bury": ("bury-assessment", "bury-cin"), "leicestershire": ("leics-frcd", "leics-cic"),
         "council-s2": ("s2-mash", "s2-fsp")}
TEXT = "Agreed after talking it through with both teams"
# The count of days left is as of the card's last drawing (cards are redrawn on change, not daily).
DAYS_LEFT = re.compile(r" \((\d+ working days? left|due today|overdue by \d+ working days?)\)")


def _values(action: str, pack_name: str, org: Org, t_receiving: str, today: date,
            choice: int) -> dict[str, Any]:
    """A form's values for ``action``, varied by ``choice`` (valid where the form can be)."""
    pack = org.pack_for(PAIRS[pack_name][0])
    worker = org.team(t_receiving).members[0]
    forms: dict[str, dict[str, Any]] = {
        "accept": [{}, {"named_worker": worker},
                   {"agreed_date": (today + timedelta(days=14)).isoformat()}][choice % 3],
        "decline": {"reason_category": pack.decline_reasons[0].id if pack.decline_reasons else None,
                    "rationale": TEXT},
        "request_work": {"items": "Update the chronology", "due": None},
        "attendance": {"attended": ["yes", "no", "no"][choice % 3],
                       "agreed_absence": ["no", "no", "yes"][choice % 3]},
        "allocate": {"named_worker": worker},
        "withdraw": {"reason": TEXT},
        "dispute": {"reason": TEXT},
        "escalate": {"reason": TEXT},
        "capacity_concern": {"concern": TEXT},
        "decide": {"outcome": ["transfer", "remain"][choice % 2], "rationale": TEXT},
        "record_delay": {"reason": TEXT, "actions": TEXT},
        "endorse": {"expected_by": (today + timedelta(days=20)).isoformat(), "rationale": TEXT},
        "address_assessed": {"outcome": TEXT},
        "agree_without_sign_off": {"note": ""},
    }
    return dict(forms.get(action, {}))


@dataclass
class HeldChat(FakeChat):
    """A chat that also keeps every message as its reader holds it now (posted, then redrawn),
    and what was delivered since the last look."""

    held: dict[tuple[str, str], tuple[str, views.Message]] = field(default_factory=dict)
    fresh: list[tuple[str, views.Message]] = field(default_factory=list)
    sent: int = 0

    def post(self, to: str, message: views.Message) -> tuple[str, str]:
        """Record a post under a unique reference."""
        self.posts.append((to, message))
        self.sent += 1
        where = (f"D{to}", f"{self.sent}.0")
        self.held[where] = (to, message)
        self.fresh.append((to, message))
        return where

    def update(self, channel: str, ts: str, message: views.Message) -> None:
        """Record a redraw: its reader now holds the new version."""
        super().update(channel, ts, message)
        to = self.held.get((channel, ts), (channel[1:], message))[0]
        self.held[(channel, ts)] = (to, message)
        self.fresh.append((to, message))


def _offers(m: views.Message, tid: int, names: tuple[str, ...]) -> bool:
    """Whether message ``m`` holds a button of transfer ``tid`` for one of ``names``."""
    if isinstance(m, views.Card):
        return m.transfer_id == tid and any(b.action in names for b in m.buttons)
    if isinstance(m, views.Digest):
        return any(i.transfer_id == tid and any(b.action in names for b in i.buttons)
                   for i in m.items)
    return False


STEPS: Counter[str] = Counter()  # buttons pressed
SEEN: Counter[str] = Counter()  # states reached, for BATON_EXPLORE_EXAMPLES runs to print
BAD_WORDS = re.compile(r"\bNone\b|overdue by -|-\d+ working day|\(0 working days|"
                       r"\(-\d|working day -\d")


class Exploration(RuleBasedStateMachine):
    """Random journeys over every pack on the real store."""

    engine: sa.Engine

    def __init__(self) -> None:
        super().__init__()
        wipe(self.engine)
        self.org = load_org()
        self.now = START
        self.ids: list[int] = []
        self.n = 0
        self.people = sorted({u for t in self.org.teams for u in (*t.managers, *t.members)}
                             | {"U0SMT1", "U0HOS", "U0STRAT", "U0SVCMGR", "U0GRPMGR", "U0RCREP"})
        self.team_ids = [t.id for t in self.org.teams]
        self.chat = HeldChat()
        self.delivery = Delivery(self.engine, self.org, self.chat, self.uow)
        self.read = (0, 0)  # posts and updates already checked
        self.cards: Counter[tuple[str, int]] = Counter()  # (person or channel, transfer) -> cards posted
        self.drawn: dict[tuple[str, str], views.Card] = {}  # (channel, ts) -> the card as drawn last

    def uow(self) -> SqlUnitOfWork:
        """A unit of work on the test database."""
        return SqlUnitOfWork(self.engine)

    @initialize(pack=st.sampled_from(sorted(PAIRS)), point=st.booleans())
    def first(self, pack: str, point: bool) -> None:
        """Every example starts with one transfer."""
        self.raise_(pack, point, False, True, 0)

    @rule(pack=st.sampled_from(sorted(PAIRS)), point=st.booleans(), heads_up=st.booleans(),
          signed=st.booleans(), by=st.integers(0, 1))
    def raise_(self, pack: str, point: bool, heads_up: bool, signed: bool, by: int) -> None:
        """A practitioner (or manager) raises a transfer, or gives a heads up."""
        holding, receiving = PAIRS[pack]
        team = self.org.team(holding)
        user = (team.members[0], team.managers[0])[by]
        p = self.org.pack_for(holding)
        self.n += 1
        ref = f"X{100000 + self.n}" if pack == "probation" else str(300000 + self.n)
        confirmed = tuple((cl.id, it.id) for cl in p.gating("request", "permanent")
                          for it in cl.items_for("permanent")) if signed else ()
        req = RaiseRequest(
            case_ref=ref, receiving_team=receiving, holding_team=holding,
            transfer_point=p.transfer_points[0].id if point and p.transfer_points else None,
            transfer_point_date=services.calendar(self.org).add_working_days(local_date(self.now), 5)
            if point and p.transfer_points else None,
            confirmed=confirmed, heads_up=heads_up and p.early_heads_up,
            urgent_reason=None if signed else "Waiting would delay the child's plan by weeks")
        try:
            with self.uow() as u:
                t = services.raise_transfer(u, self.org, user, req, self.now)
        except DomainError:
            return
        assert t.id is not None
        self.ids.append(t.id)

    @precondition(lambda self: bool(self.ids))
    @rule(which=st.integers(0, 50), action=st.sampled_from([a.name for a in actions.CATALOGUE]),
          who=st.integers(0, 100), choice=st.integers(0, 5))
    def anyone_tries_anything(self, which: int, action: str, who: int, choice: int) -> None:
        """Any person takes any catalogue action: it is done, or refused with a reason."""
        tid = self.ids[which % len(self.ids)]
        user = self.people[who % len(self.people)]
        with self.uow() as u:
            t = u.transfers.get(tid)
            assert t is not None
            values = _values(action, t.policy, self.org, t.receiving_team, local_date(self.now), choice)
        try:
            with self.uow() as u:
                services.submit(u, self.org, user, tid, action, values, self.now)
            STEPS["any:" + action] += 1
        except (DomainError, AlreadySaved):
            pass

    def _holders(self, u: SqlUnitOfWork, tid: int) -> list[tuple[str, views.Card]]:
        """The people on the transfer's teams and ladders holding at least one button, with
        their cards."""
        t = u.transfers.get(tid)
        assert t is not None
        teams = [self.org.team(x) for x in (t.holding_team, t.receiving_team)]
        pack = self.org.pack_for(t.holding_team)
        who = [*teams[0].managers, *teams[0].members[:1], *teams[1].managers,
               *teams[1].service_representatives,
               *(x for lv in pack.escalation.levels[1:] for team in teams
                 for c in [self.org.contact(team.id, lv.name)] if c for x in c.users)]
        out = []
        for user in dict.fromkeys(who):
            if services.sees(u, self.org, t, user, local_date(self.now)):
                card = services.card_for(u, self.org, t, user, self.now)
                if card.buttons:
                    out.append((user, card))
        return out

    @precondition(lambda self: bool(self.ids))
    @rule(which=st.integers(0, 50), who=st.integers(0, 100), pick=st.integers(0, 10),
          choice=st.integers(0, 5))
    def press_a_button(self, which: int, who: int, pick: int, choice: int) -> None:
        """A button someone holds is pressed with its form filled in: it is accepted."""
        tid = self.ids[which % len(self.ids)]
        with self.uow() as u:
            holders = self._holders(u, tid)
            if not holders:
                return
            user, card = holders[who % len(holders)]
            t = u.transfers.get(tid)
            assert t is not None
            rare = ("withdraw",) if choice else ()  # withdrawing ends the journey: seldom
            offered = [b for b in card.buttons if b.action not in rare] or list(card.buttons)
            b = offered[pick % len(offered)]
            form = services.form_for(u, self.org, user, tid, b.action, self.now)
            values = _values(b.action, t.policy, self.org, t.receiving_team, local_date(self.now),
                             choice)
            for fi in form.inputs:
                if fi.field.name == "items" and fi.options:
                    values["items"] = [fi.options[0].id]
        try:
            with self.uow() as u:
                services.submit(u, self.org, user, tid, b.action, values, self.now)
        except DomainError as exc:
            raise AssertionError(f"{user} pressed {b.action} on {t.case_ref} ({t.state}) and was "
                                 f"refused: {exc}") from exc
        STEPS[b.action] += 1

    @precondition(lambda self: bool(self.ids))
    @rule(which=st.integers(0, 50), who=st.integers(0, 100), pick=st.integers(0, 10),
          choice=st.integers(0, 5))
    def press_another_button(self, which: int, who: int, pick: int, choice: int) -> None:
        """Buttons are pressed more often than anything else is tried."""
        self.press_a_button(which, who, pick, choice)

    @rule(days=st.sampled_from([1, 1, 2, 3, 5, 10, 21]))
    def time_passes(self, days: int) -> None:
        """The clock moves on and the sweep runs (reminders, breaches, escalations)."""
        self.now += timedelta(days=days)
        sweep(self.engine, self.org, self.now)
        self.delivery.deliver(self.now + timedelta(hours=8))  # digests wait for working hours

    @invariant()
    def every_message_sent_reads_true(self) -> None:
        """Every card, digest line and message delivered so far reads true (see _check_rendered)."""
        self.delivery.deliver(self.now)
        posts, updates = self.chat.posts[self.read[0]:], self.chat.updates[self.read[1]:]
        self.read = (len(self.chat.posts), len(self.chat.updates))
        sent = [m for _, m in posts] + [m for _, _, m in updates]
        for n, (to, m) in enumerate(posts, start=self.read[0] - len(posts) + 1):
            if isinstance(m, views.Card):
                self.cards[(to, m.transfer_id)] += 1
                self.drawn[(f"D{to}", f"{n}.0")] = m
        self.drawn |= {(ch, ts): m for ch, ts, m in updates if isinstance(m, views.Card)}
        for m in sent:
            if isinstance(m, views.Card):
                _check_rendered(m, self.team_ids)
            elif isinstance(m, views.Digest):
                text = json.dumps(blocks.digest_blocks(m))
                text += " ".join(i.text for i in m.items)
                bad = BAD_WORDS.search(text)
                assert bad is None, f"a digest says {bad.group(0)!r}: {text[:300]}"
            elif isinstance(m, views.Text):
                bad = BAD_WORDS.search(m.text)
                assert bad is None, f"a message says {bad.group(0)!r}: {m.text[:300]}"

    @invariant()
    def each_person_holds_one_card_per_case_showing_what_is_owed_now(self) -> None:
        """One card per case per person (and per channel): news after the first card is a reply
        in its thread; every card, as last drawn, shows the To do bot/obligations.py gives now."""
        self.delivery.deliver(self.now)
        self.every_message_sent_reads_true()
        many = {k: n for k, n in self.cards.items() if n > 1}
        assert not many, f"more than one card of a case for one reader: {many}"
        today = local_date(self.now)
        with self.uow() as u:
            for tid in self.ids:
                t = u.transfers.get(tid)
                assert t is not None
                for ref in outbox.refs_of(self.engine, tid):
                    drawn = self.drawn.get((ref.channel, ref.ts))
                    viewer = viewer_of(ref.purpose)
                    if ref.purpose.startswith("digest:") or drawn is None or (
                            viewer is not None and not services.sees(u, self.org, t, viewer, today)):
                        continue  # a reader who may no longer see the case: their card is left
                    now = services.card_for(u, self.org, t, viewer, self.now, brief=t.restricted)
                    said, owed = DAYS_LEFT.sub("", drawn.todo), DAYS_LEFT.sub("", now.todo)
                    assert said == owed, f"{t.case_ref}: {ref.purpose}'s card says {said!r}, not {owed!r}"

    @invariant()
    def everything_open_is_owned_and_nothing_closed_offers_anything(self) -> None:
        """See the module's list."""
        today = local_date(self.now)
        cal = services.calendar(self.org)
        with self.uow() as u:
            for tid in self.ids:
                t = u.transfers.get(tid)
                assert t is not None
                pack = self.org.pack_for(t.holding_team)
                obs = obligations.current(t, pack, self.org, cal, today,
                                          services.transfer_deadlines(self.org, t))
                event(f"{t.policy}:{t.state.value}:{t.escalation_level}")
                SEEN[f"{t.policy}:{t.state.value}:{t.escalation_level}"] += 1
                if t.is_open:
                    assert obs, f"{t.case_ref} ({t.state}) is open and owes nothing"
                held = False
                for o in obs:
                    people = obligations.people(o, t, pack, self.org)
                    assert people, f"{t.case_ref}: nobody is named for {o.verb}"
                    for p in people:
                        card = services.card_for(u, self.org, t, p, self.now)
                        held |= bool({b.action for b in card.buttons} & set(o.actions))
                        _check_rendered(card, self.team_ids)
                    assert held, (f"{t.case_ref} ({t.state}): nobody named ({people}) holds "
                                  f"{o.actions} for '{o.verb}'")
                if not obs:
                    for p in self.people:
                        card = services.card_for(u, self.org, t, p, self.now)
                        assert not card.buttons, (f"{t.case_ref} ({t.state}) owes nothing but "
                                                  f"offers {p} {[b.action for b in card.buttons]}")


    @invariant()
    def whoever_is_named_is_told_and_digest_lines_say_what_is_owed_now(self) -> None:
        """An open obligation's people include one holding a message of the transfer with its
        button (or with a notice waiting for the working day); a digest line delivered names
        only an obligation the model holds now."""
        self.delivery.deliver(self.now)
        fresh, self.chat.fresh = self.chat.fresh, []
        today = local_date(self.now)
        cal = services.calendar(self.org)
        with self.uow() as u:
            waiting = {(a, b) for a, b in u.session.execute(
                sa.select(col(NotificationRow.transfer_id), col(NotificationRow.recipient)).where(
                    col(NotificationRow.status) == "pending",
                    col(NotificationRow.kind).in_(("card", "item"))))}
            for tid in self.ids:
                t = u.transfers.get(tid)
                assert t is not None
                pack = self.org.pack_for(t.holding_team)
                obs = obligations.current(t, pack, self.org, cal, today,
                                          services.transfer_deadlines(self.org, t))
                # whoever took the step that named them knows (a senior manager who escalated a
                # dispute to their own level)
                last = t.timeline[-1].actor if t.timeline else None
                for o in obs:
                    named = obligations.people(o, t, pack, self.org)
                    told = [p for p in named if p == last or (tid, p) in waiting or any(
                        to == p and _offers(m, tid, o.actions) for to, m in self.chat.held.values())]
                    assert told, (f"{t.case_ref} ({t.state}): nobody named ({named}) for '{o.verb}' "
                                  f"was told or holds {o.actions}")
                _check_digest_lines(t.case_ref, tid, obs, fresh, pack)


def _check_digest_lines(ref: str, tid: int, obs: list[obligations.Obligation],
                        fresh: list[tuple[str, views.Message]], pack: PolicyPack) -> None:
    """Each digest line just delivered about the transfer starts with an obligation it owes
    now, or says nothing is owed once nothing is (a step's own words name no case)."""
    said = {f"{o.who}: {o.verb}." for o in obs}
    for to, m in fresh:
        if not isinstance(m, views.Digest):
            continue
        for item in m.items:
            if item.transfer_id != tid:
                continue
            for line in item.text.split("\n"):
                if ref not in line:  # the step's own words (an endorsement reminder)
                    continue
                ok = any(line.startswith(x) for x in said) or (not obs and "nothing is owed" in line)
                assert ok, f"{to}'s digest line about {ref} is not what is owed now ({said}): {line}"


def _check_rendered(card: views.Card, team_ids: list[str]) -> None:
    """No rendered card says None, a negative or contradictory count, or a team id."""
    for text in (json.dumps(blocks.card_blocks(card)),
                 json.dumps(cards.transfer_card(card).model_dump(mode="json", exclude_none=True))):
        bad = BAD_WORDS.search(text)
        assert bad is None, f"{card.case_ref}: card says {bad.group(0)!r}: {text[:300]}"
        ids = [x for x in team_ids if re.search(rf"(?<![\w-]){re.escape(x)}(?![\w-])", text)]
        assert not ids, f"{card.case_ref}: card shows team ids {ids}"


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_every_reachable_state_is_owned_and_every_button_works(engine: sa.Engine) -> None:
    """The exploration, bounded: a fixed seed in `make test`, longer in `make explore`."""
    Exploration.engine = engine
    budget = settings(max_examples=EXAMPLES or 25, stateful_step_count=12 if not EXAMPLES else 25,
                      deadline=None, derandomize=not EXAMPLES, database=None,
                      suppress_health_check=list(HealthCheck))
    Exploration.TestCase.settings = budget
    Exploration.TestCase().runTest()
    if EXAMPLES:
        print(sorted(SEEN.items()), sorted(STEPS.items()), file=sys.stderr)
