"""The home page's list of briefs, each with where it stands in words a person uses.

A brief whose template has a brief gate (G1 in e-commerce) is "Brief intake" until that gate
passes; after it, and for a template with no brief gate (a campaign), where it stands is where
its packages are: how many there are and how many are approved or published. Two queries for
the whole list.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count

from signoff.briefs.models import Brief
from signoff.briefs.workflow import brief_gate, template_for
from signoff.core import labels
from signoff.packages.models import Package
from signoff.workflow.states import PackageState


@dataclass(frozen=True)
class BriefRow:
    brief: Brief
    status: str  # "Brief intake", "Sent back to Brief intake", "12 of 36 published"
    state: str  # the chip's colour: a package state name


def brief_rows(workspace_id: int) -> list[BriefRow]:
    """Return the workspace's briefs, newest first, each with its status in plain words."""
    briefs = list(
        # The workspace: each brief's template reads its gate settings (one query, not N).
        Brief.objects.filter(workspace_id=workspace_id)
        .select_related("workspace")
        .order_by("-created_at")
    )
    counts: dict[int, Counter[str]] = {}
    for row in (
        Package.objects.filter(brief__workspace_id=workspace_id)
        .values("brief_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts.setdefault(row["brief_id"], Counter())[row["state"]] = row["n"]
    return [_row(brief, counts.get(brief.pk, Counter())) for brief in briefs]


def _row(brief: Brief, states: Counter[str]) -> BriefRow:
    gate = brief_gate(template_for(brief))
    if gate is not None and brief.state != PackageState.APPROVED:
        return BriefRow(brief, labels.position_label(f"{brief.stage}/{brief.state}"), brief.state)
    total = sum(states.values())
    if not total:
        return BriefRow(brief, "No packages yet", PackageState.DRAFT)
    published = states.get(PackageState.PUBLISHED, 0)
    approved = states.get(PackageState.APPROVED, 0)
    if published == total:
        return BriefRow(brief, f"All {total} published", PackageState.PUBLISHED)
    said = [f"{total} packages"]
    if published:
        said.append(f"{published} published")
    if approved:
        said.append(f"{approved} approved")
    blocked = states.get(PackageState.BLOCKED, 0) + states.get(PackageState.REJECTED, 0)
    if blocked:
        said.append(f"{blocked} blocked or sent back")
    return BriefRow(brief, " · ".join(said), PackageState.IN_REVIEW)
