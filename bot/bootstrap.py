"""The one place that builds the engine, org and unit-of-work factory from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.calendar import WorkingCalendar, calendar_for
from bot.org import Org, load_org
from bot.ports import UnitOfWork
from bot.settings import Settings, get_settings


@dataclass
class Baton:
    """Everything a command needs, built once."""

    settings: Settings
    org: Org
    engine: sa.Engine
    uow: Callable[[], UnitOfWork]

    @property
    def calendar(self) -> WorkingCalendar:
        """The working-day calendar of the org's region."""
        return calendar_for(self.org.region)


def build(settings: Settings | None = None, *, migrate: bool = True) -> Baton:
    """Build Baton from settings; brings the schema up to date unless ``migrate`` is False."""
    from store.db import make_engine, upgrade
    from store.repo import SqlUnitOfWork

    s = settings or get_settings()
    org = load_org(s.org_file)
    if s.region:
        org = org.model_copy(update={"region": s.region.upper()})
    if migrate:
        upgrade(s.database_url)
    engine = make_engine(s.database_url)
    return Baton(settings=s, org=org, engine=engine, uow=lambda: SqlUnitOfWork(engine))


def slack_app(b: Baton, clock: Callable[[], datetime]) -> Any:
    """The Bolt app for this Baton, talking to SLACK_API_URL; needs the bot token and secret."""
    from handlers.app import Deps, build_app

    s = b.settings
    if not s.slack_bot_token or not s.slack_signing_secret:
        raise SystemExit("Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see README: Slack).")
    return build_app(Deps(org=b.org, uow=b.uow, engine=b.engine, clock=clock),
                     token=s.slack_bot_token, signing_secret=s.slack_signing_secret,
                     api_url=s.slack_api_url)
