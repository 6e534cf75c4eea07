"""The one place that builds the engine, org and unit-of-work factory from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from bot.calendar import WorkingCalendar, calendar_for
from bot.org import Org, load_org
from bot.settings import Settings, get_settings


@dataclass
class Baton:
    """Everything a command needs, built once."""

    settings: Settings
    org: Org
    engine: sa.Engine
    uow: Callable[[], object]

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
