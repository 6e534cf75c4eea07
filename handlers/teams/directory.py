"""Work e-mails resolved to Entra object ids through Microsoft Graph (``baton org build``):
``GET /users/{userPrincipalName}`` with an app-only token holding ``User.Read.All``, then, when no
user has that sign-in name, ``GET /users?$filter=mail eq '...'`` (a work e-mail need not be the
UPN). A 429 is waited out for its Retry-After (Graph's throttling guidance) a few times; a 404 is
that line's problem; a refused token or a missing permission stops the build at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from bot.orgbuild import NotResolved
from handlers.teams.credentials import GRAPH_SCOPE, Credential, CredentialError, TokenSource

TRIES = 6  # a throttled lookup is tried this many times in all
SELECT = "id,userPrincipalName,mail,accountEnabled,userType"


class GraphRefused(Exception):
    """Graph cannot be asked at all (credentials refused, no permission): problem and fix."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem, self.fix = problem, fix


class Directory:
    """The tenant's users, read through Graph with Baton's own credentials."""

    def __init__(self, credential: Credential, graph_url: str, *, http: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.http = http or httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0))
        self.source = TokenSource(credential, GRAPH_SCOPE, http=self.http)
        self.base, self.sleep = graph_url.rstrip("/"), sleep
        self.calls = 0

    def _get(self, path: str, params: dict[str, str]) -> httpx.Response:
        try:
            token = self.source.token()
        except CredentialError as exc:
            raise GraphRefused(f"Entra refused Baton's credentials for Microsoft Graph: {exc.problem}",
                               exc.fix) from None
        for attempt in range(1, TRIES + 1):
            self.calls += 1
            try:
                r = self.http.get(self.base + path, params=params,
                                  headers={"Authorization": f"Bearer {token}"})
            except httpx.HTTPError as exc:
                raise GraphRefused(f"Microsoft Graph did not answer ({type(exc).__name__})",
                                   "check this machine reaches graph.microsoft.com (MICROSOFT_GRAPH_URL)"
                                   ) from None
            if r.status_code == 429 or r.status_code in (503, 504):
                if attempt == TRIES:
                    break
                self.sleep(_retry_after(r, attempt))
                continue
            if r.status_code in (401, 403):
                raise GraphRefused(
                    f"Microsoft Graph refused to read users ({r.status_code} {_code(r)})",
                    "in the app registration > API permissions add Microsoft Graph > Application "
                    "permissions > User.Read.All and Grant admin consent (you may remove it once the "
                    "org file is built)")
            return r
        raise GraphRefused("Microsoft Graph kept answering 'too many requests'",
                           "run baton org build again in a few minutes")

    def lookup(self, email: str) -> str:
        """The Entra object id of the enabled user with this work e-mail (as sign-in name or
        mail); NotResolved with why otherwise."""
        r = self._get(f"/users/{quote(email, safe='@')}", {"$select": SELECT})
        user: dict[str, Any] | None = None
        if r.status_code == 200:
            user = r.json()
        elif r.status_code == 404:
            escaped = email.replace("'", "''")
            found = self._get("/users", {"$filter": f"mail eq '{escaped}'", "$select": SELECT})
            if found.status_code == 200:
                users = found.json().get("value") or []
                if len(users) > 1:
                    raise NotResolved(f"{len(users)} Entra users have this e-mail: give their sign-in "
                                      "name (user principal name) instead")
                user = users[0] if users else None
        else:
            raise NotResolved(f"Microsoft Graph answered {r.status_code} {_code(r)}; try again")
        if user is None:
            raise NotResolved("no Entra user in the tenant has this e-mail: check the spelling, or "
                              "ask your Microsoft 365 administrator to create the account first")
        if user.get("accountEnabled") is False:
            raise NotResolved("the Entra account is disabled: name someone who can sign in")
        return str(user["id"])


def _retry_after(r: httpx.Response, attempt: int) -> float:
    try:
        return max(0.0, float(r.headers.get("Retry-After", "")))
    except ValueError:
        return float(min(60, 2 ** attempt))


def _code(r: httpx.Response) -> str:
    try:
        err = (r.json() or {}).get("error") or {}
        return str(err.get("code") or "") if isinstance(err, dict) else ""
    except ValueError:
        return ""
