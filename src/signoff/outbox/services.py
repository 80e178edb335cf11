"""The outbox's state changes made for people and launches, each in one transaction with its
audit events (the worker's own, claiming and recording, are in ``signoff.outbox.sending``).

* :func:`enqueue_launch` writes one delivery per package and destination, inside the launch's
  transaction: the publish and the promise to deliver commit together, or neither does.
* :func:`retry_deliveries` is a person sending failed or dead deliveries again.
* :func:`mark_for_takedown` runs inside a claim's status change (``packages.claims``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from signoff.audit.services import record_many
from signoff.briefs.models import Brief, Product
from signoff.briefs.workflow import template_for
from signoff.core.errors import InputError, NotFound, Problem
from signoff.outbox.connectors import CONNECTORS, serves
from signoff.outbox.destinations import Destination, destination_problems
from signoff.outbox.documents import (
    api_requests,
    idempotency_key,
    package_document,
    product_image_urls,
    with_request,
)
from signoff.outbox.models import Delivery
from signoff.outbox.rules import RETRYABLE_BY_PERSON, DeliveryState
from signoff.packages.models import Package
from signoff.workflow import AuthorityError, ErrorCode, StateError
from signoff.workspaces.models import Person, Workspace

logger = logging.getLogger(__name__)

TASK_CHUNK = 500  # delivery ids per background task


# --- destinations -----------------------------------------------------------------------------


def ensure_destinations_usable(workspace: Workspace, channel: str) -> list[Destination]:
    """Return the channel's destinations, or refuse (InputError, each problem located in the
    workspace file) when one cannot be used from here now: its secret's variable is gone, its
    folder cannot be written, its kind has no connector."""
    entries = [e for e in workspace.destinations if e.get("channel") == channel]
    indexes = [i for i, e in enumerate(workspace.destinations) if e.get("channel") == channel]
    problems = [
        Problem(
            f"destination {entries[loc[1]].get('name')!r}: {message}; nothing was published",
            field=".".join(str(p) for p in ("destinations", indexes[loc[1]], *loc[2:])),
        )
        for loc, message in destination_problems(entries)
    ]
    problems += [
        Problem(
            f"destination {entry.get('name')!r}: no connector for kind {entry.get('kind')!r} "
            "here; nothing was published",
            field=f"destinations.{index}.kind",
        )
        for index, entry in zip(indexes, entries, strict=True)
        if entry.get("kind") not in CONNECTORS
    ]
    if problems:
        raise InputError(problems)
    return [Destination.from_entry(entry) for entry in entries]


# --- at launch ----------------------------------------------------------------------------------


def enqueue_launch(
    *,
    brief: Brief,
    channel: str,
    packages: Sequence[Package],
    approvals: Sequence[list[dict[str, Any]]],
    published_at: datetime,
    manifest_hash: str,
) -> list[int]:
    """Write one pending delivery per package and destination of the channel (that serves the
    package's market); return their ids.

    Call inside the launch's transaction, after the packages are published: the rows commit
    with the publish or not at all. ``approvals`` are each package's approvals as the manifest
    lists them. The worker is asked to start once the transaction commits; if that request is
    lost, ``signoff worker`` finds the rows anyway (they are the outbox).
    """
    # As the workspace stands now (its file may have been loaded since ``brief`` was read).
    workspace = Workspace.objects.get(pk=brief.workspace_id)
    destinations = ensure_destinations_usable(workspace, channel)
    if not destinations:
        return []
    products = {
        (p.brief_version_id, p.sku): product_image_urls(p, workspace)
        for p in Product.objects.filter(
            brief_version__in={p.current_version.brief_version_id for p in packages}
        )
    }
    requests = api_requests(brief, channel, [p.pk for p in packages], destinations)
    now = timezone.now()
    rows = []
    for package, package_approvals in zip(packages, approvals, strict=True):
        version = package.current_version
        for destination in destinations:
            if not serves(destination, package.market):
                continue  # a package of another market (an Amazon marketplace of its own)
            key = idempotency_key(workspace.slug, destination.name, package.pk, version)
            document = package_document(
                package=package,
                version=version,
                destination=destination,
                key=key,
                approvals=package_approvals,
                published_at=published_at,
                manifest_hash=manifest_hash,
                product_images=products.get((version.brief_version_id, package.sku), ()),
            )
            document = with_request(document, requests.get(destination.name))
            rows.append(
                Delivery(
                    brief=brief,
                    package=package,
                    version=version,
                    channel=channel,
                    destination=destination.name,
                    kind=destination.kind,
                    idempotency_key=key,
                    document=document,
                    next_attempt_at=now,
                )
            )
    ids = [row.pk for row in Delivery.objects.bulk_create(rows, batch_size=500)]
    transaction.on_commit(lambda: _start_worker(ids))
    return ids


def _start_worker(ids: list[int]) -> None:
    from signoff.outbox.tasks import deliver

    try:
        for start in range(0, len(ids), TASK_CHUNK):
            deliver.enqueue(ids[start : start + TASK_CHUNK])
    except Exception:  # the rows are committed: `signoff worker` sends them anyway
        logger.exception("deliveries %s.. not queued; the worker's sweep sends them", ids[:3])


# --- people -------------------------------------------------------------------------------------


def retry_deliveries(
    *, person: Person, ids: Collection[int] = (), dead: bool = False, brief: Brief | None = None
) -> list[int]:
    """Send failed, dead or stuck takedown deliveries again, from a fresh count of attempts,
    with the same idempotency key; return their ids.

    ``ids`` names them (all in the person's workspace, each failed, dead or a stuck takedown:
    NotFound or StateError otherwise); ``dead`` takes every dead one (of ``brief``). Only a
    person who may publish the brief may send its deliveries again (AuthorityError).
    """
    if not ids and not dead:
        raise InputError(
            [Problem("name the deliveries to retry, or ask for the dead ones", field="ids")]
        )
    with transaction.atomic():
        person = Person.objects.select_related("workspace").get(pk=person.pk)
        rows = Delivery.objects.select_for_update(of=("self",)).select_related("brief")
        rows = rows.filter(brief__workspace=person.workspace).order_by("id")
        if ids:
            rows = list(rows.filter(pk__in=list(ids)))
            missing = sorted(set(ids) - {r.pk for r in rows})
            if missing:
                raise NotFound(
                    f"no deliveries {', '.join(map(str, missing))} in {person.workspace.slug}"
                )
        else:
            rows = rows.filter(state=DeliveryState.DEAD)
            rows = list(rows.filter(brief=brief) if brief is not None else rows)
        stuck = [r for r in rows if not _retryable(r)]
        if stuck:
            listed = ", ".join(f"{r.pk} ({r.state})" for r in stuck[:10])
            raise StateError(
                ErrorCode.INVALID_STATE,
                f"only failed, dead or stuck takedown deliveries can be retried: {listed}",
            )
        for brief_obj in {r.brief_id: r.brief for r in rows}.values():
            _ensure_may_retry(person, brief_obj)
        now = timezone.now()
        for row in rows:
            state = row.state if row.state == DeliveryState.NEEDS_TAKEDOWN else "pending"
            Delivery.objects.filter(pk=row.pk).update(
                state=state,
                attempts=0,
                next_attempt_at=now,
                lease_owner="",
                lease_until=None,
                updated_at=now,
            )
        record_many(
            [
                {
                    "action": "delivery.retried",
                    "actor": person.email,
                    "subject_type": "delivery",
                    "subject_id": str(row.pk),
                    "workspace": person.workspace.slug,
                    "content_hash": row.document.get("content_hash", ""),
                    "sku": row.document.get("sku"),
                    "channel": row.channel,
                    "data": {
                        "package": row.package_id,
                        "destination": row.destination,
                        "was": row.state,
                        "last_error": row.last_error,
                    },
                }
                for row in rows
            ]
        )
    if rows:
        transaction.on_commit(lambda: _start_worker([r.pk for r in rows]))
    return [r.pk for r in rows]


def _retryable(row: Delivery) -> bool:
    if row.state == DeliveryState.NEEDS_TAKEDOWN:
        return row.next_attempt_at is None  # it gave up; one still scheduled needs no push
    return row.state in RETRYABLE_BY_PERSON


def _ensure_may_retry(person: Person, brief: Brief) -> None:
    publishers = template_for(brief).publisher_roles
    if not {r.value for r in publishers} & set(person.roles):
        raise AuthorityError(
            ErrorCode.WRONG_ROLE,
            f"{person.email} may not send {brief.slug}'s deliveries again: a publisher must "
            f"({', '.join(sorted(r.value for r in publishers))})",
            required_roles=publishers,
        )


def mark_for_takedown(workspace: Workspace, claim_id: str, status: str) -> dict[str, Any]:
    """Inside a claim's status change: when the claim may no longer be used, mark every
    delivery whose package makes it (published, so past blocking) ``needs_takedown``, and
    schedule the takedown where the connector can do it. Return facts for the claim's event."""
    from signoff.packages.claims import USABLE, packages_using

    if status in USABLE:
        return {}
    published = packages_using(workspace, claim_id, published=True)
    rows = Delivery.objects.filter(package__in=published).exclude(
        state__in=[DeliveryState.NEEDS_TAKEDOWN, DeliveryState.TAKEN_DOWN]
    )
    now = timezone.now()
    marked = []
    for row in rows.select_for_update(of=("self",)).order_by("id"):
        connector = CONNECTORS.get(row.kind)
        reason = f"claim {claim_id!r} is now {status}: it must come down"
        Delivery.objects.filter(pk=row.pk).update(
            state=DeliveryState.NEEDS_TAKEDOWN,
            attempts=0,
            next_attempt_at=now if connector is not None and connector.takes_down else None,
            takedown_reason=reason,
            last_error=reason,
            # A publish in flight keeps its lease: the takedown waits for its answer (which
            # hands the row over, receiver id and all), or for the lease to run out.
            updated_at=now,
        )
        marked.append(row.pk)
    if marked:
        transaction.on_commit(lambda: _start_worker(marked))
    return {"takedown": marked} if marked else {}
