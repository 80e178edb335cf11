"""The audit log: who approved what, a package's history, and the chain's verification.

Events are numbered within your workspace (``position``), and verification counts your
workspace's events: the installation-wide sequence would reveal other workspaces' activity
(``signoff.web.audit_scope``)."""

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from signoff.api.errors import error_responses
from signoff.api.schemas import EventOut, Id, VerifyOut, WhoApprovedOut
from signoff.api.scope import package_for
from signoff.audit import scope as audit_scope
from signoff.audit.models import Event
from signoff.audit.selectors import history, who_approved
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
    workspace = request.auth.workspace.slug
    event = who_approved(**query.dict(), workspace=workspace)
    if event is None:
        at = f" at {query.gate}" if query.gate else ""
        raise NotFound(f"nobody has approved {query.sku} on {query.channel}{at}")
    return {
        "person": event.actor,
        "at": event.occurred_at,
        "gate": event.gate,
        "content_hash": event.content_hash,
        "position": audit_scope.positions(workspace, [event.seq])[event.seq],
    }


@router.get("/log", response={200: list[EventOut], **error_responses()})
def log(request: HttpRequest, query: Query[LogQuery]) -> list[Event]:
    """Your workspace's events, newest first (or one package's), each with its position in
    your workspace's log."""
    subject = {}
    if query.package is not None:
        subject = {
            "subject_type": "package",
            "subject_id": package_for(request.auth, query.package).pk,
        }
    workspace = request.auth.workspace.slug
    events = list(history(**subject, workspace=workspace, limit=query.limit))
    return audit_scope.number(workspace, events)


@router.get("/verify", response={200: VerifyOut, **error_responses()})
def verify_view(request: HttpRequest) -> dict:
    """Re-hash the whole log (every workspace's: it is one chain); report it in your
    workspace's events: how many verified, the last of them, and the first that breaks the
    chain if it is yours (a break elsewhere is reported by its reason only)."""
    return audit_scope.verification(request.auth.workspace.slug)
