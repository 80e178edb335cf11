"""Write and verify the audit log.

Every writer calls ``record`` (or ``record_many``) inside its own ``transaction.atomic()``, in
the same transaction as the change the event describes: both commit, or neither does.
Appends are serialised so two transactions never chain onto the same head; the unique ``seq``
primary key is the backstop if a deployment ever loses that serialisation (the second writer
fails instead of forking the chain).
"""

from __future__ import annotations

import functools
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from signoff.audit.chain import (
    CHECKPOINT_ACTION,
    CHECKPOINT_ACTOR,
    GENESIS_HASH,
    HASHED_FIELDS,
    VerifyResult,
    canonical_json,
    checkpoint_data,
    event_hash,
)
from signoff.audit.errors import NotInTransaction
from signoff.audit.models import ActorKind, Event
from signoff.audit.registry import PACKAGE_GATE_APPROVED, require_registered
from signoff.audit.verification import checkpoint_interval, verify_log
from signoff.core.rows import insert_rows

# Fixed key for pg_advisory_xact_lock: every audit append in the cluster queues on it.
# (Arbitrary, but must never change while two versions of the app could run side by side.)
CHAIN_LOCK_KEY = 0x5349474E4F4646  # "SIGNOFF" in ASCII

# The keys each record_many() event may have: exactly record()'s keyword arguments.
_EVENT_KEYS = frozenset(
    {
        "action",
        "actor",
        "actor_kind",
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
    }
)
_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")
_REQUIRED_KEYS = frozenset({"action", "actor", "subject_type", "subject_id"})
_ACTOR_PREFIX = {ActorKind.AGENT: "agent:", ActorKind.SYSTEM: "system:"}
# JSON numbers at or above this are printed in exponent form by Python and read back from
# PostgreSQL jsonb as integers, which would change the hash; refuse them up front.
_FLOAT_LIMIT = 1e16


def record(
    *,
    action: str,
    actor: str,
    actor_kind: str = ActorKind.PERSON,
    subject_type: str,
    subject_id: str | int,
    workspace: str = "",
    from_position: str = "",
    to_position: str = "",
    content_hash: str = "",
    note: str = "",
    data: Mapping[str, Any] | None = None,
    correlation_id: uuid.UUID | str | None = None,
    sku: str | None = None,
    channel: str | None = None,
    gate: str | None = None,
) -> Event:
    """Append one event to the chain and return it.

    Must run inside the caller's ``transaction.atomic()``; raises NotInTransaction otherwise,
    UnknownAction for an unregistered action, ValueError/TypeError for malformed fields.
    ``sku``/``channel``/``gate`` default to the same keys in ``data``.
    """
    spec = {
        "action": action,
        "actor": actor,
        "actor_kind": actor_kind,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "workspace": workspace,
        "from_position": from_position,
        "to_position": to_position,
        "content_hash": content_hash,
        "note": note,
        "data": data,
        "correlation_id": correlation_id,
        "sku": sku,
        "channel": channel,
        "gate": gate,
    }
    return record_many([spec])[0]


def record_many(
    events: Sequence[Mapping[str, Any]],
    *,
    correlation_id: uuid.UUID | str | None = None,
) -> list[Event]:
    """Append many events in order with one lock, one head read and one bulk insert.

    Each mapping takes ``record``'s keyword arguments. Events without their own
    ``correlation_id`` share ``correlation_id`` (a new one if not given): one call is one user
    action. Same transaction rule and errors as ``record``; nothing is written if any event is
    invalid.
    """
    using = router.db_for_write(Event)
    connection = connections[using]
    _require_atomic(connection)
    if not events:
        return []
    shared = _as_uuid(correlation_id) if correlation_id is not None else uuid.uuid4()
    # Validate everything before taking the lock, so a bad event never holds up other writers.
    specs = [_normalise(event, shared) for event in events]

    _lock_chain(connection)
    seq, prev_hash = head(using=using)
    every = checkpoint_interval()
    last_checkpoint = _last_checkpoint(using) if every else 0
    logged = seq  # the last seq already in the table; later hashes are in this call's rows
    # Taken under the lock, so occurred_at follows seq as far as the wall clock allows.
    now = timezone.now()
    rows, recorded = [], []  # every row to insert; the caller's events among them
    for spec in specs:
        seq += 1
        fields = {**spec, "seq": seq, "occurred_at": now, "prev_hash": prev_hash}
        fields["hash"] = prev_hash = event_hash(fields, prev_hash)
        rows.append(fields)
        recorded.append(fields)
        if every and seq - last_checkpoint >= every:
            # The segment is full: close it with a checkpoint, the next link of the chain.
            first = max(last_checkpoint + 1, seq - every + 1)
            # rows holds seqs logged + 1 onwards, contiguous.
            in_call = rows[max(first, logged + 1) - (logged + 1) :]
            hashes = _hashes(first, logged, using) + [row["hash"] for row in in_call]
            seq += 1
            checkpoint = _checkpoint(seq, now, prev_hash, first, hashes)
            prev_hash = checkpoint["hash"]
            rows.append(checkpoint)
            last_checkpoint = seq
    # Plain rows, not Event.save()/bulk_create: a run appends thousands of events, and the
    # field types above are already the stored ones (the hash depends on that).
    insert_rows(Event, _COLUMNS, ([row[name] for name in _COLUMNS] for row in rows), using=using)
    return [_stored(row, using) for row in recorded]


