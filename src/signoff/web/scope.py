"""Find objects inside the signed-in person's workspace; anything else is a 404.

An object of another workspace does not exist for this person: the screens never confirm it.
"""

from __future__ import annotations

from django.http import Http404

from signoff.briefs.models import Brief
from signoff.packages.models import Finding, Package
from signoff.workspaces.models import Person


def brief_for(person: Person, slug: str) -> Brief:
    """Return the person's workspace's brief ``slug``."""
    brief = (
        Brief.objects.select_related("workspace")
        .filter(workspace_id=person.workspace_id, slug=slug)
        .first()
    )
    if brief is None:
        raise Http404(f"no brief {slug!r}")
    return brief


def package_for(person: Person, package_id: int) -> Package:
    """Return package ``package_id`` if it belongs to the person's workspace."""
    package = (
        Package.objects.select_related("brief", "brief__workspace", "current_version")
        .filter(pk=package_id, brief__workspace_id=person.workspace_id)
        .first()
    )
    if package is None:
        raise Http404(f"no package {package_id}")
    return package


def current_finding(package: Package, finding_id: int) -> Finding:
    """Return a finding of the package's current version (a stale one is gone)."""
    finding = Finding.objects.filter(pk=finding_id, version_id=package.current_version_id).first()
    if finding is None:
        raise Http404(f"no finding {finding_id} on the current version")
    return finding
