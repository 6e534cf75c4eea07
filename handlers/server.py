"""HTTP serving: a WSGI app (Slack requests at /slack/events, Teams activities at /api/messages,
/healthz, /readyz, /metrics) and gunicorn; one process can serve both platforms.

Slack's requests are checked here before Bolt sees them: a body above :data:`MAX_BODY` is refused
unread (413), an unsigned or stale one answers 401 and a signed but malformed one 400, each with
one short log line and never a traceback.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("baton.http")
MAX_BODY = 256 * 1024  # bytes; Slack's own payloads are tens of KB
MAX_AGE = 5 * 60  # seconds a signed request stays valid (Slack's advice)


class Refused(Exception):
    """A request answered without reaching Bolt: its status and the one line logged for it."""

    def __init__(self, status: str, why: str) -> None:
        super().__init__(why)
        self.status = status


def _read(environ: WSGIEnvironment) -> bytes:
    """The request body, refused (413) above :data:`MAX_BODY` before a byte of it is read."""
    length_text = (environ.get("CONTENT_LENGTH") or "0").strip() or "0"
    if not length_text.isdigit():
        raise Refused("400 Bad Request", "Content-Length is not a number")
    length = int(length_text)
    if length > MAX_BODY:
        raise Refused("413 Content Too Large", f"body of {length} bytes is over {MAX_BODY}")
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    return body


def check_signature(verifier: SignatureVerifier, environ: WSGIEnvironment, body: bytes) -> None:
    """Refused (401) unless the request carries a current, valid Slack signature."""
    ts = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""
    sig = environ.get("HTTP_X_SLACK_SIGNATURE") or ""
    if not ts.isdigit() or not sig.isascii() or not sig:
        raise Refused("401 Unauthorized", "unsigned request (no valid signature headers)")
    if not verifier.is_valid(body=body, timestamp=ts, signature=sig):
        raise Refused("401 Unauthorized", "bad or stale signature")


def check_shape(environ: WSGIEnvironment, body: bytes) -> None:
    """Refused (400) unless a signed body has the shape Slack sends: a JSON object, or a form
    whose ``payload`` (interactions) is a JSON object with a type, or a slash command."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("400 Bad Request", "body is not UTF-8") from None
    if "\x00" in text:
        raise Refused("400 Bad Request", "body holds a NUL byte")
    if (environ.get("CONTENT_TYPE") or "").startswith("application/json"):
        try:
            data: Any = json.loads(text)
        except ValueError:
            raise Refused("400 Bad Request", "JSON body does not parse") from None
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            raise Refused("400 Bad Request", "JSON body is not an object with a type")
        return
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form:
        try:
            payload: Any = json.loads(form["payload"][0])
        except ValueError:
            raise Refused("400 Bad Request", "payload does not parse as JSON") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise Refused("400 Bad Request", "payload is not an object with a type")
        user = payload.get("user")
        if payload["type"] != "url_verification" and not (
                isinstance(user, dict) and isinstance(user.get("id"), str)):
            raise Refused("400 Bad Request", "payload names no user")
        return
    if "ssl_check" in form:
        return
    if not form.get("command") or not form.get("user_id"):
        raise Refused("400 Bad Request", "form is neither a slash command nor an interaction")


def wsgi_app(bolt: App | None, *, metrics: Callable[[], bytes] | None = None,
             ready: Callable[[], bool] | None = None,
             signing_secret: str | None = None,
             teams: WSGIApplication | None = None) -> WSGIApplication:
    """Slack's requests at /slack/events (checked first, see the module), Teams' at /api/messages
    (``teams``: handlers/teams/app.py checks their tokens), a liveness probe at /healthz, a
    readiness probe at /readyz (503 while ``ready`` says the store is unreachable), Prometheus at
    /metrics. Either platform may be left out (None)."""
    slack = SlackRequestHandler(bolt) if bolt is not None else None
    verifier = SignatureVerifier(str(signing_secret or getattr(bolt, "_signing_secret", "")
                                     ) or "-") if bolt is not None else None

    def plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
        start_response(status, [("Content-Type", "text/plain")])
        return [text.encode() + b"\n"]

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return plain(start_response, "200 OK", "ok")
        if path == "/readyz":
            if ready is None or ready():
                return plain(start_response, "200 OK", "ready")
            return plain(start_response, "503 Service Unavailable", "not ready: the database is unreachable")
        if path == "/metrics" and metrics is not None:
            try:
                figures = metrics()
            except Exception as exc:  # the store is down: say so, without a traceback
                log.warning("metrics unavailable: %s", type(exc).__name__)
                return plain(start_response, "503 Service Unavailable", "metrics unavailable")
            start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4")])
            return [figures]
        if path == "/api/messages" and teams is not None:
            return teams(environ, start_response)
        if path != "/slack/events" or slack is None:
            return plain(start_response, "404 Not Found", "not found")
        if environ.get("REQUEST_METHOD") != "POST":
            return plain(start_response, "405 Method Not Allowed", "POST only")
        try:
            body = _read(environ)
            assert verifier is not None
            check_signature(verifier, environ, body)
            check_shape(environ, body)
        except Refused as refused:
            log.warning("refused a request to /slack/events: %s (%s)", refused, refused.status[:3])
            return plain(start_response, refused.status, refused.status[4:].lower())
        environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        return slack(environ, start_response)

    return application


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged line by line (they could carry case references)."""


def serve_in_thread(app: WSGIApplication, host: str = "127.0.0.1", port: int = 0) -> tuple[WSGIServer, str]:
    """Serve ``app`` from a background thread (tests, the sandbox); returns server and base URL."""
    server = make_server(host, port, app, server_class=_Threading, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True, name="baton-http").start()
    return server, f"http://{host}:{server.server_port}"


def run_gunicorn(factory: Callable[[], WSGIApplication], *, host: str, port: int, workers: int,
                 threads: int) -> None:
    """Run under gunicorn (gthread workers); each worker builds its own app after the fork."""
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", None)
            self.cfg.set("timeout", 30)

        def load(self) -> WSGIApplication:
            return factory()

    _App().run()
