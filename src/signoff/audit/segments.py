"""Verify the audit log a segment at a time, fast: rows as the database hands them back.

Pure Python (no Django), like ``chain``. ``chain.verify_chain`` is the reference: it takes rows
whose values went through Django's field conversions and re-encodes each with ``json.dumps``.
At a million events that costs about 50 microseconds a row. Here the same canonical document
is built straight from the stored text, a batch at a time:

* the database returns every value already in its canonical text (PostgreSQL formats the time
  and the UUID itself; SQLite's stored forms need two string slices), so no datetime, UUID or
  dict objects are made except for ``data``, which is parsed and re-encoded with sorted keys;
* the document is one ``%`` format of the fields in canonical key order, each string encoded
  by the same C function ``json.dumps`` uses, so the bytes are identical to ``canonical_json``
  for every value the log can hold (``tests/test_audit_verify_segments.py`` compares them);
* the seq, link and hash checks of a batch are list comparisons; a row is looked at on its own
  only when a batch does not pass.

A row whose fast hash differs is re-read through Django and hashed by ``chain.event_hash``
before it is called bad (``recheck``): a stored form this module does not expect (a timestamp
with no microseconds, an upper-case UUID) costs one query, never a false alarm. The fast
document is an injective encoding of the stored values (every string JSON-encoded, fixed keys
between them), so a changed row cannot reproduce the stored hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring
from typing import Any

from signoff.audit.chain import (
    CHECKPOINT_ACTION,
    GENESIS_HASH,
    HASHED_FIELDS,
    Reason,
    SegmentResult,
    checkpoint_holds,
)

# The columns a verifier selects, in this order: the hashed document's keys in canonical
# (sorted) order, then the stored hash.
ROW_COLUMNS: tuple[str, ...] = (*sorted((*HASHED_FIELDS, "prev_hash")), "hash")
_INDEX = {name: i for i, name in enumerate(ROW_COLUMNS)}
ACTION, DATA, PREV, SEQ, HASH = (_INDEX[n] for n in ("action", "data", "prev_hash", "seq", "hash"))

_DOCUMENT = "{" + ",".join(f'"{name}":%s' for name in ROW_COLUMNS[:-1]) + "}"
# seq is an integer: %d, as json.dumps writes it.
_DOCUMENT = _DOCUMENT.replace('"seq":%s', '"seq":%d')
assert ROW_COLUMNS[:-1] == tuple(sorted(ROW_COLUMNS[:-1])), "document keys must be sorted"

_sha256 = hashlib.sha256
_encode = encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses for strings
_loads = json.loads
if c_make_encoder is not None:
    # canonical_json's settings (sorted keys, compact, no NaN), made once instead of per call.
    _compact = c_make_encoder(None, None, encode_basestring, None, ":", ",", True, False, False)

    def _canonical_data(text: str) -> str:
        return "{}" if text == "{}" else "".join(_compact(_loads(text), 0))

else:  # pragma: no cover - CPython always has the C accelerator
    _dumps = json.JSONEncoder(
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode

    def _canonical_data(text: str) -> str:
        return _dumps(_loads(text))


def _canonical_texts(rows: Sequence[tuple[Any, ...]]) -> dict[str, str]:
    """Each distinct ``data`` text of the batch in canonical JSON, parsed and encoded once.

    A run's events repeat the same few payloads (run, version, findings), so most of a batch's
    texts are repeats; a batch of all-different texts pays one dict lookup a row for this.
    """
    return {text: _canonical_data(text) for text in dict.fromkeys([row[DATA] for row in rows])}


def hash_canonical_rows(rows: Sequence[tuple[Any, ...]]) -> list[str]:
    """Event hashes of ``ROW_COLUMNS`` rows whose time and UUID are already canonical text.

    ``occurred_at`` as ``2025-01-02T03:04:05.000006Z``, ``correlation_id`` hyphenated, ``data``
    as JSON text in any layout (PostgreSQL: ``to_char(...)``, ``::text``).
    """
    canonical = _canonical_texts(rows)
    return [
        _sha256(
            (
                _DOCUMENT
                % (
                    _encode(action),
                    _encode(actor),
                    _encode(actor_kind),
                    "null" if channel is None else _encode(channel),
                    _encode(content_hash),
                    _encode(correlation_id),
                    canonical[data],
                    _encode(from_position),
                    "null" if gate is None else _encode(gate),
                    _encode(note),
                    _encode(occurred_at),
                    _encode(prev_hash),
                    seq,
                    "null" if sku is None else _encode(sku),
                    _encode(subject_id),
                    _encode(subject_type),
                    _encode(to_position),
                    _encode(workspace),
                )
            ).encode()
        ).hexdigest()
        for (
            action,
            actor,
            actor_kind,
            channel,
            content_hash,
            correlation_id,
            data,
            from_position,
            gate,
            note,
            occurred_at,
            prev_hash,
            seq,
            sku,
            subject_id,
            subject_type,
            to_position,
            workspace,
            _hash,
        ) in rows
    ]


def hash_sqlite_rows(rows: Sequence[tuple[Any, ...]]) -> list[str]:
    """Event hashes of ``ROW_COLUMNS`` rows in Django's SQLite storage forms.

    ``occurred_at`` is naive UTC text ``2025-01-02 03:04:05.000006`` and ``correlation_id``
    32 hex digits. A time stored without microseconds (Django writes none when they are 0)
    comes out wrong here and is settled by the recheck.
    """
    canonical = _canonical_texts(rows)
    return [
        _sha256(
            (
                _DOCUMENT
                % (
                    _encode(action),
                    _encode(actor),
                    _encode(actor_kind),
                    "null" if channel is None else _encode(channel),
                    _encode(content_hash),
                    _encode(f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:]}"),
                    canonical[data],
                    _encode(from_position),
                    "null" if gate is None else _encode(gate),
                    _encode(note),
                    _encode(f"{at[:10]}T{at[11:]}Z"),
                    _encode(prev_hash),
                    seq,
                    "null" if sku is None else _encode(sku),
                    _encode(subject_id),
                    _encode(subject_type),
                    _encode(to_position),
                    _encode(workspace),
                )
            ).encode()
        ).hexdigest()
        for (
            action,
            actor,
            actor_kind,
            channel,
            content_hash,
            u,
            data,
            from_position,
            gate,
            note,
            at,
            prev_hash,
            seq,
            sku,
            subject_id,
            subject_type,
            to_position,
            workspace,
            _hash,
        ) in rows
    ]


HashRows = Callable[[Sequence[tuple[Any, ...]]], list[str]]
# recheck(seq, prev_hash) -> whether that row, read the reference way, hashes to its stored hash
Recheck = Callable[[int, str], bool]


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of the log to verify on its own: seqs ``first_seq`` to ``last_seq``.

    ``checkpoint``: it ends with a checkpoint. ``after_checkpoint``: the row before it is one,
    so a checkpoint in it must start right at ``first_seq``.
    """

    first_seq: int
    last_seq: int
    checkpoint: bool = False
    after_checkpoint: bool = False


