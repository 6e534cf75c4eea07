"""HTTP serving: a WSGI app (Slack requests at /slack/events, /healthz, /metrics) and gunicorn."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment


def wsgi_app(bolt: App, *, metrics: Callable[[], bytes] | None = None) -> WSGIApplication:
    """Slack's requests at /slack/events, a health probe at /healthz, Prometheus at /metrics."""
    slack = SlackRequestHandler(bolt)

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        if path == "/metrics" and metrics is not None:
            start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4")])
            return [metrics()]
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
