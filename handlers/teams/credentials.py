"""Baton's Entra ID credentials: the client-credentials tokens it calls the Bot Connector and
Microsoft Graph with, acquired by MSAL with a client secret or (Microsoft's recommendation) a
certificate, and how healthy they are.

- :class:`Credential` is what the settings give: the app id, the tenant, and a secret
  (``MICROSOFT_APP_PASSWORD``) or a certificate (``MICROSOFT_APP_CERTIFICATE``: a PEM file with
  the private key and the certificate, or a PKCS#12 ``.pfx``), with when the secret expires
  (``MICROSOFT_APP_SECRET_EXPIRES``; a certificate says so itself).
- :class:`TokenSource` acquires and caches one resource's token (``acquire_token_for_client``)
  and turns Entra's refusals into :class:`CredentialError` with the AADSTS code and what to do.
- :class:`Health` remembers the last outcome for ``/readyz``, the metrics and ``baton doctor``,
  and warns (``teams_credential_expiring``) before a secret or certificate expires.

MSAL only speaks HTTPS to an authority; local stand-ins (tests, the sandbox) serve plain HTTP on
this machine, so for a loopback address only, :class:`_Http` sends MSAL's https requests there
as http. Any other address must be https.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

log = logging.getLogger("baton.teams.credentials")
BOT_SCOPE = "https://api.botframework.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
WARN_DAYS = 30  # warn this many days before a secret or certificate expires
RETRY_FAILED = 60.0  # seconds a refused acquisition is remembered before Entra is asked again

# What Entra's AADSTS codes mean for a client-credentials request, and how to mend each.
AADSTS: dict[int, tuple[str, str]] = {
    7000215: ("the client secret is wrong (perhaps the secret's ID was copied, not its value)",
              "in the app registration > Certificates & secrets, make a new client secret and put "
              "its Value in MICROSOFT_APP_PASSWORD"),
    7000222: ("the client secret has expired",
              "in the app registration > Certificates & secrets, make a new client secret, put its "
              "Value in MICROSOFT_APP_PASSWORD and its expiry date in MICROSOFT_APP_SECRET_EXPIRES"),
    700016: ("no application with this id is registered in the tenant",
             "copy the Microsoft App ID from the Azure Bot's Configuration into MICROSOFT_APP_ID, "
             "and the App Tenant ID into MICROSOFT_APP_TENANT_ID"),
    90002: ("the tenant does not exist",
            "copy the App Tenant ID from the Azure Bot's Configuration into MICROSOFT_APP_TENANT_ID"),
    700027: ("the certificate's signature was refused (the certificate is not registered on the app, "
             "or the key does not match it)",
             "upload the certificate (.cer/.pem, public part only) under the app registration > "
             "Certificates & secrets > Certificates, and check MICROSOFT_APP_CERTIFICATE holds its key"),
    700024: ("the certificate assertion is outside its valid time (this machine's clock is wrong?)",
             "set the machine's clock by NTP"),
    7000112: ("the application is disabled", "enable the app registration's service principal"),
    500011: ("the resource (Bot Framework or Microsoft Graph) is not available in this tenant",
             "check the tenant id, and for Graph that admin consent was granted"),
}


class CredentialError(Exception):
    """Entra refused Baton's credentials (``auth``), or could not be asked (not ``auth``)."""

    def __init__(self, problem: str, fix: str, *, code: str, auth: bool) -> None:
        super().__init__(problem)
        self.problem, self.fix, self.code, self.auth = problem, fix, code, auth


