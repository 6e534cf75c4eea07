"""One chat port over both platforms, for an organisation that runs Slack and Teams at once
(during a move): each person hears on the platform where Baton can reach them, each channel on
its own platform, and every message is redrawn or deleted where it was posted."""

from __future__ import annotations

import re

import sqlalchemy as sa

from bot import views
from bot.ports import Chat, ChatError
from bot.reports import Summary
from handlers.teams.delivery import TeamsChat, is_teams_place
from store import conversations

SLACK_ID = re.compile(r"^[UWCGD][A-Z0-9]{2,}$")


class RoutingChat:
    """Sends to Teams or Slack: a Teams channel or conversation goes to Teams; a person goes to
    Teams once they have the Teams app (Baton keeps their conversation), else to Slack when the
    org file gives them a Slack id, else to Teams (which opens the chat by their Entra id)."""

    def __init__(self, engine: sa.Engine, *, slack: Chat | None, teams: TeamsChat | None) -> None:
        self.engine, self.slack, self.teams = engine, slack, teams

    def chat_for(self, to: str) -> Chat:
        """The platform a recipient, channel or posted message belongs to."""
        if is_teams_place(to) or (self.teams is not None and self.slack is None):
            chat: Chat | None = self.teams
        elif SLACK_ID.match(to) is None or (  # named by e-mail: only Teams can reach them
                self.teams is not None and conversations.of_person(self.engine, to) is not None):
            chat = self.teams
        else:
            chat = self.slack
        if chat is None:
            raise ChatError("platform_not_served", permanent=True)
        return chat

    def post(self, to: str, message: views.Message) -> tuple[str, str]:
        """Post on the recipient's platform."""
        return self.chat_for(to).post(to, message)

    def update(self, channel: str, ts: str, message: views.Message) -> None:
        """Redraw on the platform the message was posted on."""
        self.chat_for(channel).update(channel, ts, message)

    def reply(self, channel: str, ts: str, text: str, *, notify: bool = False) -> tuple[str, str]:
        """Reply in the thread of a message, where it was posted."""
        return self.chat_for(channel).reply(channel, ts, text, notify=notify)

    def link(self, channel: str, ts: str) -> str | None:
        """A link to a message, from the platform it was posted on."""
        return self.chat_for(channel).link(channel, ts)

    def post_file(self, to: str, filename: str, content: str, title: str) -> tuple[str, str]:
        """A file to a person, on their platform."""
        return self.chat_for(to).post_file(to, filename, content, title)

    def post_weekly(self, to: str, summary: Summary) -> tuple[str, str]:
        """The weekly summary, on the recipient's platform."""
        return self.chat_for(to).post_weekly(to, summary)

    def delete(self, channel: str, ts: str) -> None:
        """Delete where it was posted."""
        self.chat_for(channel).delete(channel, ts)
