"""Deliveries: every package's delivery to each destination, and sending failed ones again."""

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from signoff.api.errors import error_responses
from signoff.api.schemas.deliveries import DeliveryOut, DeliveryStateName, RetryIn, RetryOut
from signoff.api.scope import brief_for
from signoff.core.errors import InputError
from signoff.outbox.selectors import deliveries_of
from signoff.outbox.services import retry_deliveries

router = Router(tags=["deliveries"])


class DeliveryFilters(Schema):
    state: DeliveryStateName | None = None
    channel: str | None = Field(None, max_length=100)
    attempts: bool = False  # each delivery's attempts, every failure with its reason


@router.get("/briefs/{slug}/deliveries", response={200: list[DeliveryOut], **error_responses()})
def deliveries(request: HttpRequest, slug: str, filters: Query[DeliveryFilters]) -> list[dict]:
    """The brief's deliveries, by package then destination: state, attempts, the receiver's id
    when delivered, the last error otherwise (``attempts=true`` adds each attempt)."""
    brief = brief_for(request.auth, slug)
    return deliveries_of(
        brief, state=filters.state, channel=filters.channel, with_attempts=filters.attempts
    )


@router.post("/deliveries/retry", response={200: RetryOut, **error_responses(400, 403, 409)})
def retry(request: HttpRequest, payload: RetryIn) -> dict:
    """Send failed or dead deliveries again (``ids``, or ``dead: true`` for every dead one, of
    ``brief`` if given) with a fresh count of attempts and the same idempotency keys. A
    publisher of the brief only (403); a delivery that is pending or delivered is a 409."""
    if bool(payload.ids) == payload.dead:
        raise InputError.single("give ids, or dead: true (not both)", field="ids")
    brief = brief_for(request.auth, payload.brief) if payload.brief else None
    ids = retry_deliveries(person=request.auth, ids=payload.ids, dead=payload.dead, brief=brief)
    return {"retried": ids}
