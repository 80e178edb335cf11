"""Workflow templates as data: stages, gates (owner, SLA), and the table of transitions.

Only three moves are not rows of a table, because they depend on where a blocked package came
from; :mod:`signoff.workflow.decide` derives them from the table:

- ``block`` from any known position except ``published`` (and again while blocked: a new cause);
- ``unblock`` back to exactly the remembered position;
- ``edit`` while blocked: the package stays blocked, but will return to where the same edit
  would have taken it unblocked, with the same approvals voided.

Why e-commerce has no resting position at S4 (channel adaptation): a package is one SKU x one
channel and the copy drafter writes channel-adapted copy at S2, checked against the channel spec
before anyone reviews it. ShelfFlow dropped its S4 gate as a rubber stamp. A separate "adapt" step
after G2 would be a content change after an approval, voiding G2 by our own rule, so G2 approval
moves the package straight to S5 compliance.

Why every ``edit`` returns to the first package gate: an approval is given to one version (one
content hash). A person's edit makes a new version, which no earlier approval matches, so the
edit voids every approval already given and the package waits again on the earliest of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from numbers import Real
from typing import Any

from signoff.workflow.states import (
    GATE_OWNING_ROLES,
    Action,
    Position,
    Role,
    Stage,
)


class TemplateName(StrEnum):
    """The shipped templates; a brief's template is fixed once its first gate passes."""

    ECOMMERCE = "ecommerce"  # ShelfFlow: SKU x retailer packages, four gates
    CAMPAIGN = "campaign"  # home-brand platform: generate, approve, evaluate, edit, coherence
    SOCIAL = "social"  # a lighter loop: one review gate, one launch gate


class GateLevel(StrEnum):
    """What a gate decides on."""

    BRIEF = "brief"  # the brief version (e-commerce G1); its positions are at stage S1
    PACKAGE = "package"  # one package's current version


@dataclass(frozen=True, slots=True, kw_only=True)
class Gate:
    """A decision point owned by one role."""

    id: str  # "G2", "approve": the name in workspace files and audit events
    label: str  # what is decided, for people
    owner: Role  # only holders of this role may review, approve or reject here
    sla_hours: float  # how long a package may wait here before it is overdue
    level: GateLevel = GateLevel.PACKAGE

    def __post_init__(self) -> None:
        object.__setattr__(self, "owner", Role(self.owner))
        object.__setattr__(self, "sla_hours", float(self.sla_hours))


@dataclass(frozen=True, slots=True, kw_only=True)
class StageInfo:
    """One stage of a template, in order."""

    stage: Stage
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """One allowed move: from ``source``, ``action`` leads to ``target``."""

    source: Position
    action: Action
    target: Position
    gate: str | None = None  # the gate decided on (approve, reject) or looked at (review)
    voids: tuple[str, ...] = ()  # gates whose approvals no longer match after this move


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    """A workflow: its stages, its gates in order, and its transition table."""

    name: TemplateName
    stages: tuple[StageInfo, ...]
    gates: tuple[Gate, ...]  # in the order a package meets them
    transitions: tuple[Transition, ...]
    publisher_roles: frozenset[Role]  # who may launch an approved package (besides the system)
    # Who chooses the image a SKU's packages are made from: creative direction, never an agent.
    image_selector_roles: frozenset[Role] = frozenset({Role.CONTENT_LEAD})
    brief_stages: frozenset[Stage] = frozenset()  # stages where the brief, not a package, moves
    # Separation of duties: one person approves at most one gate of a version. A workspace
    # may relax it (a small team where one person holds two gate roles); every approval that
    # uses the relaxation says so in its event.
    allow_same_person_two_gates: bool = False
    # Derived from ``transitions`` for quick look-ups.
    _index: Mapping[tuple[Position, Action], Transition] = field(
        init=False, repr=False, compare=False
    )
    _positions: frozenset[Position] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {(row.source, row.action): row for row in self.transitions}
        if len(index) != len(self.transitions):
            raise ValueError(f"{self.name}: two transitions for the same position and action")
        positions = frozenset(p for row in self.transitions for p in (row.source, row.target))
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_positions", positions)

    def gate(self, gate_id: str) -> Gate:
        """Return the gate called ``gate_id``; raise ValueError naming the known gates."""
        for gate in self.gates:
            if gate.id == gate_id:
                return gate
        known = ", ".join(g.id for g in self.gates)
        raise ValueError(f"{self.name}: unknown gate {gate_id!r} (known: {known})")

    def transition(self, source: Position, action: Action) -> Transition | None:
        """Return the table row for ``action`` from ``source``, or None if there is none."""
        return self._index.get((source, action))

    @property
    def positions(self) -> frozenset[Position]:
        """Every unblocked position a package (or brief) of this template can be at."""
        return self._positions

    @property
    def contributor_roles(self) -> frozenset[Role]:
        """Roles that do the work: operators and every gate owner (they may edit and draft)."""
        return frozenset({Role.OPERATOR, *(gate.owner for gate in self.gates)})


