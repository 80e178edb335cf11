"""The worker's side of the outbox: claim due deliveries, turn them into documents, send them
through their connectors, and record what came of each (``signoff.outbox.rules`` decides).

Everything here but :func:`send` touches the database, and :func:`send` touches nothing else:
the worker runs it on its sending threads.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from signoff.audit.services import record_many
from signoff.core.rows import insert_rows
from signoff.outbox.connectors import (
    CONNECTORS,
    PUBLISH,
    TAKEDOWN,
    Connector,
    DeliveryDocument,
    connector_for,
)
from signoff.outbox.destinations import Destination, DestinationError, destinations_of
from signoff.outbox.documents import body_of, channel_feed, takedown_document
from signoff.outbox.models import Attempt, Delivery
from signoff.outbox.rules import SENDABLE, DeliveryState, Policy, SendResult, next_step
from signoff.workspaces.models import Workspace

logger = logging.getLogger(__name__)

OUTBOX_ACTOR = "system:outbox"
RETRY = "retry"  # an attempt's outcome when another attempt is scheduled
FEED_CLAIM = 100_000  # deliveries one feed may carry at once


def policy() -> Policy:
    """Return the retry policy from settings (``SIGNOFF_DELIVERY_*``)."""
    return Policy(
        max_attempts=settings.SIGNOFF_DELIVERY_MAX_ATTEMPTS,
        backoff_base=settings.SIGNOFF_DELIVERY_BACKOFF_BASE,
        backoff_cap=settings.SIGNOFF_DELIVERY_BACKOFF_CAP,
        retry_after_max=settings.SIGNOFF_DELIVERY_RETRY_AFTER_MAX,
    )


# --- claiming -----------------------------------------------------------------------------------


def _due(now: datetime) -> Q:
    return Q(state__in=[str(s) for s in SENDABLE], next_attempt_at__lte=now) & (
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )


def lease_seconds() -> float:
    """How long a claim holds: the setting, and at least what a claimed delivery can take
    before its answer is recorded (waiting for a free thread, up to one timeout; its own
    send, up to another; then the record), or a second worker would send it while the first
    still waits for an answer (harmless with the same key, but wasted)."""
    return max(settings.SIGNOFF_DELIVERY_LEASE_SECONDS, 3 * settings.SIGNOFF_DELIVERY_TIMEOUT + 5)


def claim(
    *, worker: str, limit: int, ids: Collection[int] | None = None, where: Q | None = None
) -> list[Delivery]:
    """Lease up to ``limit`` due deliveries (of ``ids``, matching ``where``, if given) to
    ``worker`` and return them.

    PostgreSQL skips rows another worker holds locked (``FOR UPDATE SKIP LOCKED``); SQLite,
    where ``select_for_update`` does nothing, relies on the conditional update alone: a row is
    leased only if it is still due and unleased when the update runs, so two workers never
    both get it. A row whose earlier lease ran out (its worker died mid-send) gets an
    ``interrupted`` attempt on record, then is sent again with the same key.
    """
    now = timezone.now()
    token = f"{worker}:{uuid.uuid4().hex[:12]}"
    with transaction.atomic():
        candidates = Delivery.objects.filter(_due(now))
        if ids is not None:
            candidates = candidates.filter(pk__in=list(ids))
        if where is not None:
            candidates = candidates.filter(where)
        candidates = candidates.order_by("next_attempt_at", "id")
        if connection.vendor == "postgresql":
            candidates = candidates.select_for_update(skip_locked=True)
        found = {
            pk: (owner, attempts, state)
            for pk, owner, attempts, state in candidates.values_list(
                "pk", "lease_owner", "attempts", "state"
            )[:limit]
        }
        if not found:
            return []
        given_up = _give_up_interrupted(found, now)
        found = {pk: held for pk, held in found.items() if pk not in given_up}
        Delivery.objects.filter(_due(now), pk__in=list(found)).update(
            lease_owner=token,
            lease_until=now + timedelta(seconds=lease_seconds()),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
        claimed = list(Delivery.objects.filter(lease_owner=token).select_related("brief"))
        interrupted = [
            Attempt(
                delivery_id=row.pk,
                number=found[row.pk][1],
                action=TAKEDOWN if found[row.pk][2] == DeliveryState.NEEDS_TAKEDOWN else PUBLISH,
                outcome="interrupted",
                error="the worker stopped before recording an answer (it may have sent it); "
                "sent again with the same idempotency key",
                worker=found[row.pk][0].partition(":")[0],
                started_at=now,
            )
            for row in claimed
            if found[row.pk][0]
        ]
        Attempt.objects.bulk_create(interrupted)
    return claimed


def _give_up_interrupted(found: dict[int, tuple[str, int, str]], now: datetime) -> set[int]:
    """Of the claimable rows (pk -> earlier lease owner, attempts, state), end those whose
    last attempt was interrupted and that have no attempt left: a delivery that takes its
    worker down with it (a huge feed, a connector bug) would otherwise be sent again forever.
    It becomes dead (a takedown stays one, unscheduled), for a person to retry."""
    limit = policy().max_attempts
    ending = {pk: held for pk, held in found.items() if held[0] and held[1] >= limit}
    if not ending:
        return set()
    said = (
        f"the worker stopped before recording an answer {limit} times: given up (it may be "
        "what stops the worker); retry it once the cause is fixed"
    )
    rows = list(Delivery.objects.filter(pk__in=list(ending)))
    events = []
    for row in rows:
        takedown = row.state == DeliveryState.NEEDS_TAKEDOWN
        Delivery.objects.filter(pk=row.pk).update(
            state=row.state if takedown else DeliveryState.DEAD,
            next_attempt_at=None,
            last_error=said,
            lease_owner="",
            lease_until=None,
            updated_at=now,
        )
        row.state = row.state if takedown else DeliveryState.DEAD
        row.last_error = said
        event = _event(row, ending[row.pk][2], str(DeliveryState.DEAD), SendResult(False))
        if event is not None and not takedown:
            events.append(event)
    Attempt.objects.bulk_create(
        Attempt(
            delivery_id=pk,
            number=attempts,
            action=TAKEDOWN if state == DeliveryState.NEEDS_TAKEDOWN else PUBLISH,
            outcome="interrupted",
            error=said,
            worker=owner.partition(":")[0],
            started_at=now,
        )
        for pk, (owner, attempts, state) in ending.items()
    )
    if events:
        record_many(events)
    return set(ending)


# --- what to send -------------------------------------------------------------------------------


@dataclass
class Job:
    """One send: a document for one delivery, or one feed for several (a batching kind)."""

    rows: list[Delivery]
    document: DeliveryDocument | None = None
    connector: Connector | None = None
    result: SendResult | None = None  # known without sending (a misconfiguration)
    started_at: datetime | None = None  # when it was handed to a sender
    left_out: dict[int, str] = field(default_factory=dict)  # delivery id -> why (feed problem)


def prepare(rows: Iterable[Delivery], *, worker: str) -> list[Job]:
    """Turn claimed deliveries into jobs: one per delivery, or one per feed for a kind that
    batches (carrying every due delivery of the brief's channel to that destination, which
    ``worker`` claims too: one feed written, not one per claim)."""
    workspaces: dict[int, dict[str, Destination]] = {}
    jobs: list[Job] = []
    groups: dict[tuple[int, str, str], list[Delivery]] = defaultdict(list)
    for row in rows:
        by_name = workspaces.get(row.brief.workspace_id)
        if by_name is None:
            workspace = Workspace.objects.get(pk=row.brief.workspace_id)
            by_name = workspaces[row.brief.workspace_id] = {
                d.name: d for d in destinations_of(workspace.destinations)
            }
        destination = by_name.get(row.destination)
        if destination is None or destination.kind not in CONNECTORS:
            said = (
                f"destination {row.destination!r} is no longer in the workspace file"
                if destination is None
                else f"no connector for kind {destination.kind!r}"
            )
            jobs.append(Job([row], result=SendResult(False, error=said, transient=False)))
            continue
        connector = connector_for(destination, timeout=settings.SIGNOFF_DELIVERY_TIMEOUT)
        if connector.batches:
            groups[(row.brief_id, row.channel, row.destination)].append(row)
            continue
        document = row.document
        action = PUBLISH
        if row.state == DeliveryState.NEEDS_TAKEDOWN:
            document = takedown_document(document, row.takedown_reason)
            action = TAKEDOWN
        jobs.append(
            Job(
                [row],
                DeliveryDocument(
                    destination,
                    row.idempotency_key + (".takedown" if action == TAKEDOWN else ""),
                    body_of(document),
                    action=action,
                    receiver_id=row.receiver_id if action == TAKEDOWN else "",
                ),
                connector,
            )
        )
    for (brief_id, channel, name), group in groups.items():
        more = Q(brief_id=brief_id, channel=channel, destination=name)
        group += claim(worker=worker, limit=FEED_CLAIM, where=more)
        jobs.append(_feed_job(group, channel, workspaces[group[0].brief.workspace_id][name]))
    return jobs


def _feed_job(rows: list[Delivery], channel: str, destination: Destination) -> Job:
    brief = rows[0].brief
    live = Delivery.objects.filter(
        brief=brief, channel=channel, destination=destination.name
    ).exclude(state__in=[DeliveryState.NEEDS_TAKEDOWN, DeliveryState.TAKEN_DOWN])
    documents = dict(live.values_list("package_id", "document"))
    try:
        feed = channel_feed(brief, channel, destination, documents)
    except DestinationError as exc:
        return Job(rows, result=SendResult(False, error=str(exc), transient=False))
    left_out = {
        row.pk: feed.problems[row.package_id]
        for row in rows
        if row.package_id in feed.problems and row.state == DeliveryState.PENDING
    }
    document = DeliveryDocument(
        destination,
        rows[0].idempotency_key,
        feed.content,
        media_type=feed.media_type,
        filename=feed.filename,
        attachments=feed.attachments,
    )
    return Job(rows, document, connector_for(destination, timeout=0), left_out=left_out)


def release(rows: Iterable[Delivery]) -> None:
    """Give back claimed deliveries that were never sent (a worker stopping): due again at
    once, for any worker, and the attempt their claim counted is not counted."""
    with transaction.atomic():
        for row in rows:
            Delivery.objects.filter(pk=row.pk, lease_owner=row.lease_owner).update(
                lease_owner="", lease_until=None, attempts=F("attempts") - 1
            )


def send(job: Job) -> SendResult:
    """Send one job (no database): what the worker's threads run."""
    job.started_at = timezone.now()  # when a thread took it, not when it was queued
    if job.result is not None:
        return job.result
    assert job.connector is not None
    assert job.document is not None
    try:
        return job.connector.send(job.document)
    except Exception as exc:  # a connector bug must not lose the row: it is retried, visibly
        logger.exception("connector %s failed", type(job.connector).__name__)
        return SendResult(False, error=f"connector error: {type(exc).__name__}: {exc}")


