"""Read the audit log."""

from __future__ import annotations

from django.db.models import QuerySet

from signoff.audit.models import Event
from signoff.audit.registry import PACKAGE_GATE_APPROVED


def who_approved(
    *,
    sku: str,
    channel: str,
    gate: str | None = None,
    workspace: str | None = None,
) -> Event | None:
    """Return the latest ``package.gate.approved`` event for a SKU x channel, or None.

    This answers "who approved it, when, on which content hash", from the log alone. It does
    not decide whether that approval still stands: a later ``package.approvals_voided`` is the
    packages app's business. One index lookup (``audit_event_cell``) at any log size.
    """
    events = Event.objects.filter(sku=sku, channel=channel, action=PACKAGE_GATE_APPROVED)
    if gate is not None:
        events = events.filter(gate=gate)
    if workspace is not None:
        events = events.filter(workspace=workspace)
    return events.order_by("-seq").first()


def history(
    *,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    workspace: str | None = None,
    limit: int | None = None,
) -> QuerySet[Event]:
    """Return events newest first, optionally for one subject or workspace, at most ``limit``.

    Newest first because a limit should keep the recent past; reverse it for a timeline.
    """
    if subject_id is not None and subject_type is None:
        # A bare id is ambiguous ("42" is a package and a run); it would also miss the index.
        raise ValueError("history(subject_id=...) needs subject_type too")
    events = Event.objects.all()
    if subject_type is not None:
        events = events.filter(subject_type=subject_type)
    if subject_id is not None:
        events = events.filter(subject_id=str(subject_id))
    if workspace is not None:
        events = events.filter(workspace=workspace)
    events = events.order_by("-seq")
    return events[:limit] if limit is not None else events
