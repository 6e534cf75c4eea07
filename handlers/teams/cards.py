"""Adaptive Cards (schema 1.5) from the core's platform-neutral views, built with the Teams SDK's
typed card models (``microsoft_teams.cards``), never as dictionaries.

Buttons are ``Action.Execute`` (Universal Actions): verb ``open:ACTION`` asks for the action's
form, ``submit:ACTION`` sends it, ``refresh`` redraws the card for whoever looks at it, so each
viewer sees only the actions they may take (``refresh.userIds`` names who refreshes
automatically). Text typed by people is escaped for the cards' markdown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    Choice,
    ChoiceSetInput,
    Container,
    DateInput,
    ExecuteAction,
    Fact,
    FactSet,
    Mention,
    MentionedEntity,
    QueryData,
    RefreshDefinition,
    SubmitAction,
    TeamsCardProperties,
    TextBlock,
    TextInput,
)
from microsoft_teams.cards.core import CardElement

from bot import views
from bot.actions import FieldKind
from bot.calendar import WorkingCalendar
from bot.org import Org
from bot.policy import PolicyPack
from bot.ports import TransferSummary
from bot.reports import Summary
from bot.states import STATE_LABELS, State

CARD = "application/vnd.microsoft.card.adaptive"
NO_NAMES = "Do not write names, dates of birth or addresses: the case reference is enough."
PEOPLE = "graph.microsoft.com/users"  # Teams' people picker: the value is an Entra object id
RAISE, HEADSUP = "raise", "headsup"  # verbs of the raise and heads-up forms
_MD = re.compile(r"([\\`*_\[\]])")  # what the cards' markdown subset acts on
Resolver = Callable[[str], str | None]  # a person id -> their Teams user id (for refresh.userIds)


def escape(text: str) -> str:
    """User text made inert for the cards' markdown."""
    return _MD.sub(r"\\\1", text)


def rich(parts: views.Rich, org: Org | None = None, mentions: list[Mention] | None = None) -> str:
    """Neutral rich text as card markdown, text escaped; people by their work e-mail, and as an
    @mention (added to ``mentions``) when the org file gives their Entra object id."""
    out: list[str] = []
    for p in parts:
        if isinstance(p, views.Person):
            person = org.person(p.id) if org is not None else None
            who = escape((person.email if person else None) or p.id)
            if mentions is not None and person is not None and person.entra_id:
                tag = f"<at>{who}</at>"
                if not any(m.text == tag for m in mentions):
                    mentions.append(Mention(text=tag,
                                            mentioned=MentionedEntity(id=person.entra_id, name=who)))
                out.append(tag)
            else:
                out.append(who)
        else:
            out.append(escape(p))
    return "".join(out)


def _text(text: str, **kw: Any) -> TextBlock:
    return TextBlock(text=text, wrap=True, **kw)


def _card(body: list[CardElement], *, actions: list[ExecuteAction | SubmitAction] | None = None,
          refresh: RefreshDefinition | None = None, fallback: str = "") -> AdaptiveCard:
    return AdaptiveCard(version="1.5", body=body, actions=actions or None, refresh=refresh,
                        fallback_text=fallback[:200] or None)


def button(b: views.Button) -> ExecuteAction:
    """A catalogue action's button: asks Baton for the action's form."""
    return ExecuteAction(title=b.label[:40], verb=f"open:{b.action}", data={"transfer_id": b.transfer_id},
                         style="destructive" if b.style == "danger" else
                         ("positive" if b.style == "primary" else None))


def refresh_for(transfer_id: int, users: Iterable[str]) -> RefreshDefinition:
    """Redraw the card for whoever looks at it; ``users`` (Teams ids, at most 60) refresh at once."""
    return RefreshDefinition(action=ExecuteAction(verb="refresh", data={"transfer_id": transfer_id}),
                             user_ids=list(users)[:60] or None)


RAG_WORDS = {"red": "Overdue", "amber": "Due soon", "green": "On track"}  # as Slack's card says


