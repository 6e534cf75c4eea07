"""What a reminder, breach or escalation line says about who owes what, as of the day it is read.

A digest line is the obligation model's words (who must do what, :mod:`bot.obligations`) and
then the clock's step ("Missed: Transfer to be completed by ..."). The sweep writes it when the
step falls due; delivery draws it again from the transfer as it is when the digest is sent and
whenever the transfer moves on, so a digest never names the SPOs after the dispute is decided.
Pure: no SQL, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from bot import obligations
from bot.calendar import WorkingCalendar
from bot.clocks import Deadline
from bot.domain import Transfer
from bot.obligations import Obligation
from bot.org import Org
from bot.policy import PolicyPack
from bot.states import STATE_LABELS


def owed_to(obs: Sequence[Obligation], clock: str, viewer: str | None, named: dict[int, list[str]]
            ) -> Obligation | None:
    """Of the obligations now, the one a line about ``clock`` speaks of to ``viewer``: one on
    that clock naming them, else that clock's first, else one naming them; None when none is
    (an endorsement reminder to senior management: the step's own words say it). ``named`` maps
    each obligation's index in ``obs`` to the people it names."""
    here = [i for i, o in enumerate(obs) if o.deadline.clock == clock]
    mine = [i for i in range(len(obs)) if viewer is not None and viewer in named.get(i, ())]
    for pick in ([i for i in here if i in mine], here, mine):
        if pick:
            return obs[pick[0]]
    return None


def line(ob: Obligation | None, t: Transfer, step_text: str, *, owed: bool = True) -> str:
    """The line: "South PDU: decide on X100001 (accept or decline). Missed: ..."; the step's own
    words where no obligation is its; once nothing is owed at all (``owed`` false), the state it
    ended in instead of anyone's name."""
    if not owed:
        return (f"{t.case_ref} is {STATE_LABELS[t.state].lower()}: nothing is owed on it now. "
                f"{step_text}").strip()
    if ob is None:
        return step_text
    return f"{ob.who}: {ob.verb}. {step_text}".strip()


def line_now(t: Transfer, pack: PolicyPack, org: Org, cal: WorkingCalendar, today: date,
             clock: str, viewer: str | None, step_text: str, *, covers: Iterable[object] = (),
             clocks: Sequence[Deadline] | None = None) -> str:
    """A digest line about ``clock`` as ``viewer`` should read it on ``today``."""
    obs = obligations.current(t, pack, org, cal, today, clocks)
    people = {i: obligations.people(o, t, pack, org, list(covers)) for i, o in enumerate(obs)}
    return line(owed_to(obs, clock, viewer, people), t, step_text, owed=bool(obs))
