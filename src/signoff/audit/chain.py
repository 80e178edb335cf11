"""The audit hash chain: canonical encoding, event hashes and verification.

Pure Python on purpose (no Django): an auditor can check an exported log with this file and
the standard library alone, and the verifier is unit-tested in milliseconds.

Each event's ``hash`` is SHA-256 over the canonical JSON of every field in ``HASHED_FIELDS``
plus ``prev_hash``, the previous event's ``hash`` (``GENESIS_HASH`` for seq 1). Editing,
deleting, inserting or reordering any row therefore breaks the chain at that row. Someone who
can write the table can still recompute the whole chain; ``expected_head`` (a ``(seq, hash)``
exported off-box earlier) catches that, and a truncated tail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

GENESIS_HASH = "0" * 64

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


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of walking the chain.

    ``count`` is the number of rows that verified (the intact prefix when ``ok`` is false);
    ``head_seq``/``head_hash`` are the last of them, ready to export as the next trusted head.
    """

    ok: bool
    count: int
    first_bad_seq: int | None = None
    reason: Reason | None = None
    head_seq: int = 0
    head_hash: str = GENESIS_HASH


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


def verify_chain(
    rows: Iterable[Mapping[str, Any]],
    *,
    expected_head: tuple[int, str] | None = None,
) -> VerifyResult:
    """Walk ``rows`` in the order given and stop at the first one that breaks the chain.

    Rows must carry ``HASHED_FIELDS`` plus ``prev_hash`` and ``hash``. The checks run in this
    order, so each tamper has one reason: seq (gap, order), link, hash. ``expected_head`` is a
    ``(seq, hash)`` trusted from an earlier export; the chain must still contain it unchanged.
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    head_hash_seen: str | None = None

    def failed(seq: int, reason: Reason) -> VerifyResult:
        return VerifyResult(False, count, seq, reason, expected_seq - 1, prev_hash)

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
    return VerifyResult(True, count, None, None, expected_seq - 1, prev_hash)
