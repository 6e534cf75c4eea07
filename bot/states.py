"""Where a transfer can stand, and the sets of states the lifecycle speaks of."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Where a transfer stands."""

    heads_up = "heads_up"
    requested = "requested"
    under_assessment = "under_assessment"
    accepted = "accepted"
    allocated = "allocated"
    completed = "completed"
    withdrawn = "withdrawn"
    declined = "declined"
    disputed = "disputed"
    escalated = "escalated"
    decided = "decided"


CLOSED = frozenset({State.completed, State.withdrawn, State.declined, State.decided})
OPEN = frozenset(State) - CLOSED
AWAITING_DECISION = frozenset({State.requested, State.under_assessment})
LIVE = frozenset({State.requested, State.under_assessment, State.accepted, State.allocated})
IN_DISPUTE = frozenset({State.disputed, State.escalated})

STATE_LABELS = {
    State.heads_up: "Heads up",
    State.requested: "Requested",
    State.under_assessment: "Under assessment",
    State.accepted: "Accepted",
    State.allocated: "Allocated",
    State.completed: "Completed",
    State.withdrawn: "Withdrawn",
    State.declined: "Declined",
    State.disputed: "Disputed",
    State.escalated: "Escalated",
    State.decided: "Decided (stays with holding team)",
}


def states_text(states: frozenset[State] | set[State]) -> str:
    """States as people read them: 'accepted or allocated'."""
    return " or ".join(sorted(STATE_LABELS[s].lower() for s in states))
