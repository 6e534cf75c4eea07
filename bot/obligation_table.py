"""Each pack's obligations, state by state, as the README's Markdown tables (`baton policy
obligations`): built by walking a transfer of each pack through its states with the domain and
asking :func:`bot.obligations.current` at each, so the table is the model's own answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from bot import actions
from bot.calendar import calendar_for
from bot.clocks import ClockStatus
from bot.clocks import deadlines as clocks_of
from bot.domain import UK_TIME, DomainError, Transfer, new_transfer
from bot.obligations import current
from bot.org import Actor, Role
from bot.pack_tables import ANCHOR_WORDS, length_words
from bot.policy import AGREE_BY, DISPUTE_WINDOW, PolicyPack

SYS = Actor("baton", frozenset({Role.system}))
AT = datetime.combine(date(2026, 11, 23), time(10), tzinfo=UK_TIME)
CAL = calendar_for("ENG")
Step = Callable[[Transfer, PolicyPack], None]


def _base(pack: PolicyPack, *, kind: str = "permanent", point: bool = False) -> Transfer:
    ref = "X123456" if pack.case_ref_ok("X123456") else "1001"
    fields = {}
    if point and pack.transfer_points:
        fields = {"transfer_point": pack.transfer_points[0].id,
                  "transfer_point_date": CAL.add_working_days(AT.date(), 5)}
    return new_transfer(case_ref=ref, pack=pack, holding_team="Holding team",
                        receiving_team="Receiving team", kind=kind, actor=SYS, now=AT, **fields)


def _sign(t: Transfer, pack: PolicyPack, step: str) -> None:
    for cl in pack.gating(step, t.kind):
        if cl.applies(t.kind, t.flags):
            for it in cl.items_for(t.kind):
                t.checklist.setdefault(cl.id, {})[it.id] = {"by": SYS.user, "at": AT.isoformat()}


def _request(t: Transfer, pack: PolicyPack) -> None:
    _sign(t, pack, "request")
    t.request(SYS, AT, pack)


def _later(days: int) -> datetime:
    return AT + timedelta(days=days)


def _scenarios(pack: PolicyPack) -> list[tuple[str, dict[str, object], list[Step], int]]:
    """(what happened, how the transfer was made, its steps, working days later it is read)."""
    out: list[tuple[str, dict[str, object], list[Step], int]] = []
    if pack.early_heads_up:
        out.append(("early heads up", {}, [lambda t, p: t.give_heads_up(SYS, AT)], 0))
    out.append(("requested", {}, [_request], 0))
    if pack.transfer_points:
        out.append(("requested with a transfer point date", {"point": True}, [_request], 0))
    if any(cl.override_by for cl in pack.checklists):
        out.append(("requested before the sign-off (with why waiting would delay the child)", {},
                    [lambda t, p: t.request(SYS, AT, p, urgent_reason="Waiting delays the plan "
                                                                      "by several weeks")], 0))
    gated = [cl for cl in pack.checklists if cl.gates in ("accept", "decision") and cl.kinds]
    for cl in gated:
        out.append((f"requested, {pack.kind_label(cl.kinds[0])} (the {cl.label} open)",
                    {"kind": cl.kinds[0]}, [_request], 0))
    if any(c.name == "electronic_transfer" for c in pack.clocks):
        out.append(("the pick-up point missed without prior agreement", {"point": True},
                    [_request, lambda t, p: t.record_attendance(SYS, _later(7), attended=False,
                                                                agreed_absence=False)], 6))
    if any("record_delay" in [a.value for a in c.at_breach] for c in pack.clocks):
        out.append(("requested, past its 20 working days", {}, [_request], 21))
    out.append(("work asked of the holding team", {},
                [_request, lambda t, p: t.request_work(SYS, _later(1), items=["Update the "
                                                                               "chronology"],
                                                       due=CAL.add_working_days(_later(1).date(),
                                                                                p.remedial_work_days))],
                1))

    def accept(t: Transfer, p: PolicyPack) -> None:
        _sign(t, p, "accept")
        _sign(t, p, "decision")
        t.accept(SYS, _later(1), p, named_worker="a worker" if p.named_worker_before == "accept"
                 else None)

    out.append(("accepted", {}, [_request, accept], 1))
    out.append(("allocated (a named worker)", {}, [_request, accept,
                                                   lambda t, p: t.allocate(SYS, _later(2),
                                                                           named_worker="a worker")],
                2))

    def decline(t: Transfer, p: PolicyPack) -> None:
        _sign(t, p, "decision")
        t.decline(SYS, _later(1), p, rationale="The risk cannot be managed in this area",
                  reason_category=p.decline_reasons[0].id if p.decline_reasons else None)

    out.append(("declined", {}, [_request, decline], 1))
    dispute: list[Step] = [_request, decline,
                           lambda t, p: t.dispute(SYS, _later(2), reason="We disagree with it")]
    out.append(("decline disputed", {}, dispute, 2))
    def climb(t: Transfer, p: PolicyPack) -> None:
        t.escalate(SYS, _later(3), p, reason="Not agreed at this level")

    for n, level in enumerate(pack.escalation.levels[1:], start=1):
        out.append((f"dispute escalated to the {level.label}", {}, [*dispute, *[climb] * n], 3))
    return out


def _by(pack: PolicyPack, clock: str) -> str:
    c = pack.clock(clock)
    if clock == AGREE_BY:
        return (f"{c.label} (Baton's own date: {pack.agree_within_working_days} working days from "
                "the step, `agree_within_working_days`; the seed gives none)")
    if clock == DISPUTE_WINDOW:
        return f"{c.label} ({pack.dispute_window_working_days} working days from the decline)"
    return f"{c.label} ({length_words(c)} from {ANCHOR_WORDS[c.starts]})"


def obligation_rows(pack: PolicyPack) -> list[tuple[str, str, str, str, str]]:
    """(state reached, who, button(s), by when, if missed) for each scenario of ``pack``."""
    rows = []
    for what, how, steps, days in _scenarios(pack):
        t = _base(pack, **how)  # type: ignore[arg-type]
        try:
            for step in steps:
                step(t, pack)
        except DomainError:
            continue  # the pack has no such step (the scenario does not apply)
        today = CAL.add_working_days(AT.date(), days) if days else AT.date()
        ds = clocks_of(t, pack, CAL)
        if not any(d.status == ClockStatus.running for d in ds) and t.is_open:
            continue
        for o in current(t, pack, None, CAL, today, ds):
            buttons = " / ".join(f"**{actions.BY_NAME[a].label}**" for a in o.actions)
            verb = o.verb.replace(t.case_ref, "the case")
            rows.append((what, o.who, f"{verb}: {buttons}", _by(pack, o.deadline.clock), o.miss))
        if not current(t, pack, None, CAL, today, ds):
            rows.append((what, "-", "nothing (closed)", "-", "-"))
    return rows


def obligation_tables(packs: dict[str, PolicyPack]) -> str:
    """Every pack's obligations, state by state, as Markdown."""
    out: list[str] = []
    for name, pack in packs.items():
        out += [f"**{pack.title}** (`{name}`)", "",
                "| when | who | does (the button they hold) | by | if missed |",
                "|---|---|---|---|---|"]
        out += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |"
                for row in obligation_rows(pack)]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
