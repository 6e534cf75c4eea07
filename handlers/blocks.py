"""Block Kit builders for Baton's messages, modals and home tab.

Pure: no Slack calls, no SQL, no clock. Every builder goes through slack_sdk's models so that
Slack's limits (lengths, counts) are checked when ``to_dict`` runs. Messages carry case
references, team ids, dates, states and Slack user ids only; any free text a person typed
(rationale, reasons, work items) is escaped with :func:`escape` so it can ping no one.
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
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.calendar import WorkingCalendar
from bot.clocks import AMBER_WITHIN, Deadline, next_deadline, rag
from bot.domain import AWAITING_DECISION, MAX_TEXT, STATE_LABELS, UK_TIME, State, TimelineEvent, Transfer
from bot.org import Org
from bot.policy import Choice, PolicyPack
from bot.ports import TransferSummary
from bot.reports import Summary
from handlers import ids

NO_NAMES = "Case references only: do not write names."
MAX_MESSAGE_BLOCKS = 50  # Slack's limit for a message
MAX_VIEW_BLOCKS = 100  # Slack's limit for a modal or home tab
HOME_ROWS = 30  # per section of the home tab: 2 blocks a row keeps the tab under 100 blocks
RAG_EMOJI = {"red": ":red_circle:", "amber": ":large_orange_circle:", "green": ":large_green_circle:"}
NO_DEADLINE_EMOJI = ":white_circle:"
_OPTION_MAX = 75  # Slack's limit for an option's text and description
_SELECT_MAX = 100  # options in a static select
_CHECKBOX_MAX = 10  # options in a checkboxes element
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
    "worker_named": "Worker named",
    "note": "Note",
}


# ---- text helpers --------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Slack mrkdwn escaping of &, < and >, so "<!channel>" or "<@U123>" in user text pings no one."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user: str) -> str:
    """A Slack user id as a mention (an id, never a name); "baton" is Baton itself."""
    if user == "baton":
        return "Baton"
    return f"<@{user}>" if _SLACK_ID.match(user) else escape(user)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _day(d: date | None) -> str:
    return d.strftime(_DATE_FMT) if d else "-"


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=_clip(text, 2000))


def _option(value: str, label: str, hint: str = "") -> Option:
    """An option whose long label spills into its description (Slack allows 75 characters each)."""
    if len(label) <= _OPTION_MAX:
        text, rest = label, hint
    else:
        cut = label.rfind(" ", 0, _OPTION_MAX - 1)
        cut = cut if cut > 0 else _OPTION_MAX - 1
        text, rest = label[:cut] + "…", "…" + label[cut:].lstrip()
    return Option(value=value, text=text, description=_clip(rest, _OPTION_MAX) if rest else None)


def _choices(choices: Iterable[Choice]) -> list[Option]:
    return [_option(c.id, c.label, c.hint) for c in choices]


def _dicts(blocks: Iterable[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def _text_input(block_id: str, label: str, *, multiline: bool = False, optional: bool = False,
                hint: str = NO_NAMES, placeholder: str | None = None,
                max_length: int = MAX_TEXT) -> InputBlock:
    return InputBlock(
        block_id=block_id, label=label, optional=optional, hint=hint,
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
def raise_modal(pack: PolicyPack, org: Org, holding_team: str, *, heads_up: bool = False) -> View:
    """The form to raise a transfer (or give an early heads up) from ``holding_team``."""
    teams = [_option(t.id, f"{t.name} ({t.id})") for t in org.teams if t.id != holding_team]
    blocks: list[Block] = [
        ContextBlock(elements=[_md(
            f"From *{escape(holding_team)}* under the {escape(pack.title)} policy. " + NO_NAMES)]),
        _text_input(ids.CASE_REF, "Case reference", hint=pack.case_ref_hint[:1].upper()
                    + pack.case_ref_hint[1:], placeholder="Case reference, no spaces", max_length=32),
        _select(ids.RECEIVING_TEAM, "Receiving team", teams, placeholder="Choose a team"),
        _select(ids.KIND, "Kind of transfer", _choices(pack.kinds)),
    ]
    if pack.transfer_points:
        blocks += [
            _select(ids.TRANSFER_POINT, "Transfer point", _choices(pack.transfer_points),
                    optional=True, placeholder="Choose the transfer point"),
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
    blocks.append(_text_input(ids.FUNDING, "Funding arrangements", multiline=True, optional=True))
    items = [
        _option(f"{cl.id}:{it.id}", it.label)
        for cl in pack.gating("request") for it in cl.items
    ]
    if items:
        labels = "; ".join(cl.label for cl in pack.gating("request"))
        blocks.append(InputBlock(
            block_id=ids.CHECKLIST, label=_clip(labels, 2000), optional=True,
            hint="Every item must be signed off before the transfer can be requested.",
            element=CheckboxesElement(action_id=ids.CHECKLIST, options=items[:_CHECKBOX_MAX]),
        ))
    if heads_up:
        return _modal(ids.HEADSUP_VIEW, "Early heads up", blocks, submit="Send heads up",
                      private_metadata=holding_team)
    return _modal(ids.RAISE_VIEW, "Raise a transfer", blocks, submit="Raise",
                  private_metadata=holding_team)


def decline_modal(transfer_id: int, case_ref: str, pack: PolicyPack) -> View:
    """The form to decline a transfer: a written rationale and, when the pack asks, a reason."""
    blocks: list[Block] = [_case_context(case_ref)]
    if pack.decline_reasons:
        blocks.append(_select(ids.DECLINE_REASON, "Reason for declining",
                              _choices(pack.decline_reasons), hint=pack.decline_reasons_intro))
    blocks.append(_text_input(ids.RATIONALE, "Rationale", multiline=True))
    return _modal(ids.DECLINE_VIEW, "Decline transfer", blocks, submit="Decline",
                  private_metadata=str(transfer_id))


def accept_modal(transfer_id: int, case_ref: str) -> View:
    """The form to accept a transfer, optionally naming the worker and the agreed date."""
    blocks: list[Block] = [
        _case_context(case_ref),
        InputBlock(block_id=ids.NAMED_WORKER, label="Named worker", optional=True,
                   element=UserSelectElement(action_id=ids.NAMED_WORKER,
                                              placeholder="Choose the worker")),
        InputBlock(block_id=ids.AGREED_DATE, label="Agreed transfer date", optional=True,
                   element=DatePickerElement(action_id=ids.AGREED_DATE, placeholder="Choose a date")),
    ]
    return _modal(ids.ACCEPT_VIEW, "Accept transfer", blocks, submit="Accept",
                  private_metadata=str(transfer_id))


def work_modal(transfer_id: int, case_ref: str, due: date) -> View:
    """The form to ask the holding team for remedial work, due on ``due``."""
    blocks: list[Block] = [
        _case_context(case_ref),
        SectionBlock(text=_md(f"The holding team must complete the work by *{_day(due)}*. "
                              "This never delays the transfer.")),
        _text_input(ids.WORK_ITEMS, "Work outstanding (one item per line)", multiline=True),
    ]
    return _modal(ids.WORK_VIEW, "Ask for work", blocks, submit="Send",
                  private_metadata=str(transfer_id))


def delay_modal(transfer_id: int, case_ref: str) -> View:
    """The form for the transferring area to record why a transfer is late and what is being done."""
    blocks: list[Block] = [
        _case_context(case_ref),
        _text_input(ids.DELAY_REASON, "Reason for the delay", multiline=True),
        _text_input(ids.DELAY_ACTIONS, "Actions being taken to progress it", multiline=True),
    ]
    return _modal(ids.DELAY_VIEW, "Record delay", blocks, submit="Record",
                  private_metadata=str(transfer_id))


def endorse_modal(transfer_id: int, case_ref: str) -> View:
    """The form for senior management to endorse a transfer running past its extension point."""
    blocks: list[Block] = [
        _case_context(case_ref),
        _text_input(ids.ENDORSE_RATIONALE, "Why the extension is endorsed", multiline=True),
    ]
    return _modal(ids.ENDORSE_VIEW, "Endorse extension", blocks, submit="Endorse",
                  private_metadata=str(transfer_id))


ITEM_BUTTONS = {ids.RECORD_DELAY: "Record delay reason", ids.ENDORSE: "Endorse extension"}


def digest(items: list[dict[str, Any]], *, page: int = 1, pages: int = 1) -> list[dict[str, Any]]:
    """Reminders and escalations for one recipient from one sweep: one section per case, each
    with its own button; a header when there are several. ``items`` carry case_ref, text and
    optionally button (an action id) and transfer_id."""
    blocks: list[Block] = []
    if len(items) > 1 or pages > 1:
        title = f"{len(items)} transfers need attention" + (f" ({page}/{pages})" if pages > 1 else "")
        blocks.append(HeaderBlock(text=title))
    for item in items:
        button = item.get("button")
        accessory = (ButtonElement(text=ITEM_BUTTONS[button], action_id=button,
                                   value=str(item.get("transfer_id") or 0))
                     if button in ITEM_BUTTONS else None)
        blocks.append(SectionBlock(text=_md(f"*{escape(item['case_ref'])}*: {escape(item['text'])}"),
                                   accessory=accessory))
    return _dicts(blocks)


# ---- messages ------------------------------------------------------------------------------------
def _decision_buttons(transfer_id: int | None) -> ActionsBlock:
    value = str(transfer_id or 0)
    return ActionsBlock(block_id=f"{ids.DECISION_ACTIONS}:{value}", elements=[
        ButtonElement(text="Accept", action_id=ids.ACCEPT, value=value, style="primary"),
        ButtonElement(text="Decline", action_id=ids.DECLINE, value=value, style="danger"),
        ButtonElement(text="Ask for work", action_id=ids.ASK_WORK, value=value),
    ])


def _deadline_text(deadline: Deadline | None, days_left: int | None) -> str:
    if deadline is None:
        return "No deadline running"
    text = f"{escape(deadline.label)}: {_day(deadline.due_on)}"
    if days_left is None:
        return text
    if days_left < 0:
        return f"{text} (overdue by {-days_left} working day{'s' if days_left != -1 else ''})"
    if days_left == 0:
        return f"{text} (due today)"
    return f"{text} ({days_left} working day{'s' if days_left != 1 else ''} left)"


def _decisive_event(t: Transfer) -> TimelineEvent | None:
    """The event that put the transfer in its current state."""
    for ev in reversed(t.timeline):
        if ev.to_state == t.state.value and ev.from_state != ev.to_state:
            return ev
    return t.timeline[-1] if t.timeline else None


def transfer_message(t: Transfer, *, deadline: Deadline | None, days_left: int | None,
                     buttons: bool, elapsed: int | None = None, rag: str | None = None,
                     ) -> list[dict[str, Any]]:
    """A transfer's card: teams, kind, state, working days elapsed, next deadline (with RAG),
    and the decision buttons or the outcome."""
    fields = [
        f"*From*\n{escape(t.holding_team)}",
        f"*To*\n{escape(t.receiving_team)}",
        f"*Kind*\n{escape(t.kind)}",
        f"*State*\n{STATE_LABELS[t.state]}",
        f"*Next deadline*\n{RAG_EMOJI[rag] + ' ' if rag else ''}{_deadline_text(deadline, days_left)}",
    ]
    if elapsed is not None and t.is_open:
        fields.append(f"*Working days elapsed*\n{elapsed} (day 1 is the next working day after the request)")
    if t.transfer_point:
        fields.append(f"*Transfer point*\n{escape(t.transfer_point)} ({_day(t.transfer_point_date)})")
    if t.named_worker:
        fields.append(f"*Named worker*\n{mention(t.named_worker)}")
    if t.agreed_date:
        fields.append(f"*Agreed date*\n{_day(t.agreed_date)}")
    if t.work_items and t.work_due:
        fields.append(f"*Work due*\n{_day(t.work_due)} ({len(t.work_items)} item(s))")
    blocks: list[Block] = [
        HeaderBlock(text=_clip(f"Case transfer: {t.case_ref}", 150)),
        SectionBlock(fields=[_md(f) for f in fields[:10]]),
    ]
    if t.state in AWAITING_DECISION:
        if buttons:
            blocks.append(_decision_buttons(t.id))
        else:
            blocks.append(ContextBlock(elements=[_md("Awaiting the receiving team's decision.")]))
    else:
        ev = _decisive_event(t)
        accepted = t.last_event("accepted")
        if t.state == State.allocated and accepted is not None:
            ev = accepted  # say who decided; the named worker is in the fields above
            line = "Accepted"
        else:
            line = STATE_LABELS[t.state]
        if ev is not None:
            line += f" by {mention(ev.actor)} on {_when(ev)}"
            if ev.reason:
                line += f": {escape(_clip(ev.reason, 1500))}"
        blocks.append(ContextBlock(elements=[_md(line)]))
    return _dicts(blocks)


def transfer_card(t: Transfer, deadlines: list[Deadline], *, cal: WorkingCalendar, today: date,
                  buttons: bool) -> list[dict[str, Any]]:
    """A transfer's card as of ``today``: next running deadline, working days left and elapsed,
    and RAG, worked out from its clocks."""
    d = next_deadline(deadlines)
    return transfer_message(
        t, deadline=d, buttons=buttons,
        days_left=cal.working_days_between(today, d.due_on) if d else None,
        elapsed=cal.working_days_between(t.requested_on, today) if t.requested_on else None,
        rag=d.rag(cal, today) if d else None)


def _rag(due_on: date | None, today: date, cal: WorkingCalendar) -> str:
    return NO_DEADLINE_EMOJI if due_on is None else RAG_EMOJI[rag(due_on, today, cal)]


def _summary_line(r: TransferSummary, today: date, cal: WorkingCalendar) -> str:
    due = "no deadline running"
    if r.due_on is not None:
        left = cal.working_days_between(today, r.due_on)
        when = f"overdue by {-left} working days" if left < 0 else f"{left} working days left"
        due = f"{escape(r.due_clock or 'due')} {_day(r.due_on)} ({when})"
    day = (f"day {cal.working_days_between(r.requested_on, today)} · "
           if r.requested_on is not None else "")
    return (f"{_rag(r.due_on, today, cal)} *{escape(r.case_ref)}* · {_state_word(r.state)} · "
            f"{escape(r.holding_team)} → {escape(r.receiving_team)} · {day}{due}")


def _more(n: int) -> ContextBlock:
    return ContextBlock(elements=[_md(f"+{n} more")])


def summary_list(rows: list[TransferSummary], *, today: date, cal: WorkingCalendar,
                 title: str) -> list[dict[str, Any]]:
    """A list of transfers with RAG status, at most 50 blocks (then a "+N more" line)."""
    blocks: list[Block] = [HeaderBlock(text=_clip(title, 150))]
    if not rows:
        blocks.append(ContextBlock(elements=[_md("No transfers.")]))
        return _dicts(blocks)
    room = MAX_MESSAGE_BLOCKS - 1
    shown = rows if len(rows) <= room else rows[: room - 1]
    blocks += [SectionBlock(text=_md(_summary_line(r, today, cal))) for r in shown]
    if len(shown) < len(rows):
        blocks.append(_more(len(rows) - len(shown)))
    return _dicts(blocks)


def _when(ev: TimelineEvent) -> str:
    at = ev.at.astimezone(UK_TIME) if ev.at.tzinfo is not None else ev.at
    return at.strftime(_TIME_FMT)


def _detail(ev: TimelineEvent) -> list[str]:
    d = ev.detail
    out = []
    if d.get("named_worker"):
        out.append(f"worker {mention(str(d['named_worker']))}")
    for key, word in (("agreed_date", "agreed date"), ("due", "due"), ("category", "reason"),
                      ("level", "level"), ("outcome", "outcome"), ("checklist", "checklist"),
                      ("item", "item"), ("clock", "clock")):
        if d.get(key):
            out.append(f"{word} {escape(str(d[key]))}")
    if d.get("items"):
        out.append("items: " + escape("; ".join(str(i) for i in d["items"])))
    if d.get("actions"):
        out.append("actions: " + escape(str(d["actions"])))
    return out


def _event_line(ev: TimelineEvent) -> str:
    words = EVENT_WORDS.get(ev.kind, ev.kind.replace("_", " ").capitalize())
    line = f"*{_when(ev)}* · {mention(ev.actor)} · {words}"
    if ev.from_state and ev.to_state and ev.from_state != ev.to_state:
        line += f" ({_state_word(ev.from_state)} → {_state_word(ev.to_state)})"
    extra = _detail(ev)
    if extra:
        line += "\n" + ", ".join(extra)
    if ev.reason:
        line += "\n> " + escape(ev.reason).replace("\n", "\n> ")
    return _clip(line, 2900)


def _state_word(state: str) -> str:
    return STATE_LABELS[State(state)] if state in State.__members__ else escape(state)


def timeline_blocks(t: Transfer) -> list[dict[str, Any]]:
    """A transfer's history, oldest first; the earliest events are left out beyond 50 blocks."""
    blocks: list[Block] = [HeaderBlock(text=_clip(f"History of {t.case_ref}", 150))]
    events = t.timeline
    room = MAX_MESSAGE_BLOCKS - 1
    if len(events) > room:
        blocks.append(ContextBlock(elements=[_md(f"{len(events) - (room - 1)} earlier events not shown")]))
        events = events[-(room - 1):]
    if not events:
        blocks.append(ContextBlock(elements=[_md("Nothing recorded yet.")]))
    blocks += [SectionBlock(text=_md(_event_line(ev))) for ev in events]
    return _dicts(blocks)


