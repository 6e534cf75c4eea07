"""``baton doctor`` on Microsoft Teams: the settings, a client-credentials token from Entra with
the configured secret or certificate, the tenant, that Baton can recognise and message each
person, and the channels; each problem a :class:`bot.doctor.Finding` with its fix."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa

from bot.doctor import Finding
from bot.org import SLACK_USER, Org
from handlers.teams.credentials import (
    BOT_SCOPE,
    WARN_DAYS,
    Credential,
    CredentialError,
    Health,
    TokenSource,
    credential_from,
)

PORTAL = "the Azure portal > the Azure Bot > Configuration"


@dataclass
class TeamsCheck:
    """What the Teams checks found, and the people and channels Teams cannot reach."""

    findings: list[Finding] = field(default_factory=list)
    bad_users: set[str] = field(default_factory=set)
    bad_channels: set[str] = field(default_factory=set)
    token_ok: bool = False


def _settings(s: Any, org: Org | None, out: TeamsCheck) -> Credential | None:
    tenant = s.microsoft_app_tenant_id
    if not tenant:
        out.findings.append(Finding("settings", "MICROSOFT_APP_TENANT_ID", "not set",
                                    f"copy the App Tenant ID from {PORTAL} into MICROSOFT_APP_TENANT_ID"))
    if not s.microsoft_app_password and not s.microsoft_app_certificate:
        out.findings.append(Finding(
            "settings", "MICROSOFT_APP_PASSWORD", "neither a client secret nor a certificate is set, so "
            "Baton cannot get a token to answer anyone", "make a certificate (Microsoft's advice) and set "
            "MICROSOFT_APP_CERTIFICATE, or a client secret and set MICROSOFT_APP_PASSWORD (README: Run on "
            "Microsoft Teams)"))
    if not tenant or not (s.microsoft_app_password or s.microsoft_app_certificate):
        return None
    cred = credential_from(s)
    if cred is not None and cred.kind == "secret" and cred.secret_expires is None:
        out.findings.append(Finding("settings", "MICROSOFT_APP_SECRET_EXPIRES", "not set, so Baton cannot "
                                    "warn you before the client secret expires (then nobody gets an answer)",
                                    "put the secret's Expires date (Certificates & secrets) in "
                                    "MICROSOFT_APP_SECRET_EXPIRES, e.g. 2027-06-30", blocking=False))
    return cred


def _expiry(cred: Credential, now: datetime, out: TeamsCheck) -> None:
    ends = cred.expires()
    if ends is None:
        return
    what = "MICROSOFT_APP_CERTIFICATE" if cred.kind == "certificate" else "MICROSOFT_APP_SECRET_EXPIRES"
    days = (ends.date() - now.date()).days if ends > now else 0
    if days <= 0:
        out.findings.append(Finding("token", what, f"the client {cred.kind} expired on {ends:%d %b %Y}",
                                    f"make a new {cred.kind} in the app registration > Certificates & "
                                    "secrets"))
    elif days <= WARN_DAYS:
        out.findings.append(Finding("token", what, f"the client {cred.kind} expires on {ends:%d %b %Y}, in "
                                    f"{days} day(s); then nobody on Teams gets an answer",
                                    f"make a new {cred.kind} now and switch Baton to it", blocking=False))


def _tenant(s: Any, org: Org, out: TeamsCheck) -> None:
    if not org.tenants:
        out.findings.append(Finding("tenant", "tenants: (org file)", "the org file names no tenant, so Baton "
                                    "refuses every Teams activity (403)",
                                    f"add tenants: [{s.microsoft_app_tenant_id or 'YOUR-TENANT-ID'}] to the "
                                    "org file"))
        return
    own = (s.microsoft_app_tenant_id or "").lower()
    if own not in [t.lower() for t in org.tenants]:
        out.findings.append(Finding(
            "tenant", s.microsoft_app_tenant_id, "MICROSOFT_APP_TENANT_ID is not one of the org file's "
            "tenants:, so the bot's own tenant is refused",
            "add it under tenants: in the org file, or correct MICROSOFT_APP_TENANT_ID"))
    for other in (t for t in org.tenants if t.lower() != own):
        out.findings.append(Finding(
            "tenant", other, "named under tenants: but the bot is registered (single-tenant) in "
            "MICROSOFT_APP_TENANT_ID only, so nobody there can reach it",
            "remove it, or register a bot in that tenant and run a Baton for it", blocking=False))


def _stored(engine: sa.Engine | None) -> set[str]:
    """People with a kept 1:1 conversation (the app installed for them), if the store answers."""
    if engine is None:
        return set()
    from store import conversations

    try:
        with engine.connect() as c:
            return {str(p) for p in c.execute(sa.select(conversations.T.c.person)).scalars()}
    except sa.exc.SQLAlchemyError:
        return set()


def _people(org: Org, engine: sa.Engine | None, slack: bool, out: TeamsCheck) -> None:
    stored = _stored(engine)
    for who, where in org.named_people().items():
        if org.person(who).entra_id or who in stored:
            continue
        subject = f"{who} ({', '.join(where)})"
        on_slack = slack and re.match(SLACK_USER, who) is not None
        out.findings.append(Finding(
            "person", subject,
            "no Entra object id and no stored Teams chat: on Teams Baton can neither recognise nor message "
            "them" + (" (Slack still reaches them)" if on_slack else ""),
            "run baton org build from the staff list (it fills entra_id from Microsoft Graph), or add "
            f"{{id: {who}, entra_id: OBJECT-ID}} under people: (Entra admin centre > Users > Object ID)",
            blocking=not on_slack))
        if not on_slack:
            out.bad_users.add(who)


def _channels(org: Org, slack: bool, out: TeamsCheck) -> None:
    if slack:
        return
    for channel, where in org.channels().items():  # Slack's channels: nobody posts there on Teams alone
        out.bad_channels.add(channel)
        out.findings.append(Finding("channel", f"{channel} ({', '.join(where)})", "a Slack channel, and "
                                    "Slack is not configured: nothing is posted there",
                                    "give a teams_channel: 19:...@thread.tacv2 (the channel's ... > Get link "
                                    "to channel) beside or instead of it", blocking=False))
    for t in org.teams:
        if not t.teams_channel:
            out.findings.append(Finding("channel", f"team {t.id}", "no Teams channel: the team's channel "
                                        "posts (new transfers, decisions) go nowhere",
                                        "add teams_channel: 19:...@thread.tacv2 to the team in the org file",
                                        blocking=False))


def check_teams(s: Any, org: Org | None, engine: sa.Engine | None, *, slack: bool,
                http: httpx.Client | None = None, now: datetime | None = None) -> TeamsCheck:
    """Every Teams check ``baton doctor`` makes; ``slack`` says whether Slack is configured too."""
    out = TeamsCheck()
    cred = _settings(s, org, out)
    if cred is not None:
        _expiry(cred, now or datetime.now(UTC), out)
        source = TokenSource(cred, BOT_SCOPE, http=http, health=Health(cred))
        try:
            source.token()
            out.token_ok = True
        except CredentialError as exc:
            secret = "MICROSOFT_APP_CERTIFICATE" if cred.kind == "certificate" else "MICROSOFT_APP_PASSWORD"
            subject = {"AADSTS90002": "MICROSOFT_APP_TENANT_ID", "AADSTS700016": "MICROSOFT_APP_ID"}.get(
                exc.code, secret)
            out.findings.append(Finding("token", subject, f"Entra gives Baton no token: {exc.problem}"
                                        + ("" if exc.auth else " (not an auth refusal: try again)"), exc.fix))
    if org is not None:
        _tenant(s, org, out)
        _people(org, engine, slack, out)
        _channels(org, slack, out)
    return out
