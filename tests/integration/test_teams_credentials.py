"""Teams credential health: a refused secret or certificate takes Baton out of /readyz with the
AADSTS reason (people would otherwise get no answer while it stays 200), the metrics say so, and
a secret or certificate near its expiry is warned about; against the Entra stand-in."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from bot.ports import ChatError
from handlers.server import serve_in_thread, wsgi_app
from handlers.teams.credentials import (
    BOT_SCOPE,
    RETRY_FAILED,
    Credential,
    Health,
    TokenSource,
    probes,
)
from handlers.teams.delivery import ConnectorClient
from sandbox.teams.entra import Certificate, EntraStandIn
from sandbox.teams.standin import APP_ID, APP_PASSWORD, TENANT
from tests.conftest import NOW


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def entra() -> Iterator[EntraStandIn]:
    """The bot's tenant and app registration."""
    with EntraStandIn(clock=lambda: NOW) as stand_in:
        yield stand_in


def source_for(entra: EntraStandIn, ticks: Ticks, **given: object) -> TokenSource:
    """The Bot Connector token source for these credentials, on the test's clocks."""
    args: dict[str, object] = {"app_id": APP_ID, "tenant": TENANT, "secret": APP_PASSWORD,
                               "token_url": entra.token_url, **given}
    cred = Credential(**args)  # type: ignore[arg-type]
    return TokenSource(cred, BOT_SCOPE, health=Health(cred, clock=lambda: NOW, monotonic=ticks))


def probe(source: TokenSource) -> tuple[str, str]:
    """Base URL of a server answering /readyz and /metrics with this source's health."""
    ready, figures = probes(lambda: None, lambda: b"", source)
    server, base = serve_in_thread(wsgi_app(None, metrics=figures, readiness=ready))
    try:
        r, m = httpx.get(f"{base}/readyz"), httpx.get(f"{base}/metrics")
        return f"{r.status_code} {r.text}", m.text
    finally:
        server.shutdown()


def test_a_wrong_secret_makes_readyz_unready_with_the_reason_until_entra_accepts_it(
        entra: EntraStandIn, caplog: pytest.LogCaptureFixture) -> None:
    """AADSTS7000215: /readyz 503 naming it and the fix, baton_teams_credential_ok 0, one named
    log line without the secret; once Entra accepts the secret (asked again after a minute), ready."""
    ticks = Ticks()
    source = source_for(entra, ticks, secret="wrong-secret-value")
    with caplog.at_level(logging.INFO, logger="baton.teams.credentials"):
        ready, metrics = probe(source)
    assert ready.startswith("503 not ready: Teams credentials refused (AADSTS7000215: the client secret "
                            "is wrong")
    assert 'baton_teams_credential_ok{credential="secret"} 0' in metrics
    refused = [r for r in caplog.records if r.getMessage() == "teams_credential_refused"]
    assert len(refused) == 1 and refused[0].code == "AADSTS7000215"  # type: ignore[attr-defined]
    assert "wrong-secret-value" not in caplog.text
    entra.secrets["wrong-secret-value"] = None  # the administrator mends the app registration
    assert probe(source)[0].startswith("503")  # the refusal is remembered for a minute
    ticks.now += RETRY_FAILED + 1
    ready, metrics = probe(source)
    assert ready == "200 ready\n" and 'baton_teams_credential_ok{credential="secret"} 1' in metrics


def test_delivery_refused_a_token_marks_the_credential_unhealthy_at_once(entra: EntraStandIn) -> None:
    """The Bot Connector client gets its token from the same source: an expired secret
    (AADSTS7000222) fails the send as invalid_auth (it waits in the outbox) and /readyz says why."""
    entra.secrets[APP_PASSWORD] = NOW - timedelta(days=1)
    ticks = Ticks()
    source = source_for(entra, ticks)
    client = ConnectorClient(app_id=APP_ID, password=APP_PASSWORD, token_url=source.token_url, source=source)
    with pytest.raises(ChatError) as refused:
        client.token()
    assert refused.value.code == "invalid_auth" and not refused.value.permanent
    assert "AADSTS7000222: the client secret has expired" in probe(source)[0]


def test_entra_not_answering_is_not_a_credential_fault(entra: EntraStandIn) -> None:
    """No answer from Entra: delivery waits and retries, but Baton stays ready (nothing to mend)."""
    ticks = Ticks()
    source = source_for(entra, ticks, token_url="http://127.0.0.1:1/{tenant}/oauth2/v2.0/token")
    ready, metrics = probe(source)
    assert ready == "200 ready\n" and 'baton_teams_credential_ok{credential="secret"} 0' in metrics


def test_a_secret_near_its_expiry_is_warned_once_a_day_and_measured(
        entra: EntraStandIn, caplog: pytest.LogCaptureFixture) -> None:
    """MICROSOFT_APP_SECRET_EXPIRES ten days ahead: the gauge gives the seconds left and a
    teams_credential_expiring warning is logged once that day, however often it is probed."""
    ticks = Ticks()
    source = source_for(entra, ticks, secret_expires=date(2026, 12, 3))
    with caplog.at_level(logging.WARNING, logger="baton.teams.credentials"):
        _, metrics = probe(source)
        probe(source)
    left = (date(2026, 12, 3) - NOW.date()).days * 86400 - 10 * 3600
    assert f'baton_teams_credential_expiry_seconds{{credential="secret"}} {left}' in metrics
    warned = [r for r in caplog.records if r.getMessage() == "teams_credential_expiring"]
    assert len(warned) == 1 and warned[0].days_left == 9  # type: ignore[attr-defined]


def test_a_certificate_gets_tokens_and_reports_its_own_expiry(entra: EntraStandIn, tmp_path: Path) -> None:
    """MSAL signs the client assertion with the certificate's key (x5t#S256); the gauge reads the
    certificate's notAfter, with no setting."""
    cert = Certificate.make(days=90, now=NOW)
    entra.register(cert)
    pem = tmp_path / "baton.pem"
    pem.write_text(cert.pem())
    source = source_for(entra, Ticks(), secret=None, certificate=pem)
    assert source.token()
    ready, metrics = probe(source)
    assert ready == "200 ready\n"
    assert 'baton_teams_credential_ok{credential="certificate"} 1' in metrics
    assert 'baton_teams_credential_expiry_seconds{credential="certificate"} 7776000' in metrics


def test_a_certificate_file_without_its_key_is_named(entra: EntraStandIn, tmp_path: Path) -> None:
    """A PEM holding only the certificate: the problem and the fix, before Entra is asked."""
    cert = Certificate.make(now=NOW)
    pem = tmp_path / "cert-only.pem"
    pem.write_text(cert.pem().split("-----END PRIVATE KEY-----\n", 1)[1])
    ready, _ = probe(source_for(entra, Ticks(), secret=None, certificate=pem))
    assert "needs both the private key and the certificate" in ready and "cat key.pem cert.pem" in ready
