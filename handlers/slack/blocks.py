"""Block Kit renderers: Baton's platform-neutral views (bot/views.py) as Slack messages, modals
and the home tab.

Pure: no Slack calls, no SQL, no clock. Every builder goes through slack_sdk's models so that
Slack's limits (lengths, counts) are checked when ``to_dict`` runs. Messages carry case
references, team names and ids, dates, states and Slack user ids only (never a person's name);
any free text a person typed
(rationale, reasons, work items) is escaped with :func:`escape` so it can ping no one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot import actions, guide, home, pickers, views
from bot.actions import FieldKind
from bot.calendar import WorkingCalendar
from bot.clocks import AMBER_WITHIN, rag
from bot.domain import MAX_TEXT, STATE_LABELS, UK_TIME, State, TimelineEvent, Transfer
from bot.org import Org
from bot.pickers import trim
from bot.policy import Choice, PolicyPack
from bot.ports import TransferSummary
from bot.reports import Summary
from bot.usecases.record_lists import RecordDuty
from handlers.slack import ids, teampicker

NO_NAMES = actions.NO_NAMES
MAX_MESSAGE_BLOCKS = 50  # Slack's limit for a message
MAX_VIEW_BLOCKS = 100  # Slack's limit for a modal or home tab
WEEKLY_LINES = 10  # team lines per section of the weekly digest
RECORD_ROWS = 20  # case record duties atop a list (then a "+N more" line)
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


# ---- modals --------------------------------------------------------------------------------------
def raise_modal(pack: PolicyPack, org: Org, holding_team: str, *, heads_up: bool = False,
                may_sign_off: bool = True, note: str = "", receiving: str | None = None,
                kind: str | None = None) -> View:
    """The form to raise a transfer (or give an early heads up) from ``holding_team``; for a
    person who may not sign off the gating checklist, ``note`` says so at the top and the
    checklist gives way to the reason the pack allows instead. ``receiving`` is the team
    already chosen (typed after the command), if any. Choosing the kind redraws it
    (``kind``): the checklist then asks only the lines of that kind."""
    blocks: list[Block] = [
        ContextBlock(elements=[_md(
            f"From *{escape(views.team_name(org, holding_team))}* under the {escape(pack.title)} "
            "policy. " + NO_NAMES)]),
        _text_input(ids.CASE_REF, "Case reference", hint=pack.case_ref_hint[:1].upper()
                    + pack.case_ref_hint[1:], placeholder="Case reference, no spaces", max_length=32),
        teampicker.block(org, holding_team, receiving),
        _kind_select(pack, kind),
        *in_full(pack.kinds),
    ]
    override = next((cl for cl in pack.gating("request") if cl.override_by), None)
    if note:
        blocks.insert(0, SectionBlock(text=_md(f":warning: {escape(note)}")))
    blocks += _raise_checklist(pack, heads_up=heads_up, may_sign_off=may_sign_off, kind=kind)  # first
    if override is not None and not heads_up:
        blocks.append(_text_input(
            ids.URGENT_REASON, _clip(f"If not signed off: why waiting {override.override_when}"
                                     if may_sign_off else f"Why waiting {override.override_when}", 150),
            multiline=True, optional=may_sign_off,
            hint=f"The request goes now, its clocks running, and the "
                 f"{pack.level_label(override.override_by or '')} is asked to agree; the receiving "
                 "team decides once they agree or the checklist is signed off. " + NO_NAMES))
    if pack.transfer_points:
        blocks += [
            _select(ids.TRANSFER_POINT, "Transfer point", _choices(pack.transfer_points),
                    optional=True, placeholder="Choose the transfer point"),
            *in_full(pack.transfer_points),
            InputBlock(block_id=ids.TRANSFER_POINT_DATE, label="Date of the transfer point",
                       optional=True, element=DatePickerElement(action_id=ids.TRANSFER_POINT_DATE,
                                                                placeholder="Choose a date")),
        ]
    if pack.flags:
        blocks.append(InputBlock(
            block_id=ids.FLAGS, label="Risk and cohort flags", optional=True,
            element=CheckboxesElement(action_id=ids.FLAGS,
                                      options=_choices(pack.flags)[:_CHECKBOX_MAX]),
        ))
        blocks += in_full(pack.flags)
    if pack.routing is not None:  # whose case is it: the policy's remit table (bot/routing.py)
        blocks += [
            _select("circumstance", "Circumstance (whose case is it?)",
                    [_option(r.id, r.question) for r in pack.routing.rules], optional=True,
                    placeholder="Choose the circumstance",
                    hint="Baton proposes the team and transfer point the policy names for it "
                         "(`/transfer route` answers without raising anything)."),
            _text_input("route_reason", "If it goes to another team or point than the policy names: why",
                        multiline=True, optional=True, hint=NO_NAMES, max_length=1000),
        ]
    for f in actions.raise_fields(pack):  # the policy's own dates and fields
        if f.kind == actions.FieldKind.date:
            picker = DatePickerElement(action_id=f.name, placeholder="Choose a date")
            blocks.append(InputBlock(block_id=f.name, label=f.label, optional=True, hint=f.hint,
                                     element=picker))
        else:
            blocks.append(_text_input(f.name, f.label, multiline=f.multiline, optional=True, hint=f.hint,
                                      max_length=f.max_length))
    blocks.append(_text_input(ids.FUNDING, "Funding arrangements", multiline=True, optional=True,
                              hint=NO_NAMES))
    blocks.append(InputBlock(
        block_id=ids.RESTRICTED, label="Restricted case", optional=True,
        hint="Only the people named on it see it: no channel posts; messages carry the "
             "case reference and the action only.",
        element=CheckboxesElement(action_id=ids.RESTRICTED, options=[
            _option("restricted", "Restrict this transfer to the people named on it")])))
    people = [_option(c.id, c.label, c.hint) for c in pickers.excludable(org, holding_team)]
    if people:  # only those who could otherwise see a transfer from this team: listed while they
        # fit a static select (100 options), else Slack's own people picker (nobody left out)
        blocks.append(InputBlock(
            block_id=ids.EXCLUDED, label="People who must never see it", optional=True,
            hint="They are never told of it and cannot look it up (the transfer is restricted).",
            element=StaticMultiSelectElement(action_id=ids.EXCLUDED, placeholder="Choose people",
                                             options=people) if len(people) <= _SELECT_MAX
            else UserMultiSelectElement(action_id=ids.EXCLUDED, placeholder="Type a name")))
    if heads_up:
        return _modal(ids.HEADSUP_VIEW, "Early heads up", blocks, submit="Send heads up",
                      private_metadata=holding_team)
    return _modal(ids.RAISE_VIEW, "Raise a transfer", blocks, submit="Raise",
                  private_metadata=holding_team)


def _kind_select(pack: PolicyPack, kind: str | None) -> InputBlock:
    """The kind of transfer; where a kind has checklist lines of its own, choosing it redraws
    the form (``dispatch_action``) so the checklist asks only that kind's lines."""
    options = _choices(pack.kinds)
    own = any(it.kinds or cl.kinds for cl in pack.gating("request") for it in cl.items)
    return InputBlock(block_id=ids.KIND, label="Kind of transfer", dispatch_action=own or None,
                      element=StaticSelectElement(
                          action_id=ids.KIND, placeholder="Choose one", options=options,
                          initial_option=next((o for o in options if o.value == kind), None)))


