"""Adaptive Cards for the overviews: transfer lists, a transfer's history, the home tab, the
weekly digest and help. Moved out of handlers/teams/cards.py, which re-exports them. Pure: no Bot
Framework calls, no SQL, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    Container,
    Fact,
    FactSet,
    Mention,
    ShowCardAction,
)
from microsoft_teams.cards.core import CardElement

from bot import guide, home, views
from bot.calendar import WorkingCalendar
from bot.org import Org
from bot.ports import TransferSummary
from bot.reports import Summary
from bot.states import STATE_LABELS, State
from bot.usecases.record_lists import RecordDuty
from handlers.teams import fit
from handlers.teams.card_parts import (
    HISTORY_EVENTS,
    HOME_ROWS,
    LIST_ROWS,
    NO_NAMES,
    _card,
    _mentioning,
    _text,
    buttons,
    escape,
    rich,
)
from handlers.teams.marks import marked_row


# ---- lists, history, home, weekly -------------------------------------------------------------
def _summary_line(r: TransferSummary, today: date, org: Org | None = None,
                  cal: WorkingCalendar | None = None) -> str:
    """One transfer in a list, as Slack's lists show it given the org: state, teams by name,
    the working day and its deadline (no people: a list names none on either platform)."""
    if org is not None and cal is not None:
        state, teams, due = views.summary_parts(r, org, today, cal)
        return f"**{escape(r.case_ref)}** · {escape(state)} · {escape(teams)} · {escape(due)}"
    due_text = f"; {r.due_clock} due {views.day(r.due_on)}" if r.due_on and r.due_clock else ""
    label = STATE_LABELS.get(State(r.state), r.state) if r.state in State.__members__ else r.state
    return f"**{escape(r.case_ref)}**: {escape(str(label))}, {escape(r.holding_team)} to " \
           f"{escape(r.receiving_team)}{escape(due_text)}"


def record_line(d: RecordDuty) -> str:
    """A case record duty as a list or home line (Slack's words; "Missed" when overdue)."""
    return f"{'Missed: ' if d.overdue else ''}**{escape(d.case_ref)}**: {escape(d.text)}"


def list_card(rows: list[TransferSummary], *, title: str, today: date, org: Org | None = None,
              cal: WorkingCalendar | None = None, records: Sequence[RecordDuty] = ()) -> AdaptiveCard:
    """A list of transfers, one line each (given the org and calendar: in Slack's words), after
    the same people's case record duties."""
    def build(shown: int) -> AdaptiveCard:
        body: list[CardElement] = [_text(escape(title), weight="Bolder", size="Medium")]
        if records:
            body.append(_text(f"Case record duties ({len(records)})", weight="Bolder"))
            body += [_text(record_line(d)) for d in records[:LIST_ROWS]]
            if rows:
                body.append(_text(f"Transfers ({len(rows)})", weight="Bolder", separator=True))
        body += [_text(_summary_line(r, today, org, cal)) for r in rows[:shown]] or (
            [] if records else [_text("None.")])
        if shown < len(rows):
            body.append(_text(f"... and {len(rows) - shown} more not shown: transfer list overdue "
                              "narrows the list; a report reader's transfer export has every one.",
                              is_subtle=True))
        return _card(body, fallback=f"{title}: {len(rows)}")

    return fit.largest(build, min(len(rows), LIST_ROWS))


def home_card(*, waiting: list[tuple[TransferSummary, tuple[views.Button, ...]]],
              holding: list[TransferSummary], receiving: list[TransferSummary], today: date,
              org: Org | None = None, cal: WorkingCalendar | None = None,
              escalated: list[TransferSummary] | None = None,
              records: Sequence[RecordDuty] = ()) -> AdaptiveCard:
    """The home card, the App Home's sections in its order: what waits on this person (with the
    buttons they may press), what is overdue, what reached their level, their teams' case record
    duties, inbound and outbound transfers; empty sections left out; as many rows as fit Teams'
    message size."""
    shown = home.sections(waiting=waiting, holding=holding, receiving=receiving, today=today,
                          escalated=escalated or (), records=records)

    def build(most: int) -> AdaptiveCard:
        body: list[CardElement] = [_text("Your case transfers", weight="Bolder", size="Large")]
        for s in shown:
            body.append(_text(s.title, weight="Bolder", separator=True))
            cap = min(s.cap, most)
            body += [_text(record_line(d)) for d in s.records[:cap]]
            for r in s.rows[:cap]:
                parts: list[CardElement] = [marked_row(r, today, org, cal) if cal is not None
                                            else _text(_summary_line(r, today, org, cal))]
                if s.buttons.get(r.id):
                    parts.append(ActionSet(actions=buttons(s.buttons[r.id])))
                body.append(Container(items=parts) if len(parts) > 1 else parts[0])
            if s.size > cap:
                body.append(_text(f"... and {s.size - cap} more: transfer list {s.scope} shows them.",
                                  is_subtle=True))
        if not shown:
            body.append(_text(home.NOTHING, separator=True))
        body += [_text("Start", weight="Bolder", separator=True),
                 _text(" · ".join(f"**transfer {escape(usage)}**: {words}" for usage, words in home.START))]
        return _card(body, fallback="Your case transfers")

    return fit.largest(build, HOME_ROWS)


def history_card(t_case_ref: str, events: list[tuple[str, str | views.Person, str]], *,
                 restricted: bool = False, org: Org | None = None) -> AdaptiveCard:
    """A transfer's timeline, oldest first: when, who (an @mention where the org file gives an
    Entra id), what (the latest 60 events)."""
    def build(shown: int) -> AdaptiveCard:
        mentions: list[Mention] = []
        body: list[CardElement] = [_text(f"History of {escape(t_case_ref)}", weight="Bolder", size="Medium")]
        if restricted:
            body.append(_text(escape(views.RESTRICTED_NOTE), is_subtle=True))
        if len(events) > shown:
            body.append(_text(f"{len(events) - shown} earlier events not shown", is_subtle=True))
        body += [_text(f"{escape(at)}: {rich((who,), org, mentions)}: {escape(what)}")
                 for at, who, what in (events[-shown:] if shown else [])]
        body += [] if events else [_text("Nothing recorded yet.", is_subtle=True)]
        return _mentioning(_card(body, fallback=f"History of {t_case_ref}"), mentions)

    return fit.largest(build, min(len(events), HISTORY_EVENTS))


def weekly_card(summary: Summary, chart_png: bytes | None = None) -> AdaptiveCard:
    """The weekly summary: its figures, a line per team (as many as fit Teams' message size,
    then how many more and where to see them), and its chart when it fits beside them all."""
    if chart_png and len(chart_png) < 20_000:
        with_chart = _weekly(summary, len(summary.by_team), chart_png)
        if fit.fits(with_chart):
            return with_chart
    return fit.largest(lambda shown: _weekly(summary, shown, None), len(summary.by_team))


def _weekly(s: Summary, shown: int, chart_png: bytes | None) -> AdaptiveCard:
    import base64

    from microsoft_teams.cards import Image

    med = "-" if s.median_days_to_resolution is None else f"{s.median_days_to_resolution:g}"
    body: list[CardElement] = [
        _text(f"Transfers {s.start:%d %b} to {s.end:%d %b %Y}", weight="Bolder", size="Medium"),
        FactSet(facts=[Fact(title="Opened", value=str(s.opened)),
                       Fact(title="Resolved", value=str(s.resolved)),
                       Fact(title="Breached", value=str(s.breached)),
                       Fact(title="Awaiting endorsement", value=str(s.awaiting_endorsement)),
                       Fact(title="Open now", value=f"{s.open_now} ({s.overdue_now} overdue)"),
                       Fact(title="Median working days to resolution", value=med)]),
    ]
    if shown:  # one fact a team, its figures under one heading: compact, so a national org's fit
        body += [_text("By receiving team: open now / opened / resolved / breached / overdue",
                       weight="Bolder", size="Small"),
                 FactSet(facts=[Fact(title=escape(t.team), value=f"{t.open} / {t.opened} / {t.resolved} / "
                                                                 f"{t.breached} / {t.overdue}")
                                for t in s.by_team[:shown]])]
    if shown < len(s.by_team):
        body.append(_text(f"... and {len(s.by_team) - shown} more teams not shown (Teams' message size): "
                          "a report reader's transfer export has every team's transfers.", is_subtle=True))
    if chart_png:
        body.append(Image(url="data:image/png;base64," + base64.b64encode(chart_png).decode(),
                          alt_text="Bar chart of transfers opened, resolved and breached per team"))
    return _card(body, fallback=f"Transfers: {s.opened} opened, {s.resolved} resolved, {s.breached} breached")


def _help_lines(entries: Iterable[guide.Entry]) -> list[CardElement]:
    return [_text(f"**transfer {escape(e.typed('teams'))}**: {escape(e.words)}") for e in entries]


def help_card(prefix: str = "", h: guide.Help | None = None) -> AdaptiveCard:
    """What typed commands Baton understands in the 1:1 chat, as Slack's /transfer help says it:
    the reader's own commands and their policy's steps for their role first, the rest behind
    "More" (a card that opens in place); without a reader, the general commands."""
    body: list[CardElement] = [_text("Baton on Teams", weight="Bolder", size="Medium")]
    if prefix:
        body.append(_text(escape(prefix)))
    if h is None:
        body += _help_lines(e for e in guide.EVERY if e not in (guide.AGENDA, guide.CLOSED, guide.EXPORT))
        return _card(body, fallback="Baton on Teams: help")
    body.append(_text(f"For you: {escape(h.reader)}.", is_subtle=True))
    body += _help_lines(h.yours)
    body.append(_text(escape(NO_NAMES), is_subtle=True, size="Small"))
    more = AdaptiveCard(version="1.5", body=[
        _text("Commands and steps for other roles and policies, and who may use them.", is_subtle=True),
        *_help_lines(h.more)])
    card = _card(body, fallback="Baton on Teams: help")
    card.actions = [ShowCardAction(title="More", card=more)]
    return card
