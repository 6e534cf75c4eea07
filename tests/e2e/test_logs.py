"""Structured logs of a running Baton: JSON lines with event names, one request id from a Slack
request through its listener, the service and the notices it wrote; never free text, names or
case references."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot import logs
from handlers.slack import ids
from tests.e2e.slack import SlackDriver, select, text_input, wait
from tests.e2e.test_slack_app import SMGR, open_transfer, raise_x123456

RATIONALE = "Victim lives on the same street as the proposed address"


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[list[dict[str, Any]]]:
    """Baton's logs as JSON lines on stderr, parsed (every line must parse)."""
    logs.configure("json", "INFO")
    parsed: list[dict[str, Any]] = []
    yield parsed  # (tests/conftest.py takes the handler away afterwards)


class Sent(logging.Handler):
    """Keeps Baton's records and the request ids of notice_sent lines, to wait on (the delivery
    thread sends after the request is answered) without sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.request_ids: set[str] = set()
        self.cond = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        # the request id is an extra field (notice_sent) or bound in this thread's context
        rid = str(getattr(record, "request_id", None) or logs.current_request_id() or "")
        record.__dict__["rid"] = rid
        with self.cond:
            self.records.append(record)
            if record.msg == "notice_sent":
                self.request_ids.add(rid)
            self.cond.notify_all()

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10) -> Any:
        """predicate() once it is truthy; fails after ``timeout`` seconds."""
        with self.cond:
            found = self.cond.wait_for(predicate, timeout)
        assert found, "not logged in time"
        return found


def read(capsys: pytest.CaptureFixture[str], into: list[dict[str, Any]]) -> str:
    """Parse what was logged so far into ``into``; returns the raw text."""
    err = capsys.readouterr().err
    into.extend(json.loads(line) for line in err.splitlines() if line.strip())
    return err


def test_one_request_id_follows_a_decline_through_listener_service_and_notices(
        slack: SlackDriver, uow: Any, json_logs: list[dict[str, Any]],
        capsys: pytest.CaptureFixture[str]) -> None:
    """Each line is JSON with time, level and event; the decline's slack_request, its
    transfer_saved and the notice_written lines share one request id and carry the transfer id;
    neither the rationale nor the case reference appears anywhere."""
    sent = Sent()
    logging.getLogger().addHandler(sent)

    def saved_ids() -> list[str]:
        return [str(getattr(r, "rid", "")) for r in sent.records
                if r.msg == "transfer_saved" and "declined" in getattr(r, "events", [])]

    raise_x123456(slack)
    t = open_transfer(uow)
    slack.press(SMGR, ids.DECLINE, str(t.id))
    wait(slack.api, lambda: slack.api.modal_stack(SMGR))
    _, answer = slack.submit(SMGR, {ids.RATIONALE: text_input(RATIONALE),
                                    ids.DECLINE_REASON: select("heightened_risk")})
    assert "errors" not in answer
    wait(slack.api, lambda: slack.api.messages("U0NMGR"))
    rid_of_decline = sent.wait_for(lambda: [r for r in saved_ids() if r in sent.request_ids])
    raw = read(capsys, json_logs)
    assert all({"time", "level", "event", "logger"} <= set(line) for line in json_logs)
    saved = [line for line in json_logs if line["event"] == "transfer_saved"
             and "declined" in line["events"]]
    assert len(saved) == 1 and saved[0]["transfer_id"] == t.id
    rid = saved[0]["request_id"]
    assert rid_of_decline == [rid]
    logging.getLogger().removeHandler(sent)
    same = [line for line in json_logs if line.get("request_id") == rid]
    assert {line["event"] for line in same} >= {"slack_request", "transfer_saved", "notice_written",
                                                "notice_sent"}  # sent later, by the delivery thread
    request = next(line for line in same if line["event"] == "slack_request")
    assert request["kind"] == "view_submission" and request["status"] == 200
    assert isinstance(request["duration_ms"], float)
    assert all(line["transfer_id"] == t.id for line in same if line["event"] == "notice_written")
    requests = [line["request_id"] for line in json_logs if line["event"] == "slack_request"]
    assert len(set(requests)) == len(requests) >= 4  # command, raise, button, decline: one id each
    for secret in (RATIONALE, "Victim", "X123456", "U0SMGR", "U0NPP1"):
        assert secret not in raw


def test_a_stray_message_or_a_library_message_is_logged_as_an_event_name_without_its_text(
        json_logs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    """Free text never reaches the log: not from Baton, not from the Slack libraries, not from an
    exception's message."""
    logging.getLogger("baton.test").warning("case X123456 declined: %s", RATIONALE)
    logging.getLogger("slack_bolt.App").warning("Unhandled request (%s)", RATIONALE)
    try:
        raise ValueError(f"X123456 {RATIONALE}")
    except ValueError:
        logging.getLogger("baton.test").exception("card_redraw_failed", extra={"transfer_id": 7})
    raw = read(capsys, json_logs)
    assert [line["event"] for line in json_logs] == ["unnamed_event", "slack_library_message",
                                                      "card_redraw_failed"]
    assert json_logs[2]["error"] == "ValueError" and json_logs[2]["transfer_id"] == 7
    assert "X123456" not in raw and "Victim" not in raw and "Traceback" not in raw


def test_text_format_for_a_terminal_names_the_event_and_fields(capsys: pytest.CaptureFixture[str]) -> None:
    """BATON_LOG_FORMAT=text: one readable line, the event then its fields."""
    logs.configure("text", "INFO")
    try:
        with logs.request_scope("abcdef0123456789"):
            logging.getLogger("baton.test").info("transfer_saved", extra={"transfer_id": 3})
        line = capsys.readouterr().err.strip()
    finally:
        logs.configure("json")
    assert "transfer_saved" in line and "transfer_id=3" in line and "request_id=abcdef0123456789" in line
    assert not line.startswith("{")


def test_a_log_format_that_is_neither_json_nor_text_is_refused() -> None:
    """configure names the setting and the choices."""
    with pytest.raises(ValueError, match="BATON_LOG_FORMAT 'xml': choose json or text"):
        logs.configure("xml")