def _row(
    source: str, action: Action, target: str, *, gate: str | None = None, voids: str = ""
) -> Transition:
    return Transition(
        source=Position.parse(source),
        action=action,
        target=Position.parse(target),
        gate=gate,
        voids=tuple(voids.split()),
    )


# fmt: off
ECOMMERCE = Template(
    name=TemplateName.ECOMMERCE,
    stages=(
        StageInfo(stage=Stage.S1, label="brief intake"),
        StageInfo(stage=Stage.S2, label="AI draft"),
        StageInfo(stage=Stage.S3, label="human review and edit"),
        StageInfo(stage=Stage.S4, label="channel adaptation (by the drafter, no resting position)"),
        StageInfo(stage=Stage.S5, label="compliance and legal"),
        StageInfo(stage=Stage.S6, label="publish"),
    ),
    gates=(
        Gate(id="G1", label="brief approval", owner=Role.CONTENT_LEAD, sla_hours=24,
             level=GateLevel.BRIEF),
        Gate(id="G2", label="draft quality", owner=Role.CONTENT_LEAD, sla_hours=48),
        Gate(id="G3", label="compliance sign-off", owner=Role.COMPLIANCE, sla_hours=48),
        Gate(id="G4", label="final launch approval", owner=Role.BRAND_MANAGER, sla_hours=24),
    ),
    transitions=(
        # S1/draft: a brief version came in; the brief parser or a person readies it for G1
        _row("S1/draft",     Action.DRAFT,   "S1/in_review"),
        _row("S1/draft",     Action.EDIT,    "S1/in_review"),
        # S1/in_review: the brief waits on G1; approval locks this brief version
        _row("S1/in_review", Action.REVIEW,  "S1/in_review", gate="G1"),
        _row("S1/in_review", Action.APPROVE, "S1/approved", gate="G1"),
        _row("S1/in_review", Action.REJECT,  "S1/rejected", gate="G1"),
        _row("S1/in_review", Action.EDIT,    "S1/in_review"),
        # S1/rejected: G1 said no; a new brief version goes back to G1
        _row("S1/rejected",  Action.DRAFT,   "S1/in_review"),
        _row("S1/rejected",  Action.EDIT,    "S1/in_review"),
        # S1/approved: packages exist from here on (S2/draft); a brief change needs G1 again
        _row("S1/approved",  Action.EDIT,    "S1/in_review", voids="G1"),
        # S2/draft: the package waits for its AI draft (a person may write it instead)
        _row("S2/draft",     Action.DRAFT,   "S3/in_review"),
        _row("S2/draft",     Action.EDIT,    "S3/in_review"),
        # S2/rejected: G2 said no; re-draft with the notes
        _row("S2/rejected",  Action.DRAFT,   "S3/in_review"),
        _row("S2/rejected",  Action.EDIT,    "S3/in_review"),
        # S3/in_review: waits on G2 draft quality; approval skips S4 (see module docstring)
        _row("S3/in_review", Action.REVIEW,  "S3/in_review", gate="G2"),
        _row("S3/in_review", Action.APPROVE, "S5/in_review", gate="G2"),
        _row("S3/in_review", Action.REJECT,  "S2/rejected", gate="G2"),
        _row("S3/in_review", Action.EDIT,    "S3/in_review"),
        # S3/rejected: G3 said no; a person fixes it, which voids G2
        _row("S3/rejected",  Action.EDIT,    "S3/in_review", voids="G2"),
        # S5/in_review: waits on G3 compliance sign-off
        _row("S5/in_review", Action.REVIEW,  "S5/in_review", gate="G3"),
        _row("S5/in_review", Action.APPROVE, "S6/in_review", gate="G3"),
        _row("S5/in_review", Action.REJECT,  "S3/rejected", gate="G3"),
        _row("S5/in_review", Action.EDIT,    "S3/in_review", voids="G2"),
        # S5/rejected: G4 said no; a person fixes it, which voids G2 and G3
        _row("S5/rejected",  Action.EDIT,    "S3/in_review", voids="G2 G3"),
        # S6/in_review: waits on G4 final launch approval
        _row("S6/in_review", Action.REVIEW,  "S6/in_review", gate="G4"),
        _row("S6/in_review", Action.APPROVE, "S6/approved", gate="G4"),
        _row("S6/in_review", Action.REJECT,  "S5/rejected", gate="G4"),
        _row("S6/in_review", Action.EDIT,    "S3/in_review", voids="G2 G3"),
        # S6/approved: passed every gate; launch per channel
        _row("S6/approved",  Action.PUBLISH, "S6/published"),
        _row("S6/approved",  Action.EDIT,    "S3/in_review", voids="G2 G3 G4"),
        # S6/published: live; nothing leaves it
    ),
    publisher_roles=frozenset({Role.OPERATOR, Role.BRAND_MANAGER}),
    brief_stages=frozenset({Stage.S1}),
)

