"""Forms are applied once per submission: a replayed signed request, a second click, or a retry
after the database's answer was lost never records the event twice, and is answered as saved."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from handlers.slack import ids
from store.repo import SqlUnitOfWork
from tests.e2e.slack import SlackDriver, checks, select, text_input, wait

PP, SMGR = "U0NPP1", "U0SMGR"
UoW = Callable[[], SqlUnitOfWork]
RAISE = {ids.CASE_REF: text_input("X123456"), ids.RECEIVING_TEAM: select("pdu-south"),
         ids.KIND: select("permanent"), ids.FLAGS: checks()}


def _signed_submission(slack: SlackDriver, user: str, values: dict[str, Any]) -> str:
    """The body Slack would send for the modal on top of ``user``'s stack, filled in."""
    view = slack.api.modal_stack(user)[-1]
    state = {block: {f"{block}_input": el} for block, el in values.items()}
    return urllib.parse.urlencode({"payload": json.dumps({
        "type": "view_submission", "team": {"id": slack.team}, "user": {"id": user, "team_id": slack.team},
        "api_app_id": slack.api.app_id, "trigger_id": slack.api.new_trigger_id(user),
        "view": {**view.payload, "state": {"values": state}}})})


def _count(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.text(sql)).scalar_one())


def _raised(slack: SlackDriver, uow: UoW) -> int:
    slack.command(PP, "new")
    wait(slack.api, lambda: slack.api.modal_stack(PP))
    status, answer = slack.submit(PP, RAISE)
    assert status == 200 and "errors" not in answer
    with uow() as u:
        t = u.transfers.get_open_by_case("X123456")
    assert t is not None and t.id is not None
    return t.id


def test_a_replayed_signed_submission_is_applied_once(slack: SlackDriver, uow: UoW,
                                                      engine: sa.Engine) -> None:
    """The same signed ask-for-work submission sent three times inside Slack's five minutes
    records the work once; each copy is answered 200 with no error."""
    tid = _raised(slack, uow)
    slack.press(SMGR, ids.ASK_WORK, str(tid))
    wait(slack.api, lambda: slack.api.modal_stack(SMGR))
    body = _signed_submission(slack, SMGR, {ids.WORK_ITEMS: text_input("Update OASys")})
    ts = int(time.time())
    answers = [slack.post(body, timestamp=ts) for _ in range(3)]
    assert [status for status, _ in answers] == [200, 200, 200]
    assert not [text for _, text in answers if "errors" in text]
    assert _count(engine, "SELECT count(*) FROM timeline_event WHERE kind = 'work_requested'") == 1


def test_a_raise_sent_twice_makes_one_transfer_and_is_answered_as_saved_both_times(
        slack: SlackDriver, engine: sa.Engine) -> None:
    """A double click on Raise: one transfer, one set of DMs, and the second answer is not
    'already has an open transfer'."""
    slack.command(PP, "new")
    wait(slack.api, lambda: slack.api.modal_stack(PP))
    body = _signed_submission(slack, PP, RAISE)
    first, second = slack.post(body), slack.post(body)
    assert first == (200, "") and second == (200, "")
    assert _count(engine, "SELECT count(*) FROM transfer") == 1
    assert _count(engine, "SELECT count(*) FROM notification WHERE recipient = 'U0SMGR'") == 1


def test_a_raise_whose_commit_answer_was_lost_is_answered_as_saved(
        slack: SlackDriver, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database commits the raise but the connection drops before it says so: the form is
    closed as saved (never 'cannot save'), and pressing Raise again is answered as saved, not
    'already open'."""
    real = SqlUnitOfWork.commit
    calls: list[int] = []

    def commit_then_drop(self: SqlUnitOfWork) -> None:
        real(self)
        if not calls:
            calls.append(1)
            raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(SqlUnitOfWork, "commit", commit_then_drop)
    slack.command(PP, "new")
    wait(slack.api, lambda: slack.api.modal_stack(PP))
    body = _signed_submission(slack, PP, RAISE)
    assert slack.post(body) == (200, "")
    assert calls == [1]
    assert slack.post(body) == (200, "")
    assert _count(engine, "SELECT count(*) FROM transfer") == 1


def test_a_step_form_whose_commit_answer_was_lost_is_answered_as_saved(
        slack: SlackDriver, uow: UoW, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ask for work saved but its commit's answer lost: the form closes as saved and the work is
    recorded once, however often it is sent again."""
    tid = _raised(slack, uow)
    slack.press(SMGR, ids.ASK_WORK, str(tid))
    wait(slack.api, lambda: slack.api.modal_stack(SMGR))
    body = _signed_submission(slack, SMGR, {ids.WORK_ITEMS: text_input("Chronology")})
    real = SqlUnitOfWork.commit
    calls: list[int] = []

    def commit_then_drop(self: SqlUnitOfWork) -> None:
        real(self)
        if not calls:
            calls.append(1)
            raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(SqlUnitOfWork, "commit", commit_then_drop)
    assert slack.post(body) == (200, "") and calls == [1]
    assert slack.post(body) == (200, "")
    assert _count(engine, "SELECT count(*) FROM timeline_event WHERE kind = 'work_requested'") == 1


def test_submissions_are_forgotten_a_day_after_their_replay_window_not_before(
        slack: SlackDriver, uow: UoW, engine: sa.Engine) -> None:
    """The ask-for-work submission is remembered while it could be replayed (and a day more);
    housekeeping after a sweep deletes it once older than a day, and keeps younger ones."""
    from datetime import timedelta

    from scheduler.jobs import housekeeping
    from store.repo import PROCESSED_KEPT
    from tests.conftest import NOW

    tid = _raised(slack, uow)
    slack.press(SMGR, ids.ASK_WORK, str(tid))
    wait(slack.api, lambda: slack.api.modal_stack(SMGR))
    status, _ = slack.submit(SMGR, {ids.WORK_ITEMS: text_input("Update OASys")})
    assert status == 200
    forms = "SELECT count(*) FROM processed_event WHERE event_id LIKE 'form:%'"
    assert _count(engine, forms) == 2  # the raise and the ask for work
    assert timedelta(days=1) == PROCESSED_KEPT
    housekeeping(engine, NOW + PROCESSED_KEPT)
    assert _count(engine, forms) == 2
    housekeeping(engine, NOW + PROCESSED_KEPT + timedelta(seconds=1))
    assert _count(engine, forms) == 0
    assert _count(engine, "SELECT count(*) FROM timeline_event WHERE kind = 'work_requested'") == 1