# --- recording ----------------------------------------------------------------------------------


_ATTEMPT_COLUMNS = (
    "delivery_id",
    "number",
    "action",
    "outcome",
    "status",
    "error",
    "receiver_id",
    "worker",
    "started_at",
    "finished_at",
)
# What recording an answer changes on a delivery.
_RECORDED = (
    "state",
    "next_attempt_at",
    "last_error",
    "last_status",
    "receiver_id",
    "delivered_at",
    "lease_owner",
    "lease_until",
    "updated_at",
)


def record(
    outcomes: Iterable[tuple[Job, SendResult]],
    *,
    worker: str,
    rng: random.Random | None = None,
) -> dict[str, int]:
    """Store what each job came to, with an attempt row per delivery and the audit events, in
    one transaction; return how many attempts came to each outcome.

    A row is changed only while this worker's lease still holds it: if the lease ran out and
    another worker took the row, or a takedown took it back, that one's outcome is kept.
    """
    rules = policy()
    counts: dict[str, int] = defaultdict(int)
    now = timezone.now()
    answered = []
    for job, result in outcomes:
        for row in job.rows:
            own = result
            if row.pk in job.left_out:  # the feed could not carry it: final, like a 4xx
                own = SendResult(False, error=job.left_out[row.pk], transient=False)
            answered.append((job, row, own))
    with transaction.atomic():
        current = Delivery.objects.filter(pk__in=[row.pk for _, row, _ in answered])
        if connection.vendor == "postgresql":
            current = current.select_for_update()
        now_held = {
            pk: (owner, state, reason)
            for pk, owner, state, reason in current.values_list(
                "pk", "lease_owner", "state", "takedown_reason"
            )
        }
        changed, attempts, events = [], [], []
        for job, row, result in answered:
            owner, state, reason = now_held.get(row.pk, ("", "", ""))
            if owner != row.lease_owner:
                logger.warning("delivery %s: lease lost before recording; not changed", row.pk)
                continue
            claimed = row.state
            outcome = _apply(row, result, rules, now, rng)
            if state == DeliveryState.NEEDS_TAKEDOWN and claimed != state:
                _hand_to_takedown(row, reason, now)
            changed.append(row)
            counts[outcome] += 1
            attempts.append(
                (
                    row.pk,
                    row.attempts,
                    TAKEDOWN if claimed == DeliveryState.NEEDS_TAKEDOWN else PUBLISH,
                    outcome,
                    result.status,
                    "" if result.ok else row.last_error,
                    result.receiver_id,
                    worker,
                    job.started_at or now,
                    now,
                )
            )
            event = _event(row, claimed, outcome, result)
            if event:
                events.append(event)
        _save_recorded(changed)
        insert_rows(Attempt, _ATTEMPT_COLUMNS, attempts)
        if events:
            record_many(events)
    return dict(counts)


