"""The dashboard's operations widgets (``signoff.web.dashboards`` registers them): the
metrics of the last twelve weeks with their charts' geometry. Reads only."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Max
from django.utils import timezone

from signoff.audit.models import Event
from signoff.metrics.charts import columns, hbars
from signoff.metrics.selectors import operations_metrics
from signoff.workspaces.models import Person, Workspace

WINDOW = timedelta(weeks=12)
WEEKS_SHOWN = 8
FIGURES = (
    "shipped",
    "decisions",
    "first_pass_rate",
    "revisions_per_package",
    "ai_unedited_share",
    "cost_per_shipped",
    "sla_breach_rate",
    "hours_saved",
)


# The last computation, so the two widgets on one dashboard (and a reload within the minute
# with nothing new in the log) compute the metrics once: one query checks the log's head.
_last: dict[tuple, dict] = {}


def _metrics(workspace: Workspace) -> dict:
    now = timezone.now()
    since = (now - WINDOW).date()
    head = Event.objects.filter(workspace=workspace.slug).aggregate(head=Max("seq"))["head"]
    key = (workspace.pk, workspace.updated_at, head, since, now.replace(second=0, microsecond=0))
    found = _last.get(key)
    if found is None:  # another thread may clear it meanwhile: keep our own reference
        found = operations_metrics(workspace, since=since, now=now)
        _last.clear()
        _last[key] = found
    return found


def operations(person: Person, workspace: Workspace) -> dict:
    """Headline figures of the last twelve weeks and cycle time per gate (median, p90)."""
    data = _metrics(workspace)
    overall = data["overall"]
    gates = [{"gate": gate, **d} for gate, d in overall["cycle_hours"]["gates"].items()]
    return {
        "since": data["since"][:10],
        "figures": {key: overall[key] for key in FIGURES},
        "manual_hours_per_package": data["manual_hours_per_package"],
        "gates": gates,
        "rejection_reasons": dict(list(overall["rejection_reasons"].items())[:5]),
        "chart": hbars(
            [(g["gate"], [g["median"], g["p90"]]) for g in gates], ["median", "p90"], unit=" h"
        ),
    }


def operations_weekly(person: Person, workspace: Workspace) -> dict:
    """Per ISO week: packages shipped, first-pass approval rate and SLA breach rate."""
    data = _metrics(workspace)
    weeks = list(data["by_week"].items())[-WEEKS_SHOWN:]
    rows = [
        {
            "week": week,
            "shipped": m["shipped"] or 0,
            "decisions": m["decisions"],
            "first_pass_rate": m["first_pass_rate"],
            "sla_breach_rate": m["sla_breach_rate"],
        }
        for week, m in weeks
    ]
    short = [(r["week"][-3:], r) for r in rows]  # "W49": the year is in the table
    return {
        "since": data["since"][:10],
        "weeks": rows,
        "shipped_chart": columns([(w, [r["shipped"]]) for w, r in short], ["shipped"]),
        "rates_chart": columns(
            [(w, [r["first_pass_rate"], r["sla_breach_rate"]]) for w, r in short],
            ["first pass", "SLA breach"],
            unit="%",
        ),
    }
