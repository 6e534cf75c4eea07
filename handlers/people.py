"""Work e-mails resolved on the platforms the settings configure, for ``baton org build``: Slack
(``users.lookupByEmail``) when a Slack token is given, Microsoft Graph (Entra object ids) when
MICROSOFT_APP_ID is, both when both are. With both, someone found on one platform only is
named by what that platform knows and a warning says so; found on neither, their line fails."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.orgbuild import Found, NotResolved


def lookup_for(settings: Any, slack_token: str | None, *, sleep: Callable[[float], None] = time.sleep
               ) -> tuple[Callable[[str], Found], tuple[str, ...], str]:
    """(lookup, the tenants for the org file, where people are looked up: 'Slack', 'Microsoft
    Graph' or both); GraphRefused or TokenRefused when a platform cannot be asked at all."""
    slack: Callable[[str], str] | None = None
    graph: Callable[[str], str] | None = None
    tenants: tuple[str, ...] = ()
    if slack_token:
        from handlers.slack.workspace import lookup_client, lookup_email

        client = lookup_client(slack_token, settings.slack_api_url)

        def slack(email: str) -> str:
            return lookup_email(client, email)
    if settings.microsoft_app_id:
        import logging

        # httpx logs each request's URL at INFO, and Graph's URLs hold the e-mail looked up
        logging.getLogger("httpx").setLevel(logging.WARNING)
        from handlers.teams.credentials import credential_from
        from handlers.teams.directory import Directory, GraphRefused

        credential = credential_from(settings)
        if credential is None or not credential.tenant:
            raise GraphRefused("MICROSOFT_APP_TENANT_ID is not set",
                               "copy the App Tenant ID from the Azure Bot's Configuration")
        graph = Directory(credential, settings.microsoft_graph_url, sleep=sleep).lookup
        tenants = (credential.tenant,)
    where = " and ".join(n for n, f in (("Slack", slack), ("Microsoft Graph", graph)) if f)

    def lookup(email: str) -> Found:
        slack_id = entra_id = None
        why: list[str] = []
        for name, fn in (("Slack", slack), ("Teams", graph)):
            if fn is None:
                continue
            try:
                got = fn(email)
            except NotResolved as exc:
                why.append(f"{name}: {exc}" if slack and graph else str(exc))
                continue
            if name == "Slack":
                slack_id = got
            else:
                entra_id = got
        if slack_id is None and entra_id is None:
            raise NotResolved("; ".join(why))
        note = None
        if slack and graph and not (slack_id and entra_id):
            note = (f"on Slack only ({why[0]})" if slack_id else f"on Teams only ({why[0]})")
        return Found(user=slack_id or email.lower(), entra_id=entra_id, note=note)

    return lookup, tenants, where
