"""What one org's choice lists and messages come to on each platform, against the platforms'
published limits: ``baton org check`` says so before go-live.

Each check renders what Baton would send with the real renderers (handlers/slack/blocks.py,
handlers/teams/cards.py), at the org's size: the raise form of every team, its Receiving team
list, the weekly digest with a line for every team. Limits: Slack's 100 options a static select
and 75 characters an option's text or a group's label, 100 blocks a modal, 50 a message;
Teams' message of about 28 KB (handlers/teams/fit.py).
"""

from __future__ import annotations

from datetime import date

from bot import teampick
from bot.org import Org
from bot.reports import Summary, TeamLine
from handlers.slack import blocks, teampicker
from handlers.teams import cards, fit

BIG = 99_999  # the figures a weekly line is measured with: the widest a line gets in practice


def _reach(org: Org, holding: str) -> int:
    """How many teams a transfer from ``holding`` may go to (Org.may_transfer)."""
    return sum(1 for t in org.teams if t.id != holding and org.may_transfer(holding, t.id))


def _weekly(org: Org) -> Summary:
    return Summary(start=date(2026, 11, 16), end=date(2026, 11, 22), opened=BIG, resolved=BIG, breached=BIG,
                   awaiting_endorsement=BIG, open_now=BIG, overdue_now=BIG, median_days_to_resolution=99.5,
                   by_team=[TeamLine(t.id, BIG, BIG, BIG, BIG, BIG) for t in org.teams], overdue_reached=BIG)


def _shown_slack(summary: Summary) -> int:
    text = str(blocks.weekly_digest(summary))
    return sum(1 for t in summary.by_team if f"`{t.team}`" in text)


def _shown_teams(summary: Summary) -> int:
    card = cards.weekly_card(summary)
    text = card.model_dump_json(by_alias=True, exclude_none=True)
    return sum(1 for t in summary.by_team if f'"title":"{t.team}"' in text)


def pickers(org: Org) -> list[str]:
    """The raise form's Receiving team on each platform: a type-ahead beyond 100 teams (which
    Slack only answers when the app's options load URL is set), names cut to fit."""
    out: list[str] = []
    widest = max((_reach(org, t.id), t.id) for t in org.teams)
    if widest[0] > teampick.STATIC_MAX:
        out.append(f"raise form: up to {widest[0]} teams can take a transfer (from {widest[1]}), over "
                   f"Slack's {teampicker.OPTIONS_MAX} options a list: the Receiving team is a type-ahead on "
                   "Slack and Teams; set the Slack app's options load URL "
                   "(manifest.yml: interactivity.message_menu_options_url) before go-live")
    long = [t.id for t in org.teams if len(t.name) > teampicker.TEXT_MAX]
    if long:
        out.append(f"team names over Slack's {teampicker.TEXT_MAX} characters an option are cut in its "
                   f"pickers (the id then shown under them): {', '.join(long[:10])}"
                   + (f" and {len(long) - 10} more" if len(long) > 10 else ""))
    groups = sorted({t.group for t in org.teams if t.group and len(t.group) > teampicker.TEXT_MAX})
    if groups:
        out.append(f"group names over Slack's {teampicker.TEXT_MAX} characters a group label are cut: "
                   + ", ".join(repr(g[:40]) for g in groups[:5]))
    return out


def forms(org: Org) -> list[str]:
    """Every team's raise form inside Slack's 100 blocks a modal and Teams' message size."""
    out: list[str] = []
    seen: set[str] = set()
    for t in org.teams:
        pack = org.pack_for(t.id)
        key = f"{pack.name}:{_reach(org, t.id) > teampick.STATIC_MAX}"
        if key in seen:
            continue
        seen.add(key)
        modal = blocks.raise_modal(pack, org, t.id).to_dict()
        if len(modal["blocks"]) >= blocks.MAX_VIEW_BLOCKS:
            out.append(f"raise form ({pack.name}, from {t.id}): {len(modal['blocks'])} blocks, at Slack's "
                       f"{blocks.MAX_VIEW_BLOCKS} a modal")
        size = fit.size(cards.raise_card(pack, org, t.id, token="0" * 32))
        if size > fit.CARD_BUDGET:
            out.append(f"raise card ({pack.name}, from {t.id}): {size:,} bytes, over Teams' message size")
    return out


def digests(org: Org) -> list[str]:
    """The weekly digest with a line for every team, on each platform."""
    out: list[str] = []
    summary = _weekly(org)
    for platform, shown in (("Slack", _shown_slack(summary)), ("Teams", _shown_teams(summary))):
        if shown < len(org.teams):
            out.append(f"weekly digest on {platform}: {shown} of {len(org.teams)} teams' lines fit one "
                       f"message; it says how many more and that a report reader's export has them all")
    return out


def check(org: Org) -> list[str]:
    """Every choice list or message that would meet a platform limit for this org."""
    return [*pickers(org), *forms(org), *digests(org)]
