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
import re
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from bot.logs import Timer, request_scope

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("baton.http")
MAX_BODY = 256 * 1024  # bytes; Slack's own payloads are tens of KB
REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
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
             readiness: Callable[[], str | None] | None = None,
             teams: WSGIApplication | None = None,
             metrics_port: int | None = None) -> WSGIApplication:
    """Slack's requests at /slack/events (checked first, see the module), Teams' at /api/messages
    (``teams``: handlers/teams/app.py checks their tokens), a liveness probe at /healthz, a
    readiness probe at /readyz (503 with the reason while ``readiness`` gives one, or while
    ``ready`` says the store is unreachable), Prometheus at /metrics. Either platform may be left
    out (None). With ``metrics_port`` (``BATON_METRICS_BIND``), /metrics answers only on
    connections that came in on that port (read from the socket, not the Host header) and
    that port serves nothing else but the probes."""
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
            why = readiness() if readiness is not None else (
                None if ready is None or ready() else "the database is unreachable")
            if why is None:
                return plain(start_response, "200 OK", "ready")
            return plain(start_response, "503 Service Unavailable", f"not ready: {why}")
        private = metrics_port is not None and _local_port(environ) == metrics_port
        elsewhere = path not in ("/metrics", "/healthz", "/readyz") if private else path == "/metrics"
        if metrics_port is not None and elsewhere:
            return plain(start_response, "404 Not Found", "not found")
        if path == "/metrics" and metrics is not None:
            try:
                figures = metrics()
            except Exception as exc:  # the store is down: say so, without a traceback
                log.warning("metrics_unavailable", extra={"error": type(exc).__name__})
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
            log.warning("request_refused", extra={"path": "/slack/events", "status": int(refused.status[:3]),
                                                  "why": str(refused)})
            return plain(start_response, refused.status, refused.status[4:].lower())
        environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        timer, kind = Timer(), _kind(environ, body)
        answered: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered.append(status)
            return start_response(status, headers, exc_info)

        given = str(environ.get("HTTP_X_REQUEST_ID") or "")  # a balancer's id, if it is a plain one
        with request_scope(given if REQUEST_ID.match(given) else None):  # the listener's threads too
            out = slack(environ, start)
            log.info("slack_request", extra={"kind": kind, "status": int((answered or ["0"])[0][:3]),
                                             "duration_ms": timer.ms()})
        return out

    return application


def _local_port(environ: WSGIEnvironment) -> int | None:
    """The local port the request's connection came in on (gunicorn's socket; None elsewhere)."""
    sock = environ.get("gunicorn.socket")
    try:
        return int(sock.getsockname()[1]) if sock is not None else None
    except (OSError, AttributeError, IndexError, TypeError, ValueError):
        return None


def parse_bind(bind: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``PORT``, on 127.0.0.1) as (host, port); ValueError with the reason."""
    host, _, port = bind.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"BATON_METRICS_BIND {bind!r}: give HOST:PORT, as 127.0.0.1:9100")
    return (host.strip("[]") or "127.0.0.1"), int(port)


def _kind(environ: WSGIEnvironment, body: bytes) -> str:
    """What a Slack request is, in Slack's own words (never what anyone typed): 'command',
    an interaction's type, an event's type."""
    try:
        if (environ.get("CONTENT_TYPE") or "").startswith("application/json"):
            data = json.loads(body)
            event = data.get("event") if isinstance(data.get("event"), dict) else {}
            return str(event.get("type") or data.get("type") or "json")[:40]
        form = parse_qs(body.decode("utf-8"))
        if "payload" in form:
            return str(json.loads(form["payload"][0]).get("type") or "payload")[:40]
    except (ValueError, UnicodeDecodeError, AttributeError):
        return "unknown"
    return "command" if "command" in form else "form"


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged line by line (they could carry case references)."""


def serve_in_thread(app: WSGIApplication, host: str = "127.0.0.1", port: int = 0) -> tuple[WSGIServer, str]:
    """Serve ``app`` from a background thread (tests, the sandbox); returns server and base URL."""
    server = make_server(host, port, app, server_class=_Threading, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                     name="baton-http").start()  # shutdown() waits at most one poll
    return server, f"http://{host}:{server.server_port}"


def run_gunicorn(factory: Callable[[], WSGIApplication], *, host: str, port: int, workers: int,
                 threads: int, on_hup: Callable[[], bool] | None = None,
                 also_bind: str | None = None) -> None:
    """Run under gunicorn (gthread workers); each worker builds its own app after the fork.
    With ``on_hup``, SIGHUP to the master calls it instead of restarting the workers and, when it
    answers True, passes SIGHUP on to each worker (which reloads in place)."""
    import signal

    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter
    from gunicorn.glogging import Logger
    from gunicorn.workers.gthread import ThreadWorker

    class _Worker(ThreadWorker):
        def init_signals(self) -> None:
            super().init_signals()
            # until the app has loaded and installed its own handler, a SIGHUP must not kill the
            # worker (the default); the app's first look at the org file catches the change
            signal.signal(signal.SIGHUP, signal.SIG_IGN)

    class _Log(Logger):
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            self.error_log.handlers.clear()  # through Baton's log handler (bot/logs.py) instead
            self.error_log.propagate = True

    class _Arbiter(Arbiter):
        def handle_hup(self) -> None:
            if on_hup is None:
                super().handle_hup()
            elif on_hup():
                self.kill_workers(signal.SIGHUP)

    class _App(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", [f"{host}:{port}"] + ([also_bind] if also_bind else []))
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", _Worker)
            self.cfg.set("logger_class", _Log)
            self.cfg.set("accesslog", None)
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)
            self.cfg.set("timeout", 30)

        def load(self) -> WSGIApplication:
            return factory()

        def run(self) -> None:
            try:
                _Arbiter(self).run()
            except RuntimeError as exc:
                raise SystemExit(f"gunicorn: {exc}") from None

    _App().run()