def _raise_checklist(pack: PolicyPack, *, heads_up: bool, may_sign_off: bool,
                     kind: str | None = None) -> list[Block]:
    """The checklist that gates the request: the items every transfer needs first (required
    where nothing else lets the request go), then each kind's own items in a group named for
    that kind, asked only of a transfer of that kind; once the kind is chosen (``kind``), the
    lines of that kind alone, in one list."""
    gating = pack.gating("request", kind)
    if not gating or not may_sign_off:
        return []
    override = next((cl for cl in gating if cl.override_by), None)
    common: list[Option] = []
    by_kinds: dict[tuple[str, ...], list[Option]] = {}
    for cl in gating:
        for it in cl.items_for(kind):
            kinds = () if kind is not None else (it.kinds or cl.kinds)
            option = _option(f"{cl.id}:{it.id}", it.label)
            (by_kinds.setdefault(tuple(kinds), []) if kinds else common).append(option)
    out: list[Block] = []
    if common:
        out.append(InputBlock(
            block_id=ids.CHECKLIST, label=_clip("; ".join(cl.label for cl in gating), 2000),
            # Required where nothing else lets the request go; optional only beside the reason
            # the pack accepts instead (S2's Group Manager agreement).
            optional=override is not None and not heads_up,
            hint=("Every item must be signed off before the transfer can be requested"
                  + (", unless you give the reason below." if override is not None else ".")),
            element=CheckboxesElement(action_id=ids.CHECKLIST, options=common[:_CHECKBOX_MAX])))
    for n, (kinds, options) in enumerate(by_kinds.items(), start=1):
        names = " or ".join(pack.kind_label(k) for k in kinds)
        out.append(InputBlock(
            block_id=chunk_id(ids.CHECKLIST, n),
            label=_clip(f"Only when the kind of transfer is: {names}", 2000),
            optional=True, hint="Sign these off for that kind of transfer only; leave them for any other.",
            element=CheckboxesElement(action_id=chunk_id(ids.CHECKLIST, n),
                                      options=options[:_CHECKBOX_MAX])))
    return out


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


