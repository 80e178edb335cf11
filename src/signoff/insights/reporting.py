"""A brief's performance report as plain data (CLI --json, the API) and as sentences."""

from __future__ import annotations

from signoff.insights import stats
from signoff.insights.attributes import LABELS
from signoff.insights.selectors import ChannelReport


def verdict_text(comparison: stats.Comparison) -> str:
    """What the comparison lets people say, or how much more data it needs."""
    if len(comparison.arms) < 2:
        return "only one value so far: nothing to compare"
    winner = comparison.winner
    if winner is not None:
        return f"{winner.label} wins ({stats.percent(winner.rate)})"
    needed = comparison.needed
    if needed is None:
        return "equal so far: no sample size tells these values apart"
    return (
        f"no winner yet: needs about {needed:,} more {comparison.trial_unit} per value "
        f"(at least {comparison.min_trials:,} each, and enough to tell the gap seen so far "
        "apart with 80% power)"
    )


def _comparison(comparison: stats.Comparison) -> dict:
    return {
        "metric": comparison.metric,
        "trial_unit": comparison.trial_unit,
        "min_trials": comparison.min_trials,
        "alpha": comparison.alpha,
        "winner": comparison.winner.label if comparison.winner else None,
        "needed": comparison.needed,
        "verdict": verdict_text(comparison),
        "arms": [
            {
                "label": a.label,
                "trials": a.trials,
                "successes": a.successes,
                "rate": a.rate,
                "low": a.low,
                "high": a.high,
                "verdict": a.verdict.value,
                "needed": a.needed,
                "z": a.z,
                "p_value": a.p_value,
            }
            for a in comparison.arms
        ],
    }


def report_as_dict(reports: list[ChannelReport]) -> dict:
    """The whole report, JSON-ready."""
    return {
        "method": stats.METHOD,
        "channels": [
            {
                "channel": r.channel,
                "packages": r.packages,
                "impressions": r.impressions,
                "clicks": r.clicks,
                "orders": r.orders,
                "revenue": r.revenue_cents / 100,
                "spend": r.spend_cents / 100,
                "ctr": r.ctr,
                "conversion": r.conversion,
                "attributes": [
                    {
                        "attribute": a.attribute,
                        "label": LABELS[a.attribute],
                        "ctr": _comparison(a.ctr),
                        "conversion": _comparison(a.conversion),
                    }
                    for a in r.attributes
                ],
            }
            for r in reports
        ],
    }
