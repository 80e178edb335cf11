"""Chart geometry for server-rendered SVG: pure functions, no Django.

The dashboard draws its charts as SVG in the page (no script, no inline style: the CSP
stays); these functions compute where each bar goes, the template only writes the numbers
out. A missing value (no data) draws no bar and says "no data" in its title.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above ``value`` (an axis' end)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-9:
            return step * power
    return 10 * power


def _text(value: float | None, unit: str) -> str:
    if value is None:
        return "no data"
    if unit == "%":
        return f"{value * 100:.0f}%"
    return f"{value:.3g}{unit}"


def hbars(
    groups: Sequence[tuple[str, Sequence[float | None]]],
    series: Sequence[str],
    *,
    unit: str = "",
    width: int = 320,
    label_width: int = 56,
    bar: int = 9,
    gap: int = 10,
) -> dict:
    """Horizontal grouped bars: one group per label, one bar per series in each.

    Returns ``{"width", "height", "axis": {"x", "y1", "y2"}, "ticks", "groups": [{"label",
    "y", "bars": [{"series", "index", "x", "y", "w", "h", "text"}]}], "series"}``.
    """
    values = [v for _, row in groups for v in row if v is not None]
    if unit == " h" and values and max(values) < 1:  # waits under an hour read in minutes
        groups = [(label, [None if v is None else v * 60 for v in row]) for label, row in groups]
        values, unit = [v * 60 for v in values], " min"
    top = nice_ceiling(max(values, default=0.0)) if unit != "%" else 1.0
    plot = width - label_width - 8
    group_height = bar * len(series) + gap
    height = group_height * len(groups) + 18
    out_groups = []
    for g, (label, row) in enumerate(groups):
        y0 = g * group_height + 4
        bars = []
        for s, value in enumerate(row):
            w = 0.0 if value is None else max(1.0, plot * min(value, top) / top)
            bars.append(
                {
                    "series": series[s],
                    "index": s,
                    "x": label_width,
                    "y": y0 + s * bar,
                    "w": round(w, 1),
                    "h": bar - 1,
                    "text": f"{label} {series[s]}: {_text(value, unit)}",
                }
            )
        out_groups.append({"label": label, "y": y0 + bar * len(series) / 2 + 3, "bars": bars})
    axis_y = height - 14
    ticks = [
        {
            "x": round(label_width + plot * i / 4, 1),
            "text": _text(top * i / 4, unit),
            "anchor": "end" if i == 4 else "middle",  # the last one inside the frame
        }
        for i in range(5)
    ]
    return {
        "width": width,
        "height": height,
        "axis": {"x": label_width, "y1": 0, "y2": axis_y, "x2": width - 8},
        "tick_y": axis_y + 11,
        "ticks": ticks,
        "groups": out_groups,
        "series": [{"name": name, "index": i} for i, name in enumerate(series)],
    }


def columns(
    groups: Sequence[tuple[str, Sequence[float | None]]],
    series: Sequence[str],
    *,
    unit: str = "",
    width: int = 320,
    height: int = 120,
    left: int = 30,
) -> dict:
    """Vertical grouped columns over time (one group per week), same shape as :func:`hbars`
    with ``x``/``y`` swapped; labels under the columns."""
    values = [v for _, row in groups for v in row if v is not None]
    top = nice_ceiling(max(values, default=0.0)) if unit != "%" else 1.0
    # Room above the plot for the top tick's text, which is centred on the plot's top edge.
    pad = 9
    plot_w, plot_h = width - left - 4, height - 22 - (pad - 4)
    counts = unit == "" and all(float(v).is_integer() for v in values)
    slot = min(plot_w / max(1, len(groups)), 48.0)  # a week or two: columns, not walls
    col = max(2.0, (slot - 4) / max(1, len(series)))
    out_groups = []
    for g, (label, row) in enumerate(groups):
        x0 = left + g * slot + 2
        bars = []
        for s, value in enumerate(row):
            h = 0.0 if value is None else max(1.0, plot_h * min(value, top) / top)
            bars.append(
                {
                    "series": series[s],
                    "index": s,
                    "x": round(x0 + s * col, 1),
                    "y": round(pad + plot_h - h, 1),
                    "w": round(col - 1, 1),
                    "h": round(h, 1),
                    "text": f"{label} {series[s]}: {_text(value, unit)}",
                }
            )
        out_groups.append({"label": label, "x": round(x0 + slot / 2 - 2, 1), "bars": bars})
    return {
        "width": width,
        "height": height,
        "axis": {"x": left, "y1": pad, "y2": pad + plot_h, "x2": width - 4},
        "label_y": height - 4,
        "ticks": [
            {"y": round(pad + plot_h - plot_h * i / 2, 1), "text": _text(top * i / 2, unit)}
            for i in range(3)
            # a count of packages has no half: its midpoint tick goes when it is not whole
            if not counts or float(top * i / 2).is_integer()
        ],
        "groups": out_groups,
        "series": [{"name": name, "index": i} for i, name in enumerate(series)],
    }