def _last_checkpoint(using: str) -> int:
    # One step down the (action, seq) index, whatever the log's size.
    events = Event.objects.using(using).filter(action=CHECKPOINT_ACTION)
    return events.order_by("-seq").values_list("seq", flat=True).first() or 0


def _hashes(first: int, last: int, using: str) -> list[str]:
    if first > last:
        return []
    events = Event.objects.using(using).filter(seq__gte=first, seq__lte=last).order_by("seq")
    return list(events.values_list("hash", flat=True))


def _checkpoint(
    seq: int, now: Any, prev_hash: str, first: int, hashes: list[str]
) -> dict[str, Any]:
    """The checkpoint event at ``seq`` closing the events ``first`` onwards (``hashes``)."""
    data = checkpoint_data(first, hashes)
    fields: dict[str, Any] = {
        "seq": seq,
        "occurred_at": now,
        "actor": CHECKPOINT_ACTOR,
        "actor_kind": ActorKind.SYSTEM.value,
        "action": CHECKPOINT_ACTION,
        "subject_type": "audit_log",
        "subject_id": f"{data['first_seq']}-{data['last_seq']}",
        "workspace": "",
        "from_position": "",
        "to_position": "",
        "content_hash": "",
        "note": "",
        "data": data,
        "correlation_id": uuid.uuid4(),
        "sku": None,
        "channel": None,
        "gate": None,
        "prev_hash": prev_hash,
    }
    fields["hash"] = event_hash(fields, prev_hash)
    return fields


def _stored(fields: dict[str, Any], using: str) -> Event:
    event = Event(**fields)
    event._state.adding = False
    event._state.db = using
    return event


def head(*, using: str | None = None) -> tuple[int, str]:
    """Return the last event's ``(seq, hash)``, or ``(0, GENESIS_HASH)`` for an empty log.

    Export this off-box on a schedule; ``verify(expected_head=...)`` later proves the log still
    contains it unchanged.
    """
    queryset = Event.objects.using(using or router.db_for_read(Event))
    row = queryset.order_by("-seq").values_list("seq", "hash").first()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def verify(
    expected_head: tuple[int, str] | None = None,
    *,
    chunk_size: int = 5000,
    using: str | None = None,
    workers: int | None = None,
) -> VerifyResult:
    """Re-hash the whole log and report the first row that breaks the chain.

    Checks every row's seq, link and hash and every checkpoint, segment by segment (in
    parallel processes on a large log, ``workers`` of them), streaming rows in seq order so
    memory stays flat at any size; ``result.segments`` has each segment's first bad seq.
    See ``signoff.audit.verification``.
    """
    return verify_log(expected_head, using=using, workers=workers, chunk_size=chunk_size)


def _require_atomic(connection: BaseDatabaseWrapper) -> None:
    # The atomic blocks a test case opens around each test do not count (Django's own rule for
    # durable=True): otherwise a service that forgot its transaction would pass every test.
    if not any(not block._from_testcase for block in connection.atomic_blocks):
        raise NotInTransaction()


