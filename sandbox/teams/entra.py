"""EntraStandIn: Microsoft Entra ID's token endpoint and Microsoft Graph's users, served locally
over HTTP for ``baton doctor``, ``baton org build`` and the credential checks.

As Microsoft documents them (identity platform, "OAuth 2.0 client credentials flow"; Graph
"Get user", "Microsoft Graph error responses", "throttling"):

- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: the tenant's OpenID configuration
  (MSAL reads it before asking for a token); an unknown tenant answers 400 ``AADSTS90002``;
- ``POST /{tenant}/oauth2/v2.0/token`` with ``grant_type=client_credentials``, ``scope`` (a
  resource's ``/.default``) and a ``client_secret``, or a ``client_assertion`` (a JWT signed with
  a registered certificate's key, ``x5t#S256`` its thumbprint): ``{token_type, expires_in,
  ext_expires_in, access_token}``; or Entra's error body (``error``, ``error_description``
  starting ``AADSTSnnn:``, ``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``):
  401 ``invalid_client`` AADSTS7000215 (wrong secret), AADSTS7000222 (expired secret),
  AADSTS700027 (a certificate not registered, or a bad signature); 400 ``unauthorized_client``
  AADSTS700016 (no such app in the tenant);
- ``GET /v1.0/users/{id | userPrincipalName}`` and ``GET /v1.0/users?$filter=mail eq '...'``
  with a Graph token holding the ``User.Read.All`` application role: the user, or 404
  ``Request_ResourceNotFound``, 403 ``Authorization_RequestDenied`` without the role, 401
  ``InvalidAuthenticationToken``; :meth:`EntraStandIn.throttle` makes the next ones 429 with
  ``Retry-After``.
"""

from __future__ import annotations

import base64
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sandbox.teams.serve import json_server, openid_configuration
from sandbox.teams.standin import APP_ID, APP_PASSWORD, TENANT

RESOURCES = ("https://api.botframework.com", "https://graph.microsoft.com")


def aad_error(status: int, error: str, code: int, text: str) -> tuple[int, dict[str, Any]]:
    """Entra's error body for one AADSTS code."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    trace = str(uuid.uuid4())
    return status, {"error": error, "error_codes": [code], "timestamp": stamp, "trace_id": trace,
                    "correlation_id": str(uuid.uuid4()),
                    "error_description": f"AADSTS{code}: {text} Trace ID: {trace} Correlation ID: "
                                         f"{uuid.uuid4()} Timestamp: {stamp}",
                    "error_uri": f"https://login.microsoftonline.com/error?code={code}"}


@dataclass
class Certificate:
    """A self-signed certificate and its key, as an admin makes one for the app registration."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @classmethod
    def make(cls, *, days: int = 365, now: datetime | None = None) -> Certificate:
        """A new 2048-bit RSA key and a certificate for it valid for ``days``."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        start = now or datetime.now(UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "baton")])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(start - timedelta(days=1))
                .not_valid_after(start + timedelta(days=days)).sign(key, hashes.SHA256()))
        return cls(key, cert)

    def pem(self) -> str:
        """The private key and the certificate in one PEM text (MICROSOFT_APP_CERTIFICATE)."""
        key = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
        return (key + self.cert.public_bytes(serialization.Encoding.PEM)).decode()

    def thumbprint(self) -> str:
        """The SHA-256 thumbprint, base64url, as ``x5t#S256`` carries it."""
        return base64.urlsafe_b64encode(self.cert.fingerprint(hashes.SHA256())).decode().rstrip("=")


@dataclass
class User:
    """A user in the tenant's directory."""

    id: str
    upn: str
    mail: str
    enabled: bool = True


@dataclass
class Issued:
    """A token the stand-in gave: for which resource, with which application roles."""

    resource: str
    roles: tuple[str, ...]