def card_blocks(card: views.Card) -> list[dict[str, Any]]:
    """A transfer's card: what happened and what the viewer must do, one sentence each, then
    the facts one a line, where it stands, and the viewer's buttons."""
    blocks: list[Block] = [HeaderBlock(text=_clip(card.title, 150))]
    lines = [escape(h) for h in card.headline]
    if card.you:
        lines.append(f"*To do:* {escape(card.you)}")
    if lines:
        blocks.append(SectionBlock(text=_md("\n".join(lines))))

    def value(label: str, v: views.Rich) -> str:
        text = _clip(rich(v), _FACT_MAX)
        if label.startswith("Next deadline") and card.rag:
            return f"{RAG_EMOJI[card.rag]} {RAG_WORDS[card.rag]}: {text}"
        return text

    facts = [f"*{escape(label)}:* {value(label, v)}" for label, v in card.fields[:10]]
    if facts:
        blocks.append(SectionBlock(text=_md("\n".join(facts))))
    blocks.append(ContextBlock(elements=[_md(_clip(rich(card.status), 1900))]))
    blocks += _buttons(card.transfer_id, card.buttons)
    return _dicts(blocks)


def digest_blocks(d: views.Digest) -> list[dict[str, Any]]:
    """Reminders and escalations for one recipient: one section per case, each with its button."""
    blocks: list[Block] = []
    if len(d.items) > 1 or d.pages > 1:
        title = d.title + (f" ({d.page}/{d.pages})" if d.pages > 1 else "")
        blocks.append(HeaderBlock(text=title))
    for item in d.items:
        accessory = _button(item.buttons[0]) if item.buttons else None
        card = f" <{item.link}|Open the card>" if item.link.startswith("https://") else ""
        blocks.append(SectionBlock(text=_md(f"*{escape(item.case_ref)}*: {escape(item.text)}{card}"),
                                   accessory=accessory))
    return _dicts(blocks)


def render(message: views.Message) -> dict[str, Any]:
    """A view as chat.postMessage / chat.update arguments (text and blocks)."""
    if isinstance(message, views.Card):
        return {"text": _clip(message.fallback, 3000), "blocks": card_blocks(message)}
    if isinstance(message, views.Digest):
        return {"text": _clip(message.fallback, 3000), "blocks": digest_blocks(message)}
    return {"text": _clip(escape(message.text), 3000)}


def chunk_id(name: str, n: int) -> str:
    """The block id of the ``n``-th group of a field's checkboxes (Slack allows 10 a group)."""
    return name if n == 0 else f"{name}__{n}"


