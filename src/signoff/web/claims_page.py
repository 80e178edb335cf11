"""The claims registry for compliance: every claim, its status, the packages it touches, and
its last status change. Reads only; status changes go through ``set_claim_status``.

Shared by the screen (``views_claims``), the API (``GET /api/claims``) and the CLI
(``signoff claim list``), so the three list the same thing.
"""

from __future__ import annotations

from collections import Counter

from signoff.audit.models import Event
from signoff.packages.claim_usage import packages_by_claim
from signoff.packages.models import Package
from signoff.workspaces.models import Claim, Person

# The registry's actions: (button, status it sets, what it does).
ACTIONS: dict[str, tuple[str, str]] = {
    "flag": ("Flag: needs substantiation", Claim.Status.NEEDS_SUBSTANTIATION),
    "review": ("Put under legal review", Claim.Status.PENDING),
    "withdraw": ("Withdraw", Claim.Status.WITHDRAWN),
    "reinstate": ("Reinstate (approve)", Claim.Status.APPROVED),
}
USES = {"": "Any use", "in_use": "Made by some package", "holding": "Holding packages blocked"}


def registry(person: Person, *, q: str = "", status: str = "", use: str = "") -> dict:
    """Return the workspace's claims filtered by text, status and use, each with the packages
    whose current copy makes it, those it holds blocked, and its last status change."""
    workspace = person.workspace
    claims = list(Claim.objects.filter(workspace=workspace).order_by("claim_id"))
    using = packages_by_claim(workspace)
    held: dict[str, set[int]] = {}
    for package in Package.objects.filter(brief__workspace=workspace, state="blocked").only(
        "id", "blocked_reasons"
    ):
        for reason in package.blocked_reasons or []:
            if reason.get("claim"):
                held.setdefault(reason["claim"], set()).add(package.pk)
    changes: dict[str, Event] = {}
    for event in Event.objects.filter(
        workspace=workspace.slug, action="claim.status_changed"
    ).order_by("seq"):
        changes[event.subject_id] = event  # the last one wins
    needle = q.strip().lower()
    rows = []
    for claim in claims:
        packages = using.get(claim.claim_id, [])
        blocked = held.get(claim.claim_id, set())
        if needle and needle not in claim.claim_id.lower() and needle not in claim.text.lower():
            continue
        if status and claim.status != status:
            continue
        if use == "in_use" and not packages:
            continue
        if use == "holding" and not blocked:
            continue
        rows.append(
            {
                "claim": claim,
                "packages": [
                    {
                        "id": p.pk,
                        "brief": p.brief.slug,
                        "sku": p.sku,
                        "channel": p.channel,
                        "state": p.state,
                        "position": p.position,
                        "blocked_by_claim": p.pk in blocked,
                    }
                    for p in packages
                ],
                "blocked": len(blocked),
                "last_change": changes.get(claim.claim_id),
            }
        )
    return {
        "rows": rows,
        "total": len(claims),
        "by_status": dict(Counter(c.status for c in claims)),
        "statuses": list(Claim.Status.values),
        "uses": USES,
        "actions": ACTIONS,
        "may_change": "compliance" in person.roles,
        "q": q,
        "status": status,
        "use": use,
    }


def as_api_row(row: dict) -> dict:
    claim, change = row["claim"], row["last_change"]
    return {
        "claim_id": claim.claim_id,
        "text": claim.text,
        "status": claim.status,
        "evidence": claim.evidence,
        "packages": row["packages"],
        "blocked": row["blocked"],
        "last_change": (
            {
                "by": change.actor,
                "at": change.occurred_at,
                "from_status": change.data.get("from", ""),
                "to_status": change.data.get("to", ""),
                "note": change.note,
            }
            if change
            else None
        ),
    }
