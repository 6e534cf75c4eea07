"""Block Kit building blocks every Slack renderer uses: Slack's limits, mrkdwn escaping and
mentions, options, inputs, modals and the actions row of buttons. Moved out of
handlers/slack/blocks.py, which re-exports them. Pure: no Slack calls, no SQL, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import actions, views
from bot.domain import MAX_TEXT
from bot.pickers import trim
from bot.policy import Choice
from handlers.slack import ids

NO_NAMES = actions.NO_NAMES
MAX_MESSAGE_BLOCKS = 50  # Slack's limit for a message
MAX_VIEW_BLOCKS = 100  # Slack's limit for a modal or home tab
WEEKLY_LINES = 10  # team lines per section of the weekly digest
HOME_ROWS = 30  # per section of the home tab: 2 blocks a row keeps the tab under 100 blocks
RAG_EMOJI = {"red": ":red_circle:", "amber": ":large_orange_circle:", "green": ":large_green_circle:"}
RAG_WORDS = {"red": "Overdue", "amber": "Due soon", "green": "On track"}
NO_DEADLINE_EMOJI = ":white_circle:"
_OPTION_MAX = 75  # Slack's limit for an option's text and description
_SELECT_MAX = 100  # options in a static select
_CHECKBOX_MAX = 10  # options in a checkboxes element
_OVERFLOW_MAX = 5  # options in an overflow menu
_FACT_MAX = 600  # a fact on a card, cut at a word (the history has it in full)
_SLACK_ID = re.compile(r"^[UWB][A-Z0-9]{2,}$")
_TIME_FMT = "%d %b %Y %H:%M"
_DATE_FMT = "%d %b %Y"

EVENT_WORDS = {
    "heads_up": "Early heads up given",
    "requested": "Transfer requested",
    "assessment_started": "Assessment started",
    "accepted": "Accepted",
    "allocated": "Named worker allocated",
    "completed": "Transfer completed",
    "withdrawn": "Withdrawn",
    "declined": "Declined",
    "disputed": "Decline disputed",
    "escalated": "Escalated",
    "decided": "Dispute decided",
    "work_requested": "Work asked for",
    "work_completed": "Work completed",
    "delay_recorded": "Reason for delay recorded",
    "extension_endorsed": "Extension endorsed",
    "address_assessed": "Address assessed",
    "checklist_confirmed": "Checklist item confirmed",
    "converted_to_permanent": "Converted to a permanent transfer",
    "upw_extended": "Unpaid work extended",
    "imported": "Imported",
    "transfer_point_attended": "Transfer point attended",
    "transfer_point_missed": "Transfer point not attended",
    "transferred_anyway": "Transferred without acceptance (pick-up point missed)",
    "worker_named": "Worker named",
    "note": "Note",
}


# ---- text helpers --------------------------------------------------------------------------------
_PLAIN_MENTION = re.compile(r"(?<![\w@#&])(?<!&lt;)(@(?=\w)|#(?=[a-z]))", re.IGNORECASE)
WORD_JOINER = "\u2060"  # invisible: "@\u2060channel" reads as @channel and notifies no one


def escape(text: str) -> str:
    """Slack mrkdwn escaping of &, < and >, so "<!channel>" or "<@U123>" in user text pings no
    one; plain "@channel", "@here" and "#general" get an invisible word joiner after the sigil, so
    Slack never turns them into live mentions or channel links."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _PLAIN_MENTION.sub(lambda m: m.group(1) + WORD_JOINER, text)


def mention(user: str) -> str:
    """A Slack user id as a mention (an id, never a name); "baton" is Baton itself."""
    if user == "baton":
        return "Baton"
    return f"<@{user}>" if _SLACK_ID.match(user) else escape(user)


def _clip(text: str, limit: int) -> str:
    return trim(text, limit)  # at a word, with an ellipsis: never mid-word


def _day(d: date | None) -> str:
    return d.strftime(_DATE_FMT) if d else "-"


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=_clip(text, 2000))


def _option(value: str, label: str, hint: str = "") -> Option:
    """An option whose long label spills into its description (Slack allows 75 characters each),
    split where a clause ends (before a bracket, after a colon, semicolon or comma) rather than
    mid-sentence; only a label with no such break is cut at a word, with an ellipsis."""
    if len(label) <= _OPTION_MAX:
        text, rest = label, hint
    else:
        text, rest = _split_label(label)
        if hint:
            rest = f"{rest} ({hint})" if len(rest) + len(hint) + 3 <= _OPTION_MAX else rest
    return Option(value=value, text=text, description=_clip(rest, _OPTION_MAX) if rest else None)