# Seed 000: the CMO wants a fast creative loop ("react quickly and give feedback on visuals",
# "select assets"), so the CMO owns `approve`, the per-asset yes or no. The CEO wants "product
# accuracy, comparison and decision control" and to "make final decisions", so the CEO owns
# `coherence`, the last look at the approved set side by side. The CMO launches ("adapt for
# channels > launch & track performance").
CAMPAIGN = Template(
    name=TemplateName.CAMPAIGN,
    stages=(
        StageInfo(stage=Stage.C1, label="generate"),
        StageInfo(stage=Stage.C2, label="evaluate, edit, approve or reject"),
        StageInfo(stage=Stage.C3, label="check coherence of the set"),
        StageInfo(stage=Stage.C4, label="launch"),
    ),
    gates=(
        Gate(id="approve", label="asset approval", owner=Role.CMO, sla_hours=24),
        Gate(id="coherence", label="coherence of the set", owner=Role.CEO, sla_hours=48),
    ),
    transitions=(
        # C1/draft: waits for the AI to generate options (a person may make one instead)
        _row("C1/draft",     Action.DRAFT,   "C2/in_review"),
        _row("C1/draft",     Action.EDIT,    "C2/in_review"),
        # C1/rejected: `approve` said no; regenerate with the notes
        _row("C1/rejected",  Action.DRAFT,   "C2/in_review"),
        _row("C1/rejected",  Action.EDIT,    "C2/in_review"),
        # C2/in_review: waits on `approve`; `review` is the seed's "evaluate"
        _row("C2/in_review", Action.REVIEW,  "C2/in_review", gate="approve"),
        _row("C2/in_review", Action.APPROVE, "C3/in_review", gate="approve"),
        _row("C2/in_review", Action.REJECT,  "C1/rejected", gate="approve"),
        _row("C2/in_review", Action.EDIT,    "C2/in_review"),
        # C2/rejected: `coherence` said no; a person edits, which voids `approve`
        _row("C2/rejected",  Action.EDIT,    "C2/in_review", voids="approve"),
        # C3/in_review: waits on `coherence`
        _row("C3/in_review", Action.REVIEW,  "C3/in_review", gate="coherence"),
        _row("C3/in_review", Action.APPROVE, "C4/approved", gate="coherence"),
        _row("C3/in_review", Action.REJECT,  "C2/rejected", gate="coherence"),
        _row("C3/in_review", Action.EDIT,    "C2/in_review", voids="approve"),
        # C4/approved: passed both gates; launch per channel
        _row("C4/approved",  Action.PUBLISH, "C4/published"),
        _row("C4/approved",  Action.EDIT,    "C2/in_review", voids="approve coherence"),
        # C4/published: live; nothing leaves it
    ),
    publisher_roles=frozenset({Role.OPERATOR, Role.CMO}),
    image_selector_roles=frozenset({Role.CMO, Role.CONTENT_LEAD}),
)