def _lock_chain(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "postgresql":
        # Held until the caller's transaction ends, so the head read below and the insert are
        # one step for every other appender. Needs READ COMMITTED (Django's default): each
        # statement after the lock sees the previous holder's committed rows.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    # SQLite: settings open every transaction with BEGIN IMMEDIATE, so this transaction has
    # held the only write lock since it began; there is nothing more to take.


def _normalise(event: Mapping[str, Any], shared_correlation: uuid.UUID) -> dict[str, Any]:
    """Turn caller input into exactly the values the database will hand back.

    The hash is computed before the insert and re-computed from what is read back, so every
    value must already have its stored type: ``"42"`` not ``42``, ``None`` not ``""``.
    """
    unknown = set(event) - _EVENT_KEYS
    if unknown:
        raise TypeError(f"unknown audit event keys: {', '.join(sorted(unknown))}")
    missing = _REQUIRED_KEYS - {k for k, v in event.items() if v not in (None, "")}
    if missing:
        raise ValueError(f"audit event needs {', '.join(sorted(missing))}")

    action = event["action"]
    require_registered(action)
    if action == CHECKPOINT_ACTION:
        # Its data must describe the segment it closes; only record_many knows that.
        raise ValueError(f"{action} events are written by the audit log itself")
    actor_kind = ActorKind(event.get("actor_kind") or ActorKind.PERSON)
    actor = _text("actor", event["actor"])
    _check_actor(actor, actor_kind)
    subject_id = event["subject_id"]
    if isinstance(subject_id, int) and not isinstance(subject_id, bool):
        subject_id = str(subject_id)
    data = _normalise_data(event.get("data"))

    values: dict[str, Any] = {
        "action": action,
        "actor": actor,
        "actor_kind": actor_kind.value,
        "subject_type": _text("subject_type", event["subject_type"]),
        "subject_id": _text("subject_id", subject_id),
        "data": data,
        "correlation_id": _as_uuid(event.get("correlation_id") or shared_correlation),
    }
    for name in ("workspace", "from_position", "to_position", "content_hash", "note"):
        values[name] = _text(name, event.get(name) or "")
    for name in ("sku", "channel", "gate"):
        values[name] = _indexed(name, event.get(name), data)
    if action == PACKAGE_GATE_APPROVED:
        absent = [name for name in ("sku", "channel", "gate") if values[name] is None]
        if absent:
            # who_approved() finds approvals by these columns; without them it never would.
            raise ValueError(f"{action} needs {', '.join(absent)}")
    return values


@functools.cache
def _max_length(name: str) -> int | None:
    return Event._meta.get_field(name).max_length


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"audit field {name} must be a string, not {type(value).__name__}")
    limit = _max_length(name)
    # SQLite does not enforce max_length; checking here makes both backends fail alike.
    if limit is not None and len(value) > limit:
        raise ValueError(f"audit field {name} is longer than {limit} characters")
    return value


def _indexed(name: str, value: object, data: Mapping[str, Any]) -> str | None:
    from_data = data.get(name)
    if value in (None, ""):
        value = from_data
    elif from_data not in (None, "") and str(from_data) != value:
        raise ValueError(f"audit field {name}={value!r} disagrees with data[{name!r}]")
    if value in (None, ""):
        return None
    return _text(name, value)


def _check_actor(actor: str, kind: ActorKind) -> None:
    # Principle 2: a system or agent actor is named as such, and never passes as a person.
    prefix = _ACTOR_PREFIX.get(kind)
    if prefix is not None:
        if not actor.startswith(prefix) or actor == prefix:
            raise ValueError(f"{kind.value} actor must be named '{prefix}<name>', got {actor!r}")
    elif actor.startswith(tuple(_ACTOR_PREFIX.values())):
        raise ValueError(f"actor {actor!r} is not a person; pass actor_kind to say what it is")


def _normalise_data(data: Mapping[str, Any] | None) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise TypeError(f"audit data must be a mapping, not {type(data).__name__}")
    _check_values(data)
    # A JSON round trip gives what the JSONField returns: lists for tuples, ISO strings for
    # datetimes and UUIDs.
    return json.loads(canonical_json(dict(data)))


def _check_values(value: object) -> None:
    if isinstance(value, float) and abs(value) >= _FLOAT_LIMIT:
        raise ValueError(f"audit data number {value!r} is too large to store exactly; use a str")
    if isinstance(value, float) and value == 0 and math.copysign(1.0, value) < 0:
        # PostgreSQL's jsonb reads -0.0 back as 0.0, which would change the hash.
        raise ValueError("audit data number -0.0 cannot be stored exactly; use 0.0")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                # JSON would turn 1 into "1" and could merge it with an existing "1" key.
                raise TypeError(f"audit data keys must be strings, got {key!r}")
            _check_values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_values(item)


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
