"""Nothing lost, nothing delivered twice: hundreds of packages through a receiver that fails
30 % of requests (5xx, 429 with Retry-After, hangs past the timeout, resets, answers lost after
the document was applied, slow answers), and a worker killed mid-way then started again.

The receiver counts by idempotency key what took effect (``applied``) and the 2xx answers it
wrote (``acked``); its failures are chosen per key and attempt from a seeded hash, so a run
fails the same way whatever the thread timing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fakes.delivery_seed import (
    CHANNEL,
    REPORT_SCRIPT,
    SEED_SCRIPT,
    seed_published,
    set_destinations,
)
from fakes.receiver import FakeReceiver

from signoff.outbox.models import Attempt, Delivery
from signoff.outbox.worker import work

SECRET = "reliability-secret"
HOOK_ENV = "SIGNOFF_TEST_HOOK_SECRET"
REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "src" / "signoff" / "demo" / "lumen-home"

# How Signoff words each failure mode in the attempt it records.
SAID = {
    "error": "5xx",
    "limited": "429",
    "hang": "timeout",
    "reset": "closed",
    "drop": "closed",
    "lost": "timeout",  # served after the sender stopped waiting: it saw a timeout
}


def said(error: str) -> str:
    if "HTTP 500" in error or "HTTP 503" in error:
        return "5xx"
    if "HTTP 429" in error:
        return "429"
    if "(timeout)" in error:
        return "timeout"
    if "closed the connection" in error:
        return "closed"
    return error


def hook(url: str) -> list[dict]:
    return [
        {"name": "hook", "channel": CHANNEL, "kind": "webhook", "url": url, "secret_env": HOOK_ENV}
    ]


@pytest.mark.django_db
def test_300_packages_through_a_receiver_failing_30_percent(spring_brief, settings, monkeypatch):
    monkeypatch.setenv(HOOK_ENV, SECRET)
    settings.SIGNOFF_DELIVERY_BACKOFF_BASE = 0.01
    settings.SIGNOFF_DELIVERY_BACKOFF_CAP = 0.05
    settings.SIGNOFF_DELIVERY_TIMEOUT = 1.0
    settings.SIGNOFF_DELIVERY_POLL_SECONDS = 0.02
    settings.SIGNOFF_DELIVERY_MAX_ATTEMPTS = 25
    with FakeReceiver(failure_rate=0.3, hang=1.5, slow=0.05, secret=SECRET.encode()) as receiver:
        set_destinations(spring_brief, hook(receiver.url))
        ids = seed_published(spring_brief, 300)

        work(wait_all=True, concurrency=16)

    rows = {r.idempotency_key: r for r in Delivery.objects.filter(pk__in=ids)}
    assert len(rows) == 300
    # 0 lost: every delivery is delivered, with the receipt the receiver gave for its key
    assert {r.state for r in rows.values()} == {"delivered"}
    assert set(receiver.applied) == set(rows)
    assert all(r.receiver_id == receiver.answers[k]["id"] for k, r in rows.items())
    # 0 delivered twice: each key took effect once, and Signoff never sent again what it had
    # recorded as delivered (one 2xx answer written per key)
    assert set(receiver.applied.values()) == {1}
    assert set(receiver.acked.values()) == {1}
    assert receiver.bad_signatures == 0
    # the receiver really failed about 30 % of the time, in every way
    failures = sum(len(modes) for modes in receiver.failures.values())
    assert 0.2 < failures / sum(receiver.seen.values()) < 0.4
    assert {m for modes in receiver.failures.values() for m in modes} == {
        "error",
        "limited",
        "hang",
        "reset",
        "drop",
        "slow",
    }
    # every failure is on record, in order, with its reason
    attempts = {}
    for attempt in Attempt.objects.filter(delivery__in=rows.values()).order_by("id"):
        attempts.setdefault(attempt.delivery_id, []).append(attempt)
    for key, row in rows.items():
        met = [m for m in receiver.failures.get(key, []) if m != "slow"]  # slow still succeeds
        recorded = attempts[row.pk]
        assert [a.outcome for a in recorded] == ["retry"] * len(met) + ["delivered"]
        assert row.attempts == len(met) + 1 == receiver.seen[key]
        assert sorted(said(a.error) for a in recorded[:-1]) == sorted(SAID[m] for m in met)
    # Retry-After was honoured: after a 429 ("Retry-After: 1") the next attempt waited 1 s
    waits = [
        (recorded[n + 1].started_at - recorded[n].finished_at)
        for recorded in attempts.values()
        for n, attempt in enumerate(recorded[:-1])
        if attempt.status == 429
    ]
    assert waits
    assert min(waits) >= timedelta(seconds=0.95)


def _database_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a subprocess working on a database of this test's own: the
    PostgreSQL test database (this test commits), or a fresh SQLite home made with init."""
    from django.db import connection

    env = {k: v for k, v in os.environ.items() if k != "SIGNOFF_DATABASE_URL"}
    env |= {
        "PYTHONPATH": str(REPO / "tests"),
        HOOK_ENV: SECRET,
        "SIGNOFF_DELIVERY_BACKOFF_BASE": "0.01",
        "SIGNOFF_DELIVERY_BACKOFF_CAP": "0.05",
        "SIGNOFF_DELIVERY_TIMEOUT": "0.5",
        "SIGNOFF_DELIVERY_LEASE_SECONDS": "1",  # held 3 x 0.5 + 5 s at least
        "SIGNOFF_DELIVERY_POLL_SECONDS": "0.05",
        "SIGNOFF_DELIVERY_MAX_ATTEMPTS": "25",
    }
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        host = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
        env["SIGNOFF_DATABASE_URL"] = f"postgres://{credentials}@{host}/{db['NAME']}"
        env["SIGNOFF_HOME"] = str(tmp_path / "home")
        return env
    env["SIGNOFF_HOME"] = str(tmp_path / "home")
    signoff = str(Path(sys.executable).parent / "signoff")
    done = subprocess.run([signoff, "init"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return env


@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_midway_loses_nothing_and_sends_nothing_twice(tmp_path):
    """Kill a worker mid-way, then let two workers finish: the same result as one run."""
    count = 240
    signoff = str(Path(sys.executable).parent / "signoff")
    env = _database_env(tmp_path)
    with FakeReceiver(
        failure_rate=0.3, latency=0.05, hang=0.8, slow=0.05, retry_after="1", secret=SECRET.encode()
    ) as receiver:
        seeded = subprocess.run(
            [
                sys.executable,
                "-c",
                SEED_SCRIPT,
                str(EXAMPLES),
                json.dumps(hook(receiver.url)),
                str(count),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert seeded.returncode == 0, seeded.stderr
        assert seeded.stdout.strip() == str(count)
        command = [signoff, "deliveries", "work", "--wait", "--concurrency", "8"]
        worker = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(receiver.applied) < count // 3 and time.monotonic() < deadline:
            assert worker.poll() is None, worker.communicate()
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        killed_at = len(receiver.applied)
        assert 0 < killed_at < count, "the kill should land mid-way"

        # Two workers take over at once: neither sends what the other claimed.
        again = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        for process in again:
            _, errors = process.communicate(timeout=180)
            assert process.returncode == 0, errors.decode()

        report = subprocess.run(
            [sys.executable, "-c", REPORT_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert report.returncode == 0, report.stderr
    found = json.loads(report.stdout)
    rows = {r["idempotency_key"]: r for r in found["deliveries"]}
    assert len(rows) == count
    # 0 lost
    assert {r["state"] for r in rows.values()} == {"delivered"}
    assert set(receiver.applied) == set(rows)
    assert all(r["receiver_id"] == receiver.answers[k]["id"] for k, r in rows.items())
    # 0 delivered twice: each key applied once. A 2xx may have been written twice only for a
    # send the kill cut off before its answer was recorded, re-sent with the same key: one in
    # each of the 8 threads, or answered and waiting to be recorded (8 more at most).
    assert set(receiver.applied.values()) == {1}
    assert sum(n - 1 for n in receiver.acked.values()) <= 16
    # the interrupted sends are on record as such, and every other failure with its reason
    outcomes = [a["outcome"] for a in found["attempts"]]
    assert outcomes.count("delivered") == count
    # claimed and cut off: sending (8), queued behind them (8) or answered, not recorded (8)
    assert outcomes.count("interrupted") <= 24
    assert all(a["error"] for a in found["attempts"] if a["outcome"] != "delivered")
