"""Who may talk to Baton on Teams: every activity's Bot Connector token, checked with the Teams
SDK's :class:`~microsoft_teams.apps.auth.TokenValidator`.

The validator is given the issuer of Bot Connector tokens, the audience (Baton's app id) and the
JWKS address that the OpenID metadata names (read from ``TEAMS_OPENID_METADATA``: Microsoft's, or
the local stand-in's in tests and the sandbox); it checks the RS256 signature against that key
set, the issuer, the audience, expiry and not-before (with the SDK's five minutes of clock skew)
and that the token was issued for the activity's serviceUrl.

``BATON_TEAMS_DEV_INSECURE_NO_AUTH`` turns the check off for development against a local
emulator; :func:`refuse_insecure` stops Baton from starting with it where it could be production.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import warnings
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

with warnings.catch_warnings():  # the package's HTML widget (unused here) warns that it is a preview
    warnings.simplefilter("ignore")
    from microsoft_teams.apps.auth.token_validator import JwtValidationOptions, TokenValidator

BOT_ISSUER = "https://api.botframework.com"  # the issuer of Bot Connector tokens

log = logging.getLogger("baton.teams.auth")
METADATA_TTL = 24 * 3600  # seconds the OpenID metadata is kept (Microsoft rolls keys rarely)
LOCAL = ("127.0.0.1", "localhost", "::1")


class Unauthorized(Exception):
    """The activity's token is missing or does not check out (the reason, never the token)."""


def refuse_insecure(*, app_password: str | None, urls: list[str]) -> None:
    """Refuse to start without token checks unless this is plainly a development machine."""
    remote = [u for u in urls if (urlsplit(u).hostname or "") not in LOCAL]
    if app_password or remote:
        raise SystemExit("BATON_TEAMS_DEV_INSECURE_NO_AUTH is for development only: it is refused with "
                         "an app password set or Teams addresses off this machine "
                         f"({', '.join(remote) or 'MICROSOFT_APP_PASSWORD is set'}).")


class BotConnectorAuth:
    """Checks Bot Connector tokens for one app id against the keys the OpenID metadata names."""

    def __init__(self, app_id: str, openid_metadata_url: str, *, issuer: str = BOT_ISSUER,
                 http: httpx.Client | None = None) -> None:
        self.app_id, self.metadata_url, self.issuer = app_id, openid_metadata_url, issuer
        self._http = http or httpx.Client(timeout=10)
        self._lock = threading.Lock()
        self._validator: TokenValidator | None = None
        self._fetched = 0.0
        self._jwks_uri = ""
        self._endorsements: dict[str, list[str]] = {}  # key id -> channels it is endorsed for

    def _current(self) -> TokenValidator:
        with self._lock:
            if self._validator is None or time.monotonic() - self._fetched > METADATA_TTL:
                meta = self._http.get(self.metadata_url).raise_for_status().json()
                jwks_uri = str(meta["jwks_uri"])
                self._validator = TokenValidator(JwtValidationOptions(
                    valid_issuers=[self.issuer], valid_audiences=[self.app_id], jwks_uri=jwks_uri))
                self._fetched = time.monotonic()
                self._jwks_uri = jwks_uri
                self._endorsements = {}
            return self._validator

    def _endorsed(self, token: str, channel_id: str) -> bool:
        """Whether the token's signing key is endorsed for ``channel_id`` (keys that list no
        endorsements are endorsed for every channel); the key set is read again for a new key id."""
        kid = str(jwt.get_unverified_header(token).get("kid") or "")
        with self._lock:
            if kid not in self._endorsements:
                keys = self._http.get(self._jwks_uri).raise_for_status().json().get("keys") or []
                self._endorsements = {str(k.get("kid")): list(k.get("endorsements") or []) for k in keys}
            endorsed = self._endorsements.get(kid)
        return endorsed is not None and (not endorsed or channel_id in endorsed)

    def check(self, authorization: str | None, service_url: str | None,
              channel_id: str | None = None) -> dict[str, Any]:
        """The token's claims; Unauthorized when it is missing, unsigned, for another audience,
        from another issuer, expired, issued for another serviceUrl, or signed with a key not
        endorsed for the activity's channel (``channel_id``, 'msteams')."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("no bearer token")
        try:
            validator = self._current()
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            log.warning("teams_openid_metadata_unavailable", extra={
                "error": type(exc).__name__, "reason": "the Bot Connector signing keys could not be read"})
            raise Unauthorized("the signing keys could not be read") from None
        try:
            claims: dict[str, Any] = asyncio.run(validator.validate_token(token.strip(), service_url))
        except jwt.PyJWKClientError:
            raise Unauthorized("signed with a key the OpenID metadata does not list") from None
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("token for another audience") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("token from another issuer") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"bad token ({type(exc).__name__})") from None
        try:
            endorsed = self._endorsed(token.strip(), channel_id or "msteams")
        except (httpx.HTTPError, ValueError):
            raise Unauthorized("the signing keys could not be read") from None
        if not endorsed:
            raise Unauthorized("signing key not endorsed for this channel")
        return claims
