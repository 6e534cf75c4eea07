"""The Slack Web API stand-in, exercised through a real slack_sdk WebClient."""

from __future__ import annotations

import dataclasses
import json
import threading
import urllib.request
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from sandbox.slack_api import DEFAULT_SCOPES, RESPONSE_URL, UPLOAD_URL, SlackStandIn

TOKEN = "xoxb-test"
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "transfer_new",
    "title": {"type": "plain_text", "text": "New transfer"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Case details"}}],
}
HOME: dict[str, Any] = {
    "type": "home",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Your transfers"}}],
}


class FakeClock:
    """A settable clock for the limiter and trigger expiry."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def stand_in() -> Iterator[SlackStandIn]:
    with SlackStandIn() as server:
        yield server


@pytest.fixture
def client(stand_in: SlackStandIn) -> WebClient:
    return WebClient(token=TOKEN, base_url=stand_in.api_url)


def error_of(excinfo: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(excinfo.value.response["error"])


def fake_retry_sleep(monkeypatch: pytest.MonkeyPatch, on_sleep: Any) -> None:
    """Route slack_sdk's retry-handler sleep to on_sleep and remove its jitter."""
    monkeypatch.setattr(builtin_handlers, "time", SimpleNamespace(sleep=on_sleep))
    monkeypatch.setattr(builtin_handlers, "random", SimpleNamespace(random=lambda: 0.0))


# ----------------------------------------------------------------- lifecycle and auth


def test_urls_are_unavailable_before_start() -> None:
    """api_url needs a bound port, so asking before start() is an error."""
    with pytest.raises(RuntimeError):
        _ = SlackStandIn().api_url


def test_api_url_points_at_the_bound_local_port(stand_in: SlackStandIn) -> None:
    """The server binds 127.0.0.1 on an ephemeral port and serves /api/."""
    assert stand_in.port > 0
    assert stand_in.api_url == f"http://127.0.0.1:{stand_in.port}/api/"


def test_auth_test_reports_the_bot_identity(stand_in: SlackStandIn, client: WebClient) -> None:
    """auth.test returns team, bot user and bot ids, plus the granted scopes header."""
    resp = client.auth_test()
    assert resp["team_id"] == stand_in.team_id
    assert resp["user_id"] == stand_in.bot_user_id
    assert resp["bot_id"] == stand_in.bot_id
    assert "chat:write" in resp.headers["X-OAuth-Scopes"]


def test_unknown_token_is_refused_with_invalid_auth(stand_in: SlackStandIn) -> None:
    """A token outside the accepted set gets invalid_auth and changes nothing."""
    bad = WebClient(token="xoxb-someone-else", base_url=stand_in.api_url)
    with pytest.raises(SlackApiError) as excinfo:
        bad.chat_postMessage(channel="C1", text="hi")
    assert error_of(excinfo) == "invalid_auth"
    assert stand_in.messages("C1") == []


def test_missing_token_is_refused_with_not_authed(stand_in: SlackStandIn) -> None:
    """No Authorization header and no token param gives not_authed."""
    anonymous = WebClient(base_url=stand_in.api_url)
    with pytest.raises(SlackApiError) as excinfo:
        anonymous.auth_test()
    assert error_of(excinfo) == "not_authed"


def test_extra_tokens_can_be_accepted() -> None:
    """The tokens argument replaces the accepted set."""
    with SlackStandIn(tokens={"xoxb-one", "xoxb-two"}) as server:
        assert WebClient(token="xoxb-two", base_url=server.api_url).auth_test()["ok"]
        with pytest.raises(SlackApiError):
            WebClient(token=TOKEN, base_url=server.api_url).auth_test()


def test_unknown_method_answers_unknown_method(client: WebClient) -> None:
    """Methods the stand-in does not implement answer unknown_method."""
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("cases.list")
    assert error_of(excinfo) == "unknown_method"


# ----------------------------------------------------------------- messages


