"""The Slack driver for the end-to-end tests: one copy, in :mod:`sandbox.driver`, shared with the
sandbox page. Tests read like conversations."""

from __future__ import annotations

import sqlalchemy as sa
from slack_sdk import WebClient

from bot.org import Org
from handlers.slack.delivery import SlackChat
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
    users_input,
    wait,
)
from scheduler.delivery import Delivery
from store.repo import SqlUnitOfWork

__all__ = [
    "SECRET",
    "TOKEN",
    "Clock",
    "SlackDriver",
    "checks",
    "date_pick",
    "select",
    "slack_delivery",
    "text_input",
    "user_select",
    "users_input",
    "wait",
]


def slack_delivery(engine: sa.Engine, org: Org, client: WebClient) -> Delivery:
    """Baton's delivery to the Slack stand-in through ``client``."""
    return Delivery(engine, org, SlackChat(client), lambda: SqlUnitOfWork(engine))
