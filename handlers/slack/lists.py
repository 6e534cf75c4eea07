"""Block Kit for the overviews: summary lists, a transfer's timeline, help, the home tab, the
weekly digest and the agenda. Moved out of handlers/slack/blocks.py, which re-exports them.
Pure: no Slack calls, no SQL, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import guide, home, views
from bot.calendar import WorkingCalendar
from bot.clocks import AMBER_WITHIN, rag
from bot.domain import STATE_LABELS, UK_TIME, State, TimelineEvent, Transfer
from bot.org import Org
from bot.policy import PolicyPack
from bot.ports import TransferSummary
from bot.reports import Summary
from bot.usecases.record_lists import RecordDuty
from handlers.slack import ids
from handlers.slack.elements import (
    _TIME_FMT,
    EVENT_WORDS,
    HOME_ROWS,
    MAX_MESSAGE_BLOCKS,
    MAX_VIEW_BLOCKS,
    NO_DEADLINE_EMOJI,
    NO_NAMES,
    RAG_EMOJI,
    WEEKLY_LINES,
    _buttons,
    _clip,
    _day,
    _dicts,
    _md,
    escape,
    mention,
)

RECORD_ROWS = 20  # case record duties atop a list (then a "+N more" line)


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
