"""Slack lifecycle events: an uninstall or a revoked bot token is recorded and stops delivery;
a reinstall (the token accepted again) resumes it with nothing lost."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from bot import services
from bot.org import load_org
from bot.ports import UnitOfWork
from handlers.bootstrap import SlackRuntime
from tests.conftest import NOW
from tests.e2e.slack import SlackDriver, wait

UoW = Callable[[], UnitOfWork]


def _raise(uow: UoW, ref: str = "X123456") -> None:
    with uow() as u:
        services.raise_transfer(u, load_org(), "U0NPP1", services.RaiseRequest(
            case_ref=ref, receiving_team="pdu-south"), NOW)


def _events(engine: sa.Engine) -> list[tuple[str, str | None]]:
    with engine.connect() as c:
        return [(r[0], r[1]) for r in c.execute(
            sa.text("SELECT kind, team_id FROM install_event ORDER BY id"))]


def _statuses(engine: sa.Engine) -> set[str]:
    with engine.connect() as c:
        return {r[0] for r in c.execute(sa.text("SELECT status FROM notification"))}


def test_uninstall_is_recorded_stops_delivery_and_a_reinstall_sends_what_waited(
        slack: SlackDriver, runtime: SlackRuntime, uow: UoW, engine: sa.Engine) -> None:
    """app_uninstalled is recorded with the workspace; a transfer raised afterwards sends
    nothing and its rows wait; while Slack still refuses the token nothing resumes; once it
    accepts it again the reinstall is recorded and the receiving manager gets the card."""
    status, _ = slack.event({"type": "app_uninstalled"}, "Ev0UNINSTALL")
    assert status == 200
    wait(slack.api, lambda: _events(engine))
    assert _events(engine) == [("app_uninstalled", slack.team)]
    slack.api.revoke_tokens()
    _raise(uow)
    assert runtime.delivery.deliver(NOW) == 0
    assert not slack.api.calls_to("chat.postMessage")
    assert _statuses(engine) == {"pending"}
    assert runtime.resume(NOW) is False
    assert [k for k, _ in _events(engine)] == ["app_uninstalled"]
    slack.api.revoke_tokens(False)
    assert runtime.resume(NOW) is True
    assert [k for k, _ in _events(engine)] == ["app_uninstalled", "reinstalled"]
    wait(slack.api, lambda: slack.api.messages("U0SMGR"))


def test_bot_token_revoked_stops_delivery_but_user_tokens_revoked_does_not(
        slack: SlackDriver, runtime: SlackRuntime, uow: UoW, engine: sa.Engine) -> None:
    """tokens_revoked naming only user (oauth) tokens is recorded and changes nothing, since
    Baton holds a bot token only; naming the bot token it stops delivery."""
    slack.event({"type": "tokens_revoked", "tokens": {"oauth": ["U0NMGR"]}}, "Ev0REVOKE1")
    wait(slack.api, lambda: _events(engine))
    _raise(uow)
    wait(slack.api, lambda: slack.api.messages("U0SMGR"))
    slack.event({"type": "tokens_revoked", "tokens": {"bot": ["U0BATONBOT"]}}, "Ev0REVOKE2")
    wait(slack.api, lambda: len(_events(engine)) == 2)
    assert [k for k, _ in _events(engine)] == ["user_tokens_revoked", "tokens_revoked"]
    _raise(uow, "X654321")
    assert runtime.delivery.deliver(NOW) == 0
    assert "pending" in _statuses(engine)


def test_a_refused_token_without_an_event_keeps_rows_for_later_rather_than_failing_them(
        slack: SlackDriver, runtime: SlackRuntime, uow: UoW, engine: sa.Engine) -> None:
    """If Slack answers token_revoked before its event arrived, the rows are retried later,
    never marked failed (nothing is lost)."""
    runtime.deliverer.stop()
    slack.api.revoke_tokens()
    _raise(uow)
    assert runtime.delivery.deliver(NOW) == 0
    assert _statuses(engine) == {"pending"}
    with engine.connect() as c:
        errors = {r[0] for r in c.execute(sa.text("SELECT last_error FROM notification"))}
    assert errors == {"token_revoked"}
