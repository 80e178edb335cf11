"""Find objects within the requesting person's workspace; anything else does not exist.

A person sees only their own workspace, so an object in another one is a 404, never a 403:
the API does not confirm that it exists.
"""

from signoff.briefs.models import Brief
from signoff.core.errors import NotFound
from signoff.packages.models import Package
from signoff.workspaces.models import Person


def brief_for(person: Person, slug: str) -> Brief:
    """Return the person's workspace's brief ``slug``."""
    try:
        return Brief.objects.select_related("workspace").get(
            workspace_id=person.workspace_id, slug=slug
        )
    except Brief.DoesNotExist as exc:
        raise NotFound(f"no brief {slug!r} in {person.workspace.slug}") from exc


def package_for(person: Person, package_id: int) -> Package:
    """Return package ``package_id`` if it belongs to the person's workspace."""
    try:
        return Package.objects.select_related("brief", "brief__workspace", "current_version").get(
            pk=package_id, brief__workspace_id=person.workspace_id
        )
    except Package.DoesNotExist as exc:
        raise NotFound(f"no package {package_id} in {person.workspace.slug}") from exc


def owned_package_ids(person: Person, package_ids: list[int]) -> set[int]:
    """Return those of ``package_ids`` in the person's workspace, in one query."""
    return set(
        Package.objects.filter(
            pk__in=package_ids, brief__workspace_id=person.workspace_id
        ).values_list("pk", flat=True)
    )
