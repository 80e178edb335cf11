"""Who can act on a package's gate, and what an action would cost the person taking it.

Pure Python, no Django, no I/O: it asks :func:`decide` the same questions a decision would,
before anyone clicks. So a screen can name who can approve ("Omar Haddad or Lena Park"),
disable Approve with the gate's own reason, and warn that an edit makes its author ineligible
at the next gate (maker-checker) or that approving here rules out another gate of the same
version (separation of duties) -- rules that otherwise only bite after the fact.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from signoff.workflow.authority import Actor
from signoff.workflow.decide import Facts, decide, gate_for
from signoff.workflow.errors import AuthorityError, DecisionInputError, ErrorCode, WorkflowError
from signoff.workflow.states import Action, ActorKind, PackageState, Position, Role
from signoff.workflow.templates import Gate, GateLevel, Template
from signoff.workflow.wording import names_list, plain_message, role_label


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A person of the workspace, as the gate sees them for one version."""

    id: str  # email
    name: str
    roles: frozenset[Role] = frozenset()
    gates_approved: frozenset[str] = frozenset()  # gates of this version they approved

    def actor(self) -> Actor:
        return Actor(id=self.id, kind=ActorKind.PERSON, roles=self.roles)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one action would pass now; if not, the refusal's code and whole message."""

    ok: bool
    code: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Eligibility:
    """What the gate panel, the API's package answer and ``signoff show`` say about a gate."""

    gate: Gate | None
    can_approve: tuple[Candidate, ...] = ()  # who could approve this version here now
    cannot_approve: tuple[tuple[Candidate, str], ...] = ()  # role holders who could not, why
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # the viewer's, by action
    # What each action would cause for the viewer, said before they act ("" when nothing).
    consequences: dict[str, str] = field(default_factory=dict)

    @property
    def who(self) -> str:
        """``Omar Haddad or Lena Park can approve``, or why nobody can."""
        if self.gate is None:
            return ""
        if self.can_approve:
            return f"{names_list([c.name for c in self.can_approve])} can approve"
        owner = role_label(self.gate.owner)
        return f"Nobody can approve this version at {self.gate.id}: no other {owner} is eligible"


def _reason(exc: WorkflowError, candidate: Candidate, gate: Gate) -> str:
    """The short reason a role holder cannot approve, for a list of names."""
    if exc.code is ErrorCode.MAKER_CHECKER:
        return "wrote or edited this version"
    if exc.code is ErrorCode.SAME_PERSON_TWO_GATES:
        others = sorted(candidate.gates_approved - {gate.id})
        return f"already approved this version at {', '.join(others)}"
    if exc.code is ErrorCode.WRONG_ROLE:
        return f"does not hold {role_label(gate.owner)}"
    return exc.message


def approvers(
    position: Position,
    template: Template,
    candidates: list[Candidate],
    version_makers: frozenset[str],
) -> tuple[tuple[Candidate, ...], tuple[tuple[Candidate, str], ...]]:
    """Return who may approve at the gate ``position`` waits on, and the role holders who may
    not (with why). Only who-questions count here: a blocking finding stops everyone alike."""
    gate = gate_for(position, template)
    if gate is None:
        return (), ()
    able: list[Candidate] = []
    unable: list[tuple[Candidate, str]] = []
    for candidate in candidates:
        if gate.owner not in candidate.roles:
            continue
        facts = Facts(
            version_makers=version_makers, gates_approved_by_actor=candidate.gates_approved
        )
        try:
            decide(position, Action.APPROVE, candidate.actor(), facts, template)
        except AuthorityError as exc:
            unable.append((candidate, _reason(exc, candidate, gate)))
        except WorkflowError:
            able.append(candidate)  # a state refusal stops everyone: not about who
        else:
            able.append(candidate)
    return tuple(able), tuple(unable)


def _verdict(
    position: Position, action: Action, actor: Actor, facts: Facts, t: Template
) -> Verdict:
    try:
        decide(position, action, actor, facts, t)
    except DecisionInputError:
        return Verdict(True)  # only lacks the person's input (a rejection's note)
    except WorkflowError as exc:
        return Verdict(False, exc.code.value, exc.message)
    return Verdict(True)