@dataclass(frozen=True)
class Credential:
    """Who Baton is to Entra: an app id in a tenant, with a secret or a certificate."""

    app_id: str
    tenant: str
    secret: str | None = None
    certificate: Path | None = None
    certificate_password: str | None = None
    secret_expires: date | None = None
    token_url: str = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"

    @property
    def kind(self) -> str:
        """'certificate' or 'secret': the certificate wins when both are given."""
        return "certificate" if self.certificate else "secret"

    def msal_credential(self) -> str | dict[str, Any]:
        """The ``client_credential`` MSAL takes: the secret, or the certificate's key and
        certificate (it signs a client assertion with the key, SHA-256 thumbprint)."""
        if self.certificate is None:
            if not self.secret:
                raise CredentialError("neither a client secret nor a certificate is set",
                                      "set MICROSOFT_APP_PASSWORD or MICROSOFT_APP_CERTIFICATE",
                                      code="no_credential", auth=True)
            return self.secret
        if self.certificate.suffix.lower() in (".pfx", ".p12"):
            out: dict[str, Any] = {"private_key_pfx_path": str(self.certificate)}
        else:
            pem = self._read_certificate()
            out = {"private_key": pem, "public_certificate": _certificate_block(pem)}
        if self.certificate_password:
            out["passphrase"] = self.certificate_password
        return out

    def _read_certificate(self) -> str:
        assert self.certificate is not None
        try:
            text = self.certificate.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialError(f"MICROSOFT_APP_CERTIFICATE {self.certificate}: cannot read it "
                                  f"({getattr(exc, 'strerror', None) or type(exc).__name__})",
                                  "give the path of a PEM file holding the private key and the certificate",
                                  code="certificate_unreadable", auth=True) from None
        if "PRIVATE KEY-----" not in text or "BEGIN CERTIFICATE-----" not in text:
            raise CredentialError(f"MICROSOFT_APP_CERTIFICATE {self.certificate}: needs both the private "
                                  "key and the certificate in PEM",
                                  "cat key.pem cert.pem > baton.pem (or give the .pfx)",
                                  code="certificate_incomplete", auth=True)
        return text

    def expires(self) -> datetime | None:
        """When the credential stops working: the certificate's notAfter, or the secret's expiry
        as the settings give it (None when unknown)."""
        if self.certificate is None:
            return (datetime(self.secret_expires.year, self.secret_expires.month, self.secret_expires.day,
                             tzinfo=UTC) if self.secret_expires else None)
        from cryptography import x509

        try:
            if self.certificate.suffix.lower() in (".pfx", ".p12"):
                from cryptography.hazmat.primitives.serialization import pkcs12

                pw = self.certificate_password.encode() if self.certificate_password else None
                cert = pkcs12.load_key_and_certificates(self.certificate.read_bytes(), pw)[1]
            else:
                cert = x509.load_pem_x509_certificate(_certificate_block(self._read_certificate()).encode())
        except (CredentialError, OSError, ValueError):
            return None
        return cert.not_valid_after_utc if cert is not None else None


def _certificate_block(pem: str) -> str:
    start = pem.index("-----BEGIN CERTIFICATE-----")
    end = pem.index("-----END CERTIFICATE-----", start) + len("-----END CERTIFICATE-----")
    return pem[start:end] + "\n"


def credential_from(settings: Any, tenant: str | None = None) -> Credential | None:
    """The credential the settings configure (None when MICROSOFT_APP_ID is unset)."""
    if not settings.microsoft_app_id:
        return None
    return Credential(app_id=settings.microsoft_app_id,
                      tenant=tenant or settings.microsoft_app_tenant_id or "",
                      secret=settings.microsoft_app_password,
                      certificate=settings.microsoft_app_certificate,
                      certificate_password=settings.microsoft_app_certificate_password,
                      secret_expires=settings.microsoft_app_secret_expires,
                      token_url=settings.teams_token_url)


class _Http:
    """MSAL's HTTP client on httpx; https to a loopback address goes as http (local stand-ins)."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    @staticmethod
    def _local(url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme == "https" and (parts.hostname or "") in LOOPBACK:
            return urlunsplit(("http", *parts[1:]))
        return url

    def get(self, url: str, params: Any = None, headers: Any = None, **kw: Any) -> httpx.Response:
        """HTTP GET."""
        return self.http.get(self._local(url), params=params, headers=headers)

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None,
             **kw: Any) -> httpx.Response:
        """HTTP POST (a form; MSAL gives the client assertion as bytes, which requests encodes as
        text and httpx would not)."""
        if isinstance(data, dict):
            data = {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}
        return self.http.post(self._local(url), params=params, data=data, headers=headers)

    def close(self) -> None:
        """Nothing to close here: the httpx client is the caller's."""


