"""Benchmark the delivery worker: N webhook deliveries at concurrency C to a local receiver.

1. Throughput: a receiver that answers every request after ``--latency`` seconds. The target
   (issue #13) is a wall time within 1.2x of ceil(N / C) x latency: the worker keeps C sends
   in flight and its database work (claim, record, audit events) hides behind them.
2. Reliability (``--failure-rate``, 0.3 by default): the same N through a receiver failing that
   share of requests (5xx, 429 with Retry-After, hangs past the timeout, resets, answers lost
   after applying, slow answers). Reported: lost (not delivered), delivered twice (applied more
   than once per idempotency key at the receiver), failures on record vs. failures met.
3. The same, with the worker a ``signoff deliveries work`` process killed (SIGKILL) once a
   third is applied, then another started: the same result.

Deliveries are written as a launch writes them (``enqueue_launch``) for N published packages
seeded directly (``tests/fakes/delivery_seed.py``), on a fresh database.

    python bench/delivery_bench.py                            # SQLite in a temporary home
    python bench/delivery_bench.py --packages 2000 --concurrency 50 --latency 0.2
    SIGNOFF_DATABASE_URL=postgres://... python bench/delivery_bench.py   # an empty database

Results: docs/performance.md ("Delivery"). Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SECRET = "bench-secret"
HOOK_ENV = "SIGNOFF_BENCH_HOOK_SECRET"
# Small backoffs so retries happen within the run; the shortest lease (3 timeouts + 5 s), so a
# killed worker's deliveries are taken over within seconds.
SETTINGS = {
    "SIGNOFF_DELIVERY_BACKOFF_BASE": 0.05,
    "SIGNOFF_DELIVERY_BACKOFF_CAP": 0.5,
    "SIGNOFF_DELIVERY_TIMEOUT": 1.0,
    "SIGNOFF_DELIVERY_LEASE_SECONDS": 1.0,
    "SIGNOFF_DELIVERY_POLL_SECONDS": 0.05,
    "SIGNOFF_DELIVERY_MAX_ATTEMPTS": 30,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.2, help="receiver latency (s)")
    parser.add_argument("--failure-rate", type=float, default=0.3)
    parser.add_argument("--skip-reliability", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("SIGNOFF_HOME", tempfile.mkdtemp(prefix="signoff-delivery-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signoff.config.settings")
    os.environ[HOOK_ENV] = SECRET
    sys.path.insert(0, str(REPO / "tests"))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    vendor = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(
        connection.vendor, connection.vendor
    )
    print(f"database: {vendor}; {args.packages} packages, concurrency {args.concurrency}")
    for name, value in SETTINGS.items():  # here, and in the worker processes of part 3
        os.environ[name] = str(value)
        setattr(settings, name, value)

    ok = throughput(args)
    if not args.skip_reliability:
        ok = reliability(args) and ok
        ok = reliability(args, kill=True) and ok
    sys.exit(0 if ok else 1)


def _brief():
    from signoff.briefs.models import Brief
    from signoff.briefs.services import add_brief
    from signoff.workspaces.services import load_workspace

    examples = REPO / "src" / "signoff" / "demo" / "lumen-home"
    if not Brief.objects.exists():
        load_workspace(examples / "workspace.yaml")
        add_brief(
            examples / "briefs" / "spring-candles.yaml", products_csv=examples / "products.csv"
        )
    return Brief.objects.get(slug="spring-candles-2027")


def _seed(receiver_url: str, count: int, channel: str) -> list[int]:
    from fakes.delivery_seed import seed_published, set_destinations

    brief = _brief()
    set_destinations(
        brief,
        [
            {
                "name": f"hook-{channel}",
                "channel": channel,
                "kind": "webhook",
                "url": receiver_url,
                "secret_env": HOOK_ENV,
            }
        ],
    )
    started = time.perf_counter()
    ids = seed_published(brief, count, channel=channel)
    print(f"  seeded {len(ids)} deliveries in {time.perf_counter() - started:.1f} s")
    return ids


@contextlib.contextmanager
def receiver_process(**options: float) -> Iterator[tuple[str, Callable[[], dict]]]:
    """Run the fake receiver in a process of its own (as a real receiver would be: not
    competing with the worker for this interpreter); yield its URL and a stats reader."""
    command = [sys.executable, str(REPO / "tests" / "fakes" / "receiver.py"), "--secret", SECRET]
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise SystemExit(f"the fake receiver did not start: {url!r}")
        stats_url = url.split("/hooks/")[0] + "/stats"

        def stats() -> dict:
            with urllib.request.urlopen(stats_url, timeout=30) as answer:
                return json.load(answer)

        yield url, stats
    finally:
        process.terminate()
        process.wait(timeout=30)


def throughput(args: argparse.Namespace) -> bool:
    from signoff.outbox.models import Delivery
    from signoff.outbox.worker import work

    print(f"\n1. throughput: receiver latency {args.latency * 1000:.0f} ms, no failures")
    with receiver_process(latency=args.latency) as (url, stats):
        ids = _seed(url, args.packages, "meta_feed_ad")
        started = time.perf_counter()
        summary = work(concurrency=args.concurrency, wait_all=True)
        elapsed = time.perf_counter() - started
        peak = stats()["peak"]
    delivered = Delivery.objects.filter(pk__in=ids, state="delivered").count()
    ideal = math.ceil(args.packages / args.concurrency) * args.latency
    ratio = elapsed / ideal
    print(f"  delivered {delivered} of {len(ids)} ({summary.as_dict()})")
    print(f"  wall {elapsed:.2f} s; ceil(N/C) x latency = {ideal:.2f} s; ratio {ratio:.3f}")
    print(f"  {delivered / elapsed:.0f} deliveries/s; peak in flight at the receiver {peak}")
    passed = delivered == len(ids) and ratio <= 1.2
    print(f"  target <= 1.2x: {'met' if passed else 'MISSED'}")
    return passed


def reliability(args: argparse.Namespace, *, kill: bool = False) -> bool:
    from signoff.outbox.models import Attempt, Delivery
    from signoff.outbox.worker import work

    channel = "instagram_post" if kill else "google_merchant"
    title = "a worker killed mid-way, then another" if kill else "one worker"
    print(f"\n{3 if kill else 2}. reliability: {args.failure_rate:.0%} of requests fail; {title}")
    options = {"failure_rate": args.failure_rate, "latency": 0.01, "hang": 1.5, "slow": 0.1}
    with receiver_process(**options) as (url, stats):
        ids = _seed(url, args.packages, channel)
        started = time.perf_counter()
        if kill:
            summary = _killed_and_restarted(args, stats, len(ids))
        else:
            summary = work(concurrency=args.concurrency, wait_all=True).as_dict()
        elapsed = time.perf_counter() - started
        counts = stats()
    rows = list(Delivery.objects.filter(pk__in=ids))
    applied = counts["applied"]
    lost = sum(1 for r in rows if r.state != "delivered" or r.idempotency_key not in applied)
    twice = sum(1 for r in rows if applied.get(r.idempotency_key, 0) > 1)
    wrong_receipt = sum(
        1 for r in rows if r.receiver_id != counts["answers"].get(r.idempotency_key)
    )
    disturbed = sum(len(modes) for modes in counts["failures"].values())
    met = sum(1 for modes in counts["failures"].values() for m in modes if m != "slow")
    tries = Attempt.objects.filter(delivery__in=ids)
    retries = tries.filter(outcome="retry").count()
    # A send the kill cut off is on record as "interrupted" (with why), whatever it met.
    interrupted = tries.filter(outcome="interrupted").count()
    seen = sum(counts["seen"].values())
    print(
        f"  {seen} requests: {disturbed} disturbed ({disturbed / seen:.1%}), {met} of them "
        f"failed ({met / seen:.1%}), the rest slow; {summary}"
    )
    print(
        f"  lost {lost}, delivered twice {twice}, receipts not the receiver's {wrong_receipt}; "
        f"failures on record: {retries} retried of {met} met"
        + (f", {interrupted} interrupted by the kill" if kill else "")
    )
    print(f"  wall {elapsed:.1f} s")
    on_record = retries <= met <= retries + interrupted
    passed = lost == 0 and twice == 0 and wrong_receipt == 0 and on_record
    print(f"  0 lost, 0 twice, every failure on record: {'yes' if passed else 'NO'}")
    return passed


def _killed_and_restarted(args: argparse.Namespace, stats: Callable[[], dict], count: int) -> str:
    """Run `signoff deliveries work --wait` in a process, SIGKILL it once a third is applied,
    then run another to the end."""
    command = [
        str(Path(sys.executable).parent / "signoff"),
        "deliveries",
        "work",
        "--wait",
        "--concurrency",
        str(args.concurrency),
    ]
    worker = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    while len(stats()["applied"]) < count // 3 and worker.poll() is None:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    killed_at = len(stats()["applied"])
    print(f"  killed the worker at {killed_at} of {count} applied; starting another")
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return done.stderr.strip()


if __name__ == "__main__":
    main()
