"""Words and small helpers both chat adapters share (handlers/slack and handlers/teams).

Nothing here knows a platform: where an answer quotes a command, the adapter says how its
people type it (``/transfer closed CASE`` in Slack's code style; ``transfer closed CASE`` on
Teams), through a ``command`` function.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from bot import actions, services, views
from bot.domain import DomainError
from bot.org import Org
from bot.ports import Closure

# The words people type for a catalogue action, beside its own name with dashes.
ALIASES = {a.name.replace("_", "-"): a.name for a in actions.CATALOGUE} | {
    "ask-for-work": "request_work", "work": "request_work", "delay": "record_delay",
    "attended": "attendance", "endorse-extension": "endorse", "assess-address": "address_assessed",
    "convert-to-permanent": "convert", "allocate-worker": "allocate",
}

SAVE_LATER = "Baton cannot save right now; try again in a minute."
UNSURE = ("The database stopped answering as Baton saved this, so it may have been saved. Press "
          "the button again in a minute: if it was saved, it is kept once.")
APOLOGY = "Sorry, something went wrong on Baton's side; it has been logged. Try again in a minute."

Command = Callable[[str], str]  # "closed CASE" -> how this platform's people type it


def slack_command(words: str) -> str:
    """A command as Slack people type it, in code style: `/transfer closed CASE`."""
    return f"`/transfer {words}`"


def plain_command(words: str) -> str:
    """A command as typed in a Teams chat: transfer closed CASE."""
    return f"transfer {words}"


def action_name(word: str) -> str | None:
    """The catalogue action a typed word names (its name, dashed name or an alias), else None."""
    return ALIASES.get(word) or (word if word in actions.BY_NAME else None)


def period(args: list[str], today: date, command: Command = slack_command) -> tuple[date, date]:
    """``transfer export [from] [to]``: YYYY-MM-DD days; to defaults to today, from to six days before."""
    try:
        to = date.fromisoformat(args[1]) if len(args) > 1 else today
        frm = date.fromisoformat(args[0]) if args else to - timedelta(days=6)
    except ValueError:
        example = command("export 2026-11-01 2026-11-30")
        raise DomainError(f"Give the days as YYYY-MM-DD: {example}.") from None
    return frm, to


def last_team_text(last: services.LastTeam, org: Org | None = None,
                   command: Command = slack_command) -> str:
    """The answer to ``transfer lastteam`` (the team by its name, given the org)."""
    team = views.team_name(org, last.team)
    if last.closed_on is None:
        return (f"{last.case_ref} was last held by {team}. Baton has no record that the case "
                f"closed, so no re-referral window runs ({command('closed CASE')} records it).")
    text = f"{last.case_ref} was last held by {team}; closed {last.closed_on:%d %b %Y}."
    if last.goes_back is True and last.last_day:
        text += (f" Within {last.rule} of closing (to {last.last_day:%d %b %Y} inclusive): a "
                 f"re-referral goes back to {team}.")
    elif last.goes_back is False:
        text += f" Closed more than {last.rule} ago: a re-referral is assessed afresh."
    if last.windows:
        text += " The policy's other windows: " + " ".join(
            f"{words} ({command(ask)})." for words, ask in last.windows)
    return text


def closed_text(closure: Closure, org: Org | None = None,
                command: Command = slack_command) -> str:
    """The answer to ``transfer closed``: with whom the case closed and from when re-referrals run."""
    return (f"{closure.case_ref} closed with {views.team_name(org, closure.team)} on "
            f"{closure.closed_on:%d %b %Y}. A re-referral is routed from this date "
            f"({command('lastteam ' + closure.case_ref)}).")


def case_record(uow: object, org: Org, user: str, args: list[str], now: datetime,
                command: Command = slack_command) -> str:
    """``transfer record ...``: record a case record, mark its duty done, or say what a case's
    records owe; the usage line when nothing follows."""
    word = command("record").strip("`")
    if not args or args[0].lower() == "help":
        return services.record_usage(org, user, word)
    if args[0].lower() == "done":
        a = services.record_done(uow, org, user, args[1:], now)  # type: ignore[arg-type]
    elif len(args) == 1:
        a = services.records_of(uow, org, user, args[0], now)  # type: ignore[arg-type]
    else:
        a = services.record_case(uow, org, user, args, now)  # type: ignore[arg-type]
    return "\n".join(([a.headline] if a.headline else []) + list(a.lines))


def clip(text: str, limit: int = 200) -> str:
    """An error short enough for a form field, cut after a sentence (else at a word)."""
    if len(text) <= limit:
        return text
    end = text.rfind(". ", 0, limit)
    while end > 0 and text[max(0, end - 3): end].lower() in ("e.g", "i.e"):  # not a sentence's end
        end = text.rfind(". ", 0, end)
    if end >= limit // 3:
        return text[: end + 1]
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > 0 else limit - 1].rstrip(" ,;:") + "…"


def closure_args(words: list[str]) -> tuple[date | None, str | None]:
    """The optional day (YYYY-MM-DD) and team after ``closed CASE``, in either order; the team
    by its id or its name, which may run to several words ("North PDU")."""
    on: date | None = None
    team: list[str] = []
    for word in words[:12]:
        try:
            day = date.fromisoformat(word)
        except ValueError:
            team.append(word)
            continue
        if on is None:
            on = day
        else:
            team.append(word)
    return on, " ".join(team) or None
