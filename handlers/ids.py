"""Every callback_id, action_id and block_id on Baton's Slack surface, defined once.

Listeners (handlers/app.py) and builders (handlers/blocks.py) both import these, so a
renamed id cannot leave a button or a modal field unheard.
"""

from __future__ import annotations

# ---- modal callback ids (view submissions) -----------------------------------------------------
RAISE_VIEW = "raise_transfer"
HEADSUP_VIEW = "headsup_transfer"
ACCEPT_VIEW = "accept_transfer"
DECLINE_VIEW = "decline_transfer"
WORK_VIEW = "ask_work_transfer"
DELAY_VIEW = "record_delay_transfer"
ENDORSE_VIEW = "endorse_transfer"
HOME_VIEW = "baton_home"

# ---- button action ids (a button's value is the transfer id) -----------------------------------
ACCEPT = "transfer_accept"
DECLINE = "transfer_decline"
ASK_WORK = "transfer_ask_work"
RECORD_DELAY = "transfer_record_delay"
ENDORSE = "transfer_endorse"

# ---- block ids of modal inputs (the input element's action_id is the same string) --------------
CASE_REF = "case_ref"
RECEIVING_TEAM = "receiving_team"
KIND = "kind"
TRANSFER_POINT = "transfer_point"
TRANSFER_POINT_DATE = "transfer_point_date"
FLAGS = "flags"
FUNDING = "funding_note"
CHECKLIST = "checklist"  # option values are "<checklist id>:<item id>"
RATIONALE = "rationale"
DECLINE_REASON = "decline_reason"
NAMED_WORKER = "named_worker"
AGREED_DATE = "agreed_date"
WORK_ITEMS = "work_items"
DELAY_REASON = "delay_reason"
DELAY_ACTIONS = "delay_actions"
ENDORSE_RATIONALE = "endorse_rationale"

# ---- block ids in messages and the home tab -----------------------------------------------------
DECISION_ACTIONS = "transfer_actions"  # suffixed with ":<transfer id>" so each block id is unique
