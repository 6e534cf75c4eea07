"""The weekly digest's chart: a PNG a senior manager reads at a glance."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.reports import Summary


def digest_figure(s: Summary) -> Figure:
    """Bars per receiving team: opened, resolved and breached in the period."""
    teams = [t.team for t in s.by_team] or ["(no transfers)"]
    series = {
        "Opened": [t.opened for t in s.by_team] or [0],
        "Resolved": [t.resolved for t in s.by_team] or [0],
        "Breached": [t.breached for t in s.by_team] or [0],
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
    ax.set_title(f"Transfers {s.start:%d %b} - {s.end:%d %b %Y}: {med}", fontsize=10)
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