SOCIAL = Template(
    name=TemplateName.SOCIAL,
    stages=(
        StageInfo(stage=Stage.P1, label="draft"),
        StageInfo(stage=Stage.P2, label="review"),
        StageInfo(stage=Stage.P3, label="launch"),
    ),
    gates=(
        Gate(id="review", label="post review", owner=Role.CONTENT_LEAD, sla_hours=24),
        Gate(id="launch", label="launch approval", owner=Role.BRAND_MANAGER, sla_hours=24),
    ),
    transitions=(
        # P1/draft: waits for the AI draft (a person may write it instead)
        _row("P1/draft",     Action.DRAFT,   "P2/in_review"),
        _row("P1/draft",     Action.EDIT,    "P2/in_review"),
        # P1/rejected: `review` said no; re-draft with the notes
        _row("P1/rejected",  Action.DRAFT,   "P2/in_review"),
        _row("P1/rejected",  Action.EDIT,    "P2/in_review"),
        # P2/in_review: waits on `review`
        _row("P2/in_review", Action.REVIEW,  "P2/in_review", gate="review"),
        _row("P2/in_review", Action.APPROVE, "P3/in_review", gate="review"),
        _row("P2/in_review", Action.REJECT,  "P1/rejected", gate="review"),
        _row("P2/in_review", Action.EDIT,    "P2/in_review"),
        # P2/rejected: `launch` said no; a person edits, which voids `review`
        _row("P2/rejected",  Action.EDIT,    "P2/in_review", voids="review"),
        # P3/in_review: waits on `launch`
        _row("P3/in_review", Action.REVIEW,  "P3/in_review", gate="launch"),
        _row("P3/in_review", Action.APPROVE, "P3/approved", gate="launch"),
        _row("P3/in_review", Action.REJECT,  "P2/rejected", gate="launch"),
        _row("P3/in_review", Action.EDIT,    "P2/in_review", voids="review"),
        # P3/approved: passed both gates; publish
        _row("P3/approved",  Action.PUBLISH, "P3/published"),
        _row("P3/approved",  Action.EDIT,    "P2/in_review", voids="review launch"),
        # P3/published: live; nothing leaves it
    ),
    publisher_roles=frozenset({Role.OPERATOR, Role.BRAND_MANAGER}),
)
# fmt: on

TEMPLATES: Mapping[TemplateName, Template] = {
    TemplateName.ECOMMERCE: ECOMMERCE,
    TemplateName.CAMPAIGN: CAMPAIGN,
    TemplateName.SOCIAL: SOCIAL,
}

OVERRIDE_KEYS = ("owners", "sla_hours", "allow_same_person_two_gates")


class SettingsError(ValueError):
    """A workspace workflow setting a template cannot take.

    ``path`` locates it in the workspace file (``("workflows", "ecommerce", "sla_hours", "G2")``)
    so a loader can point at its line; ``str()`` reads ``workflows.ecommerce.sla_hours.G2: ...``.
    """

    def __init__(self, path: tuple[str, ...], expected: str) -> None:
        super().__init__(f"{'.'.join(path)}: {expected}")
        self.path = path
        self.expected = expected  # what was wrong and what would have been accepted


