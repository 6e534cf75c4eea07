"""Baton's logs on Teams: each request a ``teams_request`` line with its request id, kind, status
and duration; every line a named event (a failure with its reason and error type); never a
conversation id, a Bot Connector or upload-session URL, or a query string, though httpx logs
every request it makes with its full URL."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from bot import logs, services
from bot.org import Org
from bot.ports import UnitOfWork
from handlers.bootstrap import TeamsRuntime
from sandbox.driver import Clock
from sandbox.teams.driver import TeamsDriver

UoW = Callable[[], UnitOfWork]
READER, SPO = "U0REPORT", "U0SMGR"


def _lines(capsys: pytest.CaptureFixture[str]) -> tuple[str, list[dict[str, Any]]]:
    err = capsys.readouterr().err
    return err, [json.loads(line) for line in err.splitlines() if line.strip()]


def test_teams_requests_are_logged_by_name_without_conversation_ids_or_urls(
        teams: TeamsDriver, teams_runtime: TeamsRuntime, uow: UoW, teams_demo_org: Org, clock: Clock,
        engine: sa.Engine, capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("json", "INFO")
    with uow() as u:
        services.raise_transfer(u, teams_demo_org, "U0NPP1", services.RaiseRequest(
            case_ref="X123456", receiving_team="pdu-south"), clock())
    teams_runtime.delivery.deliver(clock())  # opens the manager's chat: POSTs that httpx would log
    assert teams.install(READER) == 200
    assert teams.say(READER, "transfer export 2026-11-01 2026-11-30") == 200
    consent = teams.connector.wait_for(lambda: [
        a for a in teams.chat(READER) for x in a.get("attachments") or []
        if x["contentType"].endswith("consent")])
    attachment = consent[-1]["attachments"][0]
    upload = f"{teams.connector.url}/upload/s9?tempauth=capability-secret-123"
    value = {"type": "fileUpload", "action": "accept", "context": attachment["content"]["acceptContext"],
             "uploadInfo": {"name": "x.csv", "uploadUrl": upload, "contentUrl": "https://od.example/x.csv",
                            "uniqueId": "u9", "fileType": "csv"}}
    teams.connector.fail_next(500, path="/upload/")  # a failure, to see it logged by name
    assert teams.post(teams.activity(READER, "invoke", name="fileConsent/invoke", value=value))[0] == 200
    webchat = teams.activity(READER, "message", text="transfer help")
    webchat["channelId"] = "webchat"
    assert teams.post(webchat)[0] == 403
    teams.connector.wait_for(lambda: [a for a in teams.chat(READER) if "OneDrive" in str(a.get("text"))])
    raw, lines = _lines(capsys)
    assert lines
    assert not [line for line in lines if line["event"] == "unnamed_event"], raw[-2000:]
    requests = [line for line in lines if line["event"] == "teams_request"]
    assert len(requests) >= 4
    assert all(line.get("request_id") and isinstance(line.get("duration_ms"), float)
               and line.get("status") in (200, 403) and line.get("kind") for line in requests), requests
    assert len({line["request_id"] for line in requests}) == len(requests)
    assert {"invoke:fileConsent/invoke", "installationUpdate:add", "message"} <= {r["kind"] for r in requests}
    refused = [line for line in lines if line["event"] == "teams_request_refused"]
    assert refused and refused[0]["status"] == 403 and "msteams" in refused[0]["reason"]
    failed = [line for line in lines if line["event"] == "teams_export_upload_failed"]
    assert failed and failed[0]["error"] == "ChatError" and failed[0]["reason"] == "upload_500"
    chats = [c.id for c in teams.connector.conversations.values()]
    for secret in [*chats, teams.connector.url, "tempauth", "capability-secret", "?", "/v3/conversations"]:
        assert secret not in raw, secret
