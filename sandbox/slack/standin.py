"""SlackStandIn: the parts assembled, with the HTTP routes and the Web API method table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from sandbox.slack.conversations import ConversationsMixin
from sandbox.slack.http import _Reply, log
from sandbox.slack.records import JSONDict
from sandbox.slack.response_urls import ResponseUrlsMixin
from sandbox.slack.users import UsersMixin
from sandbox.slack.views import ViewsMixin


class SlackStandIn(ResponseUrlsMixin, ViewsMixin, ConversationsMixin, UsersMixin):
    """An in-process fake of Slack's Web API, response URLs and file uploads."""

    def _handle_http(
        self, verb: str, raw_path: str, headers: Mapping[str, str], body: bytes
    ) -> _Reply | None:
        parts = urlsplit(raw_path)
        path = parts.path
        try:
            if path.startswith("/api/"):
                return self._handle_api(path[len("/api/") :], parts.query, headers, body)
            if path.startswith("/response/") and verb == "POST":
                return self._handle_response_url(path[len("/response/") :], body)
            if path.startswith("/upload/") and verb == "POST":
                return self._handle_upload(path[len("/upload/") :], body)
            if path.startswith("/files/") and verb == "GET":
                return self._handle_file_download(path[len("/files/") :])
            if path == "/_state" and verb == "GET":
                return _Reply.json(self.snapshot())
            return _Reply(404, b"not found", "text/plain; charset=utf-8")
        except Exception:
            log.exception("slack stand-in failed on %s %s", verb, raw_path)
            return _Reply.json({"ok": False, "error": "fatal_error"}, status=500)

    def _methods(self) -> dict[str, Callable[[JSONDict], JSONDict]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }
