"""The Slack Web API client and the loggers and thread pool Bolt runs on, none of which ever
writes a request or response body. Moved out of handlers/slack/app.py, which re-exports them."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler


class _NoDebug(logging.Filter):
    """Drops DEBUG records: at DEBUG, Bolt and slack_sdk log whole request and response bodies
    (typed rationales, case references)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def slack_logger(name: str) -> logging.Logger:
    """A logger for Bolt or the Web API client that never writes DEBUG records, whatever level
    the root, 'baton' or the library loggers are set to; the libraries' own loggers too."""
    for lib in ("slack_sdk", "slack_bolt", name):
        lg = logging.getLogger(lib)
        lg.setLevel(logging.INFO)
        if not any(isinstance(f, _NoDebug) for f in lg.filters):
            lg.addFilter(_NoDebug())
    return logging.getLogger(name)


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in the submitter's context, so the request id bound for a
    Slack request (bot/logs.py) follows it into its listener and the services it calls."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn`` in a copy of the caller's context variables."""
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def web_client(token: str, api_url: str, *, wait_on_429: bool = True) -> WebClient:
    """A Web API client (its log never holds request bodies). With ``wait_on_429`` it waits out
    Slack's Retry-After itself (twice at most), as listeners answering a person need; delivery
    passes False, so a 429 comes back at once and the outbox waits instead (no thread asleep)."""
    handlers: list[RetryHandler] = [RateLimitErrorRetryHandler(max_retry_count=2)] if wait_on_429 else []
    return WebClient(token=token, base_url=api_url, logger=slack_logger("baton.slack.web"),
                     retry_handlers=handlers)
