"""Operations metrics of your workspace, or of one of its briefs."""

from datetime import date

from django.http import HttpRequest
from ninja import Router

from signoff.api.errors import error_responses
from signoff.api.schemas.metrics import MetricsOut
from signoff.api.scope import brief_for
from signoff.metrics.selectors import operations_metrics

router = Router(tags=["metrics"])


@router.get("", response={200: MetricsOut, **error_responses()})
def metrics(request: HttpRequest, brief: str | None = None, since: date | None = None) -> dict:
    """Cycle time per stage and gate (median, p90), first-pass approval rate, revisions per
    package, rejection reasons by rule id, AI text shipped unedited, model cost per shipped
    package, SLA breach rate and hours saved: overall and per brief, channel, gate, person and
    ISO week, counted from ``since`` (a day, UTC). Any person of the workspace may read them."""
    person = request.auth
    target = brief_for(person, brief) if brief else None
    return operations_metrics(person.workspace, brief=target, since=since)
