"""The one place that builds the engine, org and unit-of-work factory from settings."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot import services
from bot.calendar import WorkingCalendar
from bot.liveorg import LiveOrg
from bot.org import Org, load_org
from bot.ports import UnitOfWork
from bot.settings import Settings, get_settings

if TYPE_CHECKING:
    from scheduler.delivery import Deliverer, Delivery


@dataclass
class Baton:
    """Everything a command needs, built once."""

    settings: Settings
    live: LiveOrg
    engine: sa.Engine
    uow: Callable[[], UnitOfWork]

    @property
    def org(self) -> Org:
        """The org in use now (swapped whole when its file is reloaded)."""
        return self.live.current

    @property
    def calendar(self) -> WorkingCalendar:
        """The working-day calendar of the org: its region's bank holidays and closure days."""
        return services.calendar(self.org)


def build(settings: Settings | None = None, *, migrate: bool = True, org: Org | None = None,
          engine: sa.Engine | None = None, live: LiveOrg | None = None) -> Baton:
    """Build Baton from settings; brings the schema up to date unless ``migrate`` is False.
    Tests and the sandbox pass their own ``org`` or ``engine``; ``baton serve``'s workers the
    ``live`` org their master read (the last good one, whatever the file holds now)."""
    from store.db import make_engine, upgrade
    from store.repo import SqlUnitOfWork

    s = settings or get_settings()
    if live is None:
        live = live_org(s) if org is None else LiveOrg(org)
    if engine is None:
        if migrate:
            upgrade(s.database_url)
        engine = make_engine(s.database_url)
    bound = engine
    return Baton(settings=s, live=live, engine=engine, uow=lambda: SqlUnitOfWork(bound))


def live_org(s: Settings) -> LiveOrg:
    """The org file of the settings, read now and watched for changes (PolicyError if bad)."""
    from bot.liveorg import signature

    path = s.org_file
    seen = signature(path, os.stat) if path else None
    org = load_org(path)
    if s.region:
        org = org.model_copy(update={"region": s.region.upper()})
    return LiveOrg(org, path, region=s.region, seen=seen)


@dataclass
class SlackRuntime:
    """Baton on Slack: the Bolt app, the Web API client, and delivery with its thread."""

    bolt: Any
    client: Any
    delivery: Delivery
    deliverer: Deliverer

    def stop(self) -> None:
        """Stop the delivery thread."""
        self.deliverer.stop()

    def resume(self, now: datetime) -> bool:
        """After an uninstall or a revoked token: if Slack accepts the token again (auth.test),
        record the reinstall and deliver what waited; True when delivery runs."""
        def works() -> bool:
            try:
                return bool(self.client.auth_test().get("ok"))
            except Exception:  # SlackApiError (invalid_auth, token_revoked) or no answer
                return False

        with self.delivery.uow() as u:
            running = services.resume_if_reinstalled(u, works, None, now)
        if running:
            self.deliverer.wake()
        return running


def slack_delivery(b: Baton, *, token: str | None = None, api_url: str | None = None) -> Delivery:
    """Delivery of the outbox to Slack (what ``baton sweep`` and the scheduler send with)."""
    from handlers.slack.app import web_client
    from handlers.slack.delivery import SlackChat
    from scheduler.delivery import Delivery

    s = b.settings
    client = web_client(token or s.slack_bot_token or "", api_url or s.slack_api_url, wait_on_429=False)
    return Delivery(b.engine, b.live, SlackChat(client), b.uow)


def slack(b: Baton, clock: Callable[[], datetime], *, token: str | None = None,
          signing_secret: str | None = None, api_url: str | None = None,
          background: bool = True, idle: float = 5.0) -> SlackRuntime:
    """The one wiring of Baton on Slack: Bolt app, delivery and its thread (started unless
    ``background`` is False). Settings give the token, secret and API address unless passed.
    Delivery also looks for rows other processes wrote (the CLI, an import) every ``idle`` seconds."""
    from handlers.slack.app import Deps, build_app
    from scheduler.delivery import Deliverer

    s = b.settings
    token = token or s.slack_bot_token
    signing_secret = signing_secret or s.slack_signing_secret
    api_url = api_url or s.slack_api_url
    if not token or not signing_secret:
        raise SystemExit("Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see README: Slack).")
    delivery = slack_delivery(b, token=token, api_url=api_url)
    deliverer = Deliverer(delivery, clock, idle=idle)
    if background:
        deliverer.start()
    from store.db import is_outage

    bolt = build_app(Deps(live=b.live, uow=b.uow, clock=clock, wake=deliverer.wake, outage=is_outage),
                     token=token, signing_secret=signing_secret, api_url=api_url)
    chat = delivery.chat
    runtime = SlackRuntime(bolt=bolt, client=getattr(chat, "client", None), delivery=delivery,
                           deliverer=deliverer)
    runtime.resume(clock())  # a restart with a new token after reinstalling resumes delivery
    return runtime


def slack_app(b: Baton, clock: Callable[[], datetime]) -> Any:
    """The Bolt app of :func:`slack` (with its delivery thread running)."""
    return slack(b, clock).bolt
