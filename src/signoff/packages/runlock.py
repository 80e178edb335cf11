"""One run of a brief at a time, across threads and processes (and machines, on PostgreSQL).

A run pays for model calls and commits each SKU as it finishes; two runs of one brief at once
would both pay for the same drafts, then collide on the packages' unique constraints. The lock
lives as long as the run, and the database or the operating system drops it when its holder
dies (a killed worker), so a crashed run never stands in the way of the run that resumes it:

- PostgreSQL: a session-level advisory lock, dropped when the connection closes.
- SQLite in a file: ``flock`` on a file beside the database, dropped when the process exits.
- SQLite in memory: no other process can open the database, so the in-process guard suffices.

Every kind also takes the in-process guard, because PostgreSQL's advisory locks are re-entrant
within one session (two runs in one process could share a connection).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import DatabaseError, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from signoff.briefs.models import Brief
from signoff.packages.models import Run
from signoff.workflow import ErrorCode, StateError

try:
    import fcntl
except ImportError:  # Windows has no fcntl: there only the in-process guard holds
    fcntl = None  # type: ignore[assignment]

# The first key of the two-key advisory lock space (the audit chain uses the one-key space).
RUN_LOCK_CLASS = 0x534F  # "SO"

_held: set[tuple[str, int]] = set()
_guard = threading.Lock()


@contextmanager
def run_lock(brief: Brief, *, wait: float = 0.25) -> Iterator[None]:
    """Hold the brief's run lock for the block; a ``StateError`` (``run_in_progress``) when
    another run of the brief holds it.

    It keeps trying for ``wait`` seconds first: a look by :func:`run_in_progress` (a progress
    page polling) holds the lock for an instant, and must not turn a run away.
    """
    deadline = time.monotonic() + wait
    while True:
        with _try_lock(brief) as acquired:
            if acquired:
                yield
                return
        if time.monotonic() >= deadline:
            raise _busy(brief)
        time.sleep(0.02)


def ensure_no_run_in_progress(brief: Brief) -> None:
    """Refuse (``run_in_progress``) now, before queueing a run that the worker would refuse."""
    if run_in_progress(brief):
        raise _busy(brief)


def run_in_progress(brief: Brief) -> bool:
    """Whether a run of the brief holds the lock at this moment (a look: nothing is kept)."""
    with _try_lock(brief) as acquired:
        return not acquired


def runs_as_they_stand(brief: Brief, *, limit: int = 50) -> list[Run]:
    """The brief's runs, newest first, with the status each has now.

    A run still recorded as ``running`` while no run of the brief holds the lock ended without
    finishing (its worker was killed): it reads ``interrupted``. What it committed is kept,
    and the next run drafts the rest. Nothing is saved.
    """
    runs = list(brief.runs.select_related("brief_version").order_by("-started_at", "-id")[:limit])
    recorded_running = [run.pk for run in runs if run.status == "running"]
    if not recorded_running:
        return runs
    live = run_in_progress(brief)
    # Read again after looking at the lock: a run that finished meanwhile has its final status.
    fresh = Run.objects.select_related("brief_version").in_bulk(recorded_running)
    runs = [fresh.get(run.pk, run) for run in runs]
    newest_running = next((run for run in runs if run.status == "running"), None)
    for run in runs:
        if run.status == "running" and not (live and run is newest_running):
            run.status = "interrupted"
    return runs


def _busy(brief: Brief) -> StateError:
    running = brief.runs.filter(status="running").order_by("-started_at", "-id").first()
    since = ""
    if running is not None:
        minutes = int((timezone.now() - running.started_at).total_seconds() // 60)
        since = f" (run {running.pk}, started {minutes} min ago)"
    return StateError(
        ErrorCode.RUN_IN_PROGRESS,
        f"brief {brief.slug} is being run already{since}; when that run ends, run again to "
        "draft whatever it left",
    )


@contextmanager
def _try_lock(brief: Brief) -> Iterator[bool]:
    """Take the lock if it is free: yield whether it was, holding it for the block if so."""
    alias = router.db_for_write(Run)
    key = (alias, brief.pk)
    with _guard:
        taken = key not in _held
        if taken:
            _held.add(key)
    if not taken:
        yield False
        return
    try:
        with _across_processes(connections[alias], brief.pk) as acquired:
            yield acquired
    finally:
        with _guard:
            _held.discard(key)


@contextmanager
def _across_processes(connection: BaseDatabaseWrapper, brief_id: int) -> Iterator[bool]:
    if connection.vendor == "postgresql":
        with _advisory_lock(connection, brief_id) as acquired:
            yield acquired
    elif connection.vendor == "sqlite" and fcntl is not None and _database_file(connection):
        with _file_lock(_lock_path(_database_file(connection), brief_id)) as acquired:
            yield acquired
    else:
        yield True


@contextmanager
def _advisory_lock(connection: BaseDatabaseWrapper, brief_id: int) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LOCK_CLASS, brief_id])
        acquired = bool(cursor.fetchone()[0])
    if not acquired:
        yield False
        return
    try:
        yield True
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_CLASS, brief_id])
        except DatabaseError:
            # A session that cannot unlock (an aborted transaction, a broken connection) would
            # keep the brief locked as long as it lives: end it, and the lock goes with it.
            connection.close()


def _database_file(connection: BaseDatabaseWrapper) -> str:
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        return ""
    return name


def _lock_path(database: str, brief_id: int) -> Path:
    path = Path(database)
    return path.with_name(f"{path.name}.locks") / f"run-{brief_id}.lock"


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
