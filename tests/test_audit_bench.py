"""Audit log at scale: who-approved under 50 ms at 1,000,000 events, and verify throughput.

Slow (a minute or more), so it runs only on request:
``SIGNOFF_AUDIT_BENCH=1000000 pytest tests/test_audit_bench.py -s`` (the value is the log size).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time

import pytest
from django.db import connection, transaction

from signoff.audit.selectors import history, who_approved
from signoff.audit.services import record_many, verify

SIZE = int(os.environ.get("SIGNOFF_AUDIT_BENCH", "0") or 0)
pytestmark = pytest.mark.skipif(not SIZE, reason="set SIGNOFF_AUDIT_BENCH=<events> to run")

SKUS = [f"LUM-{i:05d}" for i in range(5000)]
CHANNELS = ["amazon_us_pdp", "walmart", "google_merchant", "meta_feed", "instagram", "email"]
ACTIONS = ["package.drafted", "package.checked", "package.reviewed", "package.edited"]
BATCH = 10_000


def _event(rng: random.Random, i: int) -> dict:
    sku, channel = rng.choice(SKUS), rng.choice(CHANNELS)
    event = {
        "subject_type": "package",
        "subject_id": str(i % 30_000),
        "workspace": f"brand-{i % 7}",
        "sku": sku,
        "channel": channel,
        "content_hash": f"{i:064x}",
        "data": {"run": i // 2000, "findings": i % 5},
    }
    if rng.random() < 0.05:
        gate = rng.choice(["G2", "G3", "G4"])
        return event | {
            "action": "package.gate.approved",
            "actor": f"p{i % 40}@x.example",
            "gate": gate,
        }
    return event | {
        "action": rng.choice(ACTIONS),
        "actor": "agent:copy_drafter",
        "actor_kind": "agent",
    }


def _ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples):.2f} ms, max {max(samples):.2f} ms"


@pytest.mark.django_db
def test_who_approved_and_verify_at_scale():
    rng = random.Random(20250301)
    started = time.perf_counter()
    for first in range(0, SIZE, BATCH):
        with transaction.atomic():
            record_many([_event(rng, i) for i in range(first, min(first + BATCH, SIZE))])
    write_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE audit_event")

    lookups = []
    for _ in range(200):
        sku, channel = rng.choice(SKUS), rng.choice(CHANNELS)
        gate = rng.choice([None, "G2", "G3", "G4"])
        t0 = time.perf_counter()
        who_approved(sku=sku, channel=channel, gate=gate)
        lookups.append((time.perf_counter() - t0) * 1000)

    histories = []
    for _ in range(100):
        t0 = time.perf_counter()
        list(history(subject_type="package", subject_id=rng.randrange(30_000), limit=50))
        histories.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    result = verify()
    verify_seconds = time.perf_counter() - t0

    with connection.cursor() as cursor:
        explain = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN"
        plan_sql = (
            f"{explain} SELECT * FROM audit_event WHERE sku = %s AND channel = %s"
            " AND action = %s ORDER BY seq DESC LIMIT 1"
        )
        cursor.execute(plan_sql, [SKUS[0], CHANNELS[0], "package.gate.approved"])
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())

    sys.stdout.write(
        f"\n[{connection.vendor}] {SIZE:,} events written in {write_seconds:.1f} s "
        f"({SIZE / write_seconds:,.0f}/s)\n"
        f"  who_approved: {_ms(lookups)}\n"
        f"  history(limit=50): {_ms(histories)}\n"
        f"  verify: {verify_seconds:.1f} s ({SIZE / verify_seconds:,.0f} events/s)\n"
        f"  plan: {plan}\n"
    )
    assert result.ok
    assert result.count == SIZE
    assert statistics.median(lookups) < 50
    assert max(lookups) < 50