def _split_label(label: str) -> tuple[str, str]:
    """A long label as (text, description), broken where a clause ends (before a bracket, after
    a colon, semicolon or comma), else before a joining word ("that", "in the", "or" ...), so the
    description reads on from the text; only a label with neither is cut at a word, with "…"."""
    for marks in ((" (",), (": ", "; ", ", ", " - "),
                  (" that ", " which ", " in the ", " at the ", " by the ", " for the ", " in advance",
                   " relevant to ", " with ", " before ", " to ", " or ", " and ")):
        best = max((label.rfind(m, 0, _OPTION_MAX) for m in marks), default=-1)
        if best >= 15 and len(label) - best <= _OPTION_MAX + 2:
            text = label[:best].rstrip(",;:")
            rest = label[best:].strip(" ,;:-")
            if rest.startswith("(") and rest.endswith(")") and rest.count("(") == 1:
                rest = rest[1:-1]
            return text, rest
    cut = label.rfind(" ", 0, _OPTION_MAX - 1)
    cut = cut if cut > 0 else _OPTION_MAX - 1
    return label[:cut] + "…", "…" + label[cut:].lstrip()


def _choices(choices: Iterable[Choice]) -> list[Option]:
    return [_option(c.id, c.label, c.hint) for c in choices]


def _shortened(c: Choice) -> bool:
    """Whether Slack's 75 characters made the choice's option lose part of its label or hint."""
    d = _option(c.id, c.label, c.hint).to_dict()
    shown = d["text"]["text"] + " " + (d.get("description") or {}).get("text", "")
    return c.label not in shown or c.hint not in shown


def in_full(choices: Iterable[Choice]) -> list[Block]:
    """A context line giving in full the options Slack's 75 characters made Baton shorten (at a
    word, with "…"), so nothing is lost: right under the input that offers them."""
    lost = [c for c in choices if _shortened(c)]
    if not lost:
        return []
    text = "In full: " + "; ".join(escape(f"{c.label}: {c.hint}" if c.hint else c.label) for c in lost)
    return [ContextBlock(elements=[_md(_clip(text, 2000))])]


def _dicts(blocks: Iterable[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def limit_hint(hint: str | None, max_length: int) -> str:
    """A free-text field's hint with its limit shown ("Up to 3000 characters."), inside Slack's 150."""
    suffix = f"Up to {max_length} characters."
    return f"{_clip(hint, 149 - len(suffix))} {suffix}" if hint else suffix


def _text_input(block_id: str, label: str, *, multiline: bool = False, optional: bool = False,
                hint: str = NO_NAMES, placeholder: str | None = None,
                max_length: int = MAX_TEXT) -> InputBlock:
    return InputBlock(
        block_id=block_id, label=label, optional=optional,
        hint=limit_hint(hint, max_length) if multiline else hint,
        element=PlainTextInputElement(action_id=block_id, multiline=multiline,
                                      max_length=max_length, placeholder=placeholder),
    )


def _select(block_id: str, label: str, options: list[Option], *, optional: bool = False,
            placeholder: str = "Choose one", hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=block_id, label=label, optional=optional, hint=hint,
        element=StaticSelectElement(action_id=block_id, placeholder=placeholder,
                                    options=options[:_SELECT_MAX]),
    )


def _modal(callback_id: str, title: str, blocks: list[Block], *, submit: str,
           private_metadata: str) -> View:
    return View(type="modal", callback_id=callback_id, title=title, submit=submit, close="Cancel",
                blocks=blocks[:MAX_VIEW_BLOCKS], private_metadata=private_metadata)


def _case_context(case_ref: str) -> ContextBlock:
    return ContextBlock(elements=[_md(f"Case *{escape(case_ref)}*")])


def rich(parts: views.Rich) -> str:
    """Platform-neutral rich text as mrkdwn: text escaped, people as mentions, each with their
    role and team where the card knows it ("<@U0SMGR> (South PDU's Team Manager)")."""
    return "".join((mention(p.id) + (f" ({escape(p.role)})" if p.role else ""))
                   if isinstance(p, views.Person) else escape(p) for p in parts)


def _button(b: views.Button) -> ButtonElement:
    return ButtonElement(text=_clip(b.label, 75), action_id=ids.button(b.action), value=str(b.transfer_id),
                         style=b.style if b.style in ("primary", "danger") else None)


def _overflow(transfer_id: int, more: tuple[views.Button, ...]) -> OverflowMenuElement | StaticSelectElement:
    """The steps that are not in sight: an overflow menu ("…", two to five options), or past
    five a "More actions" select; choosing one is routed exactly as its button would be."""
    options = [Option(value=ids.more_value(b.action, transfer_id), text=_clip(b.label, 75)) for b in more]
    if len(options) <= _OVERFLOW_MAX:
        return OverflowMenuElement(action_id=ids.MORE, options=options)
    return StaticSelectElement(action_id=ids.MORE, placeholder="More actions", options=options[:_SELECT_MAX])


def _buttons(transfer_id: int, buttons: Iterable[views.Button]) -> list[Block]:
    """The actions block: three buttons at most in sight (exactly one primary, destructive ones
    red), or two beside an overflow menu holding the rest."""
    sight, more = views.arrange(list(buttons))
    if not sight:
        return []
    elements: list[Any] = [_button(b) for b in sight]
    if more:
        elements.append(_overflow(transfer_id, more))
    return [ActionsBlock(block_id=f"{ids.DECISION_ACTIONS}:{transfer_id}:0", elements=elements)]
