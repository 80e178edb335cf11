"""The audit log: its events, who approved what, and verifying the hash chain."""

from datetime import datetime
from typing import Any

from ninja import Schema


class EventOut(Schema):
    # The event's number in your workspace's own log (1 = its first event). The installation's
    # sequence number is not shown: it would count other workspaces' activity.
    position: int
    occurred_at: datetime
    actor: str
    actor_kind: str
    action: str
    subject_type: str
    subject_id: str
    workspace: str
    from_position: str
    to_position: str
    gate: str | None
    sku: str | None
    channel: str | None
    content_hash: str
    note: str
    data: dict[str, Any]
    hash: str


class WhoApprovedOut(Schema):
    person: str
    at: datetime
    gate: str | None
    content_hash: str
    position: int  # the approval event's number in your workspace's log


class VerifyOut(Schema):
    """The whole chain verified, reported in your workspace's own events."""

    ok: bool
    count: int  # your workspace's events that verified
    first_bad_position: int | None  # your event where the chain breaks (None: intact, or not
    # at one of yours: then ``reason`` says so)
    reason: str | None
    head_position: int  # your workspace's last verified event (0: none yet)
    head_hash: str  # its hash ("" when none)
