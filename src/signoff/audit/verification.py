"""Verify the stored audit log: segments streamed in seq order, spread over processes.

The log is cut into segments that end at its checkpoints (``segments.plan_segments``). Each
segment is read in seq order with the row's own hash and its predecessor's stored hash, and
verified on its own (``segments.verify_segment``): together the segments check every row's
seq, link and hash from 1 to the head, exactly what walking the whole chain checks, because
each segment's first link is checked against the stored hash that the segment before it
verifies. Checkpoints are verified against the rows they name.

Large logs are verified by forked worker processes, each with its own database connection
(``SIGNOFF_AUDIT_VERIFY_PROCESSES``, one per core by default): the per-row work is Python and
holds the GIL, so threads would not run it side by side.
"""

from __future__ import annotations

import multiprocessing.util
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper

from signoff.audit.chain import (
    CHECKPOINT_ACTION,
    GENESIS_HASH,
    HASHED_FIELDS,
    MAX_CHECKPOINT_SPAN,
    Reason,
    SegmentResult,
    VerifyResult,
    event_hash,
)
from signoff.audit.models import Event
from signoff.audit.segments import (
    ROW_COLUMNS,
    Segment,
    hash_canonical_rows,
    hash_sqlite_rows,
    plan_segments,
    verify_segment,
)
from signoff.core.forked import can_fork, default_workers, map_forked

# Below this many events one process is faster than starting workers.
PARALLEL_FROM = 50_000
DEFAULT_SPAN = 10_000

