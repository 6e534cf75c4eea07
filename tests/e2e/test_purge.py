"""Purge in chat: Baton's own Slack messages about a purged case are deleted (through the chat
port, against the stand-in) before their references are dropped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from slack_sdk import WebClient

from bot import services
from bot.org import Org
from bot.ports import UnitOfWork
from handlers.slack.delivery import SlackChat
from sandbox.slack_api import SlackStandIn
from tests.conftest import NOW
from tests.e2e.slack import TOKEN, slack_delivery

UoW = Callable[[], UnitOfWork]
LATER = NOW + timedelta(hours=1)
CUTOFF = services.closed_cutoff(NOW.date() + timedelta(days=1))


def _withdrawn_and_delivered(api: SlackStandIn, engine: sa.Engine, org: Org, uow: UoW,
                             ref: str = "X111111") -> int:
    """Raise a transfer, deliver its cards, withdraw it with a rationale and redraw them."""
    client = WebClient(token=TOKEN, base_url=api.api_url)
    with uow() as u:
        t = services.raise_transfer(u, org, "U0NPP1", services.RaiseRequest(
            case_ref=ref, receiving_team="pdu-south"), NOW)
    assert t.id is not None
    delivery = slack_delivery(engine, org, client)
    assert delivery.deliver(NOW) >= 3
    with uow() as u:
        services.act(u, org, "U0NPP1", t.id, "withdraw", NOW, reason="The move fell through")
    delivery.deliver(LATER)
    return t.id


def _naming(api: SlackStandIn, ref: str) -> list[str]:
    """Every message in every conversation of the stand-in that names ``ref``."""
    return [f"{ch}:{m.ts}" for ch, msgs in api.conversations.items() for m in msgs
            if ref in str(m.text) + str(m.blocks)]


def test_purge_deletes_every_message_baton_posted_about_the_case(
        api: SlackStandIn, engine: sa.Engine, org: Org, uow: UoW) -> None:
    """After purge no DM or channel post in Slack names the case, and the other case's stay."""
    _withdrawn_and_delivered(api, engine, org, uow)
    with uow() as u:
        services.raise_transfer(u, org, "U0NPP1", services.RaiseRequest(
            case_ref="X222222", receiving_team="pdu-south"), NOW)
    slack_delivery(engine, org, WebClient(token=TOKEN, base_url=api.api_url)).deliver(LATER)
    posted = _naming(api, "X111111")
    assert len(posted) >= 3
    with uow() as u:
        done = services.purge(u, CUTOFF, SlackChat(WebClient(token=TOKEN, base_url=api.api_url)))
    assert (done.transfers, done.messages, done.kept) == (1, len(posted), 0)
    assert _naming(api, "X111111") == []
    assert len(_naming(api, "X222222")) >= 3
    assert len(api.calls_to("chat.delete")) == len(posted)


def test_a_message_already_gone_does_not_block_the_others(
        api: SlackStandIn, engine: sa.Engine, org: Org, uow: UoW) -> None:
    """One card someone deleted by hand (message_not_found) is skipped; the rest are deleted
    and the transfer is purged."""
    _withdrawn_and_delivered(api, engine, org, uow)
    first = next(m for ch, msgs in api.conversations.items() for m in msgs if "X111111" in str(m.blocks))
    SlackChat(WebClient(token=TOKEN, base_url=api.api_url)).delete(first.channel, first.ts)
    with uow() as u:
        done = services.purge(u, CUTOFF, SlackChat(WebClient(token=TOKEN, base_url=api.api_url)))
    assert done.transfers == 1 and done.kept == 0
    assert _naming(api, "X111111") == []


def test_a_transfer_whose_messages_slack_will_not_delete_is_kept_with_its_references(
        api: SlackStandIn, engine: sa.Engine, org: Org, uow: UoW) -> None:
    """Slack failing (HTTP 500) on a delete keeps the transfer and where its messages are, so the
    next purge removes them; without a chat configured, too, nothing is forgotten."""
    tid = _withdrawn_and_delivered(api, engine, org, uow)
    api.fail_next("chat.delete", status=500)
    chat = SlackChat(WebClient(token=TOKEN, base_url=api.api_url))
    with uow() as u:
        assert services.purge(u, CUTOFF, chat) == services.Purged(0, 0, 1)
    with uow() as u:
        assert services.purge(u, CUTOFF) == services.Purged(0, 0, 1)
        assert u.transfers.get(tid) is not None
    with uow() as u:
        done = services.purge(u, CUTOFF, chat)
    assert done.transfers == 1 and done.kept == 0
    assert _naming(api, "X111111") == []


def test_purge_waits_out_slacks_rate_limit(api: SlackStandIn, engine: sa.Engine, org: Org,
                                           uow: UoW) -> None:
    """A 429 on chat.delete is waited out (Retry-After, through the injected wait) and retried."""
    _withdrawn_and_delivered(api, engine, org, uow)
    api.fail_next("chat.delete", status=429, retry_after=2)
    waited: list[float] = []
    with uow() as u:
        done = services.purge(u, CUTOFF, SlackChat(WebClient(token=TOKEN, base_url=api.api_url)),
                              wait=waited.append)
    assert waited == [2.0] and done.transfers == 1
    assert _naming(api, "X111111") == []
