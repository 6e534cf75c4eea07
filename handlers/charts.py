"""The weekly digest's chart: a PNG a senior manager reads at a glance."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.reports import Summary

CHART_TEAMS = 20  # bars a chart of 800 x 450 pixels can label legibly (and draw in well under a second)


def digest_figure(s: Summary) -> Figure:
    """Bars per receiving team: opened, resolved and breached in the period (beyond 20 teams,
    the 20 busiest, and the title says so: the digest's lines carry every team)."""
    shown = s.by_team
    if len(shown) > CHART_TEAMS:
        busiest = sorted(shown, key=lambda t: (-(t.opened + t.breached + t.resolved), t.team))
        keep = {id(t) for t in busiest[:CHART_TEAMS]}
        shown = [t for t in s.by_team if id(t) in keep]
    teams = [t.team for t in shown] or ["(no transfers)"]
    series = {
        "Opened": [t.opened for t in shown] or [0],
        "Resolved": [t.resolved for t in shown] or [0],
        "Breached": [t.breached for t in shown] or [0],
    }
    colours = {"Opened": "#1d70b8", "Resolved": "#00703c", "Breached": "#d4351c"}
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    width = 0.8 / len(series)
    for i, (name, values) in enumerate(series.items()):
        xs = [x + (i - 1) * width for x in range(len(teams))]
        bars = ax.bar(xs, values, width, label=name, color=colours[name])
        ax.bar_label(bars, fontsize=8)
    ax.set_xticks(range(len(teams)), teams, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("Transfers")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    med = ("none resolved" if s.median_days_to_resolution is None
           else f"median {s.median_days_to_resolution:g} working days to resolution")
    which = f", the {len(shown)} busiest of {len(s.by_team)} teams" if len(shown) < len(s.by_team) else ""
    ax.set_title(f"Transfers {s.start:%d %b} - {s.end:%d %b %Y}: {med}{which}", fontsize=10)
    ax.legend(frameon=False, fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    ax.margins(y=0.12)
    ax.set_ylim(bottom=0, top=max(1.0, ax.get_ylim()[1]))  # a quiet week: 0 to 1, never negative
    ax.spines[["top", "right"]].set_visible(False)
    # Fixed margins: tight_layout would measure every label and doubles the rendering time.
    fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.28)
    return fig


def digest_chart(s: Summary) -> bytes:
    """The digest figure as PNG bytes (800 x 450 pixels)."""
    fig = digest_figure(s)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
