"""BATON_METRICS_BIND: /metrics answers only on its own port, read from the connection's socket
(a forged Host header does not reach it); the public port answers 404 for /metrics."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.server import parse_bind, wsgi_app


class _Socket:
    def __init__(self, port: int) -> None:
        self.port = port

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


def _get(app: Any, path: str, port: int, host: str = "baton.example.org") -> tuple[str, bytes]:
    answered: list[str] = []
    body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": path, "HTTP_HOST": host,
                         "gunicorn.socket": _Socket(port)},
                        lambda status, headers, exc_info=None: answered.append(status)))
    return answered[0], body


def test_metrics_answer_on_the_metrics_port_only() -> None:
    app = wsgi_app(None, metrics=lambda: b"baton_up 1\n", metrics_port=9100)
    assert _get(app, "/metrics", 9100) == ("200 OK", b"baton_up 1\n")
    assert _get(app, "/metrics", 3000)[0].startswith("404")
    assert _get(app, "/metrics", 3000, host="baton.example.org:9100")[0].startswith("404")  # Host forged
    assert _get(app, "/api/messages", 9100)[0].startswith("404")  # the metrics port serves nothing else
    assert _get(app, "/healthz", 3000)[0] == "200 OK"
    assert _get(app, "/healthz", 9100)[0] == "200 OK"  # the probes answer on both


def test_without_the_setting_metrics_stay_on_the_public_port() -> None:
    app = wsgi_app(None, metrics=lambda: b"baton_up 1\n")
    assert _get(app, "/metrics", 3000)[0] == "200 OK"


def test_a_bind_without_a_port_is_refused_with_its_reason() -> None:
    assert parse_bind("127.0.0.1:9100") == ("127.0.0.1", 9100)
    assert parse_bind("9100") == ("127.0.0.1", 9100)
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_bind("localhost")
