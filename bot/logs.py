"""Structured logs: one JSON object a line (or aligned text for a terminal), each with time,
level, logger and an ``event`` name, plus what the caller passed in ``extra=`` (transfer_id,
duration_ms, ...) and the request id bound for the work in hand (:func:`request_scope`).

Baton logs through the standard library (``log.info("event_name", extra={...})``), so Bolt,
slack_sdk, gunicorn and APScheduler go through the same pipeline; structlog's ProcessorFormatter
does the rendering and carries the context variables. Never free text: a Baton record whose
message is not an event name is logged as ``unnamed_event`` without its text, the Slack libraries'
messages (which can quote request bodies) are dropped to their logger and level, and an exception
is logged as its type and where it was raised, never its message.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog
from structlog.contextvars import bound_contextvars, get_contextvars
from structlog.types import EventDict, WrappedLogger

EVENT = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
SILENCED = ("slack_sdk", "slack_bolt", "baton.slack.bolt", "baton.slack.web")
# HTTP clients log each request's full URL (a 1:1 conversation id, a OneDrive upload session's
# capability URL with its query string): kept to warnings, and never their text
HTTP_LIBRARIES = ("httpx", "httpcore", "urllib3", "msal")
FIELDS = ("time", "level", "event", "logger", "request_id", "transfer_id", "duration_ms")


def _guard(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """Event names only: a library's or a stray message never reaches the log as text."""
    record: logging.LogRecord | None = event.get("_record")
    name = record.name if record is not None else str(event.get("logger") or "")
    text = str(event.get("event") or "")
    for key in ("message", "asctime"):  # set on the record by other handlers' formatters
        event.pop(key, None)
    if name.startswith(SILENCED):
        event["event"] = "slack_library_message"
    elif name.startswith(HTTP_LIBRARIES):
        event["event"] = "http_library_message"
    elif name.startswith("baton") and not EVENT.match(text):
        event["event"] = "unnamed_event"
    exc = event.pop("exc_info", None)  # (ProcessorFormatter renders no traceback of its own)
    if exc:
        if exc is True:
            exc = sys.exc_info()
        if isinstance(exc, tuple) and exc[0] is not None:
            event["error"] = exc[0].__name__
            tb = exc[2]
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            if tb is not None:
                code = tb.tb_frame.f_code
                event["at"] = f"{code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno} in {code.co_name}"
    return event


def _order(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """The fixed fields first, then the rest in the order given."""
    return {**{k: event.pop(k) for k in FIELDS if k in event}, **event}


def _chain() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        structlog.stdlib.ExtraAdder(),
        _guard,
    ]


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def formatter(fmt: str) -> logging.Formatter:
    """The formatter for ``json`` lines or ``text`` for a terminal."""
    renderer: Any = (structlog.processors.JSONRenderer(sort_keys=False) if fmt == "json"
                     else structlog.dev.ConsoleRenderer(colors=False, sort_keys=False))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_chain(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _order, renderer],
    )


def configure(fmt: str | None = None, level: str = "INFO") -> None:
    """Send every log record to stderr as ``fmt`` (``json``; ``text``; None: text on a terminal,
    JSON otherwise) at ``level``. Safe to call again: the previous handler is replaced."""
    if fmt is None or fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    if fmt not in ("json", "text"):
        raise ValueError(f"BATON_LOG_FORMAT {fmt!r}: choose json or text")
    root = logging.getLogger()
    for h in [h for h in root.handlers if getattr(h, "_baton", False)]:
        root.removeHandler(h)
    handler = _Stderr()
    handler._baton = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)  # a line per migration and plugin
    for name in HTTP_LIBRARIES:  # "HTTP Request: POST https://.../v3/conversations/a:1.../activities"
        logging.getLogger(name).setLevel(logging.WARNING)


def new_request_id() -> str:
    """A short random id for one request."""
    return uuid.uuid4().hex[:16]


@contextmanager
def request_scope(request_id: str | None = None, **fields: Any) -> Iterator[str]:
    """Bind a request id (and ``fields``) to every log line written inside, in this thread and
    in work it hands to executors that copy the context."""
    rid = request_id or new_request_id()
    with bound_contextvars(request_id=rid, **fields):
        yield rid


def current_request_id() -> str | None:
    """The request id bound now, if any."""
    value = get_contextvars().get("request_id")
    return str(value) if value is not None else None


class Timer:
    """Milliseconds since it was made (``duration_ms`` fields)."""

    def __init__(self, clock: Any = time.perf_counter) -> None:
        self._clock = clock
        self._start = clock()

    def ms(self) -> float:
        """Milliseconds elapsed, to a tenth."""
        return round((self._clock() - self._start) * 1000, 1)


def fields(**values: Any) -> MutableMapping[str, Any]:
    """``extra=`` for a log call, without the None values."""
    return {k: v for k, v in values.items() if v is not None}
