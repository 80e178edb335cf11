"""Who may add a brief, and who may run one (or ask for its missing data).

One rule for the screens and the API: the screens use the ``may_*`` answers to offer a button
and the ``ensure_*`` checks before acting; the API calls the checks, and their AuthorityError
(``wrong_role``) is its 403. There is no admin override: an ``admin`` with no other role does
the workspace's settings, not its briefs.
"""

from __future__ import annotations

from signoff.briefs.models import Brief
from signoff.briefs.workflow import template_for
from signoff.workflow import AuthorityError, ErrorCode, Role
from signoff.workflow.templates import TEMPLATES
from signoff.workspaces.models import Person

# Who may add a brief: the contributor roles of every template (operators and gate owners).
INTAKE_ROLES: frozenset[Role] = frozenset().union(
    *(template.contributor_roles for template in TEMPLATES.values())
)


def _holds(person: Person, roles: frozenset[Role]) -> bool:
    return bool(roles.intersection(person.roles))


def may_add_briefs(person: Person) -> bool:
    """Return whether the person may add a brief (or its next version) to their workspace."""
    return _holds(person, INTAKE_ROLES)


def may_run(person: Person, brief: Brief) -> bool:
    """Return whether the person works on the brief: an operator or a gate owner of its
    template (with the workspace's gate owners applied)."""
    return _holds(person, template_for(brief).contributor_roles)


def ensure_may_add_briefs(person: Person) -> None:
    """Raise AuthorityError (``wrong_role``) unless the person may add briefs."""
    if not may_add_briefs(person):
        raise AuthorityError(
            ErrorCode.WRONG_ROLE,
            f"{person.email} may not add briefs: only an operator or a gate owner may",
            required_roles=INTAKE_ROLES,
        )


def ensure_may_run(person: Person, brief: Brief, doing: str = "run") -> None:
    """Raise AuthorityError (``wrong_role``) unless the person may run the brief (or, with
    ``doing``, take another step of its run such as requesting data)."""
    roles = template_for(brief).contributor_roles
    if not _holds(person, roles):
        raise AuthorityError(
            ErrorCode.WRONG_ROLE,
            f"{person.email} may not {doing} {brief.slug}: "
            "only an operator or a gate owner of this brief may",
            required_roles=roles,
        )
