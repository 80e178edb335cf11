"""The workflow engine: pure Python, no Django, no I/O.

A package (one SKU x channel) is at a :class:`Position` (stage and state). People, agents and
system events ask for an :class:`Action`; :func:`decide` returns a :class:`Decision` (the next
position, the audit event to record, the gate concerned, the approvals voided) or raises
:class:`StateError` (409), :class:`AuthorityError` (403) or :class:`DecisionInputError` (422).

The e-commerce flow (``ecommerce`` template; brief at S1, packages from S2)::

    S1/in_review --approve G1--> S1/approved            (brief level; packages start at S2/draft)
    S2/draft     --draft-------> S3/in_review           (AI draft; waits on G2, content_lead)
    S3/in_review --approve G2--> S5/in_review           (S4 adaptation is done by the drafter)
    S5/in_review --approve G3--> S6/in_review           (compliance)
    S6/in_review --approve G4--> S6/approved            (brand_manager)
    S6/approved  --publish-----> S6/published           (final)

    reject G2 -> S2/rejected (re-draft), G3 -> S3/rejected, G4 -> S5/rejected; always with a note
    edit (a person's new version) -> S3/in_review, voiding every approval already given
    block -> <stage>/blocked remembering the position; unblock -> exactly that position

Typical call, inside the storage layer's transaction::

    settings = workspace_file.workflows.get(brief.template)  # a WorkflowSettings, or None
    template = load_template(brief.template, settings.model_dump() if settings else None)
    position = Position.parse(package.position, blocked_from=package.blocked_from)
    decision = decide(position, Action.APPROVE, actor, facts, template)
    # store decision.next_position (str(...) and str(....blocked_from or "")), void the
    # approvals of decision.voids, record decision.audit_action: all in one transaction
"""

from signoff.workflow.authority import Actor
from signoff.workflow.decide import (
    AUDIT_ACTIONS,
    Decision,
    Facts,
    allowed_actions,
    decide,
    gate_for,
    sla_hours,
)
from signoff.workflow.errors import (
    AuthorityError,
    DecisionInputError,
    ErrorCode,
    StateError,
    WorkflowError,
)
from signoff.workflow.states import Action, ActorKind, PackageState, Position, Role, Stage
from signoff.workflow.templates import (
    Gate,
    GateLevel,
    SettingsError,
    Template,
    TemplateName,
    load_template,
    settings_problems,
)

__all__ = [
    "AUDIT_ACTIONS",
    "Action",
    "Actor",
    "ActorKind",
    "AuthorityError",
    "Decision",
    "DecisionInputError",
    "ErrorCode",
    "Facts",
    "Gate",
    "GateLevel",
    "PackageState",
    "Position",
    "Role",
    "SettingsError",
    "Stage",
    "StateError",
    "Template",
    "TemplateName",
    "WorkflowError",
    "allowed_actions",
    "decide",
    "gate_for",
    "load_template",
    "settings_problems",
    "sla_hours",
]
