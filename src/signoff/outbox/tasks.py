"""Background delivery. Tasks take ids, never model instances."""

from __future__ import annotations

from django_tasks import task

from signoff.outbox.worker import work


@task()
def deliver(delivery_ids: list[int]) -> dict:
    """Send the deliveries that are due among ``delivery_ids`` once each; what needs another
    attempt later is left to `signoff worker`, which sends whatever falls due."""
    return work(ids=delivery_ids, batch=True).as_dict()