def _input(fi: views.FormInput) -> list[Block]:
    f = fi.field
    hint = _clip(f.hint, 150) or None
    if f.kind == FieldKind.text:
        return [InputBlock(
            block_id=f.name, label=_clip(f.label, 2000), optional=not f.required,
            hint=limit_hint(f.hint, f.max_length),
            element=PlainTextInputElement(action_id=f.name, multiline=f.multiline,
                                          min_length=f.min_length or None, max_length=f.max_length))]
    if f.kind == FieldKind.date:
        return [InputBlock(block_id=f.name, label=f.label, optional=not f.required, hint=hint,
                           element=DatePickerElement(action_id=f.name, placeholder="Choose a date",
                                                     initial_date=fi.initial.isoformat()
                                                     if fi.initial else None))]
    if f.kind == FieldKind.person and fi.options:  # only the people who can be chosen
        return [_select(f.name, f.label, _choices(fi.options), optional=not f.required, hint=hint,
                        placeholder="Choose a person")]
    if f.kind == FieldKind.person:
        return [InputBlock(block_id=f.name, label=f.label, optional=not f.required, hint=hint,
                           element=UserSelectElement(action_id=f.name, placeholder="Choose a person"))]
    if f.kind in (FieldKind.choice, FieldKind.yes_no):
        return [_select(f.name, f.label, _choices(fi.options), optional=not f.required, hint=hint),
                *in_full(fi.options)]
    return _checkbox_groups(f.name, f.label, fi.options, required=f.required, hint=hint)


def _checkbox_groups(name: str, label: str, options: tuple[Choice, ...], *, required: bool,
                     hint: str | None) -> list[Block]:
    """Checkboxes in one group per title their options carry (a checklist's items under its
    title, each item labelled alone), at most 10 a group; a field split over several groups
    is optional in each, the form saying at least one box must be ticked."""
    titled: dict[str, list[Choice]] = {}
    for o in options:
        titled.setdefault(o.hint, []).append(o)
    groups = [(f"{label}: {title}" if title else label, chunk[i:i + _CHECKBOX_MAX])
              for title, chunk in titled.items() for i in range(0, len(chunk), _CHECKBOX_MAX)]
    if len(groups) == 1:
        groups = [(label, groups[0][1])]
        hint = hint or (_clip(next(iter(titled)), 150) or None)
    elif required:
        hint = "Tick at least one item, in any of the lists."
    return [InputBlock(block_id=chunk_id(name, n), label=_clip(title, 2000),
                       optional=not required or len(groups) > 1, hint=hint,
                       element=CheckboxesElement(action_id=chunk_id(name, n),
                                                 options=[_option(o.id, o.label) for o in group]))
            for n, (title, group) in enumerate(groups)]


def form_modal(form: views.Form) -> View:
    """An action's form as a modal: what it does, then one input per catalogue field."""
    blocks: list[Block] = [SectionBlock(text=_md("\n".join(rich(line) for line in form.intro)))]
    for fi in form.inputs:
        blocks += _input(fi)
    return _modal(ids.form(form.action), _clip(form.title, 24), blocks, submit=_clip(form.submit, 24),
                  private_metadata=str(form.transfer_id))


def notice_modal(title: str, text: str, *, escaped: bool = False) -> View:
    """A modal that only says something (a refusal of a form that has no field to show it on);
    ``escaped`` text is mrkdwn Baton built itself (user text in it already escaped)."""
    return View(type="modal", callback_id=ids.NOTICE_VIEW, title=_clip(title, 24), close="Close",
                blocks=[SectionBlock(text=_md(text if escaped else escape(text)))])


def lost_race(case_ref: str, event: str, by: str, at: str, reason: str) -> str:
    """The answer to a step that lost a race: who moved the transfer first, what and when."""
    who = f" by {mention(by)}" if by else ""
    return (f"*{escape(case_ref)}* was {escape(event)}{who} at {escape(at)} while you were "
            f"deciding. {escape(reason)}")


def _rag(due_on: date | None, today: date, cal: WorkingCalendar) -> str:
    return NO_DEADLINE_EMOJI if due_on is None else RAG_EMOJI[rag(due_on, today, cal)]


def _summary_line(r: TransferSummary, today: date, cal: WorkingCalendar,
                  org: Org | None = None) -> str:
    state, teams, due = views.summary_parts(r, org, today, cal)
    return (f"{_rag(r.due_on, today, cal)} *{escape(r.case_ref)}* · {escape(state)} · "
            f"{escape(teams)} · {escape(due)}")


