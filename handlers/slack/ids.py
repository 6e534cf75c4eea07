"""Every callback_id, action_id and block_id on Baton's Slack surface, defined once.

Listeners (handlers/slack/app.py) and builders (handlers/slack/blocks.py) both import these, so
a renamed id cannot leave a button or a modal field unheard. A catalogue action's button is
``transfer_<action>``, its form ``<action>_transfer``, and each form input's block id is the
catalogue field's name.
"""

from __future__ import annotations

# ---- modal callback ids (view submissions) -----------------------------------------------------
RAISE_VIEW = "raise_transfer"
HEADSUP_VIEW = "headsup_transfer"
HOME_VIEW = "baton_home"
NOTICE_VIEW = "baton_notice"  # a form that can only say why it cannot go on


def button(action: str) -> str:
    """The action_id of a catalogue action's button (its value is the transfer id)."""
    return f"transfer_{action}"


MORE = "transfer_more"  # a card's overflow menu: each option's value is "<action>:<transfer id>"


def more_value(action: str, transfer_id: int) -> str:
    """The value of an overflow option: the catalogue action and the transfer it is about."""
    return f"{action}:{transfer_id}"


def of_more_value(value: str) -> tuple[str, int]:
    """The catalogue action and transfer id an overflow option's value names (0 if unreadable)."""
    action, _, tid = value.partition(":")
    return action, int(tid) if tid.isdigit() else 0


def form(action: str) -> str:
    """The callback_id of a catalogue action's form."""
    return f"{action}_transfer"


def action_of_button(action_id: str) -> str:
    """The catalogue action a button's action_id names."""
    return action_id.removeprefix("transfer_")


def action_of_form(callback_id: str) -> str:
    """The catalogue action a form's callback_id names."""
    return callback_id.removesuffix("_transfer")


CHUNK = "__"  # a field's checkboxes past Slack's 10 a group go in blocks "<field>__1", "<field>__2" ...


def chunk_id(name: str, n: int) -> str:
    """The block id of the ``n``-th group of a field's checkboxes (Slack allows 10 a group)."""
    return name if n == 0 else f"{name}{CHUNK}{n}"


def field_of_block(block_id: str) -> str:
    """The field a submitted input block belongs to (any group of its checkboxes)."""
    return block_id.split(CHUNK, 1)[0]


ACCEPT = button("accept")
DECLINE = button("decline")
ASK_WORK = button("request_work")
RECORD_DELAY = button("record_delay")
ENDORSE = button("endorse")
ACCEPT_VIEW = form("accept")
DECLINE_VIEW = form("decline")
WORK_VIEW = form("request_work")
DELAY_VIEW = form("record_delay")
ENDORSE_VIEW = form("endorse")

# ---- block ids of modal inputs (the input element's action_id is the same string) --------------
CASE_REF = "case_ref"
RECEIVING_TEAM = "receiving_team"
KIND = "kind"
TRANSFER_POINT = "transfer_point"
TRANSFER_POINT_DATE = "transfer_point_date"
FLAGS = "flags"
FUNDING = "funding_note"
CHECKLIST = "checklist"  # option values are "<checklist id>:<item id>"
URGENT_REASON = "urgent_reason"  # S2: why waiting for the sign-off would delay the child
RESTRICTED = "restricted"  # one checkbox: limit the transfer to the people named on it
EXCLUDED = "excluded"  # people who must never see it or hear of it
# Catalogue form fields: the block id is the field's name (see bot/actions.py).
RATIONALE = "rationale"
DECLINE_REASON = "reason_category"
NAMED_WORKER = "named_worker"
AGREED_DATE = "agreed_date"
WORK_ITEMS = "items"
WORK_DUE = "due"
DELAY_REASON = "reason"
DELAY_ACTIONS = "actions"
ENDORSE_RATIONALE = "rationale"

# ---- block ids in messages and the home tab -----------------------------------------------------
DECISION_ACTIONS = "transfer_actions"  # suffixed with ":<transfer id>" so each block id is unique
