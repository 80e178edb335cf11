"""Who can act on a package's gate, for this person, before anyone clicks (one selector).

Reads the people, the versions' makers and this version's approvals, and asks the pure
:func:`signoff.workflow.eligibility.eligibility` -- the same ``decide`` the services call -- so
the web gate panel, the API's package answer (``eligibility``) and ``signoff show`` say the
same thing the gate would. A fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict

from signoff.briefs.workflow import template_for
from signoff.core.labels import role_label
from signoff.packages.authoring import suggestion_is_checkers
from signoff.packages.decisions import _facts, _makers, _position
from signoff.packages.models import Approval, Package
from signoff.workflow import Action, Facts
from signoff.workflow.eligibility import Candidate, Eligibility, eligibility
from signoff.workspaces.models import Person


def _candidates(package: Package) -> list[Candidate]:
    approved: dict[str, set[str]] = defaultdict(set)
    if package.current_version_id:
        for email, gate in Approval.objects.filter(
            version_id=package.current_version_id
        ).values_list("person", "gate"):
            approved[email].add(gate)
    people = Person.objects.filter(workspace_id=package.brief.workspace_id, active=True)
    return [
        Candidate(
            id=p.email,
            name=p.name or p.email,
            roles=frozenset(p.roles),
            gates_approved=frozenset(approved.get(p.email, ())),
        )
        for p in people.order_by("name")
    ]


def package_eligibility(package: Package, person: Person | None) -> Eligibility:
    """Return who can approve the gate ``package`` waits on, and ``person``'s verdicts and the
    consequences of each of their actions (with no person: as someone holding no role)."""
    candidates = _candidates(package)
    if person is None:
        viewer = Candidate(id="nobody", name="nobody")
        facts = Facts(version_makers=_makers(package))
    else:
        viewer = next((c for c in candidates if c.id == person.email), None) or Candidate(
            id=person.email, name=person.name, roles=frozenset(person.roles)
        )
        facts = _facts(package, person, Action.APPROVE)
    return eligibility(
        _position(package),
        template_for(package.brief),
        viewer,
        candidates,
        facts,
        fix_is_authorship=not suggestion_is_checkers(package.brief.workspace),
    )


def eligibility_answer(found: Eligibility) -> dict:
    """The eligibility as plain data (the API's ``eligibility`` field, ``signoff show``)."""
    gate = found.gate
    return {
        "gate": gate.id if gate else None,
        "gate_label": gate.label if gate else "",
        "owner": gate.owner.value if gate else None,
        "owner_label": role_label(gate.owner) if gate else "",
        "summary": found.who,
        "can_approve": [{"email": c.id, "name": c.name} for c in found.can_approve],
        "cannot_approve": [
            {"email": c.id, "name": c.name, "reason": why} for c, why in found.cannot_approve
        ],
        "you": {
            action: {"allowed": v.ok, "code": v.code or None, "reason": v.reason}
            for action, v in found.verdicts.items()
        },
        "consequences": {k: v for k, v in found.consequences.items() if v},
    }
