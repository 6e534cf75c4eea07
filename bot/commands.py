"""Command values: what a person asks Baton to do to a transfer, one dataclass per catalogue action.

A listener (Slack, Teams, the CLI) builds one of these from what the person typed or chose, and
:func:`bot.services.handle` looks its handler up by type, as cosmicpython's message bus does, so
mypy checks what each surface passes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Step:
    """A step on an existing transfer, taken by ``user`` (a chat user id, or 'baton')."""

    transfer_id: int
    user: str


@dataclass(frozen=True)
class Request(Step):
    """Turn an early heads up into the transfer request."""


@dataclass(frozen=True)
class StartAssessment(Step):
    """The receiving manager starts assessing the request."""


@dataclass(frozen=True)
class Accept(Step):
    """The receiving manager accepts, optionally naming the worker and the agreed date."""

    named_worker: str | None = None
    agreed_date: date | None = None
    rationale: str | None = None  # FAQ: "the decision and rationale is fully recorded"


@dataclass(frozen=True)
class AgreeDate(Step):
    """BURY step 5: a team manager agrees the transfer date the other proposed, or proposes another."""

    agreed_date: date | None = None


@dataclass(frozen=True)
class Decline(Step):
    """The receiving manager declines with a written rationale (and a reason, where the pack asks)."""

    rationale: str = ""
    reason_category: str | None = None


@dataclass(frozen=True)
class RequestWork(Step):
    """The receiving manager's audit found work the holding team must do by ``due``."""

    items: tuple[str, ...] = ()
    due: date | None = None


@dataclass(frozen=True)
class WorkDone(Step):
    """The holding team has done the work asked for."""


@dataclass(frozen=True)
class Confirm(Step):
    """Confirm checklist items, each as (checklist id, item id)."""

    items: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RecordAttendance(Step):
    """Whether the receiving team attended the transfer point (pick-up point, ICPC ...)."""

    attended: bool = True
    agreed_absence: bool | None = None
    note: str | None = None
    holding_attended: bool | None = None  # where both teams attend the point (BURY's Core Group)


@dataclass(frozen=True)
class Allocate(Step):
    """Name the worker in the receiving team who will hold the case."""

    named_worker: str = ""


@dataclass(frozen=True)
class Complete(Step):
    """Responsibility passes to the receiving team."""


@dataclass(frozen=True)
class Withdraw(Step):
    """The holding team withdraws the transfer."""

    reason: str = ""


@dataclass(frozen=True)
class Dispute(Step):
    """The holding manager disputes a decline."""

    reason: str = ""


@dataclass(frozen=True)
class Escalate(Step):
    """A manager takes a dispute one level up the ladder."""

    reason: str = ""


@dataclass(frozen=True)
class CapacityConcern(Step):
    """A capacity pressure goes to the next level of the pack's capacity route (not a decline)."""

    concern: str = ""


@dataclass(frozen=True)
class CapacityResolved(Step):
    """The capacity route's level holding a concern marks it dealt with, saying how."""

    note: str = ""


@dataclass(frozen=True)
class Decide(Step):
    """Senior management decides a dispute: the transfer goes ahead, or the case stays."""

    outcome: str = ""
    rationale: str = ""


@dataclass(frozen=True)
class RecordDelay(Step):
    """The transferring area records why the transfer is late and the actions in hand."""

    reason: str = ""
    actions: str = ""


@dataclass(frozen=True)
class Endorse(Step):
    """Senior management endorses the transfer running past its extension point, with the date
    it is now expected by."""

    rationale: str = ""
    expected_by: date | None = None


@dataclass(frozen=True)
class AddressAssessed(Step):
    """The receiving area records the outcome of its address assessment."""

    outcome: str = ""


@dataclass(frozen=True)
class AgreeWithoutSignOff(Step):
    """The Group Manager (S2) agrees the request goes before the Practice Manager's sign-off."""

    note: str | None = None


@dataclass(frozen=True)
class Convert(Step):
    """A temporary move becomes a permanent transfer."""
