"""Benchmark the audit log at scale: ``who_approved`` at 1,000,000 events, and ``verify``.

Writes N events through ``record_many`` (batches of ``--batch`` events, one transaction each,
so every event goes through the same normalise, hash, chain and checkpoint code as the
application), then times random ``who_approved`` and ``history`` lookups, then ``verify``
over the whole log against the bare cost of reading the same rows, in the same run:

* ``read``: the verifier's own query (same columns, same cursor, same segments) with every row
  fetched and thrown away: what the database and driver cost before any checking;
* ``verify``: ``verify(workers=W)``, every event's seq, link and hash and every checkpoint.

Each is run with 1 process and with ``--workers`` processes, interleaved (read, verify, read,
verify, ...) ``--repeat`` times so a busy machine slows both alike; medians are printed.

    python bench/audit_bench.py                      # embedded SQLite in a temporary home
    SIGNOFF_DATABASE_URL=postgres://... python bench/audit_bench.py   # PostgreSQL (empty DB)
    python bench/audit_bench.py --events 100000      # a smaller log
    SIGNOFF_HOME=... python bench/audit_bench.py --events 0   # re-measure an existing log
    python bench/audit_bench.py --old                # also time the row-by-row verifier
    python bench/audit_bench.py --distinct-data      # no two events with the same data

Targets (issues #7, #16): ``who_approved`` under 50 ms at 1,000,000 events; ``verify`` at
least 100,000 events/s. Results: docs/performance.md. Exits 1 if verify fails or a target is
missed.
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
TARGET_VERIFY = 100_000  # events/s


def _event(rng: random.Random, i: int, distinct: bool = False) -> dict:
    """One event: 95% agent work on a package, 5% a person's gate approval.

    Its data repeats within a run, as a real run's events do; ``distinct`` gives every event
    a data payload of its own (the verifier's worst case: nothing to parse once per batch).
    """
    sku, channel = rng.choice(SKUS), rng.choice(CHANNELS)
    data = {"run": i // 2000, "findings": i % 5}
    if distinct:
        data |= {"event": i, "note": f"checked {sku} on {channel}"}
    event = {
        "subject_type": "package",
        "subject_id": str(i % 30_000),
        "workspace": f"brand-{i % 7}",
        "sku": sku,
        "channel": channel,
        "content_hash": f"{i:064x}",
        "data": data,
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


def _read_segment(job: tuple) -> int:
    """In a worker (or here): fetch one segment's rows as the verifier does; count them."""
    from signoff.audit import verification

    alias, segment, chunk_size, own = job
    connection = verification.connections[alias]
    if own:  # a forked worker: its own connection, as verify's workers have
        connection = verification.connections.create_connection(alias)
    connection.ensure_connection()
    rows = 0
    with verification._batches(connection, segment, chunk_size) as batches:
        for batch in batches:
            rows += len(batch)
    if own:
        connection.close()
    return rows


def _bare_read(workers: int, chunk_size: int = 5000) -> int:
    """Read every row of the log the way ``verify`` does, checking nothing."""
    from django.db import DEFAULT_DB_ALIAS

    from signoff.audit import verification
    from signoff.audit.segments import plan_segments
    from signoff.core.forked import map_forked

    checkpoints = verification.Event.objects.filter(
        action=verification.CHECKPOINT_ACTION
    ).values_list("seq", "data__first_seq")
    plan = plan_segments(
        verification._last_seq(DEFAULT_DB_ALIAS),
        list(checkpoints),
        span=verification.checkpoint_interval() or verification.DEFAULT_SPAN,
    )
    jobs = [(DEFAULT_DB_ALIAS, segment, chunk_size, workers > 1) for segment in plan]
    if workers > 1:
        return sum(rows for _, rows in map_forked(_read_segment, jobs, workers=workers))
    return sum(_read_segment(job) for job in jobs)


def _old_verify() -> tuple[bool, int]:
    """The verifier before segments: every row through Django's conversions, then the pure
    ``verify_chain`` (``json.dumps`` per row)."""
    from signoff.audit.chain import HASHED_FIELDS, verify_chain
    from signoff.audit.models import Event

    names = (*HASHED_FIELDS, "prev_hash", "hash")
    rows = Event.objects.order_by("seq").values_list(*names).iterator(chunk_size=5000)
    result = verify_chain(dict(zip(names, row, strict=True)) for row in rows)
    return result.ok, result.count


def _rate(count: int, seconds: list[float]) -> str:
    median = statistics.median(seconds)
    runs = " ".join(f"{s:.2f}" for s in seconds)
    return f"median {median:.2f} s [{runs}] = {count / median:,.0f} events/s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000, help="events per record_many")
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20250301)
    parser.add_argument("--workers", type=int, default=2, help="processes for the parallel runs")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved verify/read rounds")
    parser.add_argument("--old", action="store_true", help="also time the row-by-row verifier")
    parser.add_argument(
        "--distinct-data", action="store_true", help="a data payload of its own for every event"
    )
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
            record_many([_event(rng, i, args.distinct_data) for i in range(first, last)])
        done = time.perf_counter() - started
        print(f"\r  written {last:,} events in {done:.0f} s", end="", file=sys.stderr)
    print(file=sys.stderr)
    write_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql" and args.events:
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

    # Interleaved: a slow minute on a shared machine slows every kind of run, not one.
    times: dict[str, list[float]] = {}
    results = []
    for round_ in range(args.repeat):
        for workers in (1, args.workers):
            t0 = time.perf_counter()
            read = _bare_read(workers)
            times.setdefault(f"read {workers}", []).append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            result = verify(workers=workers)
            times.setdefault(f"verify {workers}", []).append(time.perf_counter() - t0)
            results.append((result.ok, result.count, read))
        print(f"\r  verify round {round_ + 1} of {args.repeat}", end="", file=sys.stderr)
    print(file=sys.stderr)
    old = ""
    if args.old:
        t0 = time.perf_counter()
        old_ok, old_count = _old_verify()
        old_seconds = time.perf_counter() - t0
        old = (
            f"\nold row-by-row verify: {old_seconds:.1f} s = {old_count / old_seconds:,.0f} "
            f"events/s; ok={old_ok}"
        )
    consistent = all(r == (True, total, total) for r in results)
    fastest = statistics.median(times[f"verify {args.workers}"])
    verify_met = total / fastest >= TARGET_VERIFY
    ratio = fastest / statistics.median(times[f"read {args.workers}"])
    met = statistics.median(lookups) < TARGET_MS and _percentile(lookups, 0.95) < TARGET_MS
    checkpoints = Event.objects.filter(action="audit.checkpoint").count()
    write_rate = args.events / write_seconds if args.events else 0
    lines = [
        f"database: {vendor}; events: {total:,} ({already:,} before this run; "
        f"{checkpoints:,} checkpoints){size}",
        f"write: {args.events:,} events through record_many in batches of {args.batch:,} "
        f"in {write_seconds:.1f} s ({write_rate:,.0f} events/s)",
        f"who_approved: {_ms(lookups)}; {found} found; "
        f"target < {TARGET_MS:.0f} ms: {'met' if met else 'NOT met'}",
        f"history(limit=50): {_ms(histories)}",
        *(f"{name} process(es): {_rate(total, seconds)}" for name, seconds in times.items()),
        f"verify with {args.workers} processes / bare read with {args.workers}: {ratio:.2f}x; "
        f"target >= {TARGET_VERIFY:,} events/s: {'met' if verify_met else 'NOT met'}; "
        f"every run ok and complete: {consistent}{old}",
        f"who_approved plan: {_plan(connection)}",
    ]
    print("\n".join(lines))
    return 0 if consistent and met and verify_met else 1


if __name__ == "__main__":
    sys.exit(main())