def test_post_message_stores_message_with_unique_increasing_ts(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    """Posts land in the conversation, by the bot, with ts values that only go up."""
    first = client.chat_postMessage(channel="C1", text="one")
    second = client.chat_postMessage(channel="C1", text="two")
    assert first["channel"] == "C1"
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])
    messages = stand_in.messages("C1")
    assert [m.text for m in messages] == ["one", "two"]
    assert {m.user for m in messages} == {stand_in.bot_user_id}


def test_thread_reply_is_kept_under_its_parent(stand_in: SlackStandIn, client: WebClient) -> None:
    """thread_ts is recorded, and thread() returns the parent and its replies."""
    parent = client.chat_postMessage(channel="C1", text="Transfer CASE-1")
    client.chat_postMessage(channel="C1", text="Accepted", thread_ts=parent["ts"])
    client.chat_postMessage(channel="C1", text="unrelated")
    thread = stand_in.thread("C1", parent["ts"])
    assert [m.text for m in thread] == ["Transfer CASE-1", "Accepted"]
    assert thread[1].thread_ts == parent["ts"]


def test_blocks_sent_as_form_json_string_are_decoded(stand_in: SlackStandIn, client: WebClient) -> None:
    """slack_sdk sends blocks as a JSON string; state and calls hold the decoded list."""
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*CASE-1*"}}]
    client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)
    assert stand_in.messages("C1")[0].blocks == blocks
    assert stand_in.calls_to("chat.postMessage")[0].params["blocks"] == blocks


def test_json_body_requests_are_accepted(stand_in: SlackStandIn, client: WebClient) -> None:
    """A JSON-encoded body is read just like a form body."""
    client.api_call("chat.postMessage", json={"channel": "C1", "text": "via json"})
    assert stand_in.messages("C1")[0].text == "via json"


def test_message_without_content_is_refused_with_no_text(client: WebClient) -> None:
    """A post with neither text, blocks nor attachments answers no_text."""
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("chat.postMessage", json={"channel": "C1"})
    assert error_of(excinfo) == "no_text"


def test_update_changes_text_and_marks_message_updated(stand_in: SlackStandIn, client: WebClient) -> None:
    """chat.update finds the message by channel and ts and replaces its text."""
    posted = client.chat_postMessage(channel="C1", text="Pending")
    client.chat_update(channel="C1", ts=posted["ts"], text="Accepted")
    message = stand_in.message("C1", posted["ts"])
    assert message is not None
    assert message.text == "Accepted"
    assert message.updated


def test_update_of_unknown_ts_answers_message_not_found(client: WebClient) -> None:
    """Updating a ts that was never posted answers message_not_found."""
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel="C1", ts="1.000001", text="x")
    assert error_of(excinfo) == "message_not_found"


def test_bot_cannot_update_a_person_s_message(stand_in: SlackStandIn, client: WebClient) -> None:
    """Messages typed by people cannot be edited with the bot token."""
    typed = stand_in.add_message("C1", user="U1", text="please take CASE-1")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel="C1", ts=typed.ts, text="x")
    assert error_of(excinfo) == "cant_update_message"


def test_delete_removes_the_message(stand_in: SlackStandIn, client: WebClient) -> None:
    """chat.delete removes the message from the conversation."""
    posted = client.chat_postMessage(channel="C1", text="oops")
    client.chat_delete(channel="C1", ts=posted["ts"])
    assert stand_in.messages("C1") == []


def test_ephemeral_is_kept_per_channel_and_user(stand_in: SlackStandIn, client: WebClient) -> None:
    """chat.postEphemeral is visible only under (channel, user), not in the channel."""
    resp = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert resp["message_ts"]
    assert [e.text for e in stand_in.ephemerals_for("C1", "U1")] == ["only you"]
    assert stand_in.ephemerals_for("C1", "U2") == []
    assert stand_in.messages("C1") == []


# ----------------------------------------------------------------- conversations and users


