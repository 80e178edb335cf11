"""Performance: import a channel export (as ``signoff performance import``) and read a brief's
winners and losers with their intervals (as ``signoff performance report``)."""

from django.http import HttpRequest
from ninja import Router, Status

from signoff.api.errors import error_responses
from signoff.api.schemas.performance import (
    PerformanceImportIn,
    PerformanceImportOut,
    PerformanceReportOut,
)
from signoff.api.scope import brief_for
from signoff.insights.reporting import report_as_dict
from signoff.insights.selectors import brief_report
from signoff.insights.services import import_performance

router = Router(tags=["performance"])


@router.post(
    "/imports",
    response={200: PerformanceImportOut, 201: PerformanceImportOut, **error_responses(400, 403)},
)
def import_export(request: HttpRequest, payload: PerformanceImportIn) -> Status:
    """Import performance rows, each matched to the launched package version it measures
    (operator or gate owner; 403 otherwise); 201 when rows were stored. Any bad row refuses
    the whole file (422, each problem at ``csv.COLUMN`` with its ``line``). Rows already
    stored are skipped: the same file twice stores nothing (200, ``new_rows`` 0)."""
    brief = brief_for(request.auth, payload.brief) if payload.brief else None
    result = import_performance(
        # A lone surrogate (JSON can carry one) fails to decode there, as a located 422.
        data=payload.csv.encode("utf-8", "surrogatepass"),
        name="performance.csv",
        person=request.auth,
        brief=brief,
    )
    return Status(201 if result.new_rows else 200, result.as_dict())


@router.get("/briefs/{slug}", response={200: PerformanceReportOut, **error_responses()})
def report(request: HttpRequest, slug: str) -> dict:
    """Per channel and content attribute (variant, lead message, title length, tone, image
    option): click-through and conversion per value with 95% intervals, the winner where the
    data supports one, and otherwise how many more impressions or clicks are needed."""
    return report_as_dict(brief_report(brief_for(request.auth, slug)))
