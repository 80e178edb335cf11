"""The audit hash chain: canonical encoding, event hashes and verification.

Pure Python on purpose (no Django): an auditor can check an exported log with this file and
the standard library alone, and the verifier is unit-tested in milliseconds.

Each event's ``hash`` is SHA-256 over the canonical JSON of every field in ``HASHED_FIELDS``
plus ``prev_hash``, the previous event's ``hash`` (``GENESIS_HASH`` for seq 1). Editing,
deleting, inserting or reordering any row therefore breaks the chain at that row. Someone who
can write the table can still recompute the whole chain; ``expected_head`` (a ``(seq, hash)``
exported off-box earlier) catches that, and a truncated tail.

Checkpoints: every so many events the writer appends an ``audit.checkpoint`` event, itself a
link of the chain, whose data names the segment it closes (``first_seq``, ``last_seq``,
``events``) and its ``digest``: SHA-256 over the concatenated hashes of those events. The
segments between checkpoints are what verification spreads over processes; each checkpoint is
verified against the rows it names. A checkpoint's segment starts right after the previous
checkpoint; only the first one may start later (a log older than checkpoints), and none spans
more than ``MAX_CHECKPOINT_SPAN`` events, so a streaming verifier's memory stays bounded.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

GENESIS_HASH = "0" * 64
CHECKPOINT_ACTION = "audit.checkpoint"
CHECKPOINT_ACTOR = "system:audit"
# The most events one checkpoint may cover; the interval setting is capped to it.
MAX_CHECKPOINT_SPAN = 100_000

# The hashed record, in no particular order (canonical JSON sorts keys). Changing this tuple
# changes every hash: it is the log's format, not a convenience list.
HASHED_FIELDS: tuple[str, ...] = (
    "seq",
    "occurred_at",
    "actor",
    "actor_kind",
    "action",
    "subject_type",
    "subject_id",
    "workspace",
    "from_position",
    "to_position",
    "content_hash",
    "note",
    "data",
    "correlation_id",
    "sku",
    "channel",
    "gate",
)


class Reason(StrEnum):
    """Why verification stopped; a StrEnum so it compares equal to the plain strings."""

    HASH_MISMATCH = "hash mismatch"  # the row's content no longer matches its stored hash
    BROKEN_LINK = "broken link"  # prev_hash is not the previous row's hash
    SEQUENCE_GAP = "sequence gap"  # a seq is missing (first_bad_seq is the missing one)
    OUT_OF_ORDER = "out of order"  # seq repeats or goes backwards
    TRUNCATED = "truncated"  # the exported head's seq is gone (first_bad_seq: first missing)
    HEAD_MISMATCH = "head mismatch"  # the row at the exported head's seq has another hash
    # A checkpoint hashes correctly but does not describe the segment it closes.
    CHECKPOINT_MISMATCH = "checkpoint mismatch"


@dataclass(frozen=True, slots=True)
class SegmentResult:
    """One verified stretch of the log, ``first_seq`` to ``last_seq`` inclusive.

    ``checkpoint`` says the segment ends with the checkpoint that closes it; ``count`` is the
    number of its rows that verified before ``first_bad_seq`` (all of them when ``ok``).
    """

    first_seq: int
    last_seq: int
    checkpoint: bool
    ok: bool
    count: int
    first_bad_seq: int | None = None
    reason: Reason | None = None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of walking the chain.

    ``count`` is the number of rows that verified (the intact prefix when ``ok`` is false);
    ``head_seq``/``head_hash`` are the last of them, ready to export as the next trusted head.
    ``checkpoints`` is how many checkpoints verified; ``segments`` is filled by the database
    verifier, one entry per segment, each with its own first bad seq.
    """

    ok: bool
    count: int
    first_bad_seq: int | None = None
    reason: Reason | None = None
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    checkpoints: int = 0
    segments: tuple[SegmentResult, ...] = ()

    @property
    def failed_segments(self) -> tuple[SegmentResult, ...]:
        return tuple(segment for segment in self.segments if not segment.ok)


def _encode_default(value: object) -> str:
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            # A naive time has no single meaning, so it cannot have a single hash.
            raise ValueError(f"naive datetime {value!r} cannot be hashed; use an aware UTC time")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} has no canonical JSON form")


def canonical_json(obj: Any) -> bytes:
    """Encode ``obj`` as canonical JSON: sorted keys, no whitespace, UTF-8, strings as-is.

    Datetimes become UTC ISO 8601 with microseconds (``2025-01-02T03:04:05.000006Z``), UUIDs
    their hyphenated form. NaN and infinities are refused: they are not JSON.
    """
    return json.dumps(
        obj,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_encode_default,
    ).encode("utf-8")


