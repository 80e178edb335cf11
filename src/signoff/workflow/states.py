"""The vocabulary of the workflow: states, stages, actions, roles, and a package's position."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PackageState(StrEnum):
    """Where a package stands inside its stage (the storage layer stores these exact values)."""

    DRAFT = "draft"  # waiting for a first draft (AI or person)
    IN_REVIEW = "in_review"  # waiting on the owner of the stage's gate
    APPROVED = "approved"  # passed the last gate; ready to publish
    REJECTED = "rejected"  # a gate said no; back at the previous stage with the notes
    BLOCKED = "blocked"  # cannot move until its cause is fixed; remembers where it was
    PUBLISHED = "published"  # delivered to the channel: the point of no return


class Stage(StrEnum):
    """Every stage of every template; a template uses its own subset."""

    # e-commerce (ShelfFlow, seed 004)
    S1 = "S1"  # brief intake: the brief itself waits on G1 here; packages do not exist yet
    S2 = "S2"  # AI draft: the copy drafter writes the package (again, after a G2 rejection)
    S3 = "S3"  # human review and edit: waiting on G2 draft quality
    S4 = "S4"  # channel adaptation: done by the drafter, so no package ever rests here
    S5 = "S5"  # compliance and legal: waiting on G3 compliance sign-off
    S6 = "S6"  # publish: waiting on G4 launch approval, then launch per channel
    # campaign (home-brand platform, seed 000)
    C1 = "C1"  # generate: AI creates options from the campaign direction
    C2 = "C2"  # approve: evaluate, edit, approve or reject each asset (gate `approve`)
    C3 = "C3"  # coherence: check the approved assets work together as a set (gate `coherence`)
    C4 = "C4"  # launch: approved assets go out per channel
    # social (a lighter template: one review gate, one launch gate)
    P1 = "P1"  # draft: AI or a person writes the post
    P2 = "P2"  # review: waiting on gate `review`
    P3 = "P3"  # launch: waiting on gate `launch`, then published


class Action(StrEnum):
    """What an actor asks the workflow to do to one package (or, at S1, one brief)."""

    DRAFT = "draft"  # a new AI-made version enters review (first draft or re-draft)
    REVIEW = "review"  # a gate owner marks the current version reviewed (evaluate, in campaign)
    APPROVE = "approve"  # a gate owner passes the gate for the current version
    REJECT = "reject"  # a gate owner sends the package back, with a note
    EDIT = "edit"  # a person saves a new version; voids the approvals it no longer matches
    BLOCK = "block"  # a cause (missing data, flagged claim, failed dependency) stops the package
    UNBLOCK = "unblock"  # the cause is fixed; the package returns to where it was
    PUBLISH = "publish"  # the package goes live on its channel; nothing happens after this


class Role(StrEnum):
    """Workspace roles (the same names as `signoff.workspaces.schema.ROLES`)."""

    CONTENT_LEAD = "content_lead"  # owns briefs and drafts (G1, G2)
    COMPLIANCE = "compliance"  # owns regulatory review (G3)
    BRAND_MANAGER = "brand_manager"  # final launch authority (G4)
    OPERATOR = "operator"  # runs the work; owns no gate
    ADMIN = "admin"  # manages the workspace; owns no gate unless also given another role
    CMO = "cmo"  # campaign creative direction: approves assets (campaign gate `approve`)
    CEO = "ceo"  # product accuracy and final decision: checks the set (campaign `coherence`)


class ActorKind(StrEnum):
    """Who is acting: only people decide at gates."""

    PERSON = "person"  # a named member of the workspace
    AGENT = "agent"  # an AI agent: may create versions and findings, nothing else
    SYSTEM = "system"  # a system event named as such (a check, a connector receipt, a scheduler)


# Roles that may own a gate. Operators and admins never do (an admin may also hold one of these).
GATE_OWNING_ROLES = frozenset(Role) - {Role.OPERATOR, Role.ADMIN}

# States a package never leaves.
FINAL_STATES = frozenset({PackageState.PUBLISHED})


@dataclass(frozen=True, slots=True, repr=False)
class Position:
    """Where a package (or, at stage S1, a brief) is: a stage and a state.

    A blocked position keeps its stage and remembers the exact position it came from, so that
    ``unblock`` returns to it. Build one from storage with :meth:`parse`.
    """

    stage: Stage
    state: PackageState
    blocked_from: Position | None = None  # Set exactly when the state is ``blocked``.

    def __post_init__(self) -> None:
        object.__setattr__(self, "stage", Stage(self.stage))
        object.__setattr__(self, "state", PackageState(self.state))
        origin = self.blocked_from
        if self.state is PackageState.BLOCKED:
            if origin is None:
                raise ValueError(f"{self}: a blocked position must say where it came from")
            if origin.state is PackageState.BLOCKED or origin.state in FINAL_STATES:
                raise ValueError(f"{self}: cannot have been blocked from {origin}")
            if origin.stage is not self.stage:
                raise ValueError(f"{self}: keeps the stage it was blocked at ({origin.stage})")
        elif origin is not None:
            raise ValueError(f"{self}: only a blocked position remembers where it came from")

    def __str__(self) -> str:
        return f"{self.stage}/{self.state}"

    def __repr__(self) -> str:
        origin = f", blocked_from={str(self.blocked_from)!r}" if self.blocked_from else ""
        return f"Position.parse({str(self)!r}{origin})"

    @classmethod
    def parse(cls, text: str, *, blocked_from: str = "") -> Position:
        """Return the position written as ``"S3/in_review"`` (the storage layer's format).

        ``blocked_from`` is the stored ``"stage/state"`` a blocked package returns to.
        """
        stage, sep, state = text.partition("/")
        if not sep:
            raise ValueError(f"{text!r}: expected 'stage/state', e.g. 'S3/in_review'")
        origin = cls.parse(blocked_from) if blocked_from else None
        return cls(Stage(stage), PackageState(state), origin)

    def blocked(self) -> Position:
        """Return this position blocked, remembering this position as the way back."""
        return Position(self.stage, PackageState.BLOCKED, self)