def eligibility(
    position: Position,
    template: Template,
    viewer: Candidate,
    candidates: list[Candidate],
    facts: Facts,
    *,
    fix_is_authorship: bool = False,
) -> Eligibility:
    """Return who can act on the gate ``position`` waits on, the viewer's verdict per action
    (``approve``, ``reject``, ``review``, ``edit``, ``fix``) and what each would cause.

    ``facts`` are the viewer's facts for an approval (``Facts.version_makers`` are everybody's).
    ``fix_is_authorship``: the workspace counts an accepted suggested fix as its acceptor's
    edit (policy ``accepted_suggestion_authorship: person``); by default it is the checker's.
    """
    gate = gate_for(position, template)
    able, unable = approvers(position, template, candidates, facts.version_makers)
    actor = viewer.actor()
    verdicts = {
        "approve": _verdict(position, Action.APPROVE, actor, facts, template),
        "reject": _verdict(position, Action.REJECT, actor, replace(facts, note="?"), template),
        "review": _verdict(position, Action.REVIEW, actor, facts, template),
        "edit": _verdict(position, Action.EDIT, actor, facts, template),
    }
    verdicts = {
        action: replace(v, reason=_to_you(v.reason, viewer.id)) for action, v in verdicts.items()
    }
    verdicts["fix"] = verdicts["edit"]
    consequences = {
        "edit": _after_new_version(position, template, viewer, candidates, facts, True),
        "fix": _after_new_version(position, template, viewer, candidates, facts, fix_is_authorship),
        "approve": _after_approval(position, template, viewer, candidates, facts)
        if verdicts["approve"].ok
        else "",
    }
    return Eligibility(
        gate=gate,
        can_approve=able,
        cannot_approve=unable,
        verdicts=verdicts,
        consequences=consequences,
    )


def _to_you(message: str, viewer_id: str) -> str:
    """Say a refusal to the person it refuses: "maya@... (content_lead) may not" -> "You ..."."""
    if not message:
        return message
    if message.startswith(viewer_id):
        message = "You" + message[len(viewer_id) :]
    return plain_message(message.replace(viewer_id, "you"))


def _after_new_version(
    position: Position,
    template: Template,
    viewer: Candidate,
    candidates: list[Candidate],
    facts: Facts,
    authorship: bool,
) -> str:
    """Say what saving a new version (an edit, or an accepted fix) does to who can approve."""
    try:
        move = decide(position, Action.EDIT, viewer.actor(), facts, template)
    except WorkflowError:
        return ""
    target = move.next_position
    waiting = Position(stage=target.stage, state=PackageState.IN_REVIEW)
    if target.state is PackageState.BLOCKED and target.blocked_from is not None:
        waiting = target.blocked_from
    gate = gate_for(waiting, template)
    voided = f"It voids the approvals at {', '.join(move.voids)}. " if move.voids else ""
    if gate is None:
        return voided.strip()
    makers = facts.version_makers | ({viewer.id} if authorship else frozenset())
    # A new version: nobody has approved it anywhere yet.
    fresh = [replace(c, gates_approved=frozenset()) for c in candidates]
    able, _ = approvers(waiting, template, fresh, makers)
    others = names_list([c.name for c in able if c.id != viewer.id])
    where = f"{gate.id} ({gate.label})"
    if gate.owner in viewer.roles and viewer.id in makers:
        who = f"{others} can" if others else f"nobody else holds {role_label(gate.owner)}"
        return f"{voided}You will not be able to approve the new version at {where}; {who}."
    if gate.owner in viewer.roles and not authorship:
        return (
            f"{voided}Recorded as an accepted suggestion, not your edit: you can still "
            f"approve the new version at {where}."
        )
    if not able:
        return f"{voided}Nobody would be able to approve the new version at {where}."
    can = names_list([c.name for c in able])
    return f"{voided}The new version waits on {where}: {can} can approve it."


def _after_approval(
    position: Position,
    template: Template,
    viewer: Candidate,
    candidates: list[Candidate],
    facts: Facts,
) -> str:
    """Say which later gate of this version approving here rules the viewer out of."""
    if template.allow_same_person_two_gates:
        return ""
    here = gate_for(position, template)
    later = [
        g
        for g in template.gates
        if g.level is GateLevel.PACKAGE
        and here is not None
        and g.id != here.id
        and template.gates.index(g) > template.gates.index(here)
        and g.owner in viewer.roles
    ]
    if not later:
        return ""
    gate = later[0]
    others = [
        c.name
        for c in candidates
        if c.id != viewer.id and gate.owner in c.roles and c.id not in facts.version_makers
    ]
    who = f"{names_list(others)} can" if others else f"nobody else holds {role_label(gate.owner)}"
    return (
        f"Approving here means you cannot also approve this version at {gate.id} "
        f"({gate.label}); {who}."
    )
