"""The delivery worker: keeps up to C sends in flight, records each answer as it comes.

One thread (the caller's) does all the database work: claim, prepare, record. The sends run
on a pool of C threads that only talk to receivers, with up to C more jobs queued behind
them: a thread that finishes takes the next job at once, so a slow receiver holds one thread,
not a whole round, and N deliveries to a receiver answering in L seconds take about
ceil(N / C) x L. The database work (claiming the next jobs, recording the answers) happens
while the sends are out.

Several workers may run at once, on one machine or many (see ``services.claim``). A worker
killed mid-send leaves leases that run out; the next worker sends those again with the same
idempotency keys.
"""

from __future__ import annotations

import os
import socket
import threading
from collections import Counter
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from signoff.outbox.rules import SendResult
from signoff.outbox.sending import Job, claim, next_due, prepare, record, release, send


@dataclass
class Summary:
    attempts: int = 0  # deliveries attempted (a feed counts each delivery it carries)
    outcomes: Counter = field(default_factory=Counter)  # delivered, retry, failed, dead, ...

    def as_dict(self) -> dict:
        return {"attempts": self.attempts, **dict(self.outcomes)}


def worker_name() -> str:
    """Name this worker in leases and attempts: host and process."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}"


def work(
    *,
    concurrency: int | None = None,
    batch: bool = False,
    wait_all: bool = False,
    ids: Collection[int] | None = None,
    stop: threading.Event | None = None,
    poll: float | None = None,
    name: str | None = None,
    progress: Callable[[Summary], None] | None = None,
) -> Summary:
    """Send due deliveries (only ``ids``, if given) until ``stop`` is set.

    ``batch``: return once nothing is due now. ``wait_all``: return once nothing is left to
    send at all, waiting out backoffs. Neither: run until stopped. In-flight sends always
    finish and are recorded before returning.
    """
    limit = concurrency or settings.SIGNOFF_DELIVERY_CONCURRENCY
    interval = poll if poll is not None else settings.SIGNOFF_DELIVERY_POLL_SECONDS
    stop = stop or threading.Event()
    name = name or worker_name()
    # Up to C jobs queue behind the C sending threads, so a thread that finishes takes its
    # next job at once, without waiting for this thread's database work; claims are topped up
    # in batches, when half of that queue is gone.
    most = 2 * limit
    summary = Summary()
    in_flight: dict[Future[SendResult], Job] = {}  # submitted: sending, or queued to send
    answered: list[tuple[Job, SendResult]] = []  # answers not recorded yet
    pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="deliver")
    try:
        while True:
            claimed_any = False
            if not stop.is_set() and len(in_flight) <= most - max(1, limit // 2):
                rows = claim(worker=name, limit=most - len(in_flight), ids=ids)
                for job in prepare(rows, worker=name):
                    in_flight[pool.submit(send, job)] = job
                    claimed_any = True
            if answered:  # recorded while the sends just started are out
                _record(answered, name, summary)
                answered = []
                if progress:
                    progress(summary)
            if stop.is_set():
                _release_queued(in_flight)
            if in_flight:
                done, _ = wait(list(in_flight), timeout=interval, return_when=FIRST_COMPLETED)
                answered = [(in_flight.pop(future), future.result()) for future in done]
                continue
            if stop.is_set():
                break
            if claimed_any:
                continue
            due = next_due(ids)
            now = timezone.now()
            if due is None and (batch or wait_all):
                break
            if batch and due is not None and due > now:
                break
            pause = interval if due is None else (due - now).total_seconds()
            if not connection.in_atomic_block:  # never under a caller's transaction (a test)
                close_old_connections()  # idle: let a broken or aged connection go
            stop.wait(min(max(pause, 0.01), interval))
    finally:
        # After an error above: what is queued goes back, what was sent is still recorded.
        _release_queued(in_flight)
        answered += [
            (in_flight.pop(future), future.result()) for future in wait(list(in_flight))[0]
        ]
        if answered:
            _record(answered, name, summary)
        pool.shutdown(wait=True)
    return summary


def _release_queued(in_flight: dict[Future[SendResult], Job]) -> None:
    """Give back the claims of jobs no thread has started: they were never sent."""
    queued = [future for future in list(in_flight) if future.cancel()]
    if queued:
        release([row for future in queued for row in in_flight.pop(future).rows])


def _record(answered: list[tuple[Job, SendResult]], name: str, summary: Summary) -> None:
    counts = record(answered, worker=name)
    summary.attempts += sum(len(job.rows) for job, _ in answered)
    summary.outcomes.update(counts)


def run_in_thread(*, stop: threading.Event, **options: object) -> threading.Thread:
    """Start :func:`work` on a thread of its own (with its own database connection)."""

    def target() -> None:
        try:
            work(stop=stop, **options)  # type: ignore[arg-type]
        finally:
            connection.close()

    thread = threading.Thread(target=target, name="signoff-deliveries", daemon=True)
    thread.start()
    return thread
