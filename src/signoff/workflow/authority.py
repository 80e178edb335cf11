"""Who may take which action: actors, and the table of actor rules.

There is no override: an ``admin`` without the gate's role is refused like anyone else, and
agents and system events never review, approve or reject.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from signoff.workflow.errors import AuthorityError, ErrorCode
from signoff.workflow.states import Action, ActorKind, Role
from signoff.workflow.templates import Gate, Template


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who asks for an action, with the roles they hold at that moment."""

    id: str  # a person's email, "agent:copy_drafter", "system:claims"; compared to version makers
    kind: ActorKind
    roles: frozenset[Role] = frozenset()  # only a person's roles count

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ActorKind(self.kind))
        object.__setattr__(self, "roles", frozenset(Role(role) for role in self.roles))


class RolesNeeded(StrEnum):
    """Which roles a person needs for an action, resolved against a template."""

    GATE_OWNER = "gate_owner"  # the owner of the gate the action is at
    CONTRIBUTOR = "contributor"  # an operator or any gate owner of the template
    STEWARD = "steward"  # a contributor or an admin
    PUBLISHER = "publisher"  # one of the template's publisher roles


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorRule:
    """Who may take one action."""

    kinds: frozenset[ActorKind]  # kinds of actor allowed at all
    persons_need: RolesNeeded  # what a person must hold; agents and system need no role


PERSON_ONLY = frozenset({ActorKind.PERSON})
PERSON_OR_SYSTEM = frozenset({ActorKind.PERSON, ActorKind.SYSTEM})
ANY_KIND = frozenset(ActorKind)

ACTOR_RULES: Mapping[Action, ActorRule] = {
    Action.DRAFT: ActorRule(kinds=ANY_KIND, persons_need=RolesNeeded.CONTRIBUTOR),
    Action.REVIEW: ActorRule(kinds=PERSON_ONLY, persons_need=RolesNeeded.GATE_OWNER),
    Action.APPROVE: ActorRule(kinds=PERSON_ONLY, persons_need=RolesNeeded.GATE_OWNER),
    Action.REJECT: ActorRule(kinds=PERSON_ONLY, persons_need=RolesNeeded.GATE_OWNER),
    Action.EDIT: ActorRule(kinds=PERSON_ONLY, persons_need=RolesNeeded.CONTRIBUTOR),
    Action.BLOCK: ActorRule(kinds=PERSON_OR_SYSTEM, persons_need=RolesNeeded.STEWARD),
    Action.UNBLOCK: ActorRule(kinds=PERSON_OR_SYSTEM, persons_need=RolesNeeded.STEWARD),
    Action.PUBLISH: ActorRule(kinds=PERSON_OR_SYSTEM, persons_need=RolesNeeded.PUBLISHER),
}


def roles_allowed(action: Action, gate: Gate | None, template: Template) -> frozenset[Role]:
    """Return the roles of which a person needs one to take ``action`` (at ``gate``)."""
    needed = ACTOR_RULES[action].persons_need
    if needed is RolesNeeded.GATE_OWNER:
        return frozenset({gate.owner}) if gate else frozenset()
    if needed is RolesNeeded.CONTRIBUTOR:
        return template.contributor_roles
    if needed is RolesNeeded.STEWARD:
        return template.contributor_roles | {Role.ADMIN}
    return template.publisher_roles


def ensure_may_act(action: Action, actor: Actor, gate: Gate | None, template: Template) -> None:
    """Raise AuthorityError unless ``actor`` may take ``action`` at ``gate`` in ``template``.

    Maker-checker is not checked here: it depends on the version (see ``decide``).
    """
    rule = ACTOR_RULES[action]
    where = f" at {gate.id} ({gate.label})" if gate else ""
    if actor.kind not in rule.kinds:
        raise AuthorityError(
            ErrorCode.NOT_A_PERSON,
            f"{actor.id} is {'an' if actor.kind is ActorKind.AGENT else 'a'} {actor.kind}: "
            f"only a person may {action}{where}",
            gate=gate.id if gate else None,
        )
    if actor.kind is not ActorKind.PERSON:
        return
    allowed = roles_allowed(action, gate, template)
    if not actor.roles & allowed:
        held = ", ".join(sorted(actor.roles)) or "no role"
        raise AuthorityError(
            ErrorCode.WRONG_ROLE,
            f"{actor.id} ({held}) may not {action}{where}: needs {', '.join(sorted(allowed))}",
            gate=gate.id if gate else None,
            required_roles=allowed,
        )