def event_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    """Return the SHA-256 hex of one event: its ``HASHED_FIELDS`` plus ``prev_hash``.

    Keys outside ``HASHED_FIELDS`` (a stored ``hash``, a primary key) are ignored so a row read
    back from the database hashes the same as the dict it was written from; a missing key is a
    KeyError, never a silent default.
    """
    document = {name: fields[name] for name in HASHED_FIELDS}
    document["prev_hash"] = prev_hash
    return hashlib.sha256(canonical_json(document)).hexdigest()


def segment_digest(hashes: Iterable[str]) -> str:
    """Return a checkpoint's digest: SHA-256 over the segment's event hashes, concatenated."""
    # One buffer, one update: hashlib releases the GIL on large inputs.
    return hashlib.sha256("".join(hashes).encode("utf-8")).hexdigest()


def checkpoint_data(first_seq: int, hashes: Sequence[str]) -> dict[str, Any]:
    """The data of the checkpoint that closes the events ``first_seq`` onwards (``hashes``)."""
    return {
        "first_seq": first_seq,
        "last_seq": first_seq + len(hashes) - 1,
        "events": len(hashes),
        "digest": segment_digest(hashes),
    }


def checkpoint_holds(
    data: object,
    seq: int,
    *,
    previous_checkpoint: int | None,
    hashes: Sequence[str],
    hashes_from: int,
) -> bool:
    """Whether the checkpoint at ``seq`` describes its segment exactly.

    ``hashes`` are the verified hashes of the rows ``hashes_from`` to ``seq - 1``.
    ``previous_checkpoint`` is the seq of the checkpoint before it, or None if this is the
    first; only the first may start after the previous row of the log (a log that had events
    before it had checkpoints).
    """
    if not isinstance(data, Mapping) or set(data) != {"first_seq", "last_seq", "events", "digest"}:
        return False
    first, last = data["first_seq"], data["last_seq"]
    if not all(type(value) is int for value in (first, last, data["events"])):
        return False
    if last != seq - 1 or data["events"] != last - first + 1 or data["events"] < 1:
        return False
    if previous_checkpoint is not None and first != previous_checkpoint + 1:
        return False
    if first < hashes_from or last - first + 1 > MAX_CHECKPOINT_SPAN:
        return False
    return data["digest"] == segment_digest(hashes[first - hashes_from :])


def verify_chain(
    rows: Iterable[Mapping[str, Any]],
    *,
    expected_head: tuple[int, str] | None = None,
) -> VerifyResult:
    """Walk ``rows`` in the order given and stop at the first one that breaks the chain.

    Rows must carry ``HASHED_FIELDS`` plus ``prev_hash`` and ``hash``. The checks run in this
    order, so each tamper has one reason: seq (gap, order), link, hash. ``expected_head`` is a
    ``(seq, hash)`` trusted from an earlier export; the chain must still contain it unchanged.
    Checkpoints are checked against the hashes of the rows they name (``checkpoint_holds``).
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    checkpoints = 0
    head_hash_seen: str | None = None
    previous_checkpoint: int | None = None
    # The hashes since the last checkpoint (or the last MAX_CHECKPOINT_SPAN before the first).
    since: deque[str] = deque(maxlen=MAX_CHECKPOINT_SPAN)

    def failed(seq: int, reason: Reason) -> VerifyResult:
        return VerifyResult(False, count, seq, reason, expected_seq - 1, prev_hash, checkpoints)

    for row in rows:
        seq = row["seq"]
        if seq < expected_seq:
            return failed(seq, Reason.OUT_OF_ORDER)
        if seq > expected_seq:
            return failed(expected_seq, Reason.SEQUENCE_GAP)
        if row["prev_hash"] != prev_hash:
            return failed(seq, Reason.BROKEN_LINK)
        if event_hash(row, prev_hash) != row["hash"]:
            return failed(seq, Reason.HASH_MISMATCH)
        if row["action"] == CHECKPOINT_ACTION:
            if not checkpoint_holds(
                row["data"],
                seq,
                previous_checkpoint=previous_checkpoint,
                hashes=list(since),
                hashes_from=seq - len(since),
            ):
                return failed(seq, Reason.CHECKPOINT_MISMATCH)
            previous_checkpoint = seq
            checkpoints += 1
            since.clear()
        else:
            since.append(row["hash"])
        prev_hash = row["hash"]
        count += 1
        expected_seq += 1
        if expected_head is not None and seq == expected_head[0]:
            head_hash_seen = prev_hash

    if expected_head is not None:
        head_seq, head_hash = expected_head
        if head_seq > 0 and head_hash_seen is None:
            return failed(expected_seq, Reason.TRUNCATED)
        if (head_hash_seen or GENESIS_HASH) != head_hash:
            # The chain is self-consistent, so it was recomputed: the edit is at or before here.
            return failed(head_seq, Reason.HEAD_MISMATCH)
    return VerifyResult(True, count, None, None, expected_seq - 1, prev_hash, checkpoints)