def _more(n: int, how: str = "") -> ContextBlock:
    return ContextBlock(elements=[_md(f"+{n} more" + (f": {how}" if how else ""))])


def record_line(d: RecordDuty) -> str:
    """A case record duty as a list or App Home line: red when missed."""
    mark = f"{RAG_EMOJI['red']} " if d.overdue else ""
    return _clip(f"{mark}*{escape(d.case_ref)}*: {escape(d.text)}", 1900)


def summary_list(rows: list[TransferSummary], *, today: date, cal: WorkingCalendar,
                 title: str, org: Org | None = None,
                 records: Sequence[RecordDuty] = ()) -> list[dict[str, Any]]:
    """A list of transfers with RAG status, then the case record duties of the same people,
    at most 50 blocks (then a "+N more" line)."""
    blocks: list[Block] = [HeaderBlock(text=_clip(title, 150))]
    if records:
        blocks.append(SectionBlock(text=_md(f"*Case record duties ({len(records)})*")))
        blocks += [SectionBlock(text=_md(record_line(d))) for d in records[:RECORD_ROWS]]
        if len(records) > RECORD_ROWS:
            blocks.append(_more(len(records) - RECORD_ROWS, "`/transfer list overdue` narrows them; "
                                "`/transfer record CASE` shows one case's"))
        if rows:
            blocks.append(SectionBlock(text=_md(f"*Transfers ({len(rows)})*")))
    if not rows:
        blocks.append(ContextBlock(elements=[_md("No transfers.")]))
        return _dicts(blocks)
    room = MAX_MESSAGE_BLOCKS - len(blocks)
    shown = rows if len(rows) <= room else rows[: room - 1]
    blocks += [SectionBlock(text=_md(_summary_line(r, today, cal, org))) for r in shown]
    if len(shown) < len(rows):
        blocks.append(_more(len(rows) - len(shown), "`/transfer list overdue` narrows the list; a report "
                            "reader's `/transfer export` has every one"))
    return _dicts(blocks)


def _when(ev: TimelineEvent) -> str:
    at = ev.at.astimezone(UK_TIME) if ev.at.tzinfo is not None else ev.at
    return at.strftime(_TIME_FMT)


def _detail(ev: TimelineEvent, pack: PolicyPack | None = None, org: Org | None = None) -> list[str]:
    """An event's details in the pack's words (labels, never ids)."""
    d = ev.detail
    out = []
    if d.get("named_worker"):
        out.append(f"worker {mention(str(d['named_worker']))}")
    words = views.detail_words(d, pack, org)
    out += [escape(w) for w in words]
    return out


def _event_line(ev: TimelineEvent, pack: PolicyPack | None = None, org: Org | None = None) -> str:
    words = EVENT_WORDS.get(ev.kind, ev.kind.replace("_", " ").capitalize())
    line = f"*{_when(ev)}* · {mention(ev.actor)} · {words}"
    if ev.from_state and ev.to_state and ev.from_state != ev.to_state:
        line += f" ({_state_word(ev.from_state)} → {_state_word(ev.to_state)})"
    extra = _detail(ev, pack, org)
    if extra:
        line += "\n" + ", ".join(extra)
    if ev.reason:
        line += "\n> " + escape(ev.reason).replace("\n", "\n> ")
    return _clip(line, 2900)


def _state_word(state: str) -> str:
    return STATE_LABELS[State(state)] if state in State.__members__ else escape(state)


def timeline_blocks(t: Transfer, org: Org | None = None) -> list[dict[str, Any]]:
    """A transfer's history, oldest first (trimmed for a restricted case); the earliest events
    are left out beyond 50 blocks."""
    blocks: list[Block] = [HeaderBlock(text=_clip(f"History of {t.case_ref}", 150))]
    events = views.history_events(t)
    if t.restricted:
        blocks.append(ContextBlock(elements=[_md(views.RESTRICTED_NOTE)]))
    room = MAX_MESSAGE_BLOCKS - len(blocks)
    if len(events) > room:
        blocks.append(ContextBlock(elements=[_md(f"{len(events) - (room - 1)} earlier events not shown")]))
        events = events[-(room - 1):]
    if not events:
        blocks.append(ContextBlock(elements=[_md("Nothing recorded yet.")]))
    pack = org.pack_for(t.holding_team) if org is not None and org.has_team(t.holding_team) else None
    blocks += [SectionBlock(text=_md(_event_line(ev, pack, org))) for ev in events]
    return _dicts(blocks)


