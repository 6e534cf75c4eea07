"""The HTTP server in a daemon thread, request parsing and bearer-token auth."""

from __future__ import annotations

import json
import logging
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs

from sandbox.slack.faults import FaultsMixin
from sandbox.slack.records import JSONDict
from sandbox.slack.state import DEFAULT_SCOPES, _ApiError, _opt_str

__all__ = ["DEFAULT_SCOPES", "HttpServerMixin"]

log = logging.getLogger("sandbox.slack_api")  # the name it logged under before the split


_JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")


@dataclass
class _Reply:
    """An HTTP answer: status, body, content type and extra headers."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, payload: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
    ) -> _Reply:
        """A JSON reply with the given status and headers."""
        return cls(status, json.dumps(payload).encode("utf-8"), headers=dict(headers or {}))


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _parse_params(query: str, content_type: str, body: bytes) -> JSONDict:
    params: JSONDict = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _ApiError("invalid_charset") from exc
        if "application/json" in content_type or text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise _ApiError("invalid_json") from exc
            if not isinstance(data, dict):
                raise _ApiError("invalid_json")
            params.update(data)
        else:
            params.update({k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()})
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("{", "["):
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                error = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                raise _ApiError(error, messages=[f"{key} is not valid JSON"]) from exc
    return params


def _handler_for(stand_in: HttpServerMixin) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        server_version = "SlackStandIn/1.0"

        def do_POST(self) -> None:
            """Answer a POST."""
            self._serve()

        def do_GET(self) -> None:
            """Answer a GET."""
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = stand_in._handle_http(self.command, self.path, headers, body)
            if reply is None:  # stopped while hanging: drop the connection unanswered
                self.close_connection = True
                return
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout)
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            """Log the request line at DEBUG instead of writing to stderr."""
            log.debug("slack stand-in: " + format, *args)

    return _Handler


class HttpServerMixin(FaultsMixin):
    """The HTTP server's lifecycle and addresses, and the authenticated Web API entry point."""

    def start(self) -> Self:
        """Bind the socket and serve in a daemon thread; returns self."""
        if self._server is not None:
            raise RuntimeError("SlackStandIn already started")
        self._stopping.clear()
        server = ThreadingHTTPServer((self._host, self._port), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"slack-stand-in:{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hung requests, stop serving and close the socket (idempotent)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        with self._lock:
            self._release.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        """Start (if needed) and return self."""
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("SlackStandIn not started")
        return self._server.server_port

    @property
    def base_url(self) -> str:
        """Root URL of the server, e.g. ``http://127.0.0.1:PORT/``."""
        return f"http://{self._host}:{self.port}/"

    @property
    def api_url(self) -> str:
        """Web API base URL for ``WebClient(base_url=...)``, e.g. ``http://127.0.0.1:PORT/api/``."""
        return f"{self.base_url}api/"

    @abstractmethod
    def _handle_http(
        self, verb: str, raw_path: str, headers: Mapping[str, str], body: bytes
    ) -> _Reply | None:
        """Route one request (None: drop the connection); SlackStandIn supplies the routes."""

    @abstractmethod
    def _methods(self) -> dict[str, Callable[[JSONDict], JSONDict]]:
        """Web API method name -> handler; SlackStandIn supplies the table."""

    def _handle_api(self, method: str, query: str, headers: Mapping[str, str], body: bytes) -> _Reply | None:
        at = time.time()
        token = _bearer(headers.get("authorization"))
        params: JSONDict = {}
        parse_error: _ApiError | None = None
        try:
            params = _parse_params(query, headers.get("content-type", ""), body)
        except _ApiError as exc:
            parse_error = exc
        body_token = params.pop("token", None)
        token = token or _opt_str(body_token)

        if parse_error is None and not self._hang_if_asked(method, self._channel_keys(params)):
            return None

        with self._lock:
            reply_headers = {"X-OAuth-Scopes": ",".join(self._scopes)}
            try:
                handler = self._methods().get(method)
                if handler is None:
                    raise _ApiError("unknown_method")
                if parse_error is not None:
                    raise parse_error
                if not token:
                    raise _ApiError("not_authed")
                if token not in self._tokens:
                    raise _ApiError("invalid_auth")
                if token in self._revoked:
                    raise _ApiError("token_revoked")
                self._check_scope(method, params)
                self._apply_fail_rule(method, self._channel_keys(params))
                body_json: JSONDict = {"ok": True, **handler(params)}
                status = 200
            except _ApiError as exc:
                body_json, status = exc.body(), exc.http_status
                reply_headers.update(exc.headers)
            self._record(method, params, at, token, status, body_json)
        return _Reply.json(body_json, status, reply_headers)
