"""Adaptive Cards (schema 1.5) from the core's platform-neutral views, built with the Teams SDK's
typed card models (``microsoft_teams.cards``), never as dictionaries.

Buttons are ``Action.Execute`` (Universal Actions): verb ``open:ACTION`` asks for the action's
form, ``submit:ACTION`` sends it, ``refresh`` redraws the card for whoever looks at it, so each
viewer sees only the actions they may take (``refresh.userIds`` names who refreshes
automatically). Text typed by people is escaped for the cards' markdown.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    QueryData,
    RefreshDefinition,
    SubmitAction,
    TextInput,
)
from microsoft_teams.cards.core import CardElement

from bot import actions, pickers, views
from bot.actions import FieldKind, raise_fields
from bot.org import Org
from bot.pickers import trim
from bot.policy import Choice as ChoiceOption
from bot.policy import PolicyPack
from handlers.teams import fit, search
from handlers.teams.card_parts import (
    CARD,
    EXCLUDED_LISTED,
    FACT_MAX,
    HEADSUP,
    NO_NAMES,
    PEOPLE,
    RAISE,
    _card,
    _mentioning,
    _text,
    buttons,
    escape,
    person_words,
    rich,
)
from handlers.teams.card_parts import HISTORY_EVENTS as HISTORY_EVENTS
from handlers.teams.card_parts import HOME_ROWS as HOME_ROWS
from handlers.teams.card_parts import LIST_ROWS as LIST_ROWS
from handlers.teams.card_parts import Resolver as Resolver
from handlers.teams.card_parts import button as button
from handlers.teams.marks import MARK, RAG_COLOURS, RAG_WORDS
from handlers.teams.overviews import help_card as help_card
from handlers.teams.overviews import history_card as history_card
from handlers.teams.overviews import home_card as home_card
from handlers.teams.overviews import list_card as list_card
from handlers.teams.overviews import record_line as record_line
from handlers.teams.overviews import weekly_card as weekly_card


def refresh_for(transfer_id: int, users: Iterable[str]) -> RefreshDefinition:
    """Redraw the card for whoever looks at it; ``users`` (Teams ids, at most 60) refresh at once."""
    return RefreshDefinition(action=ExecuteAction(verb="refresh", data={"transfer_id": transfer_id}),
                             user_ids=list(users)[:60] or None)




def transfer_card(c: views.Card, org: Org | None = None, *, refresh_users: Iterable[str] = ()
                  ) -> AdaptiveCard:
    """A transfer's card: title, headline, facts, where it stands, this viewer's buttons."""
    mentions: list[Mention] = []
    body: list[CardElement] = [_text(escape(c.title), weight="Bolder", size="Medium")]
    body += [_text(escape(line)) for line in c.headline]
    if c.you:  # what this viewer must do by when: the obligation, as on Slack
        body.append(_text(f"**To do:** {escape(c.you)}"))

    def value(label: str, v: views.Rich) -> str:
        text = trim(rich(v, org, mentions), FACT_MAX)
        if label.startswith("Next deadline") and c.rag:
            return f"{RAG_WORDS[c.rag]}: {text}"
        return text

    if c.rag:  # the red/amber/green marker Slack's card shows, in Teams' colours, with its words
        body.append(_text(f"{MARK} {RAG_WORDS[c.rag]}", color=RAG_COLOURS[c.rag], weight="Bolder"))
    body.append(FactSet(facts=[Fact(title=escape(k), value=value(k, v)) for k, v in c.fields]))
    body.append(_text(rich(c.status, org, mentions), is_subtle=True))
    card = _card(body, actions=[*buttons(c.buttons)],
                 refresh=refresh_for(c.transfer_id, refresh_users), fallback=c.fallback)
    return _mentioning(card, mentions)


def digest_card(d: views.Digest) -> AdaptiveCard:
    """Reminders and escalations for one person: one container per case, with its buttons (as
    many as fit Teams' message size, then how many more and where to see them)."""
    head = ("Transfers that need your attention" if not any(i.record for i in d.items) else
            "Case record duties that need your attention" if all(i.record for i in d.items) else
            "Transfers and case record duties that need your attention"
            ) + (f" ({d.page} of {d.pages})" if d.pages > 1 else "")

    def build(shown: int) -> AdaptiveCard:
        body: list[CardElement] = [_text(head, weight="Bolder", size="Medium")]
        for item in d.items[:shown]:
            parts: list[CardElement] = [_text(f"**{escape(item.case_ref)}**: {escape(item.text)}")]
            if item.buttons:
                parts.append(ActionSet(actions=buttons(item.buttons)))
            body.append(Container(items=parts, separator=True))
        if shown < len(d.items):
            body.append(_text(f"... and {len(d.items) - shown} more that need your attention: "
                              "type transfer list mine to see them all.", is_subtle=True))
        return _card(body, fallback=d.fallback)

    return fit.largest(build, len(d.items))


def text_card(text: str, title: str | None = None) -> AdaptiveCard:
    """A plain message as a card (answers to commands, notices without a transfer)."""
    body: list[CardElement] = [_text(escape(title), weight="Bolder")] if title else []
    body += [_text(escape(line)) for line in text.split("\n") if line.strip()]
    return _card(body, fallback=text)


def rich_card(parts: views.Rich, org: Org | None = None) -> AdaptiveCard:
    """A one-line answer naming people: each an @mention where the org file gives an Entra id."""
    mentions: list[Mention] = []
    text = rich(parts, org, mentions)
    return _mentioning(_card([_text(text)], fallback=_plain(parts, org)), mentions)


def _plain(parts: views.Rich, org: Org | None) -> str:
    """Rich text as a notification's plain words (people by display name, or role and team)."""
    return "".join(person_words(p, org) if isinstance(p, views.Person) else p for p in parts)


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
    return {"task": {"type": "message", "value": trim(text, 300)}}


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
    if f.kind == FieldKind.items and len({o.hint for o in fi.options}) > 1:
        return _item_groups(fi, errors, values)
    if f.kind == FieldKind.date:
        el = DateInput(value=str(previous) if previous else None, **common)
    elif f.kind in (FieldKind.choice, FieldKind.items, FieldKind.yes_no):
        choices = [Choice(title=o.label, value=o.id) for o in fi.options] or [
            Choice(title="Yes", value="yes"), Choice(title="No", value="no")]
        multi = f.kind == FieldKind.items
        chosen = ",".join(previous) if isinstance(previous, list | tuple) else previous
        el = ChoiceSetInput(choices=choices, is_multi_select=multi, style="expanded" if multi else "compact",
                            placeholder=None if multi else "Choose one",  # not a blank box
                            value=str(chosen) if chosen else None, wrap=True, **common)
    elif f.kind == FieldKind.person and fi.options:  # only the people who can be chosen
        el = ChoiceSetInput(choices=[Choice(title=_person_title(o), value=o.id) for o in fi.options],
                            style="compact", value=previous or None, placeholder="Choose a person",
                            wrap=True, **common)
    elif f.kind == FieldKind.person:
        el = ChoiceSetInput(choices=[], choices_data=QueryData(dataset=PEOPLE), value=previous or None,
                            placeholder="Choose a person", **common)
    else:
        el = TextInput(is_multiline=f.multiline or f.lines, max_length=f.max_length,
                       value=str(previous) if previous else None,
                       placeholder=trim(f.hint or NO_NAMES, 100), **common)
    return [el, *_error(errors, f.name)]


def _person_title(o: ChoiceOption) -> str:
    return f"{o.label} ({o.hint})" if o.hint else o.label


def _item_groups(fi: views.FormInput, errors: dict[str, str], values: dict[str, Any]) -> list[CardElement]:
    """A checklist field over several checklists: one set of boxes per checklist, under its
    title, each item labelled alone (ids ``items``, ``items__1`` ...; the submission joins them)."""
    f = fi.field
    titled: dict[str, list[ChoiceOption]] = {}
    for o in fi.options:
        titled.setdefault(o.hint, []).append(o)
    out: list[CardElement] = [_text(escape(f.label) + ": tick at least one item, in any of the lists.",
                                    weight="Bolder")]
    for n, (title, options) in enumerate(titled.items()):
        name = f.name if n == 0 else f"{f.name}__{n}"
        previous = values.get(name)
        chosen = ",".join(previous) if isinstance(previous, list | tuple) else previous
        out.append(ChoiceSetInput(id=name, label=title or f.label, is_multi_select=True, style="expanded",
                                  choices=[Choice(title=o.label, value=o.id) for o in options], wrap=True,
                                  value=str(chosen) if chosen else None))
    return [*out, *_error(errors, f.name)]


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
    # a step that ends or refuses a transfer (decline, withdraw) submits in the destructive style
    step = actions.BY_NAME.get(form.action)
    style = "destructive" if step is not None and step.style == "danger" else "positive"
    if dialog:  # in a dialog a submit is Action.Submit: Teams sends it as task/submit
        return _card(body, actions=[SubmitAction(title=form.submit[:40], style=style,
                                                 data={**data, "verb": f"submit:{form.action}"})],
                     fallback=form.title)
    return _card(body, actions=[
        ExecuteAction(title=form.submit[:40], verb=f"submit:{form.action}", data=data, style=style),
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
               multi: bool = False, compact: bool = False) -> list[CardElement]:
        return [ChoiceSetInput(id=name, label=label + ("" if required else " (optional)"),
                               choices=[Choice(title=t, value=i) for i, t in options], wrap=True,
                               is_multi_select=multi,
                               style="expanded" if multi and not compact else "compact",
                               placeholder=None if multi else "Choose one",
                               is_required=required, value=v(name), error_message=errors.get(name)),
                *_error(errors, name)]

    body: list[CardElement] = [
        _text("Early heads up" if heads_up else "Raise a transfer", weight="Bolder", size="Medium"),
        _text(f"From **{escape(org.team(holding_team).name)}** under "
              f"{escape(views.policy_named(pack.title))}. " + escape(NO_NAMES), is_subtle=True),
        TextInput(id="case_ref", label="Case reference", is_required=True, max_length=32, value=v("case_ref"),
                  placeholder=trim(pack.case_ref_hint or "Case reference, no spaces", 100),
                  error_message=errors.get("case_ref")),
        *_error(errors, "case_ref"),
        search.receiving_team_input(org, holding_team, v("receiving_team"), errors.get("receiving_team")),
        *_error(errors, "receiving_team"),
        *choice("kind", "Kind of transfer", [(k.id, k.label) for k in pack.kinds]),
    ]
    gating = pack.gating("request")
    override = next((cl for cl in gating if cl.override_by), None)
    common = [(f"{cl.id}:{it.id}", it.label) for cl in gating for it in cl.items
              if not (it.kinds or cl.kinds)]
    by_kinds: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for cl in gating:
        for it in cl.items:
            if it.kinds or cl.kinds:
                by_kinds.setdefault(tuple(it.kinds or cl.kinds), []).append((f"{cl.id}:{it.id}", it.label))
    if common:  # required items first: the sign-off every transfer needs
        body += choice("checklist", "; ".join(cl.label for cl in gating), common,  # required where
                       required=override is None or heads_up, multi=True)  # nothing else lets it go
    for n, (kinds, items) in enumerate(by_kinds.items(), start=1):
        names = " or ".join(pack.kind_label(k) for k in kinds)
        body += choice(f"checklist__{n}", f"Only when the kind of transfer is: {names}", items,
                       required=False, multi=True)
    if override is not None and not heads_up:
        body += [TextInput(id="urgent_reason", is_multiline=True, value=v("urgent_reason"),
                           label=trim(f"If not signed off: why waiting {override.override_when}", 139)
                           + " (optional)"),
                 *_error(errors, "urgent_reason")]
    if pack.transfer_points:
        body += choice("transfer_point", "Transfer point", [(p.id, p.label) for p in pack.transfer_points],
                       required=False)
        body += [DateInput(id="transfer_point_date", label="Date of the transfer point (optional)",
                           value=v("transfer_point_date")), *_error(errors, "transfer_point_date")]
    if pack.flags:
        body += choice("flags", "Risk and cohort flags", [(f.id, f.label) for f in pack.flags],
                       required=False, multi=True)
    if pack.routing is not None:  # whose case is it: the policy's remit table (bot/routing.py)
        body += choice("circumstance", "Circumstance (whose case is it?)",
                       [(r.id, r.question) for r in pack.routing.rules], required=False)
        body += [TextInput(id="route_reason", is_multiline=True, value=v("route_reason"),
                           label="If it goes to another team or point than the policy names: why (optional)"),
                 *_error(errors, "route_reason")]
    for f in raise_fields(pack):  # the policy's own dates and fields, as on Slack's form
        if f.kind == FieldKind.date:
            body += [DateInput(id=f.name, label=f"{f.label} (optional)", value=v(f.name),
                               error_message=errors.get(f.name)), *_error(errors, f.name)]
        else:
            body += [TextInput(id=f.name, label=f"{f.label} (optional)", is_multiline=f.multiline,
                               max_length=f.max_length, value=v(f.name),
                               placeholder=trim(f.hint, 100) or None,
                               error_message=errors.get(f.name)), *_error(errors, f.name)]
    body += [TextInput(id="funding_note", label="Funding arrangements (optional)", is_multiline=True,
                       value=v("funding_note"), placeholder=trim(NO_NAMES, 100)),
             *_error(errors, "funding_note")]
    body += choice("restricted", "Restricted case",
                   [("restricted", "Restrict this transfer to the people named on it")], required=False,
                   multi=True)
    people = [(c.id, _person_title(c)) for c in pickers.excludable(org, holding_team)]
    if 0 < len(people) <= EXCLUDED_LISTED:  # only those who could otherwise see a transfer from here
        body += choice("excluded", "People who must never see it", people, required=False, multi=True,
                       compact=True)
    elif people:  # too many to list inside Teams' message size: Teams' own people picker
        body += [ChoiceSetInput(id="excluded", label="People who must never see it (optional)", choices=[],
                                choices_data=QueryData(dataset=PEOPLE), is_multi_select=True,
                                value=v("excluded") or None, placeholder="Type a name"),
                 *_error(errors, "excluded")]
    verb = HEADSUP if heads_up else RAISE
    return _card(body, actions=[ExecuteAction(title="Send heads up" if heads_up else "Raise",
                                              verb=f"{verb}:{holding_team}", data={"token": token},
                                              style="positive")],
                 fallback="Raise a transfer")


def raise_used_card(case_ref: str, holding: str, receiving: str, *, heads_up: bool = False) -> AdaptiveCard:
    """What a raise card becomes once it is used: what it sent, and its button greyed out, so an
    old form cannot be sent again (the transfer's own card follows in the chat)."""
    what = "Early heads up given" if heads_up else "Transfer raised"
    body: list[CardElement] = [
        _text("Early heads up" if heads_up else "Raise a transfer", weight="Bolder", size="Medium"),
        _text(f"{what}: **{escape(case_ref)}**, {escape(holding)} → {escape(receiving)}. Its card is in "
              "this chat; type **transfer new** to raise another.")]
    return _card(body, actions=[ExecuteAction(title="Send heads up" if heads_up else "Raise", verb="refresh",
                                              is_enabled=False, data={"used": True})],
                 fallback=f"{what}: {case_ref}")
