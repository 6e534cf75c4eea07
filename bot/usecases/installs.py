"""Install events: delivery stops when the app is uninstalled and resumes when reinstalled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.ports import (
    UnitOfWork,
)

# ---- the chat platform's lifecycle (Slack: app_uninstalled, tokens_revoked) -------------------
STOPPING_EVENTS = ("app_uninstalled", "tokens_revoked")


def record_install_event(uow: UnitOfWork, kind: str, team_id: str | None, now: datetime) -> None:
    """Record an uninstall, a revoked bot token or a reinstall; delivery stops after the first
    two (rows wait in the outbox) and resumes after a reinstall. Committed at once."""
    uow.add_install_event(kind, team_id, now)
    uow.commit()


def delivery_stopped(uow: UnitOfWork) -> bool:
    """Whether the app was uninstalled or its bot token revoked, with no reinstall since."""
    return uow.install_state() in STOPPING_EVENTS


def resume_if_reinstalled(uow: UnitOfWork, works: Callable[[], bool], team_id: str | None,
                          now: datetime) -> bool:
    """If delivery stopped, ask the platform (``works``: the token is accepted again) and record
    a reinstall when it is; True when delivery runs."""
    if not delivery_stopped(uow):
        return True
    if not works():
        return False
    record_install_event(uow, "reinstalled", team_id, now)
    return True