def authority_of(token_url: str, tenant: str) -> str:
    """The MSAL authority for a token endpoint (``.../{tenant}/oauth2/v2.0/token``): https; a
    plain-http loopback stand-in is addressed as https (and reached as http by :class:`_Http`)."""
    url = token_url.replace("{tenant}", tenant)
    parts = urlsplit(url)
    path = parts.path
    for tail in ("/oauth2/v2.0/token", "/oauth2/token"):
        if path.endswith(tail):
            path = path[: -len(tail)]
    if parts.scheme != "https" and (parts.hostname or "") not in LOOPBACK:
        raise CredentialError(f"TEAMS_TOKEN_URL {token_url} is not https",
                              "leave TEAMS_TOKEN_URL unset (Microsoft's) or give an https address",
                              code="token_url_not_https", auth=True)
    return urlunsplit(("https", parts.netloc, path, "", ""))


def explain(result: dict[str, Any]) -> CredentialError:
    """Entra's error answer (``error``, ``error_codes``, ``error_description``) as a
    CredentialError naming the AADSTS code, the problem and the fix; never the secret."""
    codes = [int(c) for c in result.get("error_codes") or [] if str(c).isdigit()]
    desc = str(result.get("error_description") or "")
    if not codes and desc.startswith("AADSTS"):
        digits = desc[6:].split(":", 1)[0]
        codes = [int(digits)] if digits.isdigit() else []
    error = str(result.get("error") or "error")
    for c in codes:
        if c in AADSTS:
            problem, fix = AADSTS[c]
            return CredentialError(f"AADSTS{c}: {problem}", fix, code=f"AADSTS{c}", auth=True)
    label = f"AADSTS{codes[0]}" if codes else error
    auth = error in ("invalid_client", "unauthorized_client", "invalid_request", "invalid_tenant",
                     "invalid_scope") or bool(codes)
    return CredentialError(f"{label}: Entra refused the token request ({error})",
                           "check MICROSOFT_APP_ID, MICROSOFT_APP_TENANT_ID and the secret or certificate "
                           "against the app registration", code=label, auth=auth)


class TokenSource:
    """Client-credentials tokens for one resource (``scope``), acquired with MSAL and cached
    until shortly before they expire; every outcome is told to ``health``."""

    def __init__(self, credential: Credential, scope: str = BOT_SCOPE, *, http: httpx.Client | None = None,
                 health: Health | None = None) -> None:
        self.credential, self.scope = credential, scope
        self.http = http or httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))
        self.health = health if health is not None else Health(credential)
        self._app: Any = None
        self._lock = threading.Lock()

    @property
    def token_url(self) -> str:
        """The token endpoint as configured (for the development-mode check)."""
        return self.credential.token_url.replace("{tenant}", self.credential.tenant)

    def _application(self) -> Any:
        import msal

        if self._app is None:
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.credential.app_id, client_credential=self.credential.msal_credential(),
                    authority=authority_of(self.credential.token_url, self.credential.tenant),
                    http_client=_Http(self.http), instance_discovery=False)
            except ValueError as exc:  # the tenant's OpenID configuration was refused (AADSTS90002)
                text = f"{exc} {exc.__context__}"  # MSAL wraps the discovery's own error
                if "HTTP status: 4" in text or "AADSTS90002" in text:
                    raise CredentialError(f"AADSTS90002: {AADSTS[90002][0]}", AADSTS[90002][1],
                                          code="AADSTS90002", auth=True) from None
                raise CredentialError("the tenant's sign-in configuration could not be read",
                                      "check TEAMS_TOKEN_URL and MICROSOFT_APP_TENANT_ID",
                                      code="discovery_failed", auth=True) from None
            except (httpx.HTTPError, OSError) as exc:
                raise CredentialError(f"Entra did not answer ({type(exc).__name__})",
                                      "check this machine reaches login.microsoftonline.com",
                                      code="unreachable", auth=False) from None
        return self._app

    def token(self, *, fresh: bool = False) -> str:
        """A bearer token for the resource; CredentialError when Entra refuses or is unreachable."""
        with self._lock:
            try:
                app = self._application()
                if fresh:
                    cache = app.token_cache
                    for at in cache.search(cache.CredentialType.ACCESS_TOKEN):
                        cache.remove_at(at)
                result = app.acquire_token_for_client(scopes=[self.scope])
            except CredentialError as exc:
                self.health.failed(exc)
                raise
            except (httpx.HTTPError, OSError) as exc:
                err = CredentialError(f"Entra did not answer ({type(exc).__name__})",
                                      "check this machine reaches login.microsoftonline.com",
                                      code="unreachable", auth=False)
                self.health.failed(err)
                raise err from None
            if "access_token" not in result:
                err = explain(result)
                self.health.failed(err)
                raise err
            self.health.succeeded()
            return str(result["access_token"])


