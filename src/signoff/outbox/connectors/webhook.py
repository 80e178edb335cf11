"""POST one signed JSON document per package to a receiver's URL.

Headers: ``Idempotency-Key`` (the same on every attempt at one package version and
destination, so the receiver can recognise a repeat: draft-ietf-httpapi-idempotency-key-header)
and ``X-Signoff-Signature: sha256=<hex HMAC-SHA256 of the body with the destination's
secret>``. The receiver's id is the ``id`` of its JSON answer, else its ``Location`` header.

The HTTP is :func:`signoff.outbox.connectors.calls.call`, as for every channel API: redirects
are not followed (a signed POST should not wander), a 3xx is reported as a refusal to fix the
URL.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import ClassVar

from signoff.outbox.connectors.calls import Answer, call, failure
from signoff.outbox.connectors.port import TAKEDOWN, DeliveryDocument
from signoff.outbox.destinations import DestinationError
from signoff.outbox.rules import SendResult


def signature(secret: bytes, body: bytes) -> str:
    """Return the ``X-Signoff-Signature`` value of a body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookConnector:
    kind: ClassVar[str] = "webhook"
    batches: ClassVar[bool] = False
    takes_down: ClassVar[bool] = True  # a takedown document to the same URL

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout  # seconds, for connecting and for each read

    def send(self, document: DeliveryDocument) -> SendResult:
        destination = document.destination
        try:
            secret = destination.secret()
        except DestinationError as exc:
            return SendResult(False, error=str(exc), transient=False)
        headers = {
            "Content-Type": document.media_type,
            "Idempotency-Key": document.key,
            "X-Signoff-Signature": signature(secret, document.body),
            "X-Signoff-Event": "package.takedown"
            if document.action == TAKEDOWN
            else "package.published",
        }
        answer = call(
            "POST", destination.url, headers=headers, body=document.body, timeout=self.timeout
        )
        if isinstance(answer, SendResult):
            return answer
        if not answer.ok:
            return failure(answer)
        return SendResult(True, answer.status, receiver_id=_receiver_id(answer))


def _receiver_id(answer: Answer) -> str:
    data = answer.json()
    if isinstance(data, dict) and data.get("id") not in (None, ""):
        return str(data["id"])[:500]
    return (answer.header("Location") or "")[:500]
