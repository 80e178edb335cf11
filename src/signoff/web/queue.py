"""A person's review queue on one brief: what waits on a gate they own, in board order.

After a decision the package page moves on to the next package here, and ``j``/``k`` walk it
(``static/web/review.js``). One query per call, whatever the brief's size.
"""

from __future__ import annotations

from dataclasses import dataclass

from signoff.briefs.workflow import template_for
from signoff.packages.models import Package
from signoff.web.pages import waiting_on_roles
from signoff.workspaces.models import Person


@dataclass(frozen=True)
class QueuePlace:
    """Where a package sits in the person's queue (its neighbours by id, wrapping at the end)."""

    previous: int | None
    next: int | None
    position: int  # 1-based, 0 when the package itself no longer waits on the person
    total: int


def queue_ids(package: Package, person: Person) -> list[int]:
    """The ids of the brief's packages waiting on a gate one of ``person``'s roles owns."""
    template = template_for(package.brief)
    waiting = Package.objects.filter(brief_id=package.brief_id).filter(
        waiting_on_roles(template, person.roles)
    )
    return list(waiting.order_by("id").values_list("id", flat=True))


def place(package: Package, person: Person) -> QueuePlace:
    """Return the package's neighbours in the person's queue (it need not be in it)."""
    ids = queue_ids(package, person)
    others = [i for i in ids if i != package.pk]
    if not others:
        return QueuePlace(None, None, 1 if package.pk in ids else 0, len(ids))
    later = [i for i in others if i > package.pk]
    earlier = [i for i in others if i < package.pk]
    return QueuePlace(
        previous=earlier[-1] if earlier else others[-1],
        next=later[0] if later else others[0],
        position=ids.index(package.pk) + 1 if package.pk in ids else 0,
        total=len(ids),
    )
