"""The HTTP scaffold the Teams stand-ins share: a threaded server answering every verb in JSON."""

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
