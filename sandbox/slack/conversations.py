"""conversations.open / conversations.info and the known channels."""

from __future__ import annotations

from sandbox.slack.records import Channel, JSONDict
from sandbox.slack.state import StandInState, _ApiError, _is_user_id, _opt_str, _truthy


class ConversationsMixin(StandInState):
    """Channels, DMs and group DMs."""

    @property
    def channels(self) -> dict[str, Channel]:
        """Known conversations by id."""
        with self._lock:
            return dict(self._channels)

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False,
                    is_member: bool = True, is_archived: bool = False) -> Channel:
        """Register (or re-register) a channel with a name (the bot in it unless ``is_member``
        is False; archived when asked)."""
        with self._lock:
            channel = Channel(id=channel_id, name=name, is_private=is_private, is_member=is_member,
                              is_archived=is_archived)
            self._channels[channel_id] = channel
            self._missing.discard(channel_id)
            self._cond.notify_all()
            return channel

    def remove_channel(self, channel_id: str) -> None:
        """Make a conversation answer channel_not_found from now on (history is kept)."""
        with self._lock:
            self._channels.pop(channel_id, None)
            self._missing.add(channel_id)
            self._cond.notify_all()

    def _channel_json(self, ch: Channel) -> JSONDict:
        if ch.is_im:
            return {
                "id": ch.id,
                "is_im": True,
                "user": ch.user,
                "is_user_deleted": False,
                "is_open": True,
            }
        return {
            "id": ch.id,
            "name": ch.name,
            "name_normalized": ch.name,
            "is_channel": not ch.is_private and not ch.is_mpim,
            "is_group": ch.is_private and not ch.is_mpim,
            "is_im": False,
            "is_mpim": ch.is_mpim,
            "is_private": ch.is_private or ch.is_mpim,
            "is_archived": ch.is_archived,
            "is_member": ch.is_member,
            "members": list(ch.members) if ch.is_mpim else None,
            "context_team_id": self.team_id,
        }

    def _conversations_open(self, p: JSONDict) -> JSONDict:
        if _opt_str(p.get("channel")):
            channel_id = self._resolve_channel(p.get("channel"))
        else:
            users = [u.strip() for u in str(p.get("users") or "").split(",") if u.strip()]
            if not users:
                raise _ApiError("users_list_not_supplied")
            if not all(_is_user_id(u) for u in users):
                raise _ApiError("user_not_found")
            if len(users) == 1:
                channel_id = self._resolve_channel(users[0])
            else:
                if len(users) > 8:
                    raise _ApiError("too_many_users")
                members = tuple(sorted({*users, self.bot_user_id}))
                channel_id = "G" + "".join(m[1:] for m in members)[:20].upper()
                if channel_id in self._missing:
                    raise _ApiError("channel_not_found")
                self._channels.setdefault(
                    channel_id,
                    Channel(
                        id=channel_id,
                        name="mpdm-" + "--".join(members),
                        is_mpim=True,
                        members=members,
                    ),
                )
        already = channel_id in self._opened
        self._opened.add(channel_id)
        channel_json: JSONDict = (
            self._channel_json(self._channels[channel_id])
            if _truthy(p.get("return_im"))
            else {"id": channel_id}
        )
        return {"no_op": already, "already_open": already, "channel": channel_json}

    def _conversations_info(self, p: JSONDict) -> JSONDict:
        channel_id = self._resolve_channel(p.get("channel"))
        channel = self._channels[channel_id]
        if channel.is_private and not channel.is_member and not channel.is_mpim:
            raise _ApiError("channel_not_found")  # Slack hides private channels the bot is not in
        return {"channel": self._channel_json(channel)}
