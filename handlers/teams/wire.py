"""Bot Connector activities as Microsoft documents them, read from their raw JSON.

Baton routes on the few fields it needs (``type``, ``name``, ``action``, ``value.action.verb``,
``value.trigger``) and reads them leniently: Teams adds fields and values over time
(``"trigger": "automatic"``, ``installationUpdate`` ``add-upgrade``) that a strict model of one
SDK version refuses. What must hold is checked, each with its own clear refusal and nothing
changed: the body is a JSON object with a ``type``; it comes from the ``msteams`` channel (an
Azure Bot also speaks Web Chat and Direct Line, whose clients write ``from`` themselves); it
names the ``serviceUrl`` to answer through (https, or plain http on this machine for the
stand-ins), and a tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

CHANNEL = "msteams"
LOCAL = ("127.0.0.1", "localhost", "::1")
# Teams' documented global fallback: it routes to the region of the tenant (use only when no
# activity has given a serviceUrl for the place yet)
GLOBAL_SERVICE_URL = "https://smba.trafficmanager.net/teams/"
ADDED = ("add", "add-upgrade")  # add-upgrade: the app upgraded where it was installed already
REMOVED = ("remove", "remove-upgrade")
MANUAL, AUTOMATIC = "manual", "automatic"  # adaptiveCard/action value.trigger


class WireError(Exception):
    """An activity Baton refuses: the HTTP status and the reason logged (never the body)."""

    def __init__(self, status: str, why: str) -> None:
        super().__init__(why)
        self.status = status


def service_url_ok(url: object) -> bool:
    """Whether ``url`` is a serviceUrl Baton may send to: https, or http to this machine."""
    if not isinstance(url, str) or len(url) > 500:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.hostname or parts.username or parts.password:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOCAL)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Activity:
    """The parts of an activity Baton routes on, read leniently from the raw JSON."""

    data: dict[str, Any]
    type: str
    name: str
    action: str
    service_url: str
    tenant: str
    conversation_id: str
    conversation_type: str
    team_id: str
    channel_id: str
    verb: str
    trigger: str

    @property
    def kind(self) -> str:
        """What it is, for logs: 'invoke:adaptiveCard/action', 'installationUpdate:add' ..."""
        detail = self.name if self.type == "invoke" else self.action
        return (f"{self.type}:{detail}" if detail else self.type)[:60]

    @property
    def automatic(self) -> bool:
        """An adaptiveCard/action Teams sent by itself (a card opened: refresh it), not a press."""
        return self.trigger == AUTOMATIC


def read(data: object) -> Activity:
    """The activity in a signed body; WireError (4xx) when it is not one Teams would send."""
    if not isinstance(data, dict):
        raise WireError("400 Bad Request", "body is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise WireError("400 Bad Request", "activity has no type")
    channel = data.get("channelId")
    if channel != CHANNEL:
        raise WireError("403 Forbidden", "activity from a channel other than msteams")
    service = data.get("serviceUrl")
    if service in (None, ""):
        raise WireError("400 Bad Request", "activity has no serviceUrl")
    if not service_url_ok(service):
        raise WireError("400 Bad Request", "activity's serviceUrl is not an https address")
    for key in ("from", "recipient", "conversation", "channelData"):
        if data.get(key) is not None and not isinstance(data.get(key), dict):
            raise WireError("400 Bad Request", f"activity's {key} is not an object")
    for key in ("membersAdded", "membersRemoved", "attachments", "entities"):
        got = data.get(key)
        if got is not None and not (isinstance(got, list) and all(isinstance(x, dict) for x in got)):
            raise WireError("400 Bad Request", f"activity's {key} is not a list of objects")
    if kind == "invoke" and data.get("value") is not None and not isinstance(data.get("value"), dict):
        raise WireError("400 Bad Request", "invoke's value is not an object")
    for key in ("id", "text", "name", "action"):
        if data.get(key) is not None and not isinstance(data.get(key), str):
            raise WireError("400 Bad Request", f"activity's {key} is not a string")
    conv = _dict(data.get("conversation"))
    cd = _dict(data.get("channelData"))
    tenant = _str(conv.get("tenantId")) or _str(_dict(cd.get("tenant")).get("id"))
    value = _dict(data.get("value"))
    action = _dict(value.get("action"))
    return Activity(
        data=data, type=kind, name=_str(data.get("name")), action=_str(data.get("action")),
        service_url=str(service), tenant=tenant, conversation_id=_str(conv.get("id")),
        conversation_type=_str(conv.get("conversationType")), team_id=_str(_dict(cd.get("team")).get("id")),
        channel_id=_str(_dict(cd.get("channel")).get("id")), verb=_str(action.get("verb")),
        trigger=_str(value.get("trigger")) or MANUAL)