def transfer_card(c: views.Card, org: Org | None = None, *, refresh_users: Iterable[str] = ()
                  ) -> AdaptiveCard:
    """A transfer's card: title, headline, facts, where it stands, this viewer's buttons."""
    mentions: list[Mention] = []
    body: list[CardElement] = [_text(escape(c.title), weight="Bolder", size="Medium")]
    body += [_text(escape(line)) for line in c.headline]
    if c.todo:  # who must do what by when: the obligation, as on Slack
        body.append(_text(f"**To do:** {escape(c.todo)}"))

    def value(label: str, v: views.Rich) -> str:
        if label.startswith("Next deadline") and c.rag:
            return f"{RAG_WORDS[c.rag]}: {rich(v, org, mentions)}"
        return rich(v, org, mentions)

    body.append(FactSet(facts=[Fact(title=escape(k), value=value(k, v)) for k, v in c.fields]))
    body.append(_text(rich(c.status, org, mentions), is_subtle=True))
    card = _card(body, actions=[button(b) for b in c.buttons],
                 refresh=refresh_for(c.transfer_id, refresh_users), fallback=c.fallback)
    return _mentioning(card, mentions)


def digest_card(d: views.Digest) -> AdaptiveCard:
    """Reminders and escalations for one person: one container per case, with its buttons."""
    head = "Transfers that need your attention" + (f" ({d.page} of {d.pages})" if d.pages > 1 else "")
    body: list[CardElement] = [_text(head, weight="Bolder", size="Medium")]
    for item in d.items:
        parts: list[CardElement] = [_text(f"**{escape(item.case_ref)}**: {escape(item.text)}")]
        if item.buttons:
            parts.append(ActionSet(actions=[button(b) for b in item.buttons]))
        body.append(Container(items=parts, separator=True))
    return _card(body, fallback=d.fallback)


def text_card(text: str, title: str | None = None) -> AdaptiveCard:
    """A plain message as a card (answers to commands, notices without a transfer)."""
    body: list[CardElement] = [_text(escape(title), weight="Bolder")] if title else []
    body += [_text(escape(line)) for line in text.split("\n") if line.strip()]
    return _card(body, fallback=text)


def _mentioning(card: AdaptiveCard, mentions: list[Mention]) -> AdaptiveCard:
    """The card with its @mentions' entities (Teams renders <at>…</at> only with them)."""
    if mentions:
        card.msteams = TeamsCardProperties(entities=mentions)
    return card


def rich_card(parts: views.Rich, org: Org | None = None) -> AdaptiveCard:
    """A one-line answer naming people: each an @mention where the org file gives an Entra id."""
    mentions: list[Mention] = []
    text = rich(parts, org, mentions)
    return _mentioning(_card([_text(text)], fallback=_plain(parts, org)), mentions)


def _plain(parts: views.Rich, org: Org | None) -> str:
    """Rich text as a notification's plain words (people by work e-mail)."""
    out = []
    for p in parts:
        person = org.person(p.id) if isinstance(p, views.Person) and org is not None else None
        out.append(((person.email if person else None) or p.id) if isinstance(p, views.Person) else p)
    return "".join(out)


def render(message: views.Message, org: Org | None = None, *, refresh_users: Iterable[str] = ()
           ) -> AdaptiveCard:
    """Any neutral message as an Adaptive Card."""
    if isinstance(message, views.Card):
        return transfer_card(message, org, refresh_users=refresh_users)
    if isinstance(message, views.Digest):
        return digest_card(message)
    return text_card(message.text)


def dialog(card: AdaptiveCard, title: str) -> dict[str, Any]:
    """A task/fetch or task/submit answer that shows ``card`` in a dialog (or keeps it open)."""
    return {"task": {"type": "continue", "value": {"title": title[:60], "width": "medium",
                                                  "card": attachment(card)}}}


