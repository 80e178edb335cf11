"""The one pure function that moves packages: ``decide()``, plus read-only helpers for UIs.

``decide`` checks, in this order, and raises the first failure:

1. the move exists from this position (the template's table, or block/unblock) -> StateError
   ``invalid_state``;
2. the actor may take it: kind, then role (no admin override) -> AuthorityError
   ``not_a_person`` / ``wrong_role``;
3. maker-checker, then separation of duties (one person approves at most one gate of a
   version, unless the template's ``allow_same_person_two_gates`` relaxes it), for approvals
   -> AuthorityError ``maker_checker`` / ``same_person_two_gates``;
4. what the actor must supply: a rejection note -> DecisionInputError ``note_required``;
5. what the package's data must allow: no blocking findings and, in a batch, the approver's own
   reviewed mark (approve); at the last gate, every required copy field and image slot of the
   channel filled; no open block reasons (unblock) -> StateError ``blocking_findings``,
   ``not_reviewed``, ``missing_fields``, ``missing_images``, ``still_blocked``.

It reads nothing and writes nothing: the caller loads the package, builds ``Facts``, calls
``decide`` and stores the ``Decision`` (position, audit event, voided approvals) in one
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from signoff.workflow.authority import Actor, ensure_may_act
from signoff.workflow.errors import (
    AuthorityError,
    DecisionInputError,
    ErrorCode,
    StateError,
    WorkflowError,
)
from signoff.workflow.states import FINAL_STATES, Action, PackageState, Position
from signoff.workflow.templates import Gate, Template, Transition

# What each action records, after the subject ("package." or, at brief stages, "brief.").
AUDIT_EVENT_NAMES: Mapping[Action, str] = {
    Action.DRAFT: "drafted",
    Action.REVIEW: "reviewed",
    Action.APPROVE: "gate.approved",
    Action.REJECT: "gate.rejected",
    Action.EDIT: "edited",
    Action.BLOCK: "blocked",
    Action.UNBLOCK: "unblocked",
    Action.PUBLISH: "published",
}

# Every audit action ``decide`` can return, with its label, for the audit registry to register
# (the package labels are those ``signoff.audit.registry`` already uses).
AUDIT_ACTIONS: Mapping[str, str] = {
    "brief.drafted": "Brief drafted",
    "brief.reviewed": "Brief marked reviewed",
    "brief.gate.approved": "Brief gate approved",
    "brief.gate.rejected": "Brief gate rejected",
    "brief.edited": "Brief edited",
    "brief.blocked": "Brief blocked",
    "brief.unblocked": "Brief unblocked",
    "package.drafted": "Package drafted",
    "package.reviewed": "Package marked reviewed",
    "package.gate.approved": "Gate approved",
    "package.gate.rejected": "Gate rejected",
    "package.edited": "Package edited",
    "package.blocked": "Package blocked",
    "package.unblocked": "Package unblocked",
    "package.published": "Package published",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What the caller knows about the package's current version and this request."""

    version_makers: frozenset[str] = frozenset()  # ids of who authored or edited this version
    reviewed_by_actor: bool = False  # the actor marked this version reviewed
    batch: bool = False  # this approval is one of a batch
    blocking_findings: int = 0  # open findings of severity "block" on this version
    blocking_rules: tuple[str, ...] = ()  # those findings named, "field: rule_id"
    open_block_reasons: int = 0  # block reasons not resolved yet (unblock waits for zero)
    note: str = ""  # the note given with the action; a rejection must carry one
    empty_image_slots: tuple[str, ...] = ()  # required image slots of the channel still empty
    empty_fields: tuple[str, ...] = ()  # required copy fields of the channel still empty
    gates_approved_by_actor: frozenset[str] = frozenset()  # where the actor approved this version


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What to store: where the package goes, the audit event, and the approvals voided."""

    next_position: Position
    audit_action: str  # a registered dotted name: "package.gate.approved", "brief.edited"
    gate: str | None  # the gate decided on or reviewed at, if any
    voids: tuple[str, ...] = ()  # gates whose approvals the new version no longer matches
    # Other gates this approver already approved this version at, allowed only because the
    # template relaxes separation of duties: the approval's event must say so.
    also_approved_by_actor: tuple[str, ...] = ()


def decide(
    position: Position, action: Action, actor: Actor, facts: Facts, template: Template
) -> Decision:
    """Return the decision for ``actor`` taking ``action`` on a package at ``position``.

    Raise StateError (409), AuthorityError (403) or DecisionInputError (422); see the module
    docstring for the order of checks.
    """
    action = Action(action)
    move = _move(position, action, template)
    gate = template.gate(move.gate) if move.gate else None
    ensure_may_act(action, actor, gate, template)
    also_approved: tuple[str, ...] = ()
    if action is Action.APPROVE:
        _ensure_checker(actor, facts, gate)
        also_approved = _ensure_separate_gates(actor, facts, gate, template)
    if action is Action.REJECT and not facts.note.strip():
        raise DecisionInputError(
            ErrorCode.NOTE_REQUIRED,
            f"a rejection at {_gate_name(gate)} must say why: add a note",
            gate=move.gate,
        )
    if action is Action.APPROVE:
        _ensure_approvable(actor, facts, gate)
        if move.target.state is PackageState.APPROVED:
            _ensure_fields(facts, gate)
            _ensure_images(facts, gate)
    if action is Action.UNBLOCK and facts.open_block_reasons:
        raise StateError(
            ErrorCode.STILL_BLOCKED,
            f"{facts.open_block_reasons} block reason(s) still open: resolve them first",
        )
    subject = "brief" if position.stage in template.brief_stages else "package"
    return Decision(
        next_position=move.target,
        audit_action=f"{subject}.{AUDIT_EVENT_NAMES[action]}",
        gate=move.gate,
        voids=move.voids,
        also_approved_by_actor=also_approved,
    )


def gate_for(position: Position, template: Template) -> Gate | None:
    """Return the gate a package at ``position`` waits on (with its owner and SLA), or None.

    A blocked package waits on nothing; ask about ``position.blocked_from`` to see where it
    will wait once unblocked.
    """
    row = template.transition(position, Action.APPROVE)
    return template.gate(row.gate) if row and row.gate else None


def allowed_actions(
    position: Position, actor: Actor, facts: Facts, template: Template
) -> tuple[Action, ...]:
    """Return the actions ``actor`` may take now, in ``Action`` order (for buttons and menus).

    An action that only lacks input from the actor (a rejection note) counts as allowed.
    """
    allowed = []
    for action in Action:
        try:
            decide(position, action, actor, facts, template)
        except DecisionInputError:
            allowed.append(action)
        except WorkflowError:
            continue
        else:
            allowed.append(action)
    return tuple(allowed)


def sla_hours(gate: str, template: Template) -> float:
    """Return how many hours a package may wait at ``gate`` before it is overdue."""
    return template.gate(gate).sla_hours


def _move(position: Position, action: Action, template: Template) -> Transition:
    """Return the move ``action`` makes from ``position``, or raise StateError."""
    origin = position.blocked_from or position
    if origin in template.positions:
        if position.state is PackageState.BLOCKED:
            move = _move_while_blocked(position, origin, action, template)
        elif action is Action.BLOCK and position.state not in FINAL_STATES:
            move = Transition(source=position, action=action, target=position.blocked())
        else:
            move = template.transition(position, action)
        if move is not None:
            return move
    # At a brief stage (e-commerce S1) the brief itself moves, so say so.
    subject = "a brief" if position.stage in template.brief_stages else "a package"
    raise StateError(
        ErrorCode.INVALID_STATE,
        f"cannot {action} {subject} at {position} in the {template.name} workflow",
    )


def _move_while_blocked(
    position: Position, origin: Position, action: Action, template: Template
) -> Transition | None:
    """Blocked packages never advance: they return to ``origin``, take a reason, or an edit."""
    if action is Action.UNBLOCK:
        return Transition(source=position, action=action, target=origin)
    if action is Action.BLOCK:
        return Transition(source=position, action=action, target=position)
    edit = template.transition(origin, Action.EDIT) if action is Action.EDIT else None
    if edit is None:
        return None
    # The edit happens now, but the package stays blocked until its reasons are resolved.
    return Transition(
        source=position, action=action, target=edit.target.blocked(), voids=edit.voids
    )


def _ensure_checker(actor: Actor, facts: Facts, gate: Gate | None) -> None:
    if actor.id in facts.version_makers:
        raise AuthorityError(
            ErrorCode.MAKER_CHECKER,
            f"{actor.id} authored or edited this version and may not approve it at "
            f"{_gate_name(gate)}: another {gate.owner if gate else 'person'} must",
            gate=gate.id if gate else None,
        )


def _ensure_separate_gates(
    actor: Actor, facts: Facts, gate: Gate | None, template: Template
) -> tuple[str, ...]:
    """Return the other gates the actor approved this version at (only when relaxed).

    Two gates exist so that two people look: the content lead who judged the draft is not
    the compliance reviewer who signs it off, even when one person holds both roles.
    """
    others = tuple(sorted(facts.gates_approved_by_actor - {gate.id if gate else ""}))
    if others and not template.allow_same_person_two_gates:
        raise AuthorityError(
            ErrorCode.SAME_PERSON_TWO_GATES,
            f"{actor.id} already approved this version at {', '.join(others)} and may not "
            f"approve it at {_gate_name(gate)} too: another {gate.owner if gate else 'person'} "
            "must (one person approves at most one gate of a version)",
            gate=gate.id if gate else None,
        )
    return others


def _ensure_approvable(actor: Actor, facts: Facts, gate: Gate | None) -> None:
    if facts.blocking_findings:
        raise StateError(
            ErrorCode.BLOCKING_FINDINGS,
            f"{facts.blocking_findings} blocking finding(s) on this version"
            + (f" ({'; '.join(facts.blocking_rules)})" if facts.blocking_rules else "")
            + f": fix them before {_gate_name(gate)}",
            gate=gate.id if gate else None,
        )
    if facts.batch and not facts.reviewed_by_actor:
        raise StateError(
            ErrorCode.NOT_REVIEWED,
            f"{actor.id} has not marked this version reviewed: "
            "batch approval only covers packages you reviewed",
            gate=gate.id if gate else None,
        )


def _ensure_fields(facts: Facts, gate: Gate | None) -> None:
    # Only the last gate asks (a check finds an empty field as it drafts, but the channel's
    # spec may have made one required since).
    if facts.empty_fields:
        raise StateError(
            ErrorCode.MISSING_FIELDS,
            f"required field(s) still empty: {', '.join(facts.empty_fields)}; "
            f"fill them before {_gate_name(gate)}",
            gate=gate.id if gate else None,
        )


def _ensure_images(facts: Facts, gate: Gate | None) -> None:
    # Only the last gate asks: copy is often reviewed before the creative exists.
    if facts.empty_image_slots:
        raise StateError(
            ErrorCode.MISSING_IMAGES,
            f"required image slot(s) still empty: {', '.join(facts.empty_image_slots)}; "
            f"render the selected image before {_gate_name(gate)}",
            gate=gate.id if gate else None,
        )


def _gate_name(gate: Gate | None) -> str:
    return f"{gate.id} ({gate.label})" if gate else "this gate"