class EntraStandIn:
    """An in-process fake of Entra ID's token endpoint and Graph's users, for one tenant and app."""

    def __init__(self, *, tenant: str = TENANT, app_id: str = APP_ID, secret: str | None = APP_PASSWORD,
                 secret_expires: datetime | None = None, host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 connector_tokens: set[str] | None = None) -> None:
        self.tenant, self.app_id, self.clock = tenant, app_id, clock
        # the Bot Connector stand-in's accepted tokens, when Baton gets them here (a rehearsal)
        self.connector_tokens = connector_tokens
        self.secrets: dict[str, datetime | None] = {secret: secret_expires} if secret else {}
        self.certificates: dict[str, Certificate] = {}  # x5t#S256 -> certificate
        self.roles: set[str] = {"User.Read.All"}  # Graph application permissions consented
        self.users: dict[str, User] = {}
        self.issued: dict[str, Issued] = {}
        self.throttled: list[float] = []  # Retry-After of each next Graph call to refuse with 429
        self.calls: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        self.server = json_server(host, port, self.handle)
        self.url = f"http://{host}:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="entra-stand-in")

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- what Baton is configured with, and test helpers -----------------------------------------
    @property
    def token_url(self) -> str:
        """TEAMS_TOKEN_URL for this stand-in (``{tenant}`` filled in by Baton)."""
        return f"{self.url}/{{tenant}}/oauth2/v2.0/token"

    @property
    def graph_url(self) -> str:
        """MICROSOFT_GRAPH_URL for this stand-in."""
        return f"{self.url}/v1.0"

    def add_user(self, mail: str, *, upn: str | None = None, enabled: bool = True) -> str:
        """A user in the directory; their Entra object id."""
        u = User(str(uuid.uuid4()), upn or mail, mail, enabled)
        with self.lock:
            self.users[u.id] = u
        return u.id

    def register(self, certificate: Certificate) -> None:
        """Upload a certificate's public part to the app registration."""
        self.certificates[certificate.thumbprint()] = certificate

    def throttle(self, *retry_after: float) -> None:
        """The next Graph calls answer 429 with these Retry-After seconds, one each."""
        with self.lock:
            self.throttled.extend(retry_after)

    # ---- HTTP ----------------------------------------------------------------------------------
    def handle(self, verb: str, raw: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, Any, dict[str, str]]:
        """Answer one request: (status, JSON body, headers)."""
        parts = urlsplit(raw)
        path, query = unquote(parts.path), parse_qs(parts.query)
        status, payload, extra = self._route(verb, path, query, headers, body)
        with self.lock:
            self.calls.append((verb, path, status))
        return status, payload, extra

    def _route(self, verb: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               body: bytes) -> tuple[int, Any, dict[str, str]]:
        segs = path.strip("/").split("/")
        if verb == "GET" and path.endswith("/v2.0/.well-known/openid-configuration"):
            if segs[0] != self.tenant:
                return (*aad_error(400, "invalid_tenant", 90002, f"Tenant '{segs[0]}' not found. Check "
                                   "to make sure you have the correct tenant ID and are signing into the "
                                   "correct cloud."), {})
            return 200, openid_configuration(self.url, self.tenant), {}
        if verb == "POST" and path.endswith("/oauth2/v2.0/token"):
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            return (*self._token(segs[0], form), {})
        if path.startswith("/v1.0/users"):
            return self._graph(verb, path[len("/v1.0/users"):].strip("/"), query, headers)
        return 404, {"error": "not_found"}, {}

    def _token(self, tenant: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if tenant != self.tenant:
            return aad_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return aad_error(400, "unsupported_grant_type", 70003,
                             "The app requested an unsupported grant type.")
        if form.get("client_id") != self.app_id:
            return aad_error(400, "unauthorized_client", 700016, f"Application with identifier "
                             f"'{form.get('client_id')}' was not found in the directory '{tenant}'.")
        scope = form.get("scope", "")
        resource = scope.removesuffix("/.default")
        if not scope.endswith("/.default") or resource not in RESOURCES:
            return aad_error(400, "invalid_scope", 1002012, "The provided value for scope is not valid. "
                             "Client credential flows must have a scope value with /.default suffixed.")
        problem = self._client_authenticated(form, tenant)
        if problem is not None:
            return problem
        token = secrets.token_urlsafe(24)
        roles = tuple(sorted(self.roles)) if resource.endswith("graph.microsoft.com") else ()
        with self.lock:
            self.issued[token] = Issued(resource, roles)
            if self.connector_tokens is not None and resource == RESOURCES[0]:
                self.connector_tokens.add(token)
        return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                     "access_token": token}

    def _client_authenticated(self, form: dict[str, str], tenant: str) -> tuple[int, dict[str, Any]] | None:
        assertion = form.get("client_assertion")
        if assertion is not None:
            if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                return aad_error(400, "invalid_request", 90014, "The request body must contain the "
                                 "following parameter: 'client_assertion_type'.")
            try:
                header = jwt.get_unverified_header(assertion)
            except jwt.DecodeError:
                return aad_error(401, "invalid_client", 50027, "JWT token is invalid or malformed.")
            cert = self.certificates.get(str(header.get("x5t#S256") or "").rstrip("="))
            if cert is None:
                return aad_error(401, "invalid_client", 700027, "Client assertion failed signature "
                                 "validation. The certificate with identifier used to sign the client "
                                 "assertion is not registered on application.")
            endpoint = openid_configuration(self.url, tenant)["token_endpoint"]
            try:
                claims = jwt.decode(assertion, cert.cert.public_key(),  # type: ignore[arg-type]
                                    algorithms=["PS256", "RS256"], audience=endpoint)
            except jwt.ExpiredSignatureError:
                return aad_error(401, "invalid_client", 700024, "Client assertion is not within its "
                                 "valid time range.")
            except jwt.InvalidTokenError:
                return aad_error(401, "invalid_client", 700027, "Client assertion contains an invalid "
                                 "signature.")
            if claims.get("iss") != self.app_id or claims.get("sub") != self.app_id:
                return aad_error(401, "invalid_client", 700027, "Client assertion contains an invalid "
                                 "issuer or subject.")
            if cert.cert.not_valid_after_utc < self.clock():
                return aad_error(401, "invalid_client", 700027, "The certificate has expired.")
            return None
        given = form.get("client_secret")
        if given is None:
            return aad_error(401, "invalid_client", 7000218, "The request body must contain the "
                             "following parameter: 'client_assertion' or 'client_secret'.")
        if given not in self.secrets:
            return aad_error(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure "
                             "the secret being sent in the request is the client secret value, not the "
                             f"client secret ID, for a secret added to app '{self.app_id}'.")
        ends = self.secrets[given]
        if ends is not None and ends <= self.clock():
            return aad_error(401, "invalid_client", 7000222, f"The provided client secret keys for app "
                             f"'{self.app_id}' are expired. Visit the Azure portal to create new keys "
                             "for your app.")
        return None

    def _graph(self, verb: str, who: str, query: dict[str, list[str]], headers: dict[str, str]
               ) -> tuple[int, Any, dict[str, str]]:
        def error(status: int, code: str, message: str) -> tuple[int, Any, dict[str, str]]:
            return status, {"error": {"code": code, "message": message, "innerError": {
                "date": self.clock().strftime("%Y-%m-%dT%H:%M:%S"), "request-id": str(uuid.uuid4())}}}, {}

        auth = headers.get("Authorization") or headers.get("authorization") or ""
        issued = self.issued.get(auth[7:]) if auth.startswith("Bearer ") else None
        if issued is None or issued.resource != "https://graph.microsoft.com":
            return error(401, "InvalidAuthenticationToken",
                         "Access token validation failure. Invalid audience.")
        with self.lock:
            wait = self.throttled.pop(0) if self.throttled else None
        if wait is not None:
            status, body, _ = error(429, "TooManyRequests", "Too many requests.")
            return status, body, {"Retry-After": f"{wait:g}"}
        if "User.Read.All" not in issued.roles:
            return error(403, "Authorization_RequestDenied",
                         "Insufficient privileges to complete the operation.")
        if verb != "GET":
            return error(405, "Request_BadRequest", "Method not allowed.")
        if not who:
            flt = (query.get("$filter") or [""])[0]
            mail = flt.split("eq", 1)[1].strip().strip("'").replace("''", "'") if " eq " in flt else ""
            found = [u for u in self.users.values() if mail and u.mail.lower() == mail.lower()]
            return 200, {"value": [self._user(u) for u in found]}, {}
        user = next((u for u in self.users.values() if who.lower() in (u.id, u.upn.lower())), None)
        if user is None:
            return error(404, "Request_ResourceNotFound", f"Resource '{who}' does not exist or one of its "
                         "queried reference-property objects are not present.")
        return 200, self._user(user), {}

    @staticmethod
    def _user(u: User) -> dict[str, Any]:
        return {"id": u.id, "userPrincipalName": u.upn, "mail": u.mail, "accountEnabled": u.enabled,
                "userType": "Member"}