def _help_lines(entries: Iterable[guide.Entry]) -> str:
    return "\n".join((f"*{e.slack_place}*" if e.slack_place else f"`/transfer {e.typed('slack')}`")
                     + f": {escape(e.words)}" for e in entries)  # usages are our own words


def help_blocks(h: guide.Help | None = None, *, more: bool = False) -> list[dict[str, Any]]:
    """What /transfer can do for its reader: their own commands and their policy's steps for
    their role first, then a pointer to ``/transfer help more`` (``more``: the rest); without a
    reader (someone Baton does not know), the general commands."""
    if h is None:
        lines = [e for e in guide.EVERY if e not in (guide.AGENDA, guide.CLOSED, guide.EXPORT)]
        out: list[Block] = [HeaderBlock(text="Baton: /transfer"), SectionBlock(text=_md(_help_lines(lines)))]
    elif more:
        out = [HeaderBlock(text="Baton: more of /transfer"),
               ContextBlock(elements=[_md("Commands and steps for other roles and policies, and who "
                                          "may use them.")])]
        entries = list(h.more)
        out += [SectionBlock(text=_md(_help_lines(entries[i:i + 15]))) for i in range(0, len(entries), 15)]
    else:
        out = [HeaderBlock(text="Baton: /transfer"),
               ContextBlock(elements=[_md(f"For you: {escape(h.reader)}.")]),
               SectionBlock(text=_md(_help_lines(h.yours))),
               ContextBlock(elements=[_md("More: `/transfer help more` lists the commands and steps of "
                                          "other roles and policies.")])]
    out.append(ContextBlock(elements=[_md(NO_NAMES + " Baton shows case references, teams and dates only.")]))
    return _dicts(out)


def _home_rows(rows: list[TransferSummary], today: date, cal: WorkingCalendar, *,
               cap: int = HOME_ROWS, buttons: dict[int, tuple[views.Button, ...]] | None = None,
               org: Org | None = None, how: str = "") -> list[Block]:
    out: list[Block] = []
    if not rows:
        return [ContextBlock(elements=[_md("Nothing here.")])]
    for r in rows[:cap]:
        out.append(SectionBlock(text=_md(_summary_line(r, today, cal, org))))
        if buttons and buttons.get(r.id):
            out += _buttons(r.id, buttons[r.id])
    if len(rows) > cap:
        out.append(_more(len(rows) - cap, how))
    return out


def home_view(*, waiting: list[tuple[TransferSummary, tuple[views.Button, ...]]],
              holding: list[TransferSummary], receiving: list[TransferSummary], today: date,
              cal: WorkingCalendar, escalated: list[TransferSummary] | None = None,
              org: Org | None = None, records: Sequence[RecordDuty] = ()) -> View:
    """The App Home tab (the Teams home card's sections, in its order): what waits on the user
    (with the buttons they may press), what is overdue, what reached their level, their teams'
    inbound and outbound transfers with working days left; empty sections left out."""
    blocks: list[Block] = [HeaderBlock(text="Your case transfers")]
    shown = home.sections(waiting=waiting, holding=holding, receiving=receiving, today=today,
                          escalated=escalated or (), records=records)
    for s in shown:
        blocks.append(SectionBlock(text=_md(f"*{s.title}*")))
        if s.records:
            blocks += [SectionBlock(text=_md(record_line(d))) for d in s.records[:s.cap]]
            if len(s.records) > s.cap:
                blocks.append(_more(len(s.records) - s.cap, f"`/transfer list {s.scope}` lists them"))
            blocks.append(DividerBlock())
            continue
        blocks.extend(_home_rows(list(s.rows), today, cal, buttons=s.buttons, cap=s.cap, org=org,
                                 how=f"`/transfer list {s.scope}` lists them"))
        blocks.append(DividerBlock())
    if not shown:
        blocks += [SectionBlock(text=_md(home.NOTHING)), DividerBlock()]
    blocks.append(SectionBlock(text=_md("*Start*\n" + " · ".join(
        f"`/transfer {usage}`: {words}" for usage, words in home.START))))
    blocks.append(ContextBlock(elements=[_md(
        f"{RAG_EMOJI['red']} overdue · {RAG_EMOJI['amber']} due within {AMBER_WITHIN} working days"
        f" · {RAG_EMOJI['green']} on track")]))
    return View(type="home", callback_id=ids.HOME_VIEW, blocks=blocks[:MAX_VIEW_BLOCKS])