def dialog_message(text: str) -> dict[str, Any]:
    """A task/fetch or task/submit answer that says ``text`` in the dialog (closing the form)."""
    return {"task": {"type": "message", "value": text[:300]}}


def attachment(card: AdaptiveCard) -> dict[str, Any]:
    """The card as a message attachment."""
    return {"contentType": CARD, "content": card.model_dump(mode="json", exclude_none=True, by_alias=True)}


# ---- forms ------------------------------------------------------------------------------------
def _error(errors: dict[str, str], name: str) -> list[CardElement]:
    msg = errors.get(name)
    return [_text(escape(msg), color="Attention", size="Small", id=f"{name}__error")] if msg else []


def _input(fi: views.FormInput, errors: dict[str, str], values: dict[str, Any]) -> list[CardElement]:
    f = fi.field
    label = f.label + ("" if f.required else " (optional)")
    previous = values.get(f.name, fi.initial)
    common: dict[str, Any] = {"id": f.name, "label": label, "is_required": f.required,
                              "error_message": errors.get(f.name)}
    el: CardElement
    if f.kind == FieldKind.date:
        el = DateInput(value=str(previous) if previous else None, **common)
    elif f.kind in (FieldKind.choice, FieldKind.items, FieldKind.yes_no):
        choices = [Choice(title=o.label[:75], value=o.id) for o in fi.options] or [
            Choice(title="Yes", value="yes"), Choice(title="No", value="no")]
        multi = f.kind == FieldKind.items
        chosen = ",".join(previous) if isinstance(previous, list | tuple) else previous
        el = ChoiceSetInput(choices=choices, is_multi_select=multi, style="expanded" if multi else "compact",
                            value=str(chosen) if chosen else None, **common)
    elif f.kind == FieldKind.person:
        el = ChoiceSetInput(choices=[], choices_data=QueryData(dataset=PEOPLE), value=previous or None,
                            placeholder="Choose a person", **common)
    else:
        el = TextInput(is_multiline=f.multiline or f.lines, max_length=f.max_length,
                       value=str(previous) if previous else None,
                       placeholder=(f.hint or NO_NAMES)[:100], **common)
    return [el, *_error(errors, f.name)]


def form_card(form: views.Form, org: Org | None = None, *, token: str, errors: dict[str, str] | None = None,
              values: dict[str, Any] | None = None, problem: str | None = None,
              dialog: bool = False) -> AdaptiveCard:
    """An action's form as a card: its inputs, each error under its field, Submit and Cancel (in
    a dialog, Submit alone: Teams closes a dialog itself)."""
    errors, values = errors or {}, values or {}
    body: list[CardElement] = [_text(escape(form.title), weight="Bolder", size="Medium")]
    body += [_text(rich(line, org)) for line in form.intro]
    if problem:
        body.append(_text(escape(problem), color="Attention"))
    for fi in form.inputs:
        body += _input(fi, errors, values)
    data = {"transfer_id": form.transfer_id, "token": token}
    if dialog:  # in a dialog a submit is Action.Submit: Teams sends it as task/submit
        return _card(body, actions=[SubmitAction(title=form.submit[:40], style="positive",
                                                 data={**data, "verb": f"submit:{form.action}"})],
                     fallback=form.title)
    return _card(body, actions=[
        ExecuteAction(title=form.submit[:40], verb=f"submit:{form.action}", data=data, style="positive"),
        ExecuteAction(title="Cancel", verb="refresh", data={"transfer_id": form.transfer_id},
                      associated_inputs="none"),
    ], fallback=form.title)


