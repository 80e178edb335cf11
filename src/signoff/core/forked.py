"""Spread pure, CPU-bound work over the machine's cores with forked worker processes.

Threads do not help CPU-bound Python (the GIL runs one at a time); processes do. Forked
children start with a copy of the parent's memory, so the work (large inputs such as channel
specs and product facts) is read from that copy: only an index goes to a child and only the
result comes back through the pipe. The function must be pure: no database, no files written,
no shared state; the children exit without running the parent's cleanup, so an inherited
database connection is never touched. On Linux the children die with the parent: a killed run's
workers must not live on holding copies of its database connection and run lock.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# The job of the pool being forked: set while its children are forked (they keep their copy),
# under the lock, so two threads starting pools at once each fork theirs with their own job.
_job: tuple[Callable[[Any], Any], Sequence[Any]] | None = None
_forking = threading.Lock()
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def can_fork() -> bool:
    """Whether this platform forks (Linux does; macOS and Windows default to spawning)."""
    return "fork" in multiprocessing.get_all_start_methods()


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def map_forked(
    function: Callable[[T], R], items: Sequence[T], *, workers: int
) -> Iterator[tuple[int, R]]:
    """Yield ``(index, function(items[index]))`` for every item, in the order they finish.

    At most ``workers`` children run at once. An exception in ``function`` is raised here,
    in the parent, when its result comes up.
    """
    global _job
    if not items:
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        with _forking:
            _job = (function, items)
            try:
                # With fork, the first submit starts every child, each with a copy of _job.
                pending = {pool.submit(_run, 0)}
            finally:
                _job = None
        pending |= {pool.submit(_run, index) for index in range(1, len(items))}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()


def _run(index: int) -> tuple[int, Any]:
    function, items = _job  # the child's copy, made when it was forked
    return index, function(items[index])


def _die_with_parent(parent: int) -> None:
    """In a child: be killed when the parent dies (Linux); elsewhere nothing changes."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before that took effect
        os._exit(1)
