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


def slack_chat(b: Baton, *, token: str | None = None, api_url: str | None = None) -> Any:
    """The Slack chat port delivery sends with: a 429 comes back at once (the outbox waits out
    Retry-After), so no delivery thread ever sleeps on Slack's answer."""
    from handlers.slack.app import web_client
    from handlers.slack.delivery import SlackChat

    s = b.settings
    return SlackChat(web_client(token or s.slack_bot_token or "", api_url or s.slack_api_url,
                                wait_on_429=False))


def slack_delivery(b: Baton, *, token: str | None = None, api_url: str | None = None) -> Delivery:
    """Delivery of the outbox to Slack (what ``baton sweep`` and the scheduler send with)."""
    from scheduler.delivery import Delivery

    return Delivery(b.engine, b.live, slack_chat(b, token=token, api_url=api_url), b.uow)


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


@dataclass
class TeamsRuntime:
    """Baton on Microsoft Teams: the activity handler (a WSGI app for /api/messages), the Bot
    Connector client, and delivery with its thread."""

    app: Any
    chat: Any
    delivery: Delivery
    deliverer: Deliverer

    def stop(self) -> None:
        """Stop the delivery thread and the threads that answer typed commands."""
        self.deliverer.stop()
        self.app.replies.shutdown(wait=False)


def teams_chat(b: Baton, clock: Callable[[], datetime], *, app_id: str | None = None,
               password: str | None = None, token_url: str | None = None,
               service_url: str | None = None, sleep: Callable[[float], None] | None = None) -> Any:
    """The Teams chat port (handlers/teams/delivery.py) from settings, unless passed."""
    import time

    from handlers.teams.credentials import BOT_SCOPE, TokenSource, credential_from
    from handlers.teams.delivery import ConnectorClient, TeamsChat

    s = b.settings
    app_id = app_id or s.microsoft_app_id
    password = password or s.microsoft_app_password
    tenant = s.microsoft_app_tenant_id or (b.org.tenants[0] if b.org.tenants else None)
    if not app_id or not (password or s.microsoft_app_certificate) or not tenant:
        raise SystemExit("Set MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD (or MICROSOFT_APP_CERTIFICATE) and "
                         "MICROSOFT_APP_TENANT_ID (see README: Run on Microsoft Teams).")
    url = (token_url or s.teams_token_url).replace("{tenant}", tenant)
    given = s.model_copy(update={"microsoft_app_id": app_id, "microsoft_app_password": password,
                                 "teams_token_url": url})
    cred = credential_from(given, tenant)
    assert cred is not None
    client = ConnectorClient(app_id=app_id, password=password or "", token_url=url, sleep=sleep or time.sleep,
                             source=TokenSource(cred, BOT_SCOPE))
    return TeamsChat(client, b.engine, b.org, service_url=service_url or s.teams_service_url,
                     tenant_id=tenant, clock=clock)


def teams(b: Baton, clock: Callable[[], datetime], *, chat: Any = None, openid_metadata: str | None = None,
          background: bool = True, idle: float = 5.0, delivery: Delivery | None = None,
          deliverer: Deliverer | None = None) -> TeamsRuntime:
    """The one wiring of Baton on Teams: activity handler, Bot Connector client, delivery and its
    thread (started unless ``background`` is False, or shared with Slack when ``delivery`` is
    given). Every activity's token is checked unless BATON_TEAMS_DEV_INSECURE_NO_AUTH is set,
    which is refused outside development (handlers/teams/auth.py)."""
    from handlers.teams.app import TeamsApp, TeamsDeps
    from handlers.teams.auth import BotConnectorAuth, refuse_insecure
    from scheduler.delivery import Deliverer, Delivery
    from store.db import is_outage

    s = b.settings
    chat = chat or teams_chat(b, clock)
    metadata = openid_metadata or s.teams_openid_metadata
    if s.teams_dev_no_auth:
        refuse_insecure(app_password=s.microsoft_app_password or (
                            str(s.microsoft_app_certificate) if s.microsoft_app_certificate else None),
                        urls=[metadata, chat.service_url, chat.client.token_url])
        auth = None
    else:
        auth = BotConnectorAuth(chat.client.app_id, metadata)
    if delivery is None:
        delivery = Delivery(b.engine, b.live, chat, b.uow)
    if deliverer is None:
        deliverer = Deliverer(delivery, clock, idle=idle)
        if background:
            deliverer.start()
    app = TeamsApp(TeamsDeps(live=b.live, uow=b.uow, clock=clock, engine=b.engine, chat=chat, auth=auth,
                             wake=deliverer.wake, outage=is_outage))
    return TeamsRuntime(app=app, chat=chat, delivery=delivery, deliverer=deliverer)