def raise_card(pack: PolicyPack, org: Org, holding_team: str, *, token: str, heads_up: bool = False,
               errors: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> AdaptiveCard:
    """The form to raise a transfer (or give an early heads up) from ``holding_team``."""
    errors, values = errors or {}, values or {}

    def v(name: str) -> str | None:
        got = values.get(name)
        return ",".join(got) if isinstance(got, list) else (str(got) if got else None)

    def choice(name: str, label: str, options: list[tuple[str, str]], *, required: bool = True,
               multi: bool = False) -> list[CardElement]:
        return [ChoiceSetInput(id=name, label=label + ("" if required else " (optional)"),
                               choices=[Choice(title=t[:75], value=i) for i, t in options],
                               is_multi_select=multi, style="expanded" if multi else "compact",
                               is_required=required, value=v(name), error_message=errors.get(name)),
                *_error(errors, name)]

    teams = [(t.id, f"{t.name} ({t.id})") for t in org.teams
             if t.id != holding_team and org.may_transfer(holding_team, t.id)]
    body: list[CardElement] = [
        _text("Early heads up" if heads_up else "Raise a transfer", weight="Bolder", size="Medium"),
        _text(f"From **{escape(org.team(holding_team).name)}** under the {escape(pack.title)} policy. "
              + escape(NO_NAMES), is_subtle=True),
        TextInput(id="case_ref", label="Case reference", is_required=True, max_length=32, value=v("case_ref"),
                  placeholder=(pack.case_ref_hint or "Case reference, no spaces")[:100],
                  error_message=errors.get("case_ref")),
        *_error(errors, "case_ref"),
        *choice("receiving_team", "Receiving team", teams),
        *choice("kind", "Kind of transfer", [(k.id, k.label) for k in pack.kinds]),
    ]
    if pack.transfer_points:
        body += choice("transfer_point", "Transfer point", [(p.id, p.label) for p in pack.transfer_points],
                       required=False)
        body += [DateInput(id="transfer_point_date", label="Date of the transfer point (optional)",
                           value=v("transfer_point_date")), *_error(errors, "transfer_point_date")]
    if pack.flags:
        body += choice("flags", "Risk and cohort flags", [(f.id, f.label) for f in pack.flags],
                       required=False, multi=True)
    body += [TextInput(id="funding_note", label="Funding arrangements (optional)", is_multiline=True,
                       value=v("funding_note"), placeholder=NO_NAMES[:100]), *_error(errors, "funding_note")]
    items = [(f"{cl.id}:{it.id}", it.label) for cl in pack.gating("request") for it in cl.items]
    if items:
        body += choice("checklist", "; ".join(cl.label for cl in pack.gating("request"))[:200], items,
                       required=False, multi=True)
    override = next((cl for cl in pack.gating("request") if cl.override_by), None)
    if override is not None and not heads_up:
        body += [TextInput(id="urgent_reason", is_multiline=True, value=v("urgent_reason"),
                           label=f"If not signed off: why waiting {override.override_when} (optional)"[:150]),
                 *_error(errors, "urgent_reason")]
    body += choice("restricted", "Restricted case",
                   [("restricted", "Restrict this transfer to the people named on it")], required=False,
                   multi=True)
    verb = HEADSUP if heads_up else RAISE
    return _card(body, actions=[ExecuteAction(title="Send heads up" if heads_up else "Raise",
                                              verb=f"{verb}:{holding_team}", data={"token": token},
                                              style="positive")],
                 fallback="Raise a transfer")


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


def list_card(rows: list[TransferSummary], *, title: str, today: date, org: Org | None = None,
              cal: WorkingCalendar | None = None) -> AdaptiveCard:
    """A list of transfers, one line each (given the org and calendar: in Slack's words)."""
    body: list[CardElement] = [_text(escape(title), weight="Bolder", size="Medium")]
    body += [_text(_summary_line(r, today, org, cal)) for r in rows[:50]] or [_text("None.")]
    if len(rows) > 50:
        body.append(_text(f"... and {len(rows) - 50} more.", is_subtle=True))
    return _card(body, fallback=f"{title}: {len(rows)}")


def home_card(*, waiting: list[tuple[TransferSummary, tuple[views.Button, ...]]],
              holding: list[TransferSummary], receiving: list[TransferSummary], today: date,
              org: Org | None = None, cal: WorkingCalendar | None = None) -> AdaptiveCard:
    """The home card, the App Home's four sections: what waits on this person (with the buttons
    they may press), what is overdue, and their teams' inbound and outbound transfers."""
    waiting_ids = {r.id for r, _ in waiting}
    inbound = [r for r in receiving if r.id not in waiting_ids]
    overdue = [r for r in [*receiving, *holding] if r.due_on is not None and r.due_on < today]
    body: list[CardElement] = [_text("Baton: case transfers", weight="Bolder", size="Large")]
    body.append(_text(f"Waiting for you ({len(waiting)})", weight="Bolder", separator=True))
    for r, buttons in waiting[:12]:
        parts: list[CardElement] = [_text(_summary_line(r, today, org, cal))]
        if buttons:
            parts.append(ActionSet(actions=[button(b) for b in buttons[:5]]))
        body.append(Container(items=parts))
    body += [] if waiting else [_text("None.", is_subtle=True)]
    for title, rows in ((f"Overdue ({len(overdue)})", overdue), (f"Inbound ({len(inbound)})", inbound),
                        (f"Outbound ({len(holding)})", holding)):
        body.append(_text(title, weight="Bolder", separator=True))
        body += ([_text(_summary_line(r, today, org, cal)) for r in rows[:10]]
                 or [_text("None.", is_subtle=True)])
    body += [_text("Start", weight="Bolder", separator=True),
             _text("Type **transfer new** to raise a transfer, **transfer status X123456** for where a "
                   "case stands, **transfer help** for everything.")]
    return _card(body, fallback="Baton")


def history_card(t_case_ref: str, events: list[tuple[str, str | views.Person, str]], *,
                 restricted: bool = False, org: Org | None = None) -> AdaptiveCard:
    """A transfer's timeline, oldest first: when, who (an @mention where the org file gives an
    Entra id), what (the latest 60 events)."""
    mentions: list[Mention] = []
    body: list[CardElement] = [_text(f"History of {escape(t_case_ref)}", weight="Bolder", size="Medium")]
    if restricted:
        body.append(_text(escape(views.RESTRICTED_NOTE), is_subtle=True))
    if len(events) > 60:
        body.append(_text(f"{len(events) - 60} earlier events not shown", is_subtle=True))
    body += [_text(f"{escape(at)}: {rich((who,), org, mentions)}: {escape(what)}")
             for at, who, what in events[-60:]]
    body += [] if events else [_text("Nothing recorded yet.", is_subtle=True)]
    return _mentioning(_card(body, fallback=f"History of {t_case_ref}"), mentions)


def weekly_card(summary: Summary, chart_png: bytes | None = None) -> AdaptiveCard:
    """The weekly summary, with its chart when small enough to travel inside the card."""
    import base64

    from microsoft_teams.cards import Image

    s = summary
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
    body += [_text(f"{escape(t.team)}: open {t.open}, opened {t.opened}, resolved {t.resolved}, "
                   f"breached {t.breached}, overdue {t.overdue}", size="Small") for t in s.by_team[:30]]
    if chart_png and len(chart_png) < 20_000:
        body.append(Image(url="data:image/png;base64," + base64.b64encode(chart_png).decode(),
                          alt_text="Bar chart of transfers opened, resolved and breached per team"))
    return _card(body, fallback=f"Transfers: {s.opened} opened, {s.resolved} resolved, {s.breached} breached")


HELP = ("transfer new: raise a transfer\ntransfer headsup: an early heads up (where the policy has one)\n"
        "transfer status X123456: where a case stands\ntransfer history X123456: what happened\n"
        "transfer list [mine|team|overdue]: transfers\ntransfer ACTION X123456: open an action's form "
        "(accept, decline, complete ...)\ntransfer help: this list")


def help_card(prefix: str = "") -> AdaptiveCard:
    """What typed commands Baton understands in the 1:1 chat."""
    return text_card((prefix + "\n" if prefix else "") + HELP, title="Baton on Teams")
