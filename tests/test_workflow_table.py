"""Every (position, action, actor) cell of every template against a table written by hand.

The expected tables below are the specification, written from ARCHITECTURE.md and the seeds,
independently of ``signoff.workflow.templates``: they never call the engine to compute what it
should answer.
"""

from __future__ import annotations

import itertools

import pytest

from signoff.workflow import (
    AUDIT_ACTIONS,
    Action,
    Actor,
    ActorKind,
    AuthorityError,
    Facts,
    Position,
    StateError,
    decide,
    load_template,
)

# One actor per role, plus an AI agent and a system event.
ACTORS = {
    "content_lead": Actor(id="maya@x", kind=ActorKind.PERSON, roles=frozenset({"content_lead"})),
    "compliance": Actor(id="omar@x", kind=ActorKind.PERSON, roles=frozenset({"compliance"})),
    "brand_manager": Actor(id="lena@x", kind=ActorKind.PERSON, roles=frozenset({"brand_manager"})),
    "operator": Actor(id="ari@x", kind=ActorKind.PERSON, roles=frozenset({"operator"})),
    "admin": Actor(id="root@x", kind=ActorKind.PERSON, roles=frozenset({"admin"})),
    "cmo": Actor(id="sofia@x", kind=ActorKind.PERSON, roles=frozenset({"cmo"})),
    "ceo": Actor(id="daniel@x", kind=ActorKind.PERSON, roles=frozenset({"ceo"})),
    "agent": Actor(id="agent:copy_drafter", kind=ActorKind.AGENT),
    "system": Actor(id="system:claims", kind=ActorKind.SYSTEM),
}

# Facts under which only position and actor matter: nobody here made the version, the approver
# reviewed it, there are no findings or open block reasons, and a note is given.
NEUTRAL = Facts(reviewed_by_actor=True, note="see the notes")


def _groups(owners: dict[str, str], editors: set[str], publishers: set[str]) -> dict[str, set]:
    """Name the sets of actors the tables refer to."""
    return {
        **{gate: {role} for gate, role in owners.items()},
        "editors": editors,  # people who do the work: operator and every gate owner
        "drafters": editors | {"agent", "system"},  # a new AI draft
        "stewards": editors | {"admin", "system"},  # block and unblock
        "publishers": publishers | {"system"},  # launch
    }


# position, action, next position, who may (a gate id means its owner)
ECOMMERCE = """
S1/draft      draft    S1/in_review  drafters
S1/draft      edit     S1/in_review  editors
S1/in_review  review   S1/in_review  G1
S1/in_review  approve  S1/approved   G1
S1/in_review  reject   S1/rejected   G1
S1/in_review  edit     S1/in_review  editors
S1/rejected   draft    S1/in_review  drafters
S1/rejected   edit     S1/in_review  editors
S1/approved   edit     S1/in_review  editors
S2/draft      draft    S3/in_review  drafters
S2/draft      edit     S3/in_review  editors
S2/rejected   draft    S3/in_review  drafters
S2/rejected   edit     S3/in_review  editors
S3/in_review  review   S3/in_review  G2
S3/in_review  approve  S5/in_review  G2
S3/in_review  reject   S2/rejected   G2
S3/in_review  edit     S3/in_review  editors
S3/rejected   edit     S3/in_review  editors
S5/in_review  review   S5/in_review  G3
S5/in_review  approve  S6/in_review  G3
S5/in_review  reject   S3/rejected   G3
S5/in_review  edit     S3/in_review  editors
S5/rejected   edit     S3/in_review  editors
S6/in_review  review   S6/in_review  G4
S6/in_review  approve  S6/approved   G4
S6/in_review  reject   S5/rejected   G4
S6/in_review  edit     S3/in_review  editors
S6/approved   publish  S6/published  publishers
S6/approved   edit     S3/in_review  editors
"""
ECOMMERCE_WHO = _groups(
    owners={"G1": "content_lead", "G2": "content_lead", "G3": "compliance", "G4": "brand_manager"},
    editors={"operator", "content_lead", "compliance", "brand_manager"},
    publishers={"operator", "brand_manager"},
)

CAMPAIGN = """
C1/draft      draft    C2/in_review  drafters
C1/draft      edit     C2/in_review  editors
C1/rejected   draft    C2/in_review  drafters
C1/rejected   edit     C2/in_review  editors
C2/in_review  review   C2/in_review  approve
C2/in_review  approve  C3/in_review  approve
C2/in_review  reject   C1/rejected   approve
C2/in_review  edit     C2/in_review  editors
C2/rejected   edit     C2/in_review  editors
C3/in_review  review   C3/in_review  coherence
C3/in_review  approve  C4/approved   coherence
C3/in_review  reject   C2/rejected   coherence
C3/in_review  edit     C2/in_review  editors
C4/approved   publish  C4/published  publishers
C4/approved   edit     C2/in_review  editors
"""
CAMPAIGN_WHO = _groups(
    owners={"approve": "cmo", "coherence": "ceo"},
    editors={"operator", "cmo", "ceo"},
    publishers={"operator", "cmo"},
)

