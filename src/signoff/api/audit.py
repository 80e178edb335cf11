"""The audit log: who approved what, a package's history, and the chain's verification."""

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from signoff.api.errors import error_responses
from signoff.api.schemas import EventOut, Id, VerifyOut, WhoApprovedOut
from signoff.api.scope import package_for
from signoff.audit.models import Event
from signoff.audit.selectors import history, who_approved
from signoff.audit.services import verify
from signoff.core.errors import NotFound

router = Router(tags=["audit"])


class WhoApprovedQuery(Schema):
    sku: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    gate: str | None = None


class LogQuery(Schema):
    package: Id | None = None  # only this package's events
    limit: int = Field(50, ge=1, le=500)


@router.get("/who-approved", response={200: WhoApprovedOut, **error_responses()})
def who_approved_view(request: HttpRequest, query: Query[WhoApprovedQuery]) -> dict:
    """The latest approval of a SKU on a channel (at a gate): who, when, on which content."""
    event = who_approved(**query.dict(), workspace=request.auth.workspace.slug)
    if event is None:
        at = f" at {query.gate}" if query.gate else ""
        raise NotFound(f"nobody has approved {query.sku} on {query.channel}{at}")
    return {
        "person": event.actor,
        "at": event.occurred_at,
        "gate": event.gate,
        "content_hash": event.content_hash,
        "seq": event.seq,
    }


@router.get("/log", response={200: list[EventOut], **error_responses()})
def log(request: HttpRequest, query: Query[LogQuery]) -> list[Event]:
    """Your workspace's events, newest first (or one package's)."""
    subject = {}
    if query.package is not None:
        subject = {
            "subject_type": "package",
            "subject_id": package_for(request.auth, query.package).pk,
        }
    return list(history(**subject, workspace=request.auth.workspace.slug, limit=query.limit))


@router.get("/verify", response={200: VerifyOut, **error_responses()})
def verify_view(request: HttpRequest) -> dict:
    """Re-hash the whole log; report the first event that breaks the chain."""
    result = verify()
    return {
        "ok": result.ok,
        "count": result.count,
        "first_bad_seq": result.first_bad_seq,
        "reason": str(result.reason) if result.reason else None,
        "head_seq": result.head_seq,
        "head_hash": result.head_hash,
    }