def help_blocks() -> list[dict[str, Any]]:
    """What /transfer can do."""
    lines = [
        "`/transfer new`: raise a transfer request",
        "`/transfer headsup`: give an early heads up (policies that have one)",
        "`/transfer list [mine|team|overdue]`: transfers you are on, your teams', or overdue ones",
        "`/transfer status CASE`: where a transfer stands and its next deadline",
        "`/transfer history CASE`: who did what, and when",
        "`/transfer cover @user until YYYY-MM-DD`: a colleague covers your transfers while you are away",
        "`/transfer agenda`: cases ready for the transfer meeting, with their checklists",
        "`/transfer lastteam CASE`: which team held a case last, for re-referrals",
        "`/transfer help`: this list",
    ]
    return _dicts([
        HeaderBlock(text="Baton: /transfer"),
        SectionBlock(text=_md("\n".join(lines))),
        ContextBlock(elements=[_md(NO_NAMES + " Baton shows case references, teams and dates only.")]),
    ])


def _home_rows(rows: list[TransferSummary], today: date, cal: WorkingCalendar, *,
               buttons: bool, cap: int = HOME_ROWS) -> list[Block]:
    out: list[Block] = []
    if not rows:
        return [ContextBlock(elements=[_md("Nothing here.")])]
    for r in rows[:cap]:
        out.append(SectionBlock(text=_md(_summary_line(r, today, cal))))
        if buttons and r.state in {s.value for s in AWAITING_DECISION}:
            out.append(_decision_buttons(r.id))
    if len(rows) > cap:
        out.append(_more(len(rows) - cap))
    return out


