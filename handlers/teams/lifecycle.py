"""Who is talking to Baton on Teams and where Teams reaches them: the person behind an
activity, their 1:1 chat kept from the app's installation (or forgotten on removal), the app
added to or removed from a team or the tenant, the serviceUrl Teams gives for each place, and
exports taken by file consent. A mixin of :class:`handlers.teams.app.TeamsApp`."""

from __future__ import annotations

import contextvars
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from handlers.teams import wire
from store import conversations
from store.conversations import ConversationRef

if TYPE_CHECKING:
    from handlers.teams.app import TeamsDeps

log = logging.getLogger("baton.teams")
TEAM_SCOPES = ("channel", "groupChat")  # installations beyond one person's 1:1 chat


class Lifecycle:
    """The TeamsApp's installation, identity, serviceUrl and file consent handling."""

    deps: TeamsDeps
    replies: ThreadPoolExecutor
    _known: set[str]
    _urls: dict[str, str]

    def _welcome(self, data: dict[str, Any], person: str) -> None:
        """The home card for someone who just added the app (TeamsApp draws it)."""
        raise NotImplementedError

    def _remember(self, activity: wire.Activity) -> None:
        """Keep the serviceUrl Teams gave for this tenant, team and channel, and for the
        person's 1:1 chat, so every later call about them goes there (written only when it changed)."""
        url = activity.service_url
        places = {activity.tenant: url, activity.team_id: url, activity.channel_id: url}
        if activity.conversation_type in ("channel", "groupChat"):
            places[activity.conversation_id.split(";", 1)[0]] = url
        fresh = {p: u for p, u in places.items() if p and self._urls.get(p) != u}
        sender = str((activity.data.get("from") or {}).get("id") or "") if isinstance(
            activity.data.get("from"), dict) else ""
        try:
            if fresh:
                conversations.keep_service_urls(self.deps.engine, fresh, self.deps.clock())
                self._urls.update(fresh)
            if sender and activity.conversation_type in ("", "personal") and self._urls.get(sender) != url:
                conversations.moved(self.deps.engine, sender, url)
                self._urls[sender] = url
        except Exception as exc:  # only an address: the activity itself is still handled
            log.warning("teams_service_url_not_kept", extra={"error": type(exc).__name__})

    def person(self, data: dict[str, Any]) -> str | None:
        """The org file's id of whoever sent an activity (by Entra object id, else the kept reference)."""
        got = data.get("from")
        sender: dict[str, Any] = got if isinstance(got, dict) else {}
        found = self.deps.org.person_by(entra_id=sender.get("aadObjectId"))
        user_id = str(sender.get("id") or "")
        if found is not None and user_id and user_id not in self._known:
            conversations.learn_user_id(self.deps.engine, found, user_id)  # a chat Baton opened itself
            self._known.add(user_id)
        if found is None and sender.get("id"):
            ref = conversations.of_user(self.deps.engine, str(sender["id"]))
            found = ref.person if ref else None
        return found

    def installed(self, data: dict[str, Any]) -> None:
        """Keep (or forget) a person's 1:1 conversation reference from an installation update."""
        conv = data.get("conversation") or {}
        scope = self._scope(data)
        if scope is not None:
            self._scope_changed(data, scope)
            return
        if conv.get("conversationType") not in (None, "personal"):
            return  # someone else joined or left a team or group chat: nothing for Baton to keep
        person = self.person(data)
        if person is None:
            log.info("teams_install_unknown_person", extra={
                "reason": "the org file names nobody with this Entra object id or Teams user id"})
            return
        removed = data.get("action") in wire.REMOVED or (
            data.get("type") == "conversationUpdate" and data.get("membersRemoved"))
        if removed:
            conversations.forget(self.deps.engine, person)
            return
        sender = data.get("from") or {}
        if data.get("action") != "add-upgrade":  # an upgrade is not a new install: no second welcome
            self.replies.submit(contextvars.copy_context().run, self._welcome, data, person)
        conversations.save(self.deps.engine, ConversationRef(
            person=person, conversation_id=str(conv.get("id")), service_url=str(data.get("serviceUrl")),
            tenant_id=str(conv.get("tenantId") or tenant_of(data)),
            user_id=str(sender.get("id") or ""), aad_object_id=sender.get("aadObjectId")), self.deps.clock())

    def _scope(self, data: dict[str, Any]) -> list[str] | None:
        """The places an install or removal beyond one person covers: the whole tenant (the
        conversation is the tenant itself), or a team (its id and the channel it came from); None when it is
        one person's (their 1:1 chat) or someone else joining or leaving a team."""
        conv = data.get("conversation") or {}
        if data.get("type") == "installationUpdate" and data.get("action") in (*wire.ADDED, *wire.REMOVED):
            tenant = tenant_of(data) or ""
            if conv.get("id") in (None, "", tenant) or conv.get("conversationType") == "tenant":
                return [tenant]  # the tenant as a whole: no 1:1 chat, no team
            if conv.get("conversationType") not in TEAM_SCOPES:
                return None
        elif data.get("type") == "conversationUpdate" and conv.get("conversationType") in TEAM_SCOPES:
            bot = str((data.get("recipient") or {}).get("id") or "")
            if not any(m.get("id") == bot for m in data.get("membersRemoved") or []):
                return None  # a colleague left the team: the bot still posts there
        else:
            return None
        team = str(((data.get("channelData") or {}).get("team") or {}).get("id") or "")
        return [team, str(conv.get("id") or "").split(";", 1)[0]]

    def _scope_changed(self, data: dict[str, Any], places: list[str]) -> None:
        """The app removed from (or added back to) a team or the tenant: Teams delivery there
        stops, its notices waiting in the outbox, until it is added back (as Slack's
        app_uninstalled); nothing is forgotten."""
        removed = data.get("action") in wire.REMOVED or data.get("type") == "conversationUpdate"
        kind = conversations.REMOVED if removed else conversations.ADDED
        conversations.record_scope(self.deps.engine, kind, places, self.deps.clock())
        log.warning("teams_app_removed" if removed else "teams_app_added",
                    extra={"scope": "tenant" if len(places) == 1 else "team",
                           "effect": "delivery there waits until the app is added back" if removed
                           else "delivery there resumes"})
        if not removed:
            self.deps.wake()

    def file_consent(self, data: dict[str, Any]) -> dict[str, Any]:
        """The reader accepted (or declined) a file: upload it to their OneDrive and show it in
        the chat, or drop it. Only the person it was held for can take it. The file leaves the
        database only once the upload succeeded; when it fails the reader is told so (and the
        file is kept until it expires)."""
        from handlers.teams.delivery import FILE_INFO, activities_path

        person = self.person(data)
        value = data.get("value") if isinstance(data.get("value"), dict) else {}
        assert isinstance(value, dict)
        context = value.get("context") if isinstance(value.get("context"), dict) else {}
        token = str((context or {}).get("token") or "")
        held = conversations.held_file(self.deps.engine, token, person) if person and token else None
        if held is None:
            return {"status": 200}  # already taken, declined, expired, or someone else's
        conv = held.conversation_id
        path = activities_path(conv)
        service = str(data.get("serviceUrl"))

        def say(text: str) -> None:
            self.deps.chat.client.call("POST", service, path, {"type": "message", "text": text,
                                                               "textFormat": "plain"}, conversation=conv)

        info = value.get("uploadInfo") if isinstance(value.get("uploadInfo"), dict) else None
        if value.get("action") != "accept" or not info or not info.get("uploadUrl"):
            conversations.drop_file(self.deps.engine, token)
            say("The export was not sent.")
            return {"status": 200}
        try:
            self.deps.chat.upload(str(info["uploadUrl"]), held.content.encode())
        except Exception as exc:
            log.warning("teams_export_upload_failed", extra=failure_fields(exc))
            say("The export could not be saved to your OneDrive, so it has not reached you. Type "
                "transfer export again to try once more.")
            return {"status": 200}
        conversations.drop_file(self.deps.engine, token)
        shown = {"contentType": FILE_INFO, "contentUrl": info.get("contentUrl"),
                 "name": info.get("name") or held.filename,
                 "content": {"uniqueId": info.get("uniqueId"), "fileType": info.get("fileType") or "csv"}}
        self.deps.chat.client.call("POST", service, path, {"type": "message", "attachments": [shown]},
                                   conversation=conv)
        return {"status": 200}


def failure_fields(exc: BaseException) -> dict[str, str]:
    """A failed call as log fields: the error's type and, for a chat error, Teams' reason code."""
    out = {"error": type(exc).__name__}
    code = getattr(exc, "code", None)
    if isinstance(code, str):
        out["reason"] = code[:60]
    return out


def tenant_of(data: dict[str, Any]) -> str | None:
    """The tenant id an activity's channelData names, if any."""
    tenant = ((data.get("channelData") or {}).get("tenant") or {}).get("id")
    return str(tenant) if tenant else None