def test_conversations_open_gives_a_stable_dm_channel_per_user(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    """Opening a DM twice gives the same D-channel; other users get other channels."""
    first = client.conversations_open(users="U1")
    again = client.conversations_open(users="U1")
    other = client.conversations_open(users="U2")
    assert first["channel"]["id"].startswith("D")
    assert first["channel"]["id"] == again["channel"]["id"] == stand_in.dm_channel_for("U1")
    assert other["channel"]["id"] != first["channel"]["id"]
    assert again["already_open"] is True


def test_posting_to_a_user_id_lands_in_their_dm(stand_in: SlackStandIn, client: WebClient) -> None:
    """chat.postMessage to U... goes to the bot's DM with that user, as in Slack."""
    dm = client.conversations_open(users="U1")["channel"]["id"]
    resp = client.chat_postMessage(channel="U1", text="reminder")
    assert resp["channel"] == dm
    assert [m.text for m in stand_in.messages(dm)] == ["reminder"]


def test_conversations_info_reports_registered_channel_name(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    """add_channel names a channel; conversations.info returns that name."""
    stand_in.set_scopes([*DEFAULT_SCOPES, "channels:read"])
    stand_in.add_channel("C0TEAM", "probation-north")
    info = client.conversations_info(channel="C0TEAM")
    assert info["channel"]["name"] == "probation-north"
    assert info["channel"]["is_channel"] is True


def test_removed_channel_answers_channel_not_found(stand_in: SlackStandIn, client: WebClient) -> None:
    """After remove_channel both posting and conversations.info answer channel_not_found."""
    stand_in.set_scopes([*DEFAULT_SCOPES, "channels:read"])
    stand_in.add_channel("C0GONE", "archived-team")
    stand_in.remove_channel("C0GONE")
    for call in (
        lambda: client.chat_postMessage(channel="C0GONE", text="hi"),
        lambda: client.conversations_info(channel="C0GONE"),
    ):
        with pytest.raises(SlackApiError) as excinfo:
            call()
        assert error_of(excinfo) == "channel_not_found"


def test_users_info_uses_id_as_name_and_london_timezone(client: WebClient) -> None:
    """users.info needs no real names: the id doubles as name; tz is Europe/London."""
    user = client.users_info(user="U1")["user"]
    assert user["id"] == user["name"] == "U1"
    assert user["is_bot"] is False
    assert user["tz"] == "Europe/London"


# ----------------------------------------------------------------- views


def test_views_open_creates_a_modal_for_the_trigger_s_user(stand_in: SlackStandIn, client: WebClient) -> None:
    """views.open returns the view with a V-id and records it as the user's modal stack."""
    view = client.views_open(trigger_id=stand_in.new_trigger_id("U1"), view=MODAL)["view"]
    assert view["id"].startswith("V")
    stack = stand_in.modal_stack("U1")
    assert [v.id for v in stack] == [view["id"]]
    assert stack[0].callback_id == "transfer_new"


def test_trigger_id_is_single_use(stand_in: SlackStandIn, client: WebClient) -> None:
    """A trigger_id can open one view; a second use is refused."""
    trigger = stand_in.new_trigger_id("U1")
    client.views_open(trigger_id=trigger, view=MODAL)
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=trigger, view=MODAL)
    assert error_of(excinfo) == "exchanged_trigger_id"


def test_unknown_trigger_id_is_refused(client: WebClient) -> None:
    """Trigger ids not issued by new_trigger_id answer invalid_arguments."""
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id="123.456.abc", view=MODAL)
    assert error_of(excinfo) == "invalid_arguments"


def test_trigger_id_expires_after_three_seconds() -> None:
    """A trigger used more than trigger_ttl seconds (by the clock) after issue has expired."""
    clock = FakeClock()
    with SlackStandIn(clock=clock) as server:
        client = WebClient(token=TOKEN, base_url=server.api_url)
        trigger = server.new_trigger_id("U1")
        clock.advance(3.5)
        with pytest.raises(SlackApiError) as excinfo:
            client.views_open(trigger_id=trigger, view=MODAL)
        assert error_of(excinfo) == "expired_trigger_id"


def test_views_push_and_update_by_external_id(stand_in: SlackStandIn, client: WebClient) -> None:
    """Pushed views stack on the root; views.update by external_id edits in place."""
    root = client.views_open(trigger_id=stand_in.new_trigger_id("U1"), view=MODAL)["view"]
    pushed = client.views_push(
        trigger_id=stand_in.new_trigger_id("U1"),
        view={**MODAL, "external_id": "confirm-CASE-1", "callback_id": "confirm"},
    )["view"]
    assert pushed["root_view_id"] == root["id"]
    updated = client.views_update(
        external_id="confirm-CASE-1",
        view={**MODAL, "callback_id": "confirm", "private_metadata": "CASE-1"},
    )["view"]
    assert updated["id"] == pushed["id"]
    stack = stand_in.modal_stack("U1")
    assert [v.id for v in stack] == [root["id"], pushed["id"]]
    assert stack[1].private_metadata == "CASE-1"


def test_views_update_with_stale_hash_answers_hash_conflict(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    """Passing an out-of-date hash to views.update is refused."""
    view = client.views_open(trigger_id=stand_in.new_trigger_id("U1"), view=MODAL)["view"]
    client.views_update(view_id=view["id"], view=MODAL, hash=view["hash"])
    with pytest.raises(SlackApiError) as excinfo:
        client.views_update(view_id=view["id"], view=MODAL, hash=view["hash"])
    assert error_of(excinfo) == "hash_conflict"


def test_views_publish_sets_the_home_view_per_user(stand_in: SlackStandIn, client: WebClient) -> None:
    """views.publish stores one App Home per user and keeps its id across publishes."""
    first = client.views_publish(user_id="U1", view=HOME)["view"]
    second = client.views_publish(user_id="U1", view={**HOME, "private_metadata": "v2"})["view"]
    assert first["id"] == second["id"]
    home = stand_in.home_view("U1")
    assert home is not None
    assert home.private_metadata == "v2"
    assert stand_in.home_view("U2") is None


def test_views_publish_refuses_a_modal(client: WebClient) -> None:
    """App Home views must have type home."""
    with pytest.raises(SlackApiError) as excinfo:
        client.views_publish(user_id="U1", view=MODAL)
    assert error_of(excinfo) == "invalid_arguments"


# ----------------------------------------------------------------- response_url


def test_response_url_defaults_to_an_ephemeral_reply(stand_in: SlackStandIn) -> None:
    """A response without response_type is shown only to the user who invoked it."""
    url = stand_in.new_response_url("C1", "U1")
    assert WebhookClient(url).send(text="Working on it").status_code == 200
    assert [e.text for e in stand_in.ephemerals_for("C1", "U1")] == ["Working on it"]
    assert stand_in.messages("C1") == []
    assert stand_in.responses[0].effect == "ephemeral"


def test_response_url_replace_original_edits_the_earlier_reply(stand_in: SlackStandIn) -> None:
    """replace_original rewrites the message this response URL posted before."""
    webhook = WebhookClient(stand_in.new_response_url("C1", "U1"))
    webhook.send(text="Working on it")
    webhook.send(text="Done", replace_original=True)
    ephemerals = stand_in.ephemerals_for("C1", "U1")
    assert [e.text for e in ephemerals] == ["Done"]
    assert ephemerals[0].updated


def test_response_url_in_channel_posts_a_visible_message(stand_in: SlackStandIn) -> None:
    """response_type in_channel posts for everyone, as the bot."""
    WebhookClient(stand_in.new_response_url("C1", "U1")).send(
        text="CASE-1 transferred", response_type="in_channel"
    )
    messages = stand_in.messages("C1")
    assert [m.text for m in messages] == ["CASE-1 transferred"]
    assert messages[0].source == RESPONSE_URL


def test_response_url_delete_original_removes_the_action_message(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    """With message_ts given, delete_original removes the message the action came from."""
    posted = client.chat_postMessage(channel="C1", text="Accept CASE-1?")
    url = stand_in.new_response_url("C1", "U1", message_ts=posted["ts"])
    WebhookClient(url).send(delete_original=True)
    assert stand_in.messages("C1") == []


def test_response_url_works_at_most_five_times(stand_in: SlackStandIn) -> None:
    """Like Slack, a response URL accepts five posts; the sixth is refused."""
    webhook = WebhookClient(stand_in.new_response_url("C1", "U1"))
    statuses = [webhook.send(text=f"update {n}").status_code for n in range(6)]
    assert statuses == [200] * 5 + [404]
    assert stand_in.calls_to(RESPONSE_URL)[-1].error == "used_url"


# ----------------------------------------------------------------- files


def test_files_upload_v2_round_trip_records_bytes_title_and_channel(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    """files_upload_v2 runs all three steps; the share appears as a message with the file."""
    resp = client.files_upload_v2(
        channel="C1",
        content=b"transfer pack for CASE-1",
        filename="CASE-1.txt",
        title="Transfer pack",
        initial_comment="Pack attached",
    )
    file_id = resp["file"]["id"]
    stored = stand_in.files[file_id]
    assert stored.content == b"transfer pack for CASE-1"
    assert stored.title == "Transfer pack"
    assert stored.channels == ("C1",)
    (message,) = stand_in.messages("C1")
    assert message.files == (file_id,)
    assert message.text == "Pack attached"
    assert len(stand_in.calls_to(UPLOAD_URL)) == 1


# ----------------------------------------------------------------- fault injection


def test_injected_error_answers_ok_false_once(stand_in: SlackStandIn, client: WebClient) -> None:
    """status=200 with an error answers that error once, then the method works again."""
    stand_in.fail_next("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C1", text="first")
    assert error_of(excinfo) == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="second")["ok"]
    assert [m.text for m in stand_in.messages("C1")] == ["second"]


def test_injected_failure_can_target_one_channel(stand_in: SlackStandIn, client: WebClient) -> None:
    """A channel-scoped rule leaves other channels alone."""
    stand_in.fail_next("chat.postMessage", status=200, error="is_archived", channel="C2")
    assert client.chat_postMessage(channel="C1", text="fine")["ok"]
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C2", text="refused")
    assert error_of(excinfo) == "is_archived"


def test_injected_server_error_answers_http_500(stand_in: SlackStandIn, client: WebClient) -> None:
    """status=500 makes the HTTP status 500."""
    stand_in.fail_next("views.publish", status=500)
    with pytest.raises(SlackApiError) as excinfo:
        client.views_publish(user_id="U1", view=HOME)
    assert excinfo.value.response.status_code == 500
    assert stand_in.home_view("U1") is None


def test_injected_429_carries_retry_after(stand_in: SlackStandIn, client: WebClient) -> None:
    """status=429 answers ratelimited with a whole-seconds Retry-After header."""
    stand_in.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C1", text="hi")
    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response.headers["Retry-After"] == "7"
    assert error_of(excinfo) == "ratelimited"


def test_sdk_rate_limit_handler_honours_retry_after(
    stand_in: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RateLimitErrorRetryHandler waits Retry-After seconds, retries, and the post lands once."""
    slept: list[float] = []
    fake_retry_sleep(monkeypatch, slept.append)
    client = WebClient(
        token=TOKEN,
        base_url=stand_in.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    stand_in.fail_next("chat.postMessage", status=429, retry_after=2)
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    assert [c.status for c in stand_in.calls_to("chat.postMessage")] == [429, 200]
    assert slept == [2]
    assert len(stand_in.messages("C1")) == 1


def test_hung_call_is_held_until_released(stand_in: SlackStandIn, client: WebClient) -> None:
    """hang_next holds the request (nothing happens) until release_hung lets it through."""
    stand_in.hang_next("chat.postMessage")
    results: list[Any] = []
    worker = threading.Thread(
        target=lambda: results.append(client.chat_postMessage(channel="C1", text="slow"))
    )
    worker.start()
    stand_in.wait_for(lambda: stand_in.hung_requests == 1)
    assert stand_in.messages("C1") == []
    stand_in.release_hung()
    worker.join(timeout=5)
    assert results and results[0]["ok"]


def test_hung_call_times_out_the_client_but_still_takes_effect(stand_in: SlackStandIn) -> None:
    """A client timeout during a hang does not undo the post: Slack may still deliver it."""
    stand_in.hang_next("chat.postMessage")
    request = urllib.request.Request(
        stand_in.api_url + "chat.postMessage",
        data=b"channel=C1&text=late",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(request, timeout=0.2)
    stand_in.release_hung()
    assert stand_in.wait_for(lambda: stand_in.messages("C1"))[0].text == "late"


# ----------------------------------------------------------------- per-channel limiter


def test_per_channel_limiter_answers_429_when_exceeded() -> None:
    """Over the rate a channel gets 429 + Retry-After; other channels are unaffected."""
    clock = FakeClock()
    with SlackStandIn(per_channel_rate_limit=1.0, clock=clock) as server:
        client = WebClient(token=TOKEN, base_url=server.api_url)
        client.chat_postMessage(channel="C1", text="one")
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_postMessage(channel="C1", text="two")
        assert excinfo.value.response.status_code == 429
        assert excinfo.value.response.headers["Retry-After"] == "1"
        assert client.chat_postMessage(channel="C2", text="elsewhere")["ok"]
        clock.advance(1.0)
        assert client.chat_postMessage(channel="C1", text="two again")["ok"]
        assert [m.text for m in server.messages("C1")] == ["one", "two again"]


def test_per_channel_limiter_counts_only_successful_posts() -> None:
    """Refused posts (injected errors, 429s) do not use up the channel's allowance."""
    clock = FakeClock()
    with SlackStandIn(per_channel_rate_limit=1.0, clock=clock) as server:
        client = WebClient(token=TOKEN, base_url=server.api_url)
        server.fail_next("chat.postMessage", status=200, error="fatal_error")
        with pytest.raises(SlackApiError):
            client.chat_postMessage(channel="C1", text="refused")
        assert client.chat_postMessage(channel="C1", text="counted")["ok"]
        for _ in range(2):
            with pytest.raises(SlackApiError):
                client.chat_postMessage(channel="C1", text="limited")
        clock.advance(1.0)
        assert client.chat_postMessage(channel="C1", text="allowed")["ok"]


def test_sdk_retry_handler_waits_out_the_channel_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk's handler sleeps the advertised Retry-After (on the fake clock) then succeeds."""
    clock = FakeClock()
    fake_retry_sleep(monkeypatch, clock.advance)
    with SlackStandIn(per_channel_rate_limit=1.0, clock=clock) as server:
        client = WebClient(
            token=TOKEN,
            base_url=server.api_url,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
        )
        for n in range(3):
            client.chat_postMessage(channel="C1", text=f"update {n}")
        statuses = [c.status for c in server.calls_to("chat.postMessage")]
        assert statuses == [200, 429, 200, 429, 200]
        assert len(server.messages("C1")) == 3


# ----------------------------------------------------------------- recording and state


def test_calls_are_immutable_records(stand_in: SlackStandIn, client: WebClient) -> None:
    """Recorded calls cannot be altered after the fact."""
    client.chat_postMessage(channel="C1", text="hi")
    call = stand_in.calls_to("chat.postMessage")[0]
    assert call.ok and call.token == TOKEN and call.params["text"] == "hi"
    with pytest.raises(TypeError):
        call.params["text"] = "changed"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.method = "chat.update"  # type: ignore[misc]


def test_wait_for_raises_timeout_when_condition_never_holds(stand_in: SlackStandIn) -> None:
    """wait_for gives up with TimeoutError instead of returning a falsy value."""
    with pytest.raises(TimeoutError):
        stand_in.wait_for(lambda: stand_in.calls_to("chat.postMessage"), timeout=0.01)


def test_snapshot_is_json_serialisable(stand_in: SlackStandIn, client: WebClient) -> None:
    """snapshot() can be sent to the browser sandbox as JSON as-is."""
    client.chat_postMessage(channel="C1", text="hi")
    client.views_publish(user_id="U1", view=HOME)
    client.files_upload_v2(channel="C1", content=b"x", filename="a.txt")
    state = json.loads(json.dumps(stand_in.snapshot()))
    assert state["conversations"]["C1"][0]["text"] == "hi"
    assert state["home_views"]["U1"]["type"] == "home"


def test_reset_forgets_state_and_calls(stand_in: SlackStandIn, client: WebClient) -> None:
    """reset() clears messages, calls and pending fault rules."""
    client.chat_postMessage(channel="C1", text="hi")
    stand_in.fail_next("chat.postMessage", status=500)
    stand_in.reset()
    assert stand_in.calls == [] and stand_in.conversations == {}
    assert client.chat_postMessage(channel="C1", text="after reset")["ok"]


def test_a_method_without_its_scope_answers_missing_scope_naming_it(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    """As Slack does: conversations.info needs channels:read, lookupByEmail users:read.email;
    the granted scopes come back in X-OAuth-Scopes."""
    for call, needed in ((lambda: client.conversations_info(channel="C0TEAM"), "channels:read"),
                         (lambda: client.users_lookupByEmail(email="a@example.org"), "users:read.email")):
        with pytest.raises(SlackApiError) as excinfo:
            call()
        assert (error_of(excinfo), excinfo.value.response["needed"]) == ("missing_scope", needed)
    stand_in.set_scopes(["commands"])
    headers = {k.lower(): v for k, v in client.auth_test().headers.items()}
    assert headers["x-oauth-scopes"] == "commands"


def test_registered_people_answer_lookup_by_email_and_users_info_with_their_state(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    """add_user gives an e-mail and a state; remove_user makes the id unknown."""
    stand_in.set_scopes([*DEFAULT_SCOPES, "users:read.email"])
    stand_in.add_user("U0GONE", email="left@example.org", deleted=True)
    stand_in.add_user("U0GUEST", is_restricted=True)
    found = client.users_lookupByEmail(email="LEFT@example.org")["user"]
    assert (found["id"], found["deleted"]) == ("U0GONE", True)
    assert client.users_info(user="U0GUEST")["user"]["is_restricted"] is True
    with pytest.raises(SlackApiError) as excinfo:
        client.users_lookupByEmail(email="nobody@example.org")
    assert error_of(excinfo) == "users_not_found"
    stand_in.remove_user("U0GUEST")
    with pytest.raises(SlackApiError) as excinfo:
        client.users_info(user="U0GUEST")
    assert error_of(excinfo) == "user_not_found"


def test_a_channel_the_bot_is_not_in_says_so_and_a_private_one_is_hidden(
    stand_in: SlackStandIn, client: WebClient
) -> None:
    """is_member False for a public channel without the bot (posting there: not_in_channel); a
    private one answers channel_not_found."""
    stand_in.set_scopes([*DEFAULT_SCOPES, "channels:read", "groups:read"])
    stand_in.add_channel("C0OUT", "team-out", is_member=False)
    stand_in.add_channel("G0SECRET", "secret", is_private=True, is_member=False)
    assert client.conversations_info(channel="C0OUT")["channel"]["is_member"] is False
    with pytest.raises(SlackApiError) as posting:
        client.chat_postMessage(channel="C0OUT", text="hello")
    assert error_of(posting) == "not_in_channel"
    with pytest.raises(SlackApiError) as excinfo:
        client.conversations_info(channel="G0SECRET")
    assert error_of(excinfo) == "channel_not_found"