def home_view(*, holding: list[TransferSummary], receiving: list[TransferSummary], today: date,
              cal: WorkingCalendar) -> View:
    """The App Home tab: what waits on the user (with buttons), what is overdue, and every
    inbound and outbound transfer of their teams, with working days left and RAG."""
    awaiting = {s.value for s in AWAITING_DECISION}
    waiting = [r for r in receiving if r.state in awaiting]
    inbound = [r for r in receiving if r.state not in awaiting]
    overdue = [r for r in [*receiving, *holding] if r.due_on is not None and r.due_on < today]
    blocks: list[Block] = [HeaderBlock(text="Your case transfers")]
    for title, rows, buttons, cap in (
        (f"*Waiting on you* ({len(waiting)})", waiting, True, 12),
        (f"*Overdue* ({len(overdue)})", overdue, False, 10),
        (f"*Inbound* ({len(inbound)})", inbound, False, 10),
        (f"*Outbound* ({len(holding)})", holding, False, 10),
    ):
        blocks.append(SectionBlock(text=_md(title)))
        blocks.extend(_home_rows(rows, today, cal, buttons=buttons, cap=cap))
        blocks.append(DividerBlock())
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
        ]),
        DividerBlock(),
    ]
    lines = [f"`{escape(t.team)}`  open {t.open} · opened {t.opened} · resolved {t.resolved} · "
             f"breached {t.breached} · overdue {t.overdue}" for t in s.by_team]
    for i in range(0, len(lines), 10):
        blocks.append(SectionBlock(text=_md("\n".join(lines[i : i + 10]))))
    return _dicts(blocks[:MAX_MESSAGE_BLOCKS])


def agenda_blocks(items: list[tuple[Transfer, list[tuple[str, int, int]]]], *, today: date,
                  title: str) -> list[dict[str, Any]]:
    """The transfer meeting's agenda: each case with its teams, transfer point and, per
    checklist, how many items are confirmed."""
    blocks: list[Block] = [HeaderBlock(text=_clip(title, 150))]
    if not items:
        blocks.append(SectionBlock(text=_md("No cases are waiting for the transfer meeting.")))
    for t, checklists in items[: MAX_MESSAGE_BLOCKS - 2]:
        point = (f" · {escape(t.transfer_point)} {_day(t.transfer_point_date)}"
                 if t.transfer_point else "")
        lists = "; ".join(f"{escape(label)} {done}/{total}{' ✓' if done == total else ''}"
                          for label, done, total in checklists) or "no checklist"
        blocks.append(SectionBlock(text=_md(
            f"*{escape(t.case_ref)}* · {_state_word(t.state.value)} · {escape(t.holding_team)} → "
            f"{escape(t.receiving_team)}{point}\n{lists}")))
    if len(items) > MAX_MESSAGE_BLOCKS - 2:
        blocks.append(_more(len(items) - (MAX_MESSAGE_BLOCKS - 2)))
    return _dicts(blocks)