def plan_segments(
    last_seq: int, checkpoints: Sequence[tuple[int, object]], *, span: int
) -> list[Segment]:
    """Cut seqs 1..``last_seq`` into segments ending at the checkpoints.

    ``checkpoints`` are ``(seq, first_seq)`` as stored (unverified: they only decide how the
    work is cut; every row from 1 to ``last_seq`` is verified whatever they say). Stretches
    without a checkpoint (the open tail, a log older than checkpoints) are cut every ``span``
    rows so they spread over the workers too.
    """
    segments: list[Segment] = []
    start, after = 1, False

    def open_stretch(end: int) -> None:
        nonlocal start, after
        while start <= end:
            stop = min(end, start + span - 1)
            segments.append(Segment(start, stop, False, after))
            start, after = stop + 1, False

    for seq, first in sorted(checkpoints):
        if seq < start or seq > last_seq:
            continue
        if not after and type(first) is int and start < first <= seq:
            open_stretch(first - 1)  # events from before checkpoints existed
        segments.append(Segment(start, seq, True, after))
        start, after = seq + 1, True
    open_stretch(last_seq)
    return segments


def verify_segment(
    segment: Segment,
    batches: Iterable[Sequence[tuple[Any, ...]]],
    *,
    start_hash: str | None,
    hash_rows: HashRows,
    recheck: Recheck,
) -> tuple[SegmentResult, str]:
    """Verify the segment's rows (``ROW_COLUMNS`` tuples, in seq order, in batches).

    ``start_hash`` is the stored hash of the row before the segment (``GENESIS_HASH`` before
    seq 1, None if that row is missing). Stops at the segment's first bad row. Returns the
    result and the hash of the last row that verified (``start_hash`` if none did).
    """
    expected = segment.first_seq
    prev = start_hash
    # Verified hashes since the last checkpoint, for the next checkpoint's digest.
    since: list[str] = []
    since_from = segment.first_seq
    previous_checkpoint = segment.first_seq - 1 if segment.after_checkpoint else None
    count = 0

    def failed(seq: int, reason: Reason) -> tuple[SegmentResult, str]:
        result = SegmentResult(
            segment.first_seq, segment.last_seq, segment.checkpoint, False, count, seq, reason
        )
        return result, prev or GENESIS_HASH

    for batch in batches:
        if not batch:
            continue
        n = len(batch)
        seqs = [row[SEQ] for row in batch]
        stored = [row[HASH] for row in batch]
        prevs = [row[PREV] for row in batch]
        computed = _hash_batch(batch, hash_rows)
        bad = None  # the first row of this batch that breaks the chain
        if seqs != list(range(expected, expected + n)):
            bad = next(i for i in range(n) if seqs[i] != expected + i)
        if prevs[0] != prev:
            bad = 0
        elif prevs[1:] != stored[:-1]:
            bad = min(bad if bad is not None else n, _first_difference(prevs[1:], stored) + 1)
        limit = n if bad is None else bad + 1
        hash_bad = None
        if computed[:limit] != stored[:limit]:
            for i in range(limit):
                if computed[i] != stored[i] and not _recheck(recheck, seqs[i], prevs[i]):
                    hash_bad = i
                    break
        if hash_bad is not None and (bad is None or hash_bad < bad):
            bad = hash_bad
        # Checkpoints among the rows that verified, in order: one may fail before ``bad``.
        checked = n if bad is None else bad
        actions = [row[ACTION] for row in batch[:checked]]
        if CHECKPOINT_ACTION in actions:
            start = 0
            for i, action in enumerate(actions):
                if action != CHECKPOINT_ACTION:
                    continue
                since.extend(stored[start:i])
                start = i + 1
                holds = checkpoint_holds(
                    _data(batch[i][DATA]),
                    seqs[i],
                    previous_checkpoint=previous_checkpoint,
                    hashes=since,
                    hashes_from=since_from,
                )
                if not holds:
                    count += i
                    prev = stored[i - 1] if i else prev
                    return failed(seqs[i], Reason.CHECKPOINT_MISMATCH)
                previous_checkpoint = seqs[i]
                since, since_from = [], seqs[i] + 1
            since.extend(stored[start:checked])
        else:
            since.extend(stored[:checked])
        if bad is not None:
            count += bad
            prev = stored[bad - 1] if bad else prev
            return failed(*_classify(batch[bad], expected + bad, prev, bad == hash_bad))
        count += n
        expected += n
        prev = stored[-1]
    if expected <= segment.last_seq:  # rows missing at the end of the segment
        return failed(expected, Reason.SEQUENCE_GAP)
    result = SegmentResult(segment.first_seq, segment.last_seq, segment.checkpoint, True, count)
    return result, prev or GENESIS_HASH


