"""Forms as Teams dialogs: a ``task/fetch`` for an action answers with its form in a dialog; a
``task/submit`` keeps the dialog open with each error on its field, or takes the step and says so;
someone who may not take it is told so in the dialog and nothing changes. Signed invokes against
the Bot Connector stand-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from bot import services
from bot.org import Org
from bot.ports import UnitOfWork
from sandbox.driver import Clock
from sandbox.teams.driver import TeamsDriver

PP, SPO, OTHER = "U0NPP1", "U0SMGR", "U0NMGR"


def _task(teams: TeamsDriver, person: str, name: str, data: dict[str, Any], *, token: str | None = ""
          ) -> tuple[int, dict[str, Any] | None]:
    activity = teams.activity(person, "invoke", name=name,
                              value={"data": data, "context": {"theme": "default"}})
    return teams.post(activity, token=token)


def _raised(uow: Callable[[], UnitOfWork], org: Org, clock: Clock) -> int:
    with uow() as u:
        t = services.raise_transfer(u, org, PP, services.RaiseRequest(case_ref="X123456",
                                                                      receiving_team="pdu-south"), clock())
    return t.id or 0


def _state(engine: sa.Engine) -> str:
    with engine.connect() as c:
        return str(c.execute(sa.text("SELECT state FROM transfer WHERE case_ref = 'X123456'")).scalar_one())


def test_decline_in_a_dialog_keeps_the_error_on_its_field_then_takes_the_step(
        teams: TeamsDriver, uow: Callable[[], UnitOfWork], teams_demo_org: Org, clock: Clock,
        engine: sa.Engine) -> None:
    tid = _raised(uow, teams_demo_org, clock)
    teams.install(SPO)
    status, shown = _task(teams, SPO, "task/fetch", {"msteams": {"type": "task/fetch"},
                                                     "verb": "open:decline", "transfer_id": tid})
    assert status == 200 and shown is not None
    assert shown["task"]["type"] == "continue"
    form = shown["task"]["value"]["card"]["content"]
    submit = form["actions"][0]
    assert submit["type"] == "Action.Submit" and submit["data"]["verb"] == "submit:decline"
    assert any(b.get("id") == "rationale" for b in form["body"])

    status, again = _task(teams, SPO, "task/submit", {**submit["data"], "rationale": ""})
    assert status == 200 and again is not None and again["task"]["type"] == "continue"
    body = again["task"]["value"]["card"]["content"]["body"]
    assert [b for b in body if b.get("id") == "rationale__error"] and _state(engine) == "requested"

    filled = {**submit["data"], "rationale": "Victim lives on the same street",
              "reason_category": "heightened_risk"}
    status, done = _task(teams, SPO, "task/submit", filled)
    assert status == 200 and done is not None and done["task"]["type"] == "message"
    assert _state(engine) == "declined"
    # The same dialog sent again is applied once.
    _task(teams, SPO, "task/submit", filled)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM timeline_event WHERE kind = 'declined'")).scalar() == 1


def test_a_dialog_refuses_someone_not_on_the_transfer_and_an_unsigned_one_is_401(
        teams: TeamsDriver, uow: Callable[[], UnitOfWork], teams_demo_org: Org, clock: Clock,
        engine: sa.Engine) -> None:
    tid = _raised(uow, teams_demo_org, clock)
    teams.install(OTHER)
    status, said = _task(teams, OTHER, "task/fetch", {"verb": "open:accept", "transfer_id": tid})
    assert status == 200 and said is not None and said["task"]["type"] == "message"
    status, _ = _task(teams, OTHER, "task/submit", {"verb": "submit:accept", "transfer_id": tid}, token=None)
    assert status == 401
    assert _state(engine) == "requested"