def weekly_digest(s: Summary) -> list[dict[str, Any]]:
    """The weekly summary for an escalation channel: totals, median and a line per team."""
    med = "-" if s.median_days_to_resolution is None else f"{s.median_days_to_resolution:g}"
    blocks: list[Block] = [
        HeaderBlock(text=f"Transfers {s.start:%d %b} to {s.end:%d %b %Y}"),
        SectionBlock(fields=[
            _md(f"*Opened*\n{s.opened}"), _md(f"*Resolved*\n{s.resolved}"),
            _md(f"*Breached*\n{s.breached}"), _md(f"*Awaiting endorsement*\n{s.awaiting_endorsement}"),
            _md(f"*Open now*\n{s.open_now} ({s.overdue_now} overdue)"),
            _md(f"*Median working days to resolution*\n{med}"),
            *([_md(f"*Overdue and put to this channel's level*\n{s.overdue_reached} "
                   "(`/transfer list overdue` lists them)")] if s.overdue_reached is not None else []),
        ]),
        DividerBlock(),
    ]
    lines = [_clip(f"`{escape(t.team)}`  open {t.open} · opened {t.opened} · resolved {t.resolved} · "
                   f"breached {t.breached} · overdue {t.overdue}", 190) for t in s.by_team]
    room = (MAX_MESSAGE_BLOCKS - len(blocks) - 1) * WEEKLY_LINES  # a line under them if cut
    shown = lines if len(lines) <= room + WEEKLY_LINES else lines[:room]
    for i in range(0, len(shown), WEEKLY_LINES):  # 10 lines of under 200: inside _md's 2,000
        blocks.append(SectionBlock(text=_md("\n".join(shown[i : i + WEEKLY_LINES]))))
    if len(shown) < len(lines):
        blocks.append(ContextBlock(elements=[_md(
            f"+{len(lines) - len(shown)} more teams not shown (Slack's 50 blocks a message): a report "
            "reader's `/transfer export` has every team's transfers")]))
    return _dicts(blocks)


def agenda_blocks(items: list[tuple[Transfer, list[tuple[str, int, int]]]], *, today: date,
                  title: str, org: Org | None = None) -> list[dict[str, Any]]:
    """The transfer meeting's agenda: each case with its teams, transfer point and, per
    checklist, how many items are confirmed."""
    blocks: list[Block] = [HeaderBlock(text=_clip(title, 150))]
    if not items:
        blocks.append(SectionBlock(text=_md("No cases are waiting for the transfer meeting.")))
    for t, checklists in items[: MAX_MESSAGE_BLOCKS - 2]:
        pack = org.pack_for(t.holding_team) if org is not None and org.has_team(t.holding_team) else None
        point = (f" · {escape(pack.point_label(t.transfer_point) if pack else t.transfer_point)} "
                 f"{_day(t.transfer_point_date)}" if t.transfer_point else "")
        lists = "; ".join(f"{escape(label)} {done}/{total}{' ✓' if done == total else ''}"
                          for label, done, total in checklists) or "no checklist"
        blocks.append(SectionBlock(text=_md(
            f"*{escape(t.case_ref)}* · {_state_word(t.state.value)} · "
            f"{escape(views.team_name(org, t.holding_team))} → "
            f"{escape(views.team_name(org, t.receiving_team))}{point}\n{lists}")))
    if len(items) > MAX_MESSAGE_BLOCKS - 2:
        blocks.append(_more(len(items) - (MAX_MESSAGE_BLOCKS - 2)))
    return _dicts(blocks)
