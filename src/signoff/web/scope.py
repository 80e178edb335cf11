"""Find objects inside the signed-in person's workspace; anything else is a 404.

An object of another workspace does not exist for this person: the screens never confirm it.
"""

from __future__ import annotations

from django.http import Http404

from signoff.briefs.models import Brief
from signoff.packages.models import Package
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
