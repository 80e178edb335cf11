"""What happens to a delivery after each answer: pure rules, no Django.

A delivery is one package version sent to one destination. Each attempt ends in an answer
(or no answer); :func:`next_step` says what follows: delivered, tried again later (after an
exponential backoff with full jitter, or after the receiver's ``Retry-After``), refused for
good (``failed``), or given up after the set number of attempts (``dead``). Failed and dead
deliveries wait for a person to retry them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum


class DeliveryState(StrEnum):
    # Waiting to be sent, or to be sent again after a retryable failure (see next_attempt_at).
    PENDING = "pending"
    # The receiver answered 2xx; its id is kept. Nothing is sent for it again.
    DELIVERED = "delivered"
    # The receiver refused it (a 4xx that retrying cannot fix) or the destination is
    # misconfigured: not retried until a person retries it.
    FAILED = "failed"
    # Every attempt failed in a retryable way: not retried until a person retries it.
    DEAD = "dead"
    # A claim it makes was withdrawn after launch: it must come down from the receiver.
    NEEDS_TAKEDOWN = "needs_takedown"
    # The receiver confirmed the takedown.
    TAKEN_DOWN = "taken_down"


# The states the worker sends from; the others wait for a person (or are done).
SENDABLE = frozenset({DeliveryState.PENDING, DeliveryState.NEEDS_TAKEDOWN})
# The states a person may retry.
RETRYABLE_BY_PERSON = frozenset(
    {DeliveryState.FAILED, DeliveryState.DEAD, DeliveryState.NEEDS_TAKEDOWN}
)

# Answers worth asking again: request timeout, conflict (the receiver is still working on the
# same idempotency key), too early, rate limited, and server errors. Any other 4xx is final.
RETRY_STATUSES = frozenset({408, 409, 425, 429})
# Answers whose Retry-After is honoured (RFC 9110 10.2.3).
RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one attempt came to, as the connector saw it."""

    ok: bool  # the receiver took it (HTTP 2xx; the file is in place)
    status: int | None = None  # the receiver's HTTP status; None when no answer came
    receiver_id: str = ""  # the receiver's id for what it took (its answer's ``id``, ...)
    error: str = ""  # why not, in the receiver's words (its message) or ours (timeout, reset)
    retry_after: str | None = None  # the answer's Retry-After header, as sent
    transient: bool = True  # without an answer: worth trying again (a timeout) or not


@dataclass(frozen=True, slots=True)
class Policy:
    max_attempts: int = 10  # attempts before a retryable failure makes the delivery dead
    backoff_base: float = 5.0  # seconds before the second attempt, at most (full jitter)
    backoff_cap: float = 900.0  # the longest backoff, in seconds
    retry_after_max: float = 3600.0  # a longer Retry-After is cut to this


@dataclass(frozen=True, slots=True)
class Step:
    """What follows an attempt."""

    state: DeliveryState
    delay: float | None = None  # seconds until the next attempt; None: no next attempt
    reason: str = ""  # the failure as shown to people; empty when delivered


def backoff(attempt: int, policy: Policy, rng: random.Random | None = None) -> float:
    """Return the wait after failed attempt ``attempt`` (1-based): full jitter, a uniform draw
    in ``[0, min(cap, base * 2 ** (attempt - 1))]`` (AWS Architecture Blog, "Exponential
    Backoff And Jitter"), so many deliveries failing together do not come back together."""
    if attempt < 1:
        raise ValueError(f"attempt is counted from 1, got {attempt}")
    ceiling = min(policy.backoff_cap, policy.backoff_base * 2.0 ** min(attempt - 1, 62))
    return (rng or random).uniform(0.0, ceiling)


def parse_retry_after(value: str | None, now: datetime, limit: float) -> float | None:
    """Return the seconds a Retry-After header asks for (delta-seconds or an HTTP date), at most
    ``limit``; None when absent or unreadable. ``now`` must be timezone-aware."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # an HTTP date is GMT by definition
            return None
        seconds = (when - now).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), limit)


def describe(result: SendResult) -> str:
    """Return the failure of one attempt as a line for people: the status and the words."""
    if result.ok:
        return ""
    if result.status is None:
        return result.error or "no answer"
    words = f": {result.error}" if result.error else ""
    return f"HTTP {result.status}{words}"


def next_step(
    result: SendResult,
    *,
    attempts: int,
    policy: Policy,
    now: datetime,
    rng: random.Random | None = None,
) -> Step:
    """Decide what follows attempt number ``attempts`` (1-based) that ended in ``result``."""
    if result.ok:
        return Step(DeliveryState.DELIVERED)
    reason = describe(result)
    if result.status is not None:
        retryable = result.status in RETRY_STATUSES or 500 <= result.status <= 599
    else:
        retryable = result.transient
    if not retryable:
        return Step(DeliveryState.FAILED, None, reason)
    if attempts >= policy.max_attempts:
        return Step(DeliveryState.DEAD, None, f"{reason} (gave up after {attempts} attempts)")
    delay = None
    if result.status in RETRY_AFTER_STATUSES:
        delay = parse_retry_after(result.retry_after, now, policy.retry_after_max)
    if delay is None:
        delay = backoff(attempts, policy, rng)
    return Step(DeliveryState.PENDING, delay, reason)