# Every column in ROW_COLUMNS order, in the text the fast hashers expect. PostgreSQL formats
# the time (in UTC, with microseconds) and the UUID itself; the casts also keep psycopg from
# building datetime, UUID and dict objects that would only be turned back into text.
_POSTGRESQL_EXPRESSIONS = {
    "occurred_at": """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
    "correlation_id": "correlation_id::text",
    "data": "data::text",
}
# SQLite: CAST keeps Django's sqlite3 converters (declared type "datetime") off the time.
_SQLITE_EXPRESSIONS = {"occurred_at": "CAST(occurred_at AS TEXT)"}
_RANGE = " FROM audit_event WHERE seq BETWEEN {low} AND {high} ORDER BY seq"


def _select(expressions: dict[str, str], placeholder: str) -> str:
    columns = ", ".join(expressions.get(name, name) for name in ROW_COLUMNS)
    return "SELECT " + columns + _RANGE.format(low=placeholder, high=placeholder)


_SQL = {
    "postgresql": _select(_POSTGRESQL_EXPRESSIONS, "%s"),
    "sqlite": _select(_SQLITE_EXPRESSIONS, "?"),
}
_HASH_ROWS = {"postgresql": hash_canonical_rows, "sqlite": hash_sqlite_rows}
_REFERENCE_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")


def verify_log(
    expected_head: tuple[int, str] | None = None,
    *,
    using: str | None = None,
    workers: int | None = None,
    chunk_size: int = 5000,
) -> VerifyResult:
    """Verify every event's seq, link and hash, and every checkpoint; see the module doc.

    ``workers``: processes to use (None: ``SIGNOFF_AUDIT_VERIFY_PROCESSES``, and only for a
    log of at least ``PARALLEL_FROM`` events). The result has one ``SegmentResult`` per
    segment, each with its first bad seq; the overall first bad seq is the earliest of them.
    """
    alias = using or router.db_for_read(Event)
    connection = connections[alias]
    if connection.vendor not in _SQL:
        raise NotImplementedError(f"audit verification is not written for {connection.vendor}")
    last_seq = _last_seq(alias)
    stored = (
        Event.objects.using(alias)
        .filter(action=CHECKPOINT_ACTION, seq__lte=last_seq)
        .order_by("seq")
        .values_list("seq", "data")
    )
    checkpoints = [
        (seq, data.get("first_seq") if isinstance(data, dict) else None) for seq, data in stored
    ]
    plan = plan_segments(last_seq, checkpoints, span=checkpoint_interval() or DEFAULT_SPAN)
    processes = _processes(connection, workers, last_seq, len(plan))
    if processes > 1:
        jobs = [(alias, segment, chunk_size) for segment in plan]
        outcomes: list[Any] = [None] * len(plan)
        for index, outcome in map_forked(_verify_in_child, jobs, workers=processes):
            outcomes[index] = outcome
    else:
        outcomes = [_verify_one(connection, segment, chunk_size) for segment in plan]
    return _combine(outcomes, expected_head, alias)


def checkpoint_interval() -> int:
    """Events per checkpoint (``SIGNOFF_AUDIT_CHECKPOINT_EVERY``; 0: no checkpoints)."""
    every = getattr(settings, "SIGNOFF_AUDIT_CHECKPOINT_EVERY", DEFAULT_SPAN)
    return min(every, MAX_CHECKPOINT_SPAN)


def _processes(
    connection: BaseDatabaseWrapper, requested: int | None, events: int, segments: int
) -> int:
    if requested is None:
        if events < PARALLEL_FROM:
            return 1
        requested = getattr(settings, "SIGNOFF_AUDIT_VERIFY_PROCESSES", 0) or default_workers()
    if requested <= 1 or segments <= 1 or not can_fork():
        return 1
    # Other connections cannot see rows of a transaction still open here (a test's, or a
    # caller's), nor an in-memory SQLite database: verify on this connection.
    if connection.in_atomic_block or not connection.get_autocommit():
        return 1
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return 1
    return min(requested, segments)


def _last_seq(alias: str) -> int:
    last = Event.objects.using(alias).order_by("-seq").values_list("seq", flat=True).first()
    return last or 0


# ---- one segment ---------------------------------------------------------------------------

_child_connection: BaseDatabaseWrapper | None = None


def _verify_in_child(job: tuple[str, Segment, int]) -> tuple[SegmentResult, str]:
    """In a forked worker: verify one segment on the worker's own connection.

    The connection inherited from the parent is never used (its socket is the parent's);
    the worker opens its own on first use and closes it when the worker exits.
    """
    global _child_connection
    alias, segment, chunk_size = job
    if _child_connection is None:
        _child_connection = connections.create_connection(alias)
        multiprocessing.util.Finalize(None, _child_connection.close, exitpriority=0)
    return _verify_one(_child_connection, segment, chunk_size)


def _verify_one(
    connection: BaseDatabaseWrapper, segment: Segment, chunk_size: int
) -> tuple[SegmentResult, str]:
    connection.ensure_connection()
    start_hash = GENESIS_HASH
    if segment.first_seq > 1:
        start_hash = _stored_hash(connection, segment.first_seq - 1)
    with _batches(connection, segment, chunk_size) as batches:
        return verify_segment(
            segment,
            batches,
            start_hash=start_hash,
            hash_rows=_HASH_ROWS[connection.vendor],
            recheck=partial(_recheck, connection),
        )


@contextmanager
def _batches(
    connection: BaseDatabaseWrapper, segment: Segment, chunk_size: int
) -> Iterator[Iterator[Sequence[tuple[Any, ...]]]]:
    """Stream the segment's rows in seq order, ``chunk_size`` at a time, on ``connection``."""
    raw = connection.connection
    params = (segment.first_seq, segment.last_seq)
    if connection.vendor == "postgresql":
        # A server-side cursor: rows come over as they are fetched, never all at once. It
        # needs a transaction (WITHOUT HOLD); in autocommit open one just for the read.
        own = connection.get_autocommit()
        transaction = raw.transaction() if own else _nothing()
        with transaction, raw.cursor(name=f"audit_verify_{segment.first_seq}") as cursor:
            cursor.itersize = chunk_size
            cursor.execute(_SQL["postgresql"], params)
            yield iter(partial(cursor.fetchmany, chunk_size), [])
        return
    cursor = raw.execute(_SQL["sqlite"], params)
    try:
        yield iter(partial(cursor.fetchmany, chunk_size), [])
    finally:
        cursor.close()


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _stored_hash(connection: BaseDatabaseWrapper, seq: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT hash FROM audit_event WHERE seq = %s", [seq])
        row = cursor.fetchone()
    return row[0] if row else None


def _recheck(connection: BaseDatabaseWrapper, seq: int, prev_hash: str) -> bool:
    """Hash one row the reference way: Django's field conversions, then ``event_hash``."""
    query = Event.objects.filter(seq=seq).values_list(*_REFERENCE_COLUMNS).query
    compiler = query.get_compiler(connection=connection)
    rows = list(compiler.results_iter())
    if not rows:
        return False
    fields = dict(zip(_REFERENCE_COLUMNS, rows[0], strict=True))
    return event_hash(fields, prev_hash) == fields["hash"]


# ---- the whole log -------------------------------------------------------------------------


def _combine(
    outcomes: Sequence[tuple[SegmentResult, str]],
    expected_head: tuple[int, str] | None,
    alias: str,
) -> VerifyResult:
    segments = tuple(result for result, _ in outcomes)
    count, checkpoints, head_seq, head_hash = 0, 0, 0, GENESIS_HASH
    for result, last_hash in outcomes:
        count += result.count
        if not result.ok:
            # Everything before this segment's first bad row verified; that is the answer.
            assert result.first_bad_seq is not None
            return VerifyResult(
                False,
                count,
                result.first_bad_seq,
                result.reason,
                result.first_bad_seq - 1,
                last_hash,
                checkpoints,
                segments,
            )
        head_seq, head_hash = result.last_seq, last_hash
        checkpoints += result.checkpoint

    def failed(seq: int, reason: Reason) -> VerifyResult:
        return VerifyResult(False, count, seq, reason, head_seq, head_hash, checkpoints, segments)

    if expected_head is not None:
        trusted_seq, trusted_hash = expected_head
        if trusted_seq > head_seq:
            return failed(head_seq + 1, Reason.TRUNCATED)
        if trusted_seq > 0:
            stored = _stored_hash(connections[alias], trusted_seq)
        else:
            stored = GENESIS_HASH
        if stored != trusted_hash:
            return failed(trusted_seq, Reason.HEAD_MISMATCH)
    return VerifyResult(True, count, None, None, head_seq, head_hash, checkpoints, segments)