def settings_problems(name: str, overrides: Mapping[str, Any] | None = None) -> list[SettingsError]:
    """Return every problem with a workspace's settings for the template called ``name``.

    Checked before anything is stored (workspace load) and again by :func:`load_template`, so a
    setting that loads is one every later command can use.
    """
    where = ("workflows", str(name))
    try:
        template = TEMPLATES[TemplateName(name)]
    except ValueError:
        known = ", ".join(TemplateName)
        return [SettingsError(where, f"unknown workflow template; expected one of {known}")]
    if not overrides:
        return []
    if not isinstance(overrides, Mapping):
        return [
            SettingsError(
                where, f"expected a mapping of {', '.join(OVERRIDE_KEYS)}, got {overrides!r}"
            )
        ]
    problems = [
        SettingsError(
            (*where, str(key)), f"unknown setting; expected one of {', '.join(OVERRIDE_KEYS)}"
        )
        for key in overrides
        if key not in OVERRIDE_KEYS
    ]
    relax = overrides.get("allow_same_person_two_gates")
    if relax is not None and not isinstance(relax, bool):
        problems.append(
            SettingsError(
                (*where, "allow_same_person_two_gates"), f"expected true or false, got {relax!r}"
            )
        )
    for key, check in (("owners", _owner), ("sla_hours", _hours)):
        value = overrides.get(key)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            problems.append(
                SettingsError((*where, key), f"expected a mapping of gate to value, got {value!r}")
            )
            continue
        gate_ids = [gate.id for gate in template.gates]
        for gate_id, item in value.items():
            path = (*where, key, str(gate_id))
            if gate_id not in gate_ids:
                known = ", ".join(gate_ids)
                problems.append(
                    SettingsError(
                        path, f"unknown gate for {template.name}; expected one of {known}"
                    )
                )
                continue
            expected = check(item)
            if expected:
                problems.append(SettingsError(path, expected))
    return problems


def load_template(name: str, overrides: Mapping[str, Any] | None = None) -> Template:
    """Return the template called ``name`` with a workspace's gate settings applied.

    ``overrides`` is the workspace file's ``workflows.<name>`` section, for example
    ``{"sla_hours": {"G1": 24}, "owners": {"G2": "content_lead"}}``, and
    ``allow_same_person_two_gates: true`` to let one person approve two gates of a version.
    Gates cannot be added or removed. Raise :class:`SettingsError` (a ValueError) naming the
    offending key (``workflows.ecommerce.owners.G9``) for an unknown template, setting, gate or
    role, a role that owns no gate, a non-positive SLA or a relaxation that is not true or
    false; :func:`settings_problems` lists them all.
    """
    problems = settings_problems(name, overrides)
    if problems:
        raise problems[0]
    template = TEMPLATES[TemplateName(name)]
    if not overrides:
        return template
    owners = overrides.get("owners") or {}
    sla = overrides.get("sla_hours") or {}
    gates = tuple(
        replace(
            gate,
            owner=Role(owners.get(gate.id, gate.owner)),
            sla_hours=float(sla.get(gate.id, gate.sla_hours)),
        )
        for gate in template.gates
    )
    relax = bool(overrides.get("allow_same_person_two_gates", False))
    return replace(template, gates=gates, allow_same_person_two_gates=relax)


def _owner(value: object) -> str | None:
    """Return what was expected of a gate owner, or None if ``value`` is one."""
    deciding = ", ".join(role for role in Role if role in GATE_OWNING_ROLES)
    try:
        role = Role(value)
    except ValueError:
        return f"unknown role {value!r}; expected one of {deciding}"
    if role not in GATE_OWNING_ROLES:
        return f"{role} owns no gate; expected a deciding role: {deciding}"
    return None


def _hours(value: object) -> str | None:
    """Return what was expected of an SLA, or None if ``value`` is one."""
    if isinstance(value, bool) or not isinstance(value, Real) or not value > 0:
        return f"expected a positive number of hours, got {value!r}"
    return None
