"""The Slack driver for the end-to-end tests: one copy, in :mod:`sandbox.driver`, shared with the
sandbox page. Tests read like conversations."""

from __future__ import annotations

from sandbox.driver import (
    SECRET,
    TOKEN,
    Clock,
    SlackDriver,
    checks,
    date_pick,
    select,
    text_input,
    user_select,
    wait,
)

__all__ = ["SECRET", "TOKEN", "Clock", "SlackDriver", "checks", "date_pick", "select", "text_input",
           "user_select", "wait"]
