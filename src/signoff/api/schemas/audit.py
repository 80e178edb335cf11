"""The audit log: its events, who approved what, and verifying the hash chain."""

from datetime import datetime
from typing import Any

from ninja import Schema


class EventOut(Schema):
    seq: int
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
    seq: int


class VerifyOut(Schema):
    ok: bool
    count: int
    first_bad_seq: int | None
    reason: str | None
    head_seq: int
    head_hash: str
