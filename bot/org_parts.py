"""The parts of the organisation file: the ids it uses (Slack, Teams, Entra, e-mail, teams), closure
days, teams, escalation contacts and people. Moved out of bot/org.py, which re-exports them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    model_validator,
)

from bot.closures import ClosureError, read_ics, span

SLACK_USER = r"^[UW][A-Z0-9]{2,}$"
EMAIL = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,}$"
# A person as Baton names them: a Slack user id, or (for people only on Teams) a work e-mail.
# At most 254 characters: the longest e-mail a mailbox can have, and what the person columns hold.
SlackUser = Annotated[str, Field(pattern=rf"{SLACK_USER}|{EMAIL}", max_length=254)]
SlackChannel = Annotated[str, Field(pattern=r"^[CGD][A-Z0-9]{2,}$")]
# A Microsoft Teams channel (its conversation id) and an Entra object or tenant id.
TeamsChannel = Annotated[str, Field(pattern=r"^19:[A-Za-z0-9_.\-]{1,180}@thread\.(tacv2|skype)$")]
EntraId = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                                        r"[0-9a-fA-F]{12}$")]
TeamId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClosureSpan(_Frozen):
    """Local non-working days in the org file: ``{from: 2026-12-24, to: 2026-12-31, name: ...}``
    (both days included; ``to`` left out for one day)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    start: date = Field(alias="from")
    end: date | None = Field(default=None, alias="to")
    name: str = Field(default="closure", max_length=100)

    def days(self) -> dict[date, str]:
        """Every day the span closes, by date."""
        return span(self.start, self.end or self.start, self.name)

    @model_validator(mode="after")
    def _ordered(self) -> ClosureSpan:
        self.days()  # ends before it starts, or longer than a year: refused here
        return self


Closures = tuple[date | ClosureSpan, ...]


class _Closing(_Frozen):
    """Closure days given in the file (``closures``) or in an iCalendar file (``closures_file``,
    relative to the org file)."""

    closures: Closures = ()
    closures_file: str | None = None
    _days: dict[date, str] = PrivateAttr(default_factory=dict)
    _key: frozenset[tuple[date, str]] = PrivateAttr(default_factory=frozenset)
    _timed_events: int = PrivateAttr(default=0)

    @model_validator(mode="after")
    def _read_closures(self, info: ValidationInfo) -> _Closing:
        days: dict[date, str] = {}
        if self.closures_file:
            base = Path((info.context or {}).get("base", "."))
            path = Path(self.closures_file)
            try:
                found = read_ics(path if path.is_absolute() else base / path)
            except ClosureError as exc:
                raise ValueError(f"closures_file {exc}") from None
            days.update(found.days)
            self._timed_events = found.timed_events
        for c in self.closures:
            days.update(c.days() if isinstance(c, ClosureSpan) else {c: "closure"})
        self._days = dict(sorted(days.items()))
        self._key = frozenset(self._days.items())
        return self

    def closure_days(self) -> dict[date, str]:
        """The days this entry closes (file and list together), by date, with their names."""
        return dict(self._days)

    def closure_items(self) -> frozenset[tuple[date, str]]:
        """:meth:`closure_days` as a frozenset of (day, name): what calendars are shared by."""
        return self._key


class Team(_Frozen):
    """A team that holds or receives cases."""

    id: TeamId
    name: str = Field(min_length=1, max_length=150)
    # The region or service the team belongs to ("North West", "Children's services"): the team
    # pickers group teams by it, the holding team's own group first.
    group: str | None = Field(default=None, min_length=1, max_length=100)
    managers: tuple[SlackUser, ...] = Field(min_length=1)
    members: tuple[SlackUser, ...] = ()
    channel: SlackChannel | None = None
    teams_channel: TeamsChannel | None = None  # the team's channel in Microsoft Teams
    buddy: TeamId | None = None
    policy: str | None = None  # overrides the org's default pack
    escalation: dict[str, Contact] = {}  # overrides the org's contacts for this team
    front_door: bool = False  # routes re-referrals (MASH, FRCD): its members may ask /transfer lastteam
    # ROCH: who may complete the allocation after the pick-up point when its managers are not
    # available, besides its head of service (the pack's service_representatives levels)
    service_representatives: tuple[SlackUser, ...] = ()
    # The service its pack's remit table names this team as (e.g. safeguarding): `/transfer
    # route` names it, and a raise to another team asks why (bot/routing.py)
    service: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")] | None = None


class Contact(_Frozen):
    """Who hears an escalation at one level: users by DM and/or a channel."""

    users: tuple[SlackUser, ...] = ()
    channel: SlackChannel | None = None
    teams_channel: TeamsChannel | None = None

    @model_validator(mode="after")
    def _someone(self) -> Contact:
        if not self.users and self.channel is None and self.teams_channel is None:
            raise ValueError("give users, a channel (Slack or Teams), or both")
        return self

    @property
    def places(self) -> tuple[str, ...]:
        """The channels (Slack's, Teams') where this level hears escalations."""
        return tuple(c for c in (self.channel, self.teams_channel) if c)


class Person(_Frozen):
    """How both chat platforms know one person: the id the org file names them by (a Slack user
    id, or a work e-mail), their work e-mail and their Microsoft Entra object id."""

    id: SlackUser
    email: Annotated[str, Field(pattern=EMAIL, max_length=254)] | None = None
    entra_id: EntraId | None = None
    # how Teams shows them on cards (Slack shows its own); without it, by role and team
    name: str | None = Field(default=None, min_length=1, max_length=100)


Team.model_rebuild()
