"""Deliveries through the outbox: each package's delivery to each destination."""

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

DeliveryStateName = Literal[
    "pending", "delivered", "failed", "dead", "needs_takedown", "taken_down"
]


class AttemptOut(Schema):
    number: int
    action: Literal["publish", "takedown"]
    outcome: str  # delivered, taken_down, retry, failed, dead, interrupted
    status: int | None = None  # the receiver's HTTP status
    error: str  # why it failed, in the receiver's words or ours
    receiver_id: str
    at: datetime


class DeliveryOut(Schema):
    id: int
    package: int
    sku: str
    channel: str
    market: str
    variant: str
    version: int | None = None
    content_hash: str
    destination: str
    kind: str
    state: DeliveryStateName
    attempts: int
    next_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str
    receiver_id: str  # the receiver's id for what it took (its receipt)
    delivered_at: datetime | None = None
    idempotency_key: str  # the same on every attempt at this package version and destination
    history: list[AttemptOut] = []


class RetryIn(Schema):
    ids: list[int] = Field(default=[], max_length=10_000)
    dead: bool = False  # every dead delivery (of ``brief``) instead of ``ids``
    brief: str | None = Field(default=None, max_length=200)


class RetryOut(Schema):
    retried: list[int]