def _save_recorded(rows: list[Delivery]) -> None:
    """Write the recorded fields of many rows with one prepared UPDATE (``bulk_update`` builds
    a CASE expression per field and row in Python: slower than the sends it records)."""
    if not rows:
        return
    fields = [Delivery._meta.get_field(name) for name in _RECORDED]
    convert = [
        (lambda value, f=f: f.get_db_prep_save(value, connection))
        if isinstance(f, models.DateTimeField)
        else None
        for f in fields
    ]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(Delivery._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"
    params = []
    for row in rows:
        values = [getattr(row, f.attname) for f in fields]
        values = [c(v) if c and v is not None else v for c, v in zip(convert, values, strict=True)]
        params.append([str(values[0]), *values[1:], row.pk])  # the state as its plain value
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _apply(
    row: Delivery, result: SendResult, rules: Policy, now: datetime, rng: random.Random | None
) -> str:
    """Apply one answer to a claimed row (not saved); return what the attempt came to:
    delivered, taken_down, retry, failed or dead."""
    step = next_step(result, attempts=row.attempts, policy=rules, now=now, rng=rng)
    takedown = row.state == DeliveryState.NEEDS_TAKEDOWN
    row.lease_owner, row.lease_until = "", None
    row.last_status, row.updated_at = result.status, now
    if step.state == DeliveryState.DELIVERED:
        row.state = DeliveryState.TAKEN_DOWN if takedown else DeliveryState.DELIVERED
        row.next_attempt_at, row.last_error = None, ""
        if not takedown:
            row.receiver_id, row.delivered_at = result.receiver_id, now
        return str(row.state)
    row.last_error = step.reason
    if step.state == DeliveryState.PENDING:  # a takedown stays one until it goes through
        row.next_attempt_at = now + timedelta(seconds=step.delay or 0.0)
        return RETRY
    # A takedown that cannot go through stays visible as one, with no attempt scheduled.
    row.state = DeliveryState.NEEDS_TAKEDOWN if takedown else step.state
    row.next_attempt_at = None
    return str(step.state)


def _hand_to_takedown(row: Delivery, reason: str, now: datetime) -> None:
    """A claim was withdrawn while this publish was in flight: whatever its answer, what it
    may have put live must come down, so the row (with the receiver's id, if it landed) goes
    to its takedown now instead of resting as delivered or failed."""
    connector = CONNECTORS.get(row.kind)
    row.state = DeliveryState.NEEDS_TAKEDOWN
    row.takedown_reason = row.last_error = reason
    row.next_attempt_at = now if connector is not None and connector.takes_down else None


_EVENTS = {
    str(DeliveryState.DELIVERED): "delivery.delivered",
    str(DeliveryState.DEAD): "delivery.dead",
    str(DeliveryState.FAILED): "delivery.failed",
    str(DeliveryState.TAKEN_DOWN): "delivery.taken_down",
}


def _event(row: Delivery, claimed: str, state: str, result: SendResult) -> dict[str, Any] | None:
    action = _EVENTS.get(state)
    if action is None:
        return None
    document = row.document
    return {
        "action": action,
        "actor": OUTBOX_ACTOR,
        "actor_kind": "system",
        "subject_type": "delivery",
        "subject_id": str(row.pk),
        "workspace": document.get("workspace", ""),
        "content_hash": document.get("content_hash", ""),
        "sku": document.get("sku"),
        "channel": row.channel,
        "data": {
            "package": row.package_id,
            "version": document.get("version"),
            "destination": row.destination,
            "kind": row.kind,
            "idempotency_key": row.idempotency_key,
            "attempts": row.attempts,
            "status": result.status,
            "receiver_id": result.receiver_id if state == DeliveryState.DELIVERED else "",
            "error": "" if result.ok else row.last_error,
            "action": TAKEDOWN if claimed == DeliveryState.NEEDS_TAKEDOWN else PUBLISH,
        },
    }


def next_due(ids: Collection[int] | None = None) -> datetime | None:
    """Return when the next delivery (of ``ids``) falls due, a lease running out counting;
    None when nothing is left to send."""
    rows = Delivery.objects.filter(
        state__in=[str(s) for s in SENDABLE], next_attempt_at__isnull=False
    )
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    row = rows.order_by("next_attempt_at").values_list("next_attempt_at", "lease_until").first()
    if row is None:
        return None
    return max(row[0], row[1]) if row[1] else row[0]
