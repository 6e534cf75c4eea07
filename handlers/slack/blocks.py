"""Block Kit renderers: Baton's platform-neutral views (bot/views.py) as Slack messages, modals
and the home tab.

Pure: no Slack calls, no SQL, no clock. Every builder goes through slack_sdk's models so that
Slack's limits (lengths, counts) are checked when ``to_dict`` runs. Messages carry case
references, team names and ids, dates, states and Slack user ids only (never a person's name);
any free text a person typed
(rationale, reasons, work items) is escaped with :func:`escape` so it can ping no one.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot import actions, pickers, views
from bot.actions import FieldKind
from bot.domain import MAX_TEXT as MAX_TEXT
from bot.org import Org
from bot.policy import Choice, PolicyPack
from handlers.slack import ids, teampicker
from handlers.slack.elements import (
    _CHECKBOX_MAX,
    _FACT_MAX,
    _SELECT_MAX,
    NO_NAMES,
    RAG_EMOJI,
    RAG_WORDS,
    _button,
    _buttons,
    _choices,
    _clip,
    _dicts,
    _md,
    _modal,
    _option,
    _select,
    _text_input,
    escape,
    in_full,
    limit_hint,
    mention,
    rich,
)
from handlers.slack.elements import EVENT_WORDS as EVENT_WORDS
from handlers.slack.elements import HOME_ROWS as HOME_ROWS
from handlers.slack.elements import MAX_MESSAGE_BLOCKS as MAX_MESSAGE_BLOCKS
from handlers.slack.elements import MAX_VIEW_BLOCKS as MAX_VIEW_BLOCKS
from handlers.slack.elements import NO_DEADLINE_EMOJI as NO_DEADLINE_EMOJI
from handlers.slack.elements import WEEKLY_LINES as WEEKLY_LINES
from handlers.slack.elements import WORD_JOINER as WORD_JOINER
from handlers.slack.ids import chunk_id
from handlers.slack.lists import agenda_blocks as agenda_blocks
from handlers.slack.lists import help_blocks as help_blocks
from handlers.slack.lists import home_view as home_view
from handlers.slack.lists import record_line as record_line
from handlers.slack.lists import summary_list as summary_list
from handlers.slack.lists import timeline_blocks as timeline_blocks
from handlers.slack.lists import weekly_digest as weekly_digest


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
            f"From *{escape(views.team_name(org, holding_team))}* under "
            f"{escape(views.policy_named(pack.title))}. " + NO_NAMES)]),
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