def _hash_batch(batch: Sequence[tuple[Any, ...]], hash_rows: HashRows) -> list[str | None]:
    try:
        return list(hash_rows(batch))
    except (TypeError, ValueError, UnicodeError, IndexError, AttributeError):
        # A value of an unexpected type or form somewhere in the batch: hash row by row and
        # leave the recheck to judge the rows that cannot be hashed this way.
        computed: list[str | None] = []
        for row in batch:
            try:
                computed.extend(hash_rows([row]))
            except (TypeError, ValueError, UnicodeError, IndexError, AttributeError):
                computed.append(None)
        return computed


def _data(text: object) -> object:
    try:
        return _loads(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _recheck(recheck: Recheck, seq: int, prev_hash: str) -> bool:
    try:
        return recheck(seq, prev_hash)
    except (TypeError, ValueError, KeyError):
        return False  # Django could not read the row back: it is not what was hashed


def _first_difference(a: Sequence[object], b: Sequence[object]) -> int:
    return next(i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y)


def _classify(
    row: tuple[Any, ...], expected: int, prev: str | None, hash_failed: bool
) -> tuple[int, Reason]:
    """The reason the row breaks the chain, in verify_chain's order: seq, link, hash."""
    seq = row[SEQ]
    if seq < expected:
        return seq, Reason.OUT_OF_ORDER
    if seq > expected:
        return expected, Reason.SEQUENCE_GAP
    if row[PREV] != prev:
        return seq, Reason.BROKEN_LINK
    assert hash_failed
    return seq, Reason.HASH_MISMATCH