SOCIAL = """
P1/draft      draft    P2/in_review  drafters
P1/draft      edit     P2/in_review  editors
P1/rejected   draft    P2/in_review  drafters
P1/rejected   edit     P2/in_review  editors
P2/in_review  review   P2/in_review  review
P2/in_review  approve  P3/in_review  review
P2/in_review  reject   P1/rejected   review
P2/in_review  edit     P2/in_review  editors
P2/rejected   edit     P2/in_review  editors
P3/in_review  review   P3/in_review  launch
P3/in_review  approve  P3/approved   launch
P3/in_review  reject   P2/rejected   launch
P3/in_review  edit     P2/in_review  editors
P3/approved   publish  P3/published  publishers
P3/approved   edit     P2/in_review  editors
"""
SOCIAL_WHO = _groups(
    owners={"review": "content_lead", "launch": "brand_manager"},
    editors={"operator", "content_lead", "brand_manager"},
    publishers={"operator", "brand_manager"},
)

# The audit event each action records, after "package." (or "brief." at S1).
AUDIT_EVENT_NAME = {
    "draft": "drafted",
    "review": "reviewed",
    "approve": "gate.approved",
    "reject": "gate.rejected",
    "edit": "edited",
    "block": "blocked",
    "unblock": "unblocked",
    "publish": "published",
}

SPECS = {
    "ecommerce": (ECOMMERCE, ECOMMERCE_WHO),
    "campaign": (CAMPAIGN, CAMPAIGN_WHO),
    "social": (SOCIAL, SOCIAL_WHO),
}


def _expected_moves(table: str, who: dict[str, set]) -> dict[tuple[Position, Action], tuple]:
    """Read a table and add the block rules: {(position, action): (next, actors allowed)}."""
    moves = {}
    for line in table.strip().splitlines():
        source, action, target, group = line.split()
        moves[Position.parse(source), Action(action)] = (Position.parse(target), who[group])
    known = {p for (source, _), (target, _) in moves.items() for p in (source, target)}
    for position in known - {p for p in known if p.state == "published"}:
        blocked = position.blocked()
        moves[position, Action.BLOCK] = (blocked, who["stewards"])
        moves[blocked, Action.BLOCK] = (blocked, who["stewards"])  # another reason
        moves[blocked, Action.UNBLOCK] = (position, who["stewards"])  # exactly where it was
        if (position, Action.EDIT) in moves:  # an edit while blocked keeps it blocked
            target, editors = moves[position, Action.EDIT]
            moves[blocked, Action.EDIT] = (target.blocked(), editors)
    return moves


def _cases() -> list:
    cases = []
    for name, (table, who) in SPECS.items():
        moves = _expected_moves(table, who)
        positions = sorted(
            {source for source, _ in moves} | {t for t, _ in moves.values()}, key=repr
        )
        for position, action, actor in itertools.product(positions, Action, ACTORS):
            if (position, action) not in moves:
                expected = StateError
            else:
                target, allowed = moves[position, action]
                expected = target if actor in allowed else AuthorityError
            where = f"{position}<-{position.blocked_from}" if position.blocked_from else position
            case_id = f"{name}-{where}-{action}-{actor}"
            cases.append(pytest.param(name, position, action, actor, expected, id=case_id))
    return cases


@pytest.mark.parametrize(("template_name", "position", "action", "actor", "expected"), _cases())
def test_every_cell(template_name, position, action, actor, expected):
    template = load_template(template_name)

    if isinstance(expected, Position):
        decision = decide(position, action, ACTORS[actor], NEUTRAL, template)
        assert decision.next_position == expected
        subject = "brief" if position.stage == "S1" else "package"
        assert decision.audit_action == f"{subject}.{AUDIT_EVENT_NAME[action]}"
        assert decision.audit_action in AUDIT_ACTIONS  # registered
    else:
        with pytest.raises(expected):
            decide(position, action, ACTORS[actor], NEUTRAL, template)


@pytest.mark.parametrize("template_name", SPECS)
def test_the_engine_knows_exactly_the_positions_of_the_table(template_name):
    table, _ = SPECS[template_name]
    expected = {
        Position.parse(word) for line in table.strip().splitlines() for word in line.split()[::2]
    }

    assert load_template(template_name).positions == expected
