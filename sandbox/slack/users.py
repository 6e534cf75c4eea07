"""auth.test and users.info."""

from __future__ import annotations

from datetime import datetime
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
            "url": "https://baton-sandbox.slack.com/",
            "team": "Baton Sandbox",
            "user": "baton",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _users_info(self, p: JSONDict) -> JSONDict:
        user = _opt_str(p.get("user"))
        if user is None or not _is_user_id(user):
            raise _ApiError("user_not_found")
        offset, label = _london_tz()
        return {
            "user": {
                "id": user,
                "team_id": self.team_id,
                "name": user,
                "real_name": user,
                "deleted": False,
                "is_bot": user == self.bot_user_id,
                "is_app_user": False,
                "is_admin": False,
                "tz": TIMEZONE,
                "tz_label": label,
                "tz_offset": offset,
                "profile": {"display_name": user, "real_name": user, "team": self.team_id},
            }
        }
