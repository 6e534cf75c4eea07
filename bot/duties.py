"""Duties with the force the seed gives them, in words: the README's duty tables.

A duty is a checklist line (``checklist.item``) or one of a pack's named duties
(``accept_rationale``, ``date_agreed_by_both``). "must", "will require", "should not ... unless"
make it a guard: the step it belongs to waits for it. "should", "expected" make it advice,
shown at that step. Where a pack ships another force than the seed's words give, its reading
says why; a council sets each in its org file (``duties:``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.markdown import cell
from bot.pickers import trim

if TYPE_CHECKING:
    from bot.policy import PolicyPack

_STEP_WORDS = {"request": "the request", "accept": "acceptance",
               "decision": "the decision (accept or decline)", "complete": "completion", None: "-"}


def duty_rows(pack: PolicyPack) -> list[str]:
    """Every duty of ``pack``: where it belongs, its force, who confirms it, the seed's words,
    and the reading where the shipped force is a setting."""
    out = ["| duty (`duties:` id) | at | force | confirmed by | seed | setting |",
           "|---|---|---|---|---|---|"]
    for cl in pack.checklists:
        only = [f"kinds {', '.join(cl.kinds)}"] if cl.kinds else []
        only += [f"flag {cl.flag}"] if cl.flag else []
        for i in cl.items:
            kinds = f" (kinds {', '.join(i.kinds)})" if i.kinds else ""
            where = f"{_STEP_WORDS[cl.step]}" + (f" ({'; '.join(only)})" if only else "")
            quote = f'"{cell(i.quote)}"' if i.quote else "-"
            out.append(f"| `{cl.id}.{i.id}`: {cell(i.label)}{kinds} | {where} | {cl.force_of(i)} | "
                       f"{cl.confirmed_by.replace('_', ' ')} | {quote} | {cell(i.reading) or '-'} |")
    if pack.accept_rationale:
        setting = ("\"will need to ... ensure\" is a guard by its words; shipped as advice (the form "
                   "asks for it), an org file makes it a guard" if pack.accept_rationale_force == "advice"
                   else "-")
        out.append(f"| `accept_rationale`: the decision and its rationale, on Accept | acceptance | "
                   f"{pack.accept_rationale_force} | receiving manager | "
                   f"\"{cell(pack.accept_rationale)}\" | {setting} |")
    if pack.date_agreed_by_both:
        out.append(f"| `date_agreed_by_both`: the other team's manager agrees the transfer date "
                   f"(Agree transfer date) | completion | {pack.date_agreed_force} | both team managers | "
                   f"\"{cell(pack.date_agreed_by_both)}\" | - |")
    return out if len(out) > 2 else []


_STEPS_OF = {"accept": ("accept", "decision"), "decline": ("decision",), "complete": ("complete",),
             "request": ("request",)}


def advice_at(pack: PolicyPack, action: str, kind: str, flags: tuple[str, ...],
              done: Mapping[str, Mapping[str, object]]) -> list[str]:
    """The advice lines of the step ``action`` takes (accept, decline, complete, request) not yet
    confirmed, each with the seed's words: what the form shows above its fields."""
    steps = _STEPS_OF.get(action, ())
    out = []
    for cl in pack.checklists:
        if cl.step not in steps or not cl.applies(kind, flags):
            continue
        for i in cl.items_for(kind):
            if cl.force_of(i) == "advice" and i.id not in done.get(cl.id, {}):
                out.append(f"Advice: {i.label}" + (f" (\"{trim(i.quote, 160)}\")" if i.quote else ""))
    return out
