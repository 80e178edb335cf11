"""A brief's performance page: upload a channel export, see winners and losers with their
intervals (server-rendered SVG), rates over time, and how much more data each needs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from signoff.briefs.models import Brief
from signoff.core.errors import InputError
from signoff.insights import plots, stats
from signoff.insights.attributes import LABELS
from signoff.insights.models import Learning
from signoff.insights.reporting import verdict_text
from signoff.insights.selectors import MIN_CLICKS, MIN_IMPRESSIONS, brief_report, daily_rates
from signoff.insights.services import import_performance
from signoff.web.scope import brief_for
from signoff.web.views import with_person
from signoff.workflow import WorkflowError
from signoff.workspaces.models import Person

MAX_UPLOAD = 50 * 1024 * 1024  # larger exports go through `signoff performance import`


@require_http_methods(["GET", "POST"])
@with_person
def performance(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    """GET: the page. POST: import the uploaded CSV, then the page with what it did."""
    brief = brief_for(person, slug)
    context: dict = {}
    status = 200
    if request.method == "POST":
        context, status = _upload(request, person, brief)
    return render(request, "web/performance.html", _page(brief) | context, status=status)


def _upload(request: HttpRequest, person: Person, brief: Brief) -> tuple[dict, int]:
    upload = request.FILES.get("file")
    if upload is None or upload.size > MAX_UPLOAD:
        return {"refusal": f"Choose a CSV file of at most {MAX_UPLOAD // 1024 // 1024} MiB."}, 422
    try:
        result = import_performance(
            data=upload.read(), name=upload.name, person=person, brief=brief
        )
    except InputError as exc:
        return {"problems": exc.problems}, 422
    except WorkflowError as exc:
        return {"refusal": f"Refused ({exc.code.value}): {exc.message}"}, exc.http_status
    return {"imported": result}, 200


def _page(brief: Brief) -> dict:
    channels = []
    for report in brief_report(brief):
        attributes = []
        for attribute in report.attributes:
            comparisons = []
            for comparison in (attribute.ctr, attribute.conversion):
                name = "Click-through" if comparison.metric == "ctr" else "Conversion"
                title = f"{name} by {LABELS[attribute.attribute]} on {report.channel}"
                comparisons.append(
                    {
                        "name": name,
                        "comparison": comparison,
                        "verdict": verdict_text(comparison),
                        # Built from escaped text by signoff.insights.plots: safe as markup.
                        "svg": mark_safe(plots.intervals(comparison.arms, title)),  # noqa: S308
                    }
                )
            attributes.append({"label": LABELS[attribute.attribute], "comparisons": comparisons})
        daily = daily_rates(brief, report.channel)
        ctr_series = {
            f"variant {v}": [(d, i, c) for d, i, c, _ in days] for v, days in daily.items()
        }
        channels.append(
            {
                "report": report,
                "attributes": attributes,
                "over_time": mark_safe(  # noqa: S308 - escaped by signoff.insights.plots
                    plots.over_time(ctr_series, f"Daily click-through on {report.channel}")
                ),
            }
        )
    return {
        "brief": brief,
        "channels": channels,
        "method": stats.METHOD,
        "min_impressions": MIN_IMPRESSIONS,
        "min_clicks": MIN_CLICKS,
        "learnings": Learning.objects.filter(brief=brief),
    }
