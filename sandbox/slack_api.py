"""Local stand-in for Slack's Web API, for end-to-end tests and the browser sandbox.

Point a real ``slack_sdk.WebClient`` at it::

    with SlackStandIn() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        client.chat_postMessage(channel="C0TEAM", text="hello")
        assert slack.messages("C0TEAM")[0].text == "hello"

Only the standard library is used: a ``ThreadingHTTPServer`` answers in a background
thread.  All state sits behind one re-entrant lock; the accessors hand out copies made
of frozen dataclasses, so tests and the sandbox page can read while the bot writes.

Besides ``/api/<method>`` the server answers:

* ``POST /response/<token>`` -- response URLs made by :meth:`SlackStandIn.new_response_url`;
* ``POST /upload/<file_id>`` -- upload URLs handed out by ``files.getUploadURLExternal``;
* ``GET /files/<file_id>`` -- the bytes of an uploaded file;
* ``GET /_state`` -- :meth:`SlackStandIn.snapshot` as JSON.

The pseudo-method names :data:`RESPONSE_URL` and :data:`UPLOAD_URL` name the first two in
``calls`` and in the fault-injection helpers.

The implementation lives in the :mod:`sandbox.slack` package, split by concern; this
module re-exports its public names.
"""

from __future__ import annotations

from sandbox.slack.files import UPLOAD_URL
from sandbox.slack.http import DEFAULT_SCOPES
from sandbox.slack.records import Call, Channel, Ephemeral, Message, ResponseRecord, UploadedFile, View
from sandbox.slack.response_urls import RESPONSE_URL
from sandbox.slack.standin import SlackStandIn

__all__ = [
    "DEFAULT_SCOPES",
    "RESPONSE_URL",
    "UPLOAD_URL",
    "Call",
    "Channel",
    "Ephemeral",
    "Message",
    "ResponseRecord",
    "SlackStandIn",
    "UploadedFile",
    "View",
]
