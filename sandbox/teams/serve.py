"""What the Teams stand-ins share: a threaded server answering every verb in JSON, and a tenant's
OpenID configuration as Entra publishes it (MSAL reads it before asking for a token)."""

from __future__ import annotations

import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# (verb, raw path, headers, body) -> (status, JSON body, extra headers)
Answer = Callable[[str, str, dict[str, str], bytes], tuple[int, Any, dict[str, str]]]


def json_server(host: str, port: int, answer: Answer,
                before: Callable[[str, str], None] | None = None) -> ThreadingHTTPServer:
    """A quiet threaded server whose every request ``answer`` answers in JSON (``before`` runs first)."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if before is not None:
                before(self.command, self.path)
            status, payload, headers = answer(self.command, self.path, dict(self.headers), body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the stand-ins log nothing per request."""

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def openid_configuration(base: str, tenant: str) -> dict[str, Any]:
    """A tenant's OpenID configuration as Entra publishes it (endpoints always https)."""
    host = "https://" + base.split("://", 1)[1].rstrip("/")
    return {"token_endpoint": f"{host}/{tenant}/oauth2/v2.0/token",
            "authorization_endpoint": f"{host}/{tenant}/oauth2/v2.0/authorize",
            "issuer": f"{host}/{tenant}/v2.0", "jwks_uri": f"{host}/{tenant}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                      "client_secret_basic"],
            "tenant_region_scope": "EU"}
