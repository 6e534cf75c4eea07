"""What the Slack listeners need, injected (:class:`Deps`), and what they tell a person when
something fails unexpectedly. Moved out of handlers/slack/app.py, which re-exports them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.errors import CommitUncertain
from bot.liveorg import LiveOrg
from bot.org import Org
from bot.ports import UnitOfWork
from handlers.common import (
    APOLOGY,
    SAVE_LATER,
    UNSURE,
)

log = logging.getLogger("baton.slack")


@dataclass
class Deps:
    """What the listeners need, injected: the live org, units of work, the clock, and a way to
    wake delivery once something was written to the outbox."""

    live: LiveOrg
    uow: Callable[[], UnitOfWork]
    clock: Callable[[], datetime]
    wake: Callable[[], None] = lambda: None
    outage: Callable[[BaseException], bool] = lambda exc: False  # the store is unreachable

    @property
    def org(self) -> Org:
        """The org in use now (a reload swaps it whole)."""
        return self.live.current


SLACK_FAILED = "Slack did not open the form; press the button (or type the command) again."


def _trouble(deps: Deps, exc: BaseException, where: str) -> str:
    """What to tell a person about an unexpected failure, after one log line (no traceback, no
    SQL, no text anyone typed)."""
    if isinstance(exc, CommitUncertain):  # never "cannot save" for what may have been saved
        log.warning("%s: the database stopped answering during a commit", where)
        return UNSURE
    if deps.outage(exc):
        log.warning("database_unreachable", extra={"where": where, "error": type(exc).__name__})
        return SAVE_LATER
    if isinstance(exc, SlackApiError):
        log.warning("slack_refused_call", extra={"where": where, "error": exc.response.get("error")})
        return SLACK_FAILED
    log.error("listener_failed", extra={"where": where, "error": type(exc).__name__})
    return APOLOGY
