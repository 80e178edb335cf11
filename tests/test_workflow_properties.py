"""Random walks through each template: whatever people, agents and events try, no package is
published without a fresh approval at every gate by a person who holds the gate's role and did
not make the version."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from hypothesis import event, given, settings
from hypothesis import strategies as st

from signoff.workflow import (
    Action,
    Actor,
    ActorKind,
    Facts,
    GateLevel,
    PackageState,
    Position,
    Role,
    WorkflowError,
    allowed_actions,
    decide,
    load_template,
)
from signoff.workflow.states import GATE_OWNING_ROLES

PEOPLE = [
    Actor(id=f"{role}-{n}@x", kind=ActorKind.PERSON, roles=frozenset({role}))
    for role in Role
    for n in ((1, 2) if role in GATE_OWNING_ROLES else (1,))
] + [Actor(id="admin-lead@x", kind=ActorKind.PERSON, roles=frozenset({"admin", "content_lead"}))]
MACHINES = [
    Actor(id="agent:copy_drafter", kind=ActorKind.AGENT),
    Actor(id="system:claims", kind=ActorKind.SYSTEM),
]
FORWARD = {Action.DRAFT, Action.REVIEW, Action.APPROVE, Action.PUBLISH, Action.UNBLOCK}
START = {"ecommerce": "S2/draft", "campaign": "C1/draft", "social": "P1/draft"}


def _facts_for(step: Facts, reviewed_by: set[str], actor: Actor) -> Facts:
    return replace(step, reviewed_by_actor=actor.id in reviewed_by)


@settings(max_examples=120, deadline=None)
@given(name=st.sampled_from(sorted(START)), data=st.data())
def test_nothing_is_published_without_fresh_approvals_at_every_gate(name, data):
    template = load_template(name)
    package_gates = {g.id for g in template.gates if g.level is GateLevel.PACKAGE}
    position = Position.parse(START[name])
    makers: frozenset[str] = frozenset()
    approvals: dict[str, str] = {}  # gate -> who approved the current version
    reviewed_by: set[str] = set()

    for _ in range(data.draw(st.integers(10, 50), label="steps")):
        batch = data.draw(st.booleans(), label="batch")
        findings = data.draw(st.sampled_from([0, 0, 0, 1]), label="blocking findings")
        note = data.draw(st.sampled_from(["", "too long"]), label="note")

        step = Facts(version_makers=makers, batch=batch, blocking_findings=findings, note=note)
        facts_for = partial(_facts_for, step, reviewed_by)

        # Mostly moves forward, so that walks get far; then any possible move (a rejection, an
        # edit, a block); sometimes anything at all, by anyone.
        possible: dict[Action, list[Actor]] = {}
        for someone in PEOPLE + MACHINES:
            for allowed in allowed_actions(position, someone, facts_for(someone), template):
                possible.setdefault(allowed, []).append(someone)
        forward = sorted(FORWARD & set(possible))
        if forward and data.draw(st.integers(0, 2), label="go forward") > 0:
            action = data.draw(st.sampled_from(forward), label="action")
            actor = data.draw(st.sampled_from(possible[action]), label="actor")
        elif possible and data.draw(st.booleans(), label="any possible move"):
            action = data.draw(st.sampled_from(sorted(possible)), label="action")
            actor = data.draw(st.sampled_from(possible[action]), label="actor")
        else:
            action = data.draw(st.sampled_from(list(Action)), label="action")
            actor = data.draw(st.sampled_from(PEOPLE + MACHINES), label="actor")
        try:
            decision = decide(position, action, actor, facts_for(actor), template)
        except WorkflowError:
            continue
        after = decision.next_position

        if position.state is PackageState.BLOCKED:  # blocked packages never advance
            assert after.state is PackageState.BLOCKED or after == position.blocked_from
        if action is Action.APPROVE:
            gate = template.gate(decision.gate)
            assert actor.kind is ActorKind.PERSON
            assert gate.owner in actor.roles
            assert actor.id not in makers
            assert findings == 0
            assert actor.id in reviewed_by or not batch
            approvals[gate.id] = actor.id
        if action in (Action.EDIT, Action.DRAFT):  # a new version: old approvals no longer match
            assert set(decision.voids) == set(approvals)
            approvals.clear()
            reviewed_by.clear()
            # An edit adds its editor to the makers; a fresh AI draft starts over.
            makers = makers | {actor.id} if action is Action.EDIT else frozenset({actor.id})
        if action is Action.REVIEW:
            reviewed_by.add(actor.id)
        if after.state is PackageState.PUBLISHED:
            assert set(approvals) == package_gates
            event(f"{name} published")
        position = after
