"""Reads of the outbox: a brief's deliveries as the CLI, the API and the matrix show them."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from signoff.briefs.models import Brief
from signoff.core.errors import InputError
from signoff.outbox.models import Attempt, Delivery

STATES = tuple(Delivery.State.values)


def deliveries_of(
    brief: Brief,
    *,
    state: str | None = None,
    channel: str | None = None,
    with_attempts: bool = False,
) -> list[dict[str, Any]]:
    """Return the brief's deliveries, by package then destination, as plain data; each with
    its attempts (every failure with its reason) if asked."""
    if state is not None and state not in STATES:
        raise InputError.single(
            f"unknown delivery state {state!r}; expected one of {', '.join(STATES)}",
            field="state",
        )
    rows = Delivery.objects.filter(brief=brief).order_by("package_id", "destination")
    if state is not None:
        rows = rows.filter(state=state)
    if channel is not None:
        rows = rows.filter(channel=channel)
    rows = list(rows.select_related("package"))
    tries: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if with_attempts and rows:
        for attempt in Attempt.objects.filter(delivery__in=[r.pk for r in rows]):
            tries[attempt.delivery_id].append(
                {
                    "number": attempt.number,
                    "action": attempt.action,
                    "outcome": attempt.outcome,
                    "status": attempt.status,
                    "error": attempt.error,
                    "receiver_id": attempt.receiver_id,
                    "at": attempt.finished_at or attempt.started_at,
                }
            )
    return [_row(row, tries.get(row.pk) if with_attempts else None) for row in rows]


def _row(row: Delivery, attempts: list[dict[str, Any]] | None) -> dict[str, Any]:
    out = {
        "id": row.pk,
        "package": row.package_id,
        "sku": row.package.sku,
        "channel": row.channel,
        "market": row.package.market,
        "variant": row.package.variant,
        "version": row.document.get("version"),
        "content_hash": row.document.get("content_hash", ""),
        "destination": row.destination,
        "kind": row.kind,
        "state": row.state,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "receiver_id": row.receiver_id,
        "delivered_at": row.delivered_at,
        "idempotency_key": row.idempotency_key,
    }
    if attempts is not None:
        out["history"] = attempts
    return out


def matrix_deliveries(brief: Brief) -> dict[str, Any]:
    """Return, for the approval matrix, each package's deliveries and each channel's counts."""
    by_package: dict[int, list[Delivery]] = defaultdict(list)
    by_channel: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    rows = (
        Delivery.objects.filter(brief=brief)
        .order_by("destination")
        .only(
            "id",
            "package_id",
            "channel",
            "destination",
            "kind",
            "state",
            "attempts",
            "last_error",
            "receiver_id",
            "next_attempt_at",
        )
    )
    for row in rows:
        by_package[row.package_id].append(row)
        by_channel[row.channel][row.destination][row.state] += 1
    channels = {
        channel: [
            {"destination": name, "counts": sorted(counts.items())}
            for name, counts in sorted(destinations.items())
        ]
        for channel, destinations in by_channel.items()
    }
    return {"by_package": dict(by_package), "by_channel": channels}
