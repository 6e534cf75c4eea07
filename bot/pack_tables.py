"""The policy packs in words: each pack's clocks, ladders and routes as the README's tables
(``baton policy tables``), and the words the obligation table uses for a clock's length and start."""

from __future__ import annotations

from bot.duties import duty_rows
from bot.markdown import cell
from bot.policy import Anchor, BreachAction, Clock, PolicyPack, Recipient
from bot.routing import table_rows

ANCHOR_WORDS = {  # what starts a clock, in words
    Anchor.requested: "the request (day 1 the next working day)",
    Anchor.heads_up: "the early heads up",
    Anchor.transfer_point: "the transfer point date",
    Anchor.work_requested: "work asked for after the receiving audit",
    Anchor.disputed: "a dispute raised",
    Anchor.accepted: "acceptance",
    Anchor.moved: "the move date",
    Anchor.order_made: "the order date",
    Anchor.agreed: "the agreed transfer date",
    Anchor.move_ends: "the end date the RO set",
    Anchor.accommodated: "the accommodation date",
    Anchor.work_due: "the date the remedial work is due (agreed on the form)",
}


_BREACH_WORDS = {
    BreachAction.notify: "tell them",
    BreachAction.escalate: "escalate",
    BreachAction.record_delay: "ask the transferring area for the delay reason and actions",
    BreachAction.request_endorsement: "ask senior management to endorse",
    BreachAction.transfer_anyway: "ask for the electronic transfer now",
}


def length_words(c: Clock) -> str:
    """A clock's length in words: "20 working days", "on the date"."""
    if c.length == 0:
        return "on the date"
    unit = c.unit.value.replace("_", " ")
    return f"{c.length} {unit if c.length != 1 else unit.rstrip('s')}"


def _who(recipients: tuple[Recipient, ...], pack: PolicyPack, escalates: bool) -> str:
    words = []
    for r in recipients:
        if r == Recipient.escalation:
            words.append("the ladder's next level (its top once reached)" if not escalates else "")
        else:
            words.append(r.value.replace("_", " "))
    return ", ".join(w for w in words if w)


def record_clock_rows(p: PolicyPack) -> list[str]:
    """A pack's case-record clocks: the record that starts each (``transfer record``), its length
    (hours beside days and months), who owes it, what ends it, the seed and the reading."""
    out = ["| record clock (with or without a transfer) | case record | length | owed by | ends when | "
           "reminders | seed | setting |", "|---|---|---|---|---|---|---|---|"]
    for c in p.record_clocks:
        rk = p.record_kind(c.record)
        unit = "hour" if c.hours else "working day"
        reminders = ", ".join(f"{k} {unit}{'s' if k != 1 else ''} before" if k else "on the day"
                              for k in c.remind_before) or "none"
        owed = ("the team's managers (told when it is recorded)" if c.owner == "managers"
                else "whoever recorded it, and the team's managers")
        ends = ", ".join({"done": "`record done`", "requested": "a transfer requested",
                          "completed": "a transfer completed"}[e] for e in c.ends_on)
        ends += f" (kinds {', '.join(c.kinds)})" if c.kinds else ""
        out.append(f"| `{c.name}`: {cell(c.label)} | `{c.record}`: {cell(rk.date_label if rk else '')} | "
                   f"{c.length_words()} | {owed} | {ends} | {reminders} | \"{cell(c.source)}\" | "
                   f"{cell(c.reading) or '-'} |")
    return out


def pack_tables(packs: dict[str, PolicyPack]) -> str:
    """Per pack, its clocks (start, stop, reminders, breach, who hears) and its dispute ladder and
    capacity route, each row citing its seed, settings noted: the README's tables."""
    out: list[str] = []
    for p in packs.values():
        out += [f"**{p.title}** (`{p.name}`, seed `{p.source}`)", "",
                "| clock | length | starts | stops on | reminders | at breach | who hears | seed | setting |",
                "|---|---|---|---|---|---|---|---|---|"]
        for c in p.clocks:
            only = [f"kinds {', '.join(c.kinds)}"] if c.kinds else []
            only += [f"flag {c.flag}"] if c.flag else []
            reminders = (", ".join(f"{k} working day{'s' if k != 1 else ''} before" if k else "on the day"
                                   for k in c.remind_before) or "none")
            escalates = BreachAction.escalate in c.at_breach or bool(c.escalate_on_days)
            climbs = BreachAction.escalate in c.at_breach  # the sweep tells the levels as it climbs
            breach = ", ".join(_BREACH_WORDS[a] for a in c.at_breach)
            if c.escalate_on_days:
                breach += "; up the ladder on working days " + ", ".join(map(str, c.escalate_on_days))
            elif BreachAction.escalate in c.at_breach:
                breach += f"; up the ladder every {p.escalation.step_working_days} working days"
            out.append(
                f"| `{c.name}`{' (' + '; '.join(only) + ')' if only else ''} | {length_words(c)} | "
                f"{ANCHOR_WORDS[c.starts]} | {', '.join(c.stops)} | {reminders} "
                f"(to {_who(c.remind, p, False)}) | {breach} | {_who(c.breach_notify, p, climbs)}"
                f"{'; each level as it is reached' if escalates else ''} | "
                f"\"{cell(c.source)}\" | {cell(c.reading) or '-'} |")
        levels = " → ".join(lv.label for lv in p.escalation.levels)
        out += ["", "| route | levels | seed | setting |", "|---|---|---|---|",
                f"| disputes | {levels} | \"{cell(p.escalation.source)}\" | "
                f"{cell(p.escalation.reading) or '-'} |"]
        if p.capacity is not None:
            route = " → ".join(lv.label for lv in p.capacity.levels)
            out.append(f"| capacity (never a decline) | {route} | \"{cell(p.capacity.source)}\" | "
                       f"{cell(p.capacity.reading) or '-'} |")
        if p.service_representatives is not None:
            out.append("| after the pick-up point, or no cover | the receiving team's managers, its "
                       f"{', '.join(p.level_label(x) for x in p.service_representatives.levels)} and "
                       "the org file's `service_representatives` accept, allocate and complete | "
                       f"\"{cell(p.service_representatives.source)}\" | - |")
        if p.siblings_together is not None:
            out.append(f"| siblings apart | the team managers agree, else the "
                       f"{p.level_label(p.siblings_together)} decides (a dispute) | "
                       f"\"{cell(p.siblings_source)}\" | - |")
        if p.record_clocks:
            out += ["", *record_clock_rows(p)]
        duties = duty_rows(p)
        if duties:
            out += ["", *duties]
        if p.routing is not None:
            out += ["", *table_rows(p.routing, p.point_label)]
            if p.routing.reading:
                out.append(f"\nReading: {cell(p.routing.reading)}")
        out.append("")
    return "\n".join(out).rstrip()
