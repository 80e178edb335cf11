"""Who owns a package: reassigning it to another person of the workspace.

Ownership is not a gate decision: it moves no package and passes no gate, so it does not go
through the workflow engine's transitions. It is still a person's decision on a package, so it
follows the same pattern as ``signoff.packages.decisions``: one transaction that locks the
package, reads the person's roles as they are now, saves the change and records the event. A
batch is ``decide_each`` over ``reassign_item``: one item's refusal never touches another.
"""

from __future__ import annotations

from django.db import transaction

from signoff.audit.services import record
from signoff.briefs.workflow import template_for
from signoff.core.errors import InputError, Problem
from signoff.packages.decisions import ItemResult, _current_person, _locked_package
from signoff.workflow import AuthorityError, ErrorCode
from signoff.workspaces.models import Person

PACKAGE_REASSIGNED = "package.reassigned"  # registered in PackagesConfig.ready


def _owner_problem(message: str) -> InputError:
    return InputError([Problem(message, field="owner")])


def _new_owner(person: Person, owner_email: str) -> Person:
    """Return the active person of the acting person's workspace with that email."""
    email = owner_email.strip()
    if not email:
        raise _owner_problem("choose the person to reassign the package to")
    owner = (
        Person.objects.filter(workspace_id=person.workspace_id, email__iexact=email, active=True)
        .order_by("pk")
        .first()
    )
    if owner is None:
        raise _owner_problem(f"{email} is not an active person of {person.workspace.slug}")
    return owner


def reassign_package(*, package_id: int, person: Person, owner_email: str) -> ItemResult:
    """Make ``owner_email`` the owner of the package; the acting person must be a contributor.

    Raises NotFound for a package outside the person's workspace, AuthorityError (wrong_role)
    for a person who holds none of the template's contributor roles, and InputError (field
    ``owner``) for an owner who is not an active person of the workspace or already owns it.
    """
    with transaction.atomic():
        package = _locked_package(package_id, person)
        person = _current_person(person)
        contributors = template_for(package.brief).contributor_roles
        if not set(person.roles) & {str(role) for role in contributors}:
            raise AuthorityError(
                ErrorCode.WRONG_ROLE,
                f"{person.email} may not reassign package {package.pk}: that takes one of "
                f"{', '.join(sorted(str(r) for r in contributors))}",
                required_roles=contributors,
            )
        owner = _new_owner(person, owner_email)
        before = package.owner
        if before == owner.email:
            raise _owner_problem(
                f"package {package.pk} is already owned by {owner.email}; nothing changed"
            )
        package.owner = owner.email
        package.save(update_fields=["owner"])
        version = package.current_version
        record(
            action=PACKAGE_REASSIGNED,
            actor=person.email,
            subject_type="package",
            subject_id=str(package.pk),
            workspace=package.brief.workspace.slug,
            content_hash=version.content_hash if version else "",
            sku=package.sku,
            channel=package.channel,
            data={"from": before, "to": owner.email},
        )
    was = f" (was {before})" if before else ""
    return ItemResult(
        package.pk,
        True,
        "reassigned",
        f"now owned by {owner.email}{was}",
        position=package.position,
    )


def input_refused(package_id: int, exc: InputError) -> ItemResult:
    """Report bad input for one item of a batch as that item's refusal (422 on its own)."""
    return ItemResult(
        package_id,
        False,
        "refused",
        "; ".join(p.message for p in exc.problems),
        code="invalid_input",
        http_status=422,
    )


def reassign_item(*, package_id: int, person: Person, owner_email: str) -> ItemResult:
    """``reassign_package`` for ``decide_each``: a bad owner is this item's refusal."""
    try:
        return reassign_package(package_id=package_id, person=person, owner_email=owner_email)
    except InputError as exc:
        return input_refused(package_id, exc)
