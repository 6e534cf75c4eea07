"""auth.test, users.info, users.lookupByEmail, and the people a test or the sandbox registers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.slack.records import JSONDict
from sandbox.slack.state import StandInState, _ApiError, _is_user_id, _opt_str

TIMEZONE = "Europe/London"


def _london_tz() -> tuple[int, str]:
    try:
        offset = datetime.now(ZoneInfo(TIMEZONE)).utcoffset()
    except ZoneInfoNotFoundError:
        offset = None
    seconds = int(offset.total_seconds()) if offset is not None else 0
    return seconds, ("British Summer Time" if seconds else "Greenwich Mean Time")


class UsersMixin(StandInState):
    """Who the bot is, and every user living in TIMEZONE."""

    def _auth_test(self, p: JSONDict) -> JSONDict:
        return {
            "url": self.workspace_url,
            "team": "Baton Sandbox",
            "user": "baton",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def add_user(self, user_id: str, *, email: str | None = None, deleted: bool = False,
                 is_restricted: bool = False, is_ultra_restricted: bool = False,
                 is_bot: bool = False) -> None:
        """Register a person (their work e-mail for users.lookupByEmail; deactivated, a guest
        or a bot when asked). Unregistered user ids still answer as active members."""
        with self._lock:
            self._gone_users.discard(user_id)
            self._users[user_id] = {
                "email": email, "deleted": deleted, "is_restricted": is_restricted,
                "is_ultra_restricted": is_ultra_restricted, "is_bot": is_bot,
            }

    def remove_user(self, user_id: str) -> None:
        """Make users.info answer user_not_found for this id from now on."""
        with self._lock:
            self._users.pop(user_id, None)
            self._gone_users.add(user_id)

    def _users_lookup_by_email(self, p: JSONDict) -> JSONDict:
        email = (_opt_str(p.get("email")) or "").strip().lower()
        for user_id, fields in self._users.items():
            if fields.get("email") and str(fields["email"]).lower() == email:
                return self._user_json(user_id)
        raise _ApiError("users_not_found")

    def _users_info(self, p: JSONDict) -> JSONDict:
        user = _opt_str(p.get("user"))
        if user is None or not _is_user_id(user) or user in self._gone_users:
            raise _ApiError("user_not_found")
        return self._user_json(user)

    def _user_json(self, user: str) -> JSONDict:
        fields: dict[str, Any] = self._users.get(user, {})
        offset, label = _london_tz()
        profile: JSONDict = {"display_name": user, "real_name": user, "team": self.team_id}
        if fields.get("email") and "users:read.email" in self._scopes:
            profile["email"] = fields["email"]
        return {
            "user": {
                "id": user,
                "team_id": self.team_id,
                "name": user,
                "real_name": user,
                "deleted": bool(fields.get("deleted")),
                "is_bot": user == self.bot_user_id or bool(fields.get("is_bot")),
                "is_restricted": bool(fields.get("is_restricted") or fields.get("is_ultra_restricted")),
                "is_ultra_restricted": bool(fields.get("is_ultra_restricted")),
                "is_app_user": False,
                "is_admin": False,
                "tz": TIMEZONE,
                "tz_label": label,
                "tz_offset": offset,
                "profile": profile,
            }
        }