@dataclass
class Health:
    """The credential's last outcome and its expiry: for /readyz, /metrics and ``baton doctor``."""

    credential: Credential
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    monotonic: Callable[[], float] = time.monotonic
    last_error: CredentialError | None = None
    checked_at: float | None = None
    ok: bool | None = None  # None until a token was asked for
    _warned_on: date | None = None
    _ends: list[datetime | None] = field(default_factory=list)  # the expiry, read once

    def succeeded(self) -> None:
        """A token was acquired."""
        if self.ok is False:
            log.info("teams_credential_ok", extra={"credential": self.credential.kind})
        self.ok, self.last_error, self.checked_at = True, None, self.monotonic()
        self.warn_if_expiring()  # in every process that gets tokens (serve, sweep), once a day

    def failed(self, error: CredentialError) -> None:
        """Entra refused, or did not answer."""
        if self.ok is not False or (self.last_error and self.last_error.code != error.code):
            log.error("teams_credential_refused" if error.auth else "teams_token_unavailable",
                      extra={"code": error.code, "credential": self.credential.kind, "reason": error.problem})
        self.ok, self.last_error, self.checked_at = False, error, self.monotonic()

    def seconds_left(self) -> float | None:
        """Seconds until the secret or certificate expires (negative once it has), or None."""
        if not self._ends:
            self._ends.append(self.credential.expires())
        ends = self._ends[0]
        return None if ends is None else (ends - self.clock()).total_seconds()

    def warn_if_expiring(self) -> None:
        """Log ``teams_credential_expiring`` (once a day) within :data:`WARN_DAYS` of expiry."""
        left = self.seconds_left()
        today = self.clock().date()
        if left is None or left > WARN_DAYS * 86400 or self._warned_on == today:
            return
        self._warned_on = today
        log.warning("teams_credential_expiring" if left > 0 else "teams_credential_expired",
                    extra={"credential": self.credential.kind, "days_left": int(left // 86400)})

    def readiness(self, source: TokenSource) -> str | None:
        """None when Baton can get a token (or Entra merely did not answer); the reason when
        Entra refuses its credentials. A refusal is asked again after :data:`RETRY_FAILED` s."""
        self.warn_if_expiring()
        recent = self.checked_at is not None and self.monotonic() - self.checked_at < RETRY_FAILED
        if not (self.ok is False and recent):
            with contextlib.suppress(CredentialError):
                source.token()
        err = self.last_error
        if self.ok is False and err is not None and err.auth:
            return f"Teams credentials refused ({err.problem}); {err.fix}"
        return None

    def metrics(self) -> bytes:
        """``baton_teams_credential_ok`` and ``baton_teams_credential_expiry_seconds`` in
        Prometheus' text format."""
        lines = ["# HELP baton_teams_credential_ok 1 when Entra gave Baton a token, 0 when it refused",
                 "# TYPE baton_teams_credential_ok gauge",
                 f'baton_teams_credential_ok{{credential="{self.credential.kind}"}} {1 if self.ok else 0}']
        left = self.seconds_left()
        if left is not None:
            lines += ["# HELP baton_teams_credential_expiry_seconds Seconds until the client secret "
                      "or certificate expires",
                      "# TYPE baton_teams_credential_expiry_seconds gauge",
                      f'baton_teams_credential_expiry_seconds{{credential="{self.credential.kind}"}} '
                      f"{left:.0f}"]
        return ("\n".join(lines) + "\n").encode()


def probes(readiness: Callable[[], str | None], metrics: Callable[[], bytes], source: TokenSource | None
           ) -> tuple[Callable[[], str | None], Callable[[], bytes]]:
    """``/readyz`` and ``/metrics`` with the Teams credential's health beside the store's: not
    ready while Entra refuses Baton's credentials (people would get no answer), and the gauges."""
    if source is None:
        return readiness, metrics

    def ready() -> str | None:
        return readiness() or source.health.readiness(source)

    def figures() -> bytes:
        source.health.warn_if_expiring()
        return metrics() + source.health.metrics()

    return ready, figures
