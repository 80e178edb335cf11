"""Benchmark the audit log at scale: ``who_approved`` at 1,000,000 events, and ``verify``.

Writes N events through ``record_many`` (batches of ``--batch`` events, one transaction each,
so every event goes through the same normalise, hash and chain code as the application),
then times random ``who_approved`` and ``history`` lookups, then ``verify`` over the whole log.

    python bench/audit_bench.py                      # embedded SQLite in a temporary home
    SIGNOFF_DATABASE_URL=postgres://... python bench/audit_bench.py   # PostgreSQL (empty DB)
    python bench/audit_bench.py --events 100000      # a smaller log

Targets (issue #7): ``who_approved`` under 50 ms at 1,000,000 events; report ``verify``
throughput. Results: docs/performance.md. Exits 1 if verify fails or the target is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

SKUS = [f"LUM-{i:05d}" for i in range(5000)]
CHANNELS = ["amazon_us_pdp", "walmart", "google_merchant", "meta_feed", "instagram", "email"]
ACTIONS = ["package.drafted", "package.checked", "package.reviewed", "package.edited"]
GATES = ["G2", "G3", "G4"]
TARGET_MS = 50.0


def _event(rng: random.Random, i: int) -> dict:
    """One event: 95% agent work on a package, 5% a person's gate approval."""
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
        return event | {
            "action": "package.gate.approved",
            "actor": f"p{i % 40}@x.example",
            "gate": rng.choice(GATES),
        }
    return event | {
        "action": rng.choice(ACTIONS),
        "actor": "agent:copy_drafter",
        "actor_kind": "agent",
    }


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _ms(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples):.2f} ms, p95 {_percentile(samples, 0.95):.2f} ms, "
        f"max {max(samples):.2f} ms (n={len(samples)})"
    )


def _plan(connection) -> str:
    """The query plan of who_approved's query (the ORM's own SQL, not a copy of it)."""
    from signoff.audit.models import Event
    from signoff.audit.registry import PACKAGE_GATE_APPROVED

    query = Event.objects.filter(
        sku=SKUS[0], channel=CHANNELS[0], action=PACKAGE_GATE_APPROVED, gate="G3"
    ).order_by("-seq")[:1]
    sql, params = query.query.sql_with_params()
    explain = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN"
    with connection.cursor() as cursor:
        cursor.execute(f"{explain} {sql}", params)
        return " | ".join(str(row[-1]).strip() for row in cursor.fetchall())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000, help="events per record_many")
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20250301)
    args = parser.parse_args()
    os.environ.setdefault("SIGNOFF_HOME", tempfile.mkdtemp(prefix="signoff-audit-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signoff.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from signoff.audit.models import Event
    from signoff.audit.selectors import history, who_approved
    from signoff.audit.services import record_many, verify

    call_command("migrate", verbosity=0)
    vendor = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(
        connection.vendor, connection.vendor
    )
    already = Event.objects.count()
    rng = random.Random(args.seed)

    started = time.perf_counter()
    for first in range(0, args.events, args.batch):
        last = min(first + args.batch, args.events)
        with transaction.atomic():
            record_many([_event(rng, i) for i in range(first, last)])
        done = time.perf_counter() - started
        print(f"\r  written {last:,} events in {done:.0f} s", end="", file=sys.stderr)
    print(file=sys.stderr)
    write_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum would do after such a load
            cursor.execute("VACUUM ANALYZE audit_event")
    total = Event.objects.count()
    size = ""
    if connection.vendor == "sqlite":
        db_file = Path(connection.settings_dict["NAME"])
        size = f"; database file {db_file.stat().st_size / 2**20:,.0f} MiB"

    lookups = []
    found = 0
    for _ in range(args.lookups):
        sku, channel = rng.choice(SKUS), rng.choice(CHANNELS)
        gate = rng.choice([None, *GATES])
        t0 = time.perf_counter()
        event = who_approved(sku=sku, channel=channel, gate=gate)
        lookups.append((time.perf_counter() - t0) * 1000)
        found += event is not None

    histories = []
    for _ in range(100):
        t0 = time.perf_counter()
        list(history(subject_type="package", subject_id=rng.randrange(30_000), limit=50))
        histories.append((time.perf_counter() - t0) * 1000)

    verify_runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        result = verify()
        verify_runs.append(time.perf_counter() - t0)
    verify_seconds = statistics.median(verify_runs)

    met = statistics.median(lookups) < TARGET_MS and _percentile(lookups, 0.95) < TARGET_MS
    print(
        f"database: {vendor}; events: {total:,} ({already:,} before this run){size}\n"
        f"write: {args.events:,} events through record_many in batches of {args.batch:,} "
        f"in {write_seconds:.1f} s ({args.events / write_seconds:,.0f} events/s)\n"
        f"who_approved: {_ms(lookups)}; {found} found; "
        f"target < {TARGET_MS:.0f} ms: {'met' if met else 'NOT met'}\n"
        f"history(limit=50): {_ms(histories)}\n"
        f"verify: median {verify_seconds:.1f} s of 3 "
        f"[{' '.join(f'{s:.1f}' for s in verify_runs)}] "
        f"({result.count / verify_seconds:,.0f} events/s); ok={result.ok}, "
        f"count={result.count:,}\n"
        f"who_approved plan: {_plan(connection)}"
    )
    return 0 if result.ok and result.count == total and met else 1


if __name__ == "__main__":
    sys.exit(main())
