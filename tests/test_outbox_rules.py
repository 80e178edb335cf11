"""The outbox's pure rules: backoff, Retry-After, and what follows each kind of answer."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signoff.outbox.rules import (
    DeliveryState,
    Policy,
    SendResult,
    backoff,
    next_step,
    parse_retry_after,
)

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
POLICY = Policy(max_attempts=5, backoff_base=2.0, backoff_cap=60.0, retry_after_max=600.0)


@given(
    attempt=st.integers(min_value=1, max_value=200),
    base=st.floats(min_value=0.001, max_value=100),
    cap=st.floats(min_value=0.001, max_value=10_000),
    seed=st.integers(),
)
def test_backoff_stays_within_full_jitter_bounds(attempt, base, cap, seed) -> None:
    policy = Policy(backoff_base=base, backoff_cap=cap)
    delay = backoff(attempt, policy, random.Random(seed))
    assert 0.0 <= delay <= min(cap, base * 2.0 ** min(attempt - 1, 62))


def test_backoff_grows_then_stops_at_the_cap() -> None:
    rng = random.Random(1)
    # The mean of many draws approaches half the ceiling: 1, 2, 4, ... then 30 (cap 60 / 2).
    means = [sum(backoff(n, POLICY, rng) for _ in range(4000)) / 4000 for n in (1, 3, 5, 9)]
    assert means[0] == pytest.approx(1.0, rel=0.1)
    assert means[1] == pytest.approx(4.0, rel=0.1)
    assert means[2] == pytest.approx(16.0, rel=0.1)
    assert means[3] == pytest.approx(30.0, rel=0.1)
    with pytest.raises(ValueError, match="counted from 1"):
        backoff(0, POLICY)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        ("-5", 0.0),  # never in the past
        ("100000", 600.0),  # cut to the policy's limit
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(seconds=90), usegmt=True), 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_retry_after_reads_seconds_or_a_date(header, expected) -> None:
    assert parse_retry_after(header, NOW, 600.0) == expected


@pytest.mark.parametrize(
    ("result", "state", "reason"),
    [
        (SendResult(True, 200, receiver_id="r-1"), DeliveryState.DELIVERED, ""),
        (SendResult(True, 201), DeliveryState.DELIVERED, ""),
        (SendResult(False, 500, error="boom"), DeliveryState.PENDING, "HTTP 500: boom"),
        (SendResult(False, 502), DeliveryState.PENDING, "HTTP 502"),
        (SendResult(False, 408), DeliveryState.PENDING, "HTTP 408"),
        (
            SendResult(False, 409, error="in progress"),
            DeliveryState.PENDING,
            "HTTP 409: in progress",
        ),
        (SendResult(False, 429, retry_after="7"), DeliveryState.PENDING, "HTTP 429"),
        (SendResult(False, 400, error="bad gtin"), DeliveryState.FAILED, "HTTP 400: bad gtin"),
        (SendResult(False, 401), DeliveryState.FAILED, "HTTP 401"),
        (SendResult(False, 403), DeliveryState.FAILED, "HTTP 403"),
        (SendResult(False, 404), DeliveryState.FAILED, "HTTP 404"),
        (
            SendResult(False, 422, error="title too long"),
            DeliveryState.FAILED,
            "HTTP 422: title too long",
        ),
        (SendResult(False, 301, error="moved"), DeliveryState.FAILED, "HTTP 301: moved"),
        (SendResult(False, None, error="timeout"), DeliveryState.PENDING, "timeout"),
        (
            SendResult(False, None, error="bad cert", transient=False),
            DeliveryState.FAILED,
            "bad cert",
        ),
    ],
)
def test_what_follows_each_answer(result, state, reason) -> None:
    step = next_step(result, attempts=1, policy=POLICY, now=NOW, rng=random.Random(3))
    assert (step.state, step.reason) == (state, reason)
    if state == DeliveryState.PENDING:
        assert step.delay is not None
        assert 0.0 <= step.delay <= 2.0 or result.status == 429
    else:
        assert step.delay is None


def test_retry_after_is_honoured_on_429_and_503_only() -> None:
    for status in (429, 503):
        step = next_step(
            SendResult(False, status, retry_after="45"), attempts=1, policy=POLICY, now=NOW
        )
        assert step.delay == 45.0
    # a 500's Retry-After is not a promise: the backoff decides (at most 2 s for attempt 1)
    step = next_step(SendResult(False, 500, retry_after="45"), attempts=1, policy=POLICY, now=NOW)
    assert step.delay <= 2.0
    # an unreadable Retry-After falls back to the backoff
    step = next_step(
        SendResult(False, 429, retry_after="later"), attempts=1, policy=POLICY, now=NOW
    )
    assert step.delay <= 2.0


def test_dead_after_the_last_attempt_with_the_last_reason() -> None:
    failing = SendResult(False, 503, error="maintenance")
    steps = [
        next_step(failing, attempts=n, policy=POLICY, now=NOW)
        for n in range(1, POLICY.max_attempts + 1)
    ]
    assert [s.state for s in steps] == [DeliveryState.PENDING] * 4 + [DeliveryState.DEAD]
    assert steps[-1].reason == "HTTP 503: maintenance (gave up after 5 attempts)"
    # a final refusal is failed at once, whatever the count
    refused = next_step(SendResult(False, 422), attempts=5, policy=POLICY, now=NOW)
    assert refused.state == DeliveryState.FAILED
