"""Why the workflow refused an action: three error types, each with a stable code.

The API maps the type to an HTTP status (``http_status``) and shows the code to the client:

=========================  ======  ==========================================================
type / code                status  meaning
=========================  ======  ==========================================================
StateError                 409     the package's position (or data) does not allow it now
  invalid_state                    the action does not exist from this position
  not_reviewed                     batch approval of a version the approver did not mark reviewed
  blocking_findings                the current version has findings of severity ``block``
  still_blocked                    unblock while block reasons are still open
  missing_fields                   the last gate or launch while a required copy field is empty
  missing_images                   the last gate while a required image slot is empty
AuthorityError             403     this actor may not do this, whatever the state
  not_a_person                     an agent or a system event tried a person-only action
  wrong_role                       the actor does not hold the role the action needs
  maker_checker                    the approver authored or edited the version
  same_person_two_gates            the approver already approved this version at another gate
DecisionInputError         422     the request itself is incomplete
  note_required                    a rejection without a note
=========================  ======  ==========================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import ClassVar

from signoff.workflow.states import Role


class ErrorCode(StrEnum):
    """Stable, machine-readable reasons; the API and the UI share them."""

    INVALID_STATE = "invalid_state"  # no such move from this position
    NOT_REVIEWED = "not_reviewed"  # batch approval needs the approver's own "reviewed" mark
    BLOCKING_FINDINGS = "blocking_findings"  # no gate passes while a block finding is open
    STILL_BLOCKED = "still_blocked"  # unblock waits until every block reason is resolved
    MISSING_FIELDS = "missing_fields"  # the last gate needs every required copy field filled
    MISSING_IMAGES = "missing_images"  # the last gate needs every required image slot filled
    NOT_A_PERSON = "not_a_person"  # agents and system events never decide
    WRONG_ROLE = "wrong_role"  # the actor lacks the role; there is no admin override
    MAKER_CHECKER = "maker_checker"  # nobody approves what they authored or edited
    SAME_PERSON_TWO_GATES = "same_person_two_gates"  # one person, one gate per version
    NOTE_REQUIRED = "note_required"  # a rejection must say why
    RUN_IN_PROGRESS = "run_in_progress"  # one run of a brief at a time


class WorkflowError(Exception):
    """Base of every refusal from :func:`signoff.workflow.decide`."""

    http_status: ClassVar[int] = 400

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        gate: str | None = None,
        required_roles: Iterable[Role] = (),
    ) -> None:
        super().__init__(message)
        self.code = code  # One of ErrorCode; stable across releases.
        self.message = message  # A sentence for people: what was refused and why.
        self.gate = gate  # The gate concerned, if any.
        self.required_roles = frozenset(required_roles)  # Roles that would have been allowed.

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value!r}, {self.message!r})"


class StateError(WorkflowError):
    """The action is not possible from the package's current position or data (HTTP 409)."""

    http_status = 409


class AuthorityError(WorkflowError):
    """The actor may not take this action: kind, role, maker-checker or separation of duties
    (HTTP 403)."""

    http_status = 403


class DecisionInputError(WorkflowError):
    """The action is missing something the actor must supply, such as a note (HTTP 422)."""

    http_status = 422
