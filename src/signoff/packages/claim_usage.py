"""Which packages each claim touches: read from their current copy, in one pass.

``packages.claims.packages_using`` answers for one claim (and is what a status change
blocks); the claims registry screen and the board's claim filter need every claim at once,
so this reads each package's current version once with the same claim scanner.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from signoff.agents.checks.claims import claim_mentions
from signoff.agents.context import Draft
from signoff.briefs.models import Product
from signoff.channels.catalog import resolve_spec
from signoff.packages.models import Package
from signoff.workspaces.models import Workspace
from signoff.workspaces.rules import brand_rules


def claims_by_package(workspace: Workspace, packages: Iterable[Package]) -> dict[int, set[str]]:
    """Return, per package id, the claims its current version makes (its copy, not its facts).

    ``packages`` need ``current_version__brief_version`` loaded; drafts not yet made make none.
    """
    rules = brand_rules(workspace)
    packages = [p for p in packages if p.current_version is not None]
    # Every product the packages were drafted from, in one query (not one per SKU).
    wanted = {(p.current_version.brief_version_id, p.sku) for p in packages}
    rows = Product.objects.filter(brief_version_id__in={bv for bv, _ in wanted})
    products = {
        (r.brief_version_id, r.sku): r.facts()
        for r in rows.select_related("brief_version")
        if (r.brief_version_id, r.sku) in wanted
    }
    specs: dict[str, object] = {}
    made: dict[int, set[str]] = {}
    for package in packages:
        version = package.current_version
        key = (version.brief_version_id, package.sku)
        if key not in products:
            continue
        if package.channel not in specs:
            specs[package.channel] = resolve_spec(
                package.channel, workspace.channel_overrides.get(package.channel)
            )
        draft = Draft(specs[package.channel], version.fields, products[key])
        made[package.pk] = {m.claim_id for m in claim_mentions(draft, rules)}
    return made


def packages_by_claim(workspace: Workspace) -> dict[str, list[Package]]:
    """Return, per claim id, the workspace's packages whose current copy makes it."""
    packages = (
        Package.objects.filter(brief__workspace=workspace, current_version__isnull=False)
        .select_related("brief", "current_version", "current_version__brief_version")
        .order_by("brief_id", "sku", "channel", "id")
    )
    found = list(packages)
    made = claims_by_package(workspace, found)
    by_claim: dict[str, list[Package]] = defaultdict(list)
    for package in found:
        for claim in sorted(made.get(package.pk, ())):
            by_claim[claim].append(package)
    return dict(by_claim)


def package_ids_making(workspace: Workspace, claim_id: str, packages) -> list[int]:
    """The ids among ``packages`` (a queryset) whose current copy makes ``claim_id``."""
    loaded = packages.select_related("current_version", "current_version__brief_version")
    made = claims_by_package(workspace, loaded)
    return [pk for pk, claims in made.items() if claim_id in claims]