@dataclass
class Served:
    """What `baton serve` runs: the platforms the settings configure, delivering through one outbox."""

    slack: SlackRuntime | None
    teams: TeamsRuntime | None
    delivery: Delivery

    def stop(self) -> None:
        """Stop the delivery threads."""
        for rt in (self.slack, self.teams):
            if rt is not None:
                rt.stop()


def serve_platforms(b: Baton, clock: Callable[[], datetime], *, idle: float = 5.0) -> Served:
    """Slack (SLACK_BOT_TOKEN), Teams (MICROSOFT_APP_ID) or both in one process. With both, one
    delivery sends each notice on its recipient's platform (handlers/routing.py), so no row is
    sent twice by two platforms."""
    s = b.settings
    want_slack, want_teams = bool(s.slack_bot_token), bool(s.microsoft_app_id)
    if not want_slack and not want_teams:
        raise SystemExit("Set SLACK_BOT_TOKEN (Slack) or MICROSOFT_APP_ID (Teams), or both (see README).")
    if not want_teams:
        rt = slack(b, clock, idle=idle)
        return Served(slack=rt, teams=None, delivery=rt.delivery)
    if not want_slack:
        tr = teams(b, clock, idle=idle)
        return Served(slack=None, teams=tr, delivery=tr.delivery)
    from handlers.routing import RoutingChat
    from handlers.slack.app import Deps, build_app
    from scheduler.delivery import Deliverer, Delivery
    from store.db import is_outage

    if not s.slack_signing_secret:
        raise SystemExit("Set SLACK_SIGNING_SECRET (see README: Slack).")
    tchat = teams_chat(b, clock)
    schat = slack_chat(b)
    delivery = Delivery(b.engine, b.live, RoutingChat(b.engine, slack=schat, teams=tchat), b.uow)
    deliverer = Deliverer(delivery, clock, idle=idle).start()
    bolt = build_app(Deps(live=b.live, uow=b.uow, clock=clock, wake=deliverer.wake, outage=is_outage),
                     token=s.slack_bot_token or "", signing_secret=s.slack_signing_secret,
                     api_url=s.slack_api_url)
    srt = SlackRuntime(bolt=bolt, client=schat.client, delivery=delivery, deliverer=deliverer)
    srt.resume(clock())
    trt = teams(b, clock, chat=tchat, delivery=delivery, deliverer=deliverer)
    return Served(slack=srt, teams=trt, delivery=delivery)


def delivery_for(b: Baton, clock: Callable[[], datetime]) -> Delivery | None:
    """Delivery on whichever platforms the settings configure (None when neither is)."""
    s = b.settings
    if s.microsoft_app_id and not s.slack_bot_token:
        from scheduler.delivery import Delivery

        return Delivery(b.engine, b.live, teams_chat(b, clock), b.uow)
    if s.microsoft_app_id and s.slack_bot_token:
        from handlers.routing import RoutingChat
        from scheduler.delivery import Delivery

        chat = RoutingChat(b.engine, slack=slack_chat(b), teams=teams_chat(b, clock))
        return Delivery(b.engine, b.live, chat, b.uow)
    return slack_delivery(b) if s.slack_bot_token else None
