"""The governance rules of ARCHITECTURE.md, one test each, on the pure engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import signoff.workflow
from signoff.workflow import (
    AUDIT_ACTIONS,
    Action,
    Actor,
    ActorKind,
    AuthorityError,
    DecisionInputError,
    ErrorCode,
    Facts,
    Position,
    StateError,
    WorkflowError,
    allowed_actions,
    decide,
    gate_for,
    load_template,
    sla_hours,
)

ECOMMERCE = load_template("ecommerce")
MAYA = Actor(id="maya@x", kind=ActorKind.PERSON, roles=frozenset({"content_lead"}))
NINA = Actor(id="nina@x", kind=ActorKind.PERSON, roles=frozenset({"content_lead"}))
OMAR = Actor(id="omar@x", kind=ActorKind.PERSON, roles=frozenset({"compliance"}))
LENA = Actor(id="lena@x", kind=ActorKind.PERSON, roles=frozenset({"brand_manager"}))
ARI = Actor(id="ari@x", kind=ActorKind.PERSON, roles=frozenset({"operator"}))
ROOT = Actor(id="root@x", kind=ActorKind.PERSON, roles=frozenset({"admin"}))
DRAFTER = Actor(id="agent:copy_drafter", kind=ActorKind.AGENT)
CLAIMS = Actor(id="system:claims", kind=ActorKind.SYSTEM)
OK = Facts(note="ok")  # no makers, no findings, not a batch

AT_G2 = Position.parse("S3/in_review")
AT_G3 = Position.parse("S5/in_review")
AT_G4 = Position.parse("S6/in_review")
APPROVED = Position.parse("S6/approved")
PUBLISHED = Position.parse("S6/published")


def _code(error_type, *args):
    with pytest.raises(error_type) as caught:
        decide(*args)
    return caught.value.code


def test_the_happy_path_from_ai_draft_to_published():
    steps = [
        (Action.DRAFT, DRAFTER, "S3/in_review", None),
        (Action.APPROVE, MAYA, "S5/in_review", "G2"),
        (Action.APPROVE, OMAR, "S6/in_review", "G3"),
        (Action.APPROVE, LENA, "S6/approved", "G4"),
        (Action.PUBLISH, CLAIMS, "S6/published", None),
    ]
    position = Position.parse("S2/draft")

    for action, actor, expected, gate in steps:
        decision = decide(position, action, actor, OK, ECOMMERCE)
        assert (str(decision.next_position), decision.gate) == (expected, gate)
        assert decision.audit_action in AUDIT_ACTIONS
        assert decision.audit_action.startswith("package.")
        position = decision.next_position


# Maker-checker


@pytest.mark.parametrize("position", [AT_G2, AT_G3, AT_G4])
def test_nobody_approves_a_version_they_authored_or_edited(position):
    owner = {AT_G2: MAYA, AT_G3: OMAR, AT_G4: LENA}[position]
    facts = Facts(version_makers=frozenset({"agent:copy_drafter", owner.id}))

    assert _code(AuthorityError, position, Action.APPROVE, owner, facts, ECOMMERCE) == (
        ErrorCode.MAKER_CHECKER
    )


def test_another_holder_of_the_role_may_approve_what_a_colleague_edited():
    facts = Facts(version_makers=frozenset({MAYA.id}))

    assert decide(AT_G2, Action.APPROVE, NINA, facts, ECOMMERCE).gate == "G2"


def test_g1_decides_on_the_brief_and_is_audited_as_such():
    at_g1 = Position.parse("S1/in_review")

    decision = decide(at_g1, Action.APPROVE, MAYA, OK, ECOMMERCE)

    assert (str(decision.next_position), decision.gate) == ("S1/approved", "G1")
    assert decision.audit_action == "brief.gate.approved"


def test_the_brief_author_cannot_pass_g1():
    facts = Facts(version_makers=frozenset({MAYA.id}))
    at_g1 = Position.parse("S1/in_review")

    assert _code(AuthorityError, at_g1, Action.APPROVE, MAYA, facts, ECOMMERCE) == (
        ErrorCode.MAKER_CHECKER
    )


# No admin override, no agent


def test_an_admin_without_the_gate_role_is_refused():
    error = pytest.raises(AuthorityError, decide, AT_G2, Action.APPROVE, ROOT, OK, ECOMMERCE)

    assert error.value.code == ErrorCode.WRONG_ROLE
    assert error.value.required_roles == {"content_lead"}
    assert error.value.http_status == 403


def test_an_admin_who_also_holds_the_gate_role_may_approve():
    admin_lead = Actor(id="root@x", kind="person", roles=frozenset({"admin", "content_lead"}))

    assert decide(AT_G2, Action.APPROVE, admin_lead, OK, ECOMMERCE).next_position == AT_G3


@pytest.mark.parametrize("action", [Action.REVIEW, Action.APPROVE, Action.REJECT])
@pytest.mark.parametrize("kind", [ActorKind.AGENT, ActorKind.SYSTEM])
def test_agents_and_system_events_never_decide_at_a_gate(action, kind):
    # Even holding every role changes nothing: only people decide.
    machine = Actor(id=f"{kind}:x", kind=kind, roles=frozenset({"content_lead", "admin"}))

    assert _code(AuthorityError, AT_G2, action, machine, OK, ECOMMERCE) == ErrorCode.NOT_A_PERSON


def test_an_agent_never_publishes_edits_or_blocks():
    for position, action in [
        (APPROVED, Action.PUBLISH),
        (AT_G2, Action.EDIT),
        (AT_G2, Action.BLOCK),
    ]:
        assert _code(AuthorityError, position, action, DRAFTER, OK, ECOMMERCE) == (
            ErrorCode.NOT_A_PERSON
        )


def test_operators_run_the_work_but_own_no_gate():
    assert allowed_actions(AT_G2, ARI, OK, ECOMMERCE) == (Action.EDIT, Action.BLOCK)


# Batch approval, findings, notes


def test_batch_approval_needs_the_approvers_own_reviewed_mark():
    not_reviewed = Facts(batch=True, reviewed_by_actor=False)
    reviewed = Facts(batch=True, reviewed_by_actor=True)

    assert _code(StateError, AT_G2, Action.APPROVE, MAYA, not_reviewed, ECOMMERCE) == (
        ErrorCode.NOT_REVIEWED
    )
    assert decide(AT_G2, Action.APPROVE, MAYA, reviewed, ECOMMERCE).next_position == AT_G3
    # One at a time, the approval itself is the review.
    assert decide(AT_G2, Action.APPROVE, MAYA, Facts(), ECOMMERCE).next_position == AT_G3


def test_no_gate_passes_with_a_blocking_finding_but_it_can_still_be_rejected():
    facts = Facts(blocking_findings=1, note="fix the claim")

    assert _code(StateError, AT_G3, Action.APPROVE, OMAR, facts, ECOMMERCE) == (
        ErrorCode.BLOCKING_FINDINGS
    )
    assert decide(AT_G3, Action.REJECT, OMAR, facts, ECOMMERCE).next_position == (
        Position.parse("S3/rejected")
    )


@pytest.mark.parametrize("note", ["", "   \n"])
def test_a_rejection_needs_a_note(note):
    error = pytest.raises(
        DecisionInputError, decide, AT_G2, Action.REJECT, MAYA, Facts(note=note), ECOMMERCE
    )

    assert error.value.code == ErrorCode.NOTE_REQUIRED
    assert error.value.http_status == 422


@pytest.mark.parametrize(
    ("position", "gate", "back_to"),
    [
        ("S1/in_review", "G1", "S1/rejected"),
        ("S3/in_review", "G2", "S2/rejected"),
        ("S5/in_review", "G3", "S3/rejected"),
        ("S6/in_review", "G4", "S5/rejected"),
    ],
)
def test_rejection_returns_to_the_previous_stage(position, gate, back_to):
    owner = ECOMMERCE.gate(gate).owner
    actor = Actor(id="checker@x", kind="person", roles=frozenset({owner}))

    decision = decide(Position.parse(position), Action.REJECT, actor, OK, ECOMMERCE)

    assert (str(decision.next_position), decision.gate) == (back_to, gate)
    assert decision.audit_action.endswith(".gate.rejected")


def test_after_a_g2_rejection_the_drafter_redrafts_into_review():
    decision = decide(Position.parse("S2/rejected"), Action.DRAFT, DRAFTER, OK, ECOMMERCE)

    assert decision.next_position == AT_G2


# Edits void approvals


@pytest.mark.parametrize(
    ("position", "voids"),
    [
        ("S3/in_review", ()),
        ("S3/rejected", ("G2",)),
        ("S5/in_review", ("G2",)),
        ("S5/rejected", ("G2", "G3")),
        ("S6/in_review", ("G2", "G3")),
        ("S6/approved", ("G2", "G3", "G4")),
    ],
)
def test_an_edit_voids_every_approval_given_and_returns_to_the_earliest(position, voids):
    decision = decide(Position.parse(position), Action.EDIT, OMAR, OK, ECOMMERCE)

    assert decision.voids == voids
    assert decision.next_position == AT_G2
    assert decision.audit_action == "package.edited"


def test_a_brief_change_after_g1_voids_g1():
    decision = decide(Position.parse("S1/approved"), Action.EDIT, ARI, OK, ECOMMERCE)

    assert (str(decision.next_position), decision.voids) == ("S1/in_review", ("G1",))


# Blocked


UNPUBLISHED = sorted((p for p in ECOMMERCE.positions if p.state != "published"), key=str)


@pytest.mark.parametrize("position", UNPUBLISHED, ids=str)
def test_unblock_returns_to_exactly_where_the_package_was(position):
    blocked = decide(position, Action.BLOCK, CLAIMS, OK, ECOMMERCE).next_position
    again = decide(blocked, Action.BLOCK, ARI, OK, ECOMMERCE).next_position  # a second reason

    unblocked = decide(again, Action.UNBLOCK, CLAIMS, OK, ECOMMERCE).next_position

    assert (blocked.state, blocked.blocked_from) == ("blocked", position)
    assert blocked.stage == position.stage
    assert again == blocked
    assert unblocked == position


ADVANCING = [Action.DRAFT, Action.REVIEW, Action.APPROVE, Action.REJECT, Action.PUBLISH]


@pytest.mark.parametrize("action", ADVANCING)
@pytest.mark.parametrize("origin", ["S2/draft", "S3/in_review", "S5/in_review", "S6/approved"])
def test_blocked_packages_never_advance(origin, action):
    blocked = Position.parse(origin).blocked()
    everyone = Actor(id="all@x", kind="person", roles=frozenset(signoff.workflow.Role))

    assert _code(StateError, blocked, action, everyone, OK, ECOMMERCE) == ErrorCode.INVALID_STATE


def test_an_edit_while_blocked_stays_blocked_and_will_return_to_review():
    blocked = APPROVED.blocked()  # e.g. a claim in the approved copy was withdrawn

    decision = decide(blocked, Action.EDIT, MAYA, OK, ECOMMERCE)

    assert decision.next_position == AT_G2.blocked()
    assert decision.voids == ("G2", "G3", "G4")


def test_unblock_waits_for_every_block_reason_to_be_resolved():
    facts = Facts(open_block_reasons=1)

    assert _code(StateError, AT_G3.blocked(), Action.UNBLOCK, ARI, facts, ECOMMERCE) == (
        ErrorCode.STILL_BLOCKED
    )


def test_unblocking_a_package_that_is_not_blocked_is_a_state_error():
    assert _code(StateError, AT_G3, Action.UNBLOCK, ARI, OK, ECOMMERCE) == ErrorCode.INVALID_STATE


# Published is final


@pytest.mark.parametrize("action", list(Action))
def test_published_is_final(action):
    everyone = Actor(id="all@x", kind="person", roles=frozenset(signoff.workflow.Role))

    error = pytest.raises(StateError, decide, PUBLISHED, action, everyone, OK, ECOMMERCE)

    assert error.value.code == ErrorCode.INVALID_STATE
    assert error.value.http_status == 409
    assert allowed_actions(PUBLISHED, everyone, OK, ECOMMERCE) == ()


def test_positions_outside_the_template_are_state_errors():
    for position in [Position.parse("S4/in_review"), Position.parse("C2/in_review")]:
        assert _code(StateError, position, Action.BLOCK, ARI, OK, ECOMMERCE) == (
            ErrorCode.INVALID_STATE
        )


def test_state_is_checked_before_authority():
    # An agent trying to approve a published package hears about the state, not its kind.
    assert _code(StateError, PUBLISHED, Action.APPROVE, DRAFTER, OK, ECOMMERCE) == (
        ErrorCode.INVALID_STATE
    )


# Positions


def test_positions_round_trip_through_the_storage_format():
    blocked = Position.parse("S5/blocked", blocked_from="S5/in_review")

    assert str(blocked) == "S5/blocked"
    assert str(blocked.blocked_from) == "S5/in_review"
    assert blocked == AT_G3.blocked()


@pytest.mark.parametrize(
    ("text", "blocked_from"),
    [
        ("S5/blocked", ""),  # blocked must remember where it came from
        ("S5/in_review", "S5/in_review"),  # only blocked positions remember
        ("S5/blocked", "S3/in_review"),  # keeps its stage
        ("S6/blocked", "S6/published"),  # published is final
        ("S9/in_review", ""),
        ("S3/pending", ""),
        ("S3", ""),
    ],
)
def test_impossible_positions_are_refused(text, blocked_from):
    with pytest.raises(ValueError, match=r"."):
        Position.parse(text, blocked_from=blocked_from)


# Helpers for UIs


def test_gate_for_names_the_gate_its_owner_and_sla():
    gate = gate_for(AT_G3, ECOMMERCE)

    assert (gate.id, gate.owner, gate.sla_hours) == ("G3", "compliance", 48)
    assert gate_for(APPROVED, ECOMMERCE) is None
    assert gate_for(AT_G3.blocked(), ECOMMERCE) is None
    assert gate_for(Position.parse("S1/in_review"), ECOMMERCE).id == "G1"


def test_sla_hours():
    assert sla_hours("G1", ECOMMERCE) == 24
    assert sla_hours("coherence", load_template("campaign")) == 48


def test_allowed_actions_for_a_gate_owner_includes_reject_before_a_note_is_written():
    assert allowed_actions(AT_G2, MAYA, Facts(), ECOMMERCE) == (
        Action.REVIEW,
        Action.APPROVE,
        Action.REJECT,
        Action.EDIT,
        Action.BLOCK,
    )


def test_allowed_actions_hides_approve_from_the_maker():
    facts = Facts(version_makers=frozenset({MAYA.id}))

    assert Action.APPROVE not in allowed_actions(AT_G2, MAYA, facts, ECOMMERCE)


# Errors


def test_error_types_map_to_distinct_http_statuses():
    statuses = {cls: cls.http_status for cls in (StateError, AuthorityError, DecisionInputError)}

    assert statuses == {StateError: 409, AuthorityError: 403, DecisionInputError: 422}
    assert all(issubclass(cls, WorkflowError) for cls in statuses)


def test_the_workflow_package_imports_nothing_from_django():
    package_dir = Path(signoff.workflow.__file__).parent
    imported = set()
    for path in package_dir.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")

    assert not {name for name in imported if name.split(".")[0] == "django"}
    outside = {
        n for n in imported if n.startswith("signoff.") and not n.startswith("signoff.workflow")
    }
    assert not outside
