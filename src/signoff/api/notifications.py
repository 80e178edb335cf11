"""Notifications: what was sent (SLA reminders, escalations, digests), and your own daily
digest, on or off."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from signoff.api.errors import error_responses
from signoff.notifications.services import sent_for, set_digest

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    key: str  # the dedup key: one send per key, ever
    kind: str  # reminder | escalation | digest
    channel: str  # email | webhook
    package_id: int | None
    gate: str
    recipients: list[str]
    subject: str
    status: str  # sending | sent | failed
    attempts: int
    error: str
    claimed_at: datetime
    sent_at: datetime | None


class DigestIn(Schema):
    digest: bool


class DigestOut(Schema):
    email: str
    digest: bool


@router.get("", response={200: list[NotificationOut], **error_responses()})
def notifications(request: HttpRequest) -> list:
    """Your workspace's latest 50 notifications, newest first (each also an audit event)."""
    return sent_for(request.auth.workspace)


@router.post("/digest", response={200: DigestOut, **error_responses(400)})
def digest(request: HttpRequest, payload: DigestIn) -> dict:
    """Turn your daily digest (what waits on your gates, by e-mail) on or off; audited as
    ``person.digest_changed``. A workspace file that says `digest:` for you sets it again."""
    person = set_digest(person=request.auth, on=payload.digest)
    return {"email": person.email, "digest": person.digest}
