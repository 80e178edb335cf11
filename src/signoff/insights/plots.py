"""Server-rendered SVG plots for the performance page. Pure: no Django, no script, no style
attribute (the page's CSP allows neither); colours are classes styled by insights.css.

Every text that comes from data is escaped: the SVG is inserted into the page as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from html import escape

from signoff.insights.stats import ArmResult, percent

ROW = 26  # pixels per arm
LABEL = 170  # label column
PLOT = 300  # plot width
SERIES = 6  # colour classes: series-0 ... series-5


def _scale(top: float) -> float:
    """A round upper bound for the axis (so ticks read well)."""
    for step in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0):
        if top <= step:
            return step
    return 1.0


def intervals(arms: Sequence[ArmResult], title: str) -> str:
    """Each arm's rate as a dot on its 95% interval; winners and losers marked by class."""
    top = _scale(max((a.high for a in arms), default=0.01) or 0.01)
    width = LABEL + PLOT + 90
    height = ROW * len(arms) + 34

    def x(rate: float) -> float:
        return LABEL + PLOT * min(rate, top) / top

    parts = [
        f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(5):
        rate = top * tick / 4
        parts.append(
            f'<line class="grid" x1="{x(rate):.1f}" y1="4" x2="{x(rate):.1f}" '
            f'y2="{height - 22}"/><text class="tick" x="{x(rate):.1f}" y="{height - 6}" '
            f'text-anchor="middle">{percent(rate)}</text>'
        )
    for i, arm in enumerate(arms):
        y = 16 + i * ROW
        label = arm.label if len(arm.label) <= 26 else arm.label[:25] + "…"
        parts.append(
            f'<g class="arm {arm.verdict.value}"><title>{escape(arm.label)}: '
            f"{percent(arm.rate)} ({arm.successes:,}/{arm.trials:,}), 95% interval "
            f"{percent(arm.low)}-{percent(arm.high)}; {arm.verdict.value.replace('_', ' ')}"
            f'</title><text class="label" x="{LABEL - 8}" y="{y + 4}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<line class="interval" x1="{x(arm.low):.1f}" y1="{y}" x2="{x(arm.high):.1f}" '
            f'y2="{y}"/><circle class="rate" cx="{x(arm.rate):.1f}" cy="{y}" r="4"/>'
            f'<text class="value" x="{LABEL + PLOT + 8}" y="{y + 4}">{percent(arm.rate)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def over_time(
    series: Mapping[str, Sequence[tuple[date, int, int]]], title: str, *, height: int = 180
) -> str:
    """One line per series of (day, trials, successes) as a daily rate; a legend below."""
    points = [p for values in series.values() for p in values]
    width = LABEL + PLOT + 90
    if not points:
        return ""
    days = sorted({p[0] for p in points})
    first, span = days[0], max(1, (days[-1] - days[0]).days)
    top = _scale(max((s / t for _, t, s in points if t), default=0.01) or 0.01)
    left, plot_w, plot_h = 56, width - 76, height - 40

    def xy(day: date, rate: float) -> str:
        x = left + plot_w * (day - first).days / span
        y = 8 + plot_h * (1 - min(rate, top) / top)
        return f"{x:.1f},{y:.1f}"

    legend_h = 18 * ((len(series) + 2) // 3)
    parts = [
        f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} '
        f'{height + legend_h}" width="{width}" height="{height + legend_h}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for tick in range(5):
        rate = top * tick / 4
        y = 8 + plot_h * (1 - tick / 4)
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{percent(rate)}</text>"
        )
    # The first and last day, each kept inside the plot (anchored at its outer end).
    for day, anchor in ((days[0], "start"), (days[-1], "end"))[: min(2, len(days))]:
        x = left + plot_w * (day - first).days / span
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{height - 14}" text-anchor="{anchor}">'
            f"{day.isoformat()}</text>"
        )
    for i, (name, values) in enumerate(sorted(series.items())):
        colour = f"series-{i % SERIES}"
        line = " ".join(xy(d, s / t) for d, t, s in values if t)
        parts.append(f'<polyline class="line {colour}" points="{line}"/>')
        for d, t, s in values:
            if t:
                parts.append(
                    f'<circle class="dot {colour}" cx="{xy(d, s / t).split(",")[0]}" '
                    f'cy="{xy(d, s / t).split(",")[1]}" r="2.5"><title>{escape(name)} '
                    f"{d.isoformat()}: {percent(s / t)} ({s:,}/{t:,})</title></circle>"
                )
        lx, ly = left + (i % 3) * 140, height + 4 + 18 * (i // 3)
        parts.append(
            f'<rect class="swatch {colour}" x="{lx}" y="{ly}" width="10" height="10"/>'
            f'<text class="label" x="{lx + 14}" y="{ly + 9}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
