"""Scoring a stored version: its evidence gathered from the database, then the pure score."""

from __future__ import annotations

from collections.abc import Iterable

from signoff.agents.context import CheckFinding, Draft
from signoff.channels.catalog import resolve_spec
from signoff.packages.confidence import confidence, draft_evidence
from signoff.packages.models import Package, Version
from signoff.workspaces.rules import brand_rules


def score_version(
    package: Package, version: Version, findings: Iterable[CheckFinding]
) -> int | None:
    """The confidence of ``version`` of ``package`` with ``findings`` (a person's edit, an
    image attached): ``signoff.packages.confidence`` on its evidence. Three queries."""
    workspace = package.brief.workspace
    spec = resolve_spec(package.channel, workspace.channel_overrides.get(package.channel))
    product = version.brief_version.products.get(sku=package.sku).facts()
    evidence = draft_evidence(
        Draft(spec, version.fields, product, package.market, package.variant),
        brand_rules(workspace),
        version.origin,
        len(package.completeness.get("required", [])),
        len(package.completeness.get("missing", [])),
    )
    return confidence(((f.rule_id, str(f.severity)) for f in findings), evidence)
