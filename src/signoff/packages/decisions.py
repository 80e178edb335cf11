"""People's decisions on packages: review, approve, reject, edit (or apply a suggested fix).

Each decision is one transaction: lock the package, read the person's roles as they are now,
ask the pure workflow engine (``signoff.workflow.decide``), store the new position, the
approval or note, and the audit event together. A batch is a list of such transactions; one
item's refusal never touches another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from signoff.audit.services import record
from signoff.briefs.workflow import template_for
from signoff.core.errors import NotFound
from signoff.memory.services import remember, remember_winner
from signoff.packages.image_slots import empty_image_slots
from signoff.packages.models import (
    Approval,
    Note,
    Package,
    Review,
    Version,
)
from signoff.packages.readiness import blocking_rules, empty_fields
from signoff.packages.refusals import records_refusals
from signoff.workflow import (
    Action,
    Actor,
    ActorKind,
    Decision,
    ErrorCode,
    Facts,
    PackageState,
    Position,
    StateError,
    WorkflowError,
    decide,
    gate_for,
)
from signoff.workspaces.models import Person


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What happened to one package of a (possibly one-item) request."""

    package_id: int
    ok: bool
    outcome: str  # "approved", "rejected", "reviewed", "edited", or "refused"
    message: str
    code: str | None = None  # a stable ErrorCode value when refused
    http_status: int = 200
    position: str = ""


def person_actor(person: Person) -> Actor:
    return Actor(id=person.email, kind=ActorKind.PERSON, roles=frozenset(person.roles))


def _current_person(person: Person) -> Person:
    """Re-read the person inside the transaction: roles count as they are at this moment."""
    return Person.objects.get(pk=person.pk)


def _locked_package(package_id: int, person: Person) -> Package:
    """Lock the package; one in another workspace does not exist for this person."""
    try:
        return (
            Package.objects.select_for_update(of=("self",))
            .select_related("brief", "brief__workspace", "current_version")
            .get(pk=package_id, brief__workspace_id=person.workspace_id)
        )
    except Package.DoesNotExist as exc:
        raise NotFound(f"no package {package_id}") from exc


def _makers(package: Package) -> frozenset[str]:
    """Every person who authored a version up to the current one (an agent is nobody's maker)."""
    current = package.current_version
    if current is None:
        return frozenset()
    authors = Version.objects.filter(package=package, number__lte=current.number).values_list(
        "author", flat=True
    )
    return frozenset(a for a in authors if "@" in a)


def _facts(
    package: Package, person: Person, action: Action, *, batch: bool = False, note: str = ""
) -> Facts:
    version = package.current_version
    blocking = blocking_rules(version)
    approving = action is Action.APPROVE
    return Facts(
        version_makers=_makers(package),
        reviewed_by_actor=bool(version)
        and Review.objects.filter(version=version, person=person.email).exists(),
        batch=batch,
        blocking_findings=len(blocking),
        blocking_rules=blocking,
        open_block_reasons=len(package.blocked_reasons),
        note=note,
        empty_image_slots=empty_image_slots(package, version) if approving else (),
        empty_fields=empty_fields(package, version) if approving else (),
        gates_approved_by_actor=_gates_approved(version, person)
        if action is Action.APPROVE
        else frozenset(),
    )


def _gates_approved(version: Version | None, person: Person) -> frozenset[str]:
    """The gates this person approved this exact version at (a voided approval counts: it
    was still given to this version)."""
    if version is None:
        return frozenset()
    return frozenset(
        Approval.objects.filter(version=version, person=person.email).values_list("gate", flat=True)
    )


def _position(package: Package) -> Position:
    return Position.parse(package.position, blocked_from=package.blocked_from)


def _move(package: Package, decision: Decision, now: datetime) -> str:
    """Save the decision's position on the package; return where it was, for the event."""
    before = package.position
    target = decision.next_position
    if str(target) != before:
        package.stage, package.state = target.stage.value, target.state.value
        package.blocked_from = str(target.blocked_from) if target.blocked_from else ""
        package.stage_entered_at = now
        package.save(update_fields=["stage", "state", "blocked_from", "stage_entered_at"])
    return before


def _ensure_gate(package: Package, expected_gate: str | None) -> None:
    if expected_gate is None:
        return
    gate = gate_for(_position(package), template_for(package.brief))
    if gate is None or gate.id != expected_gate:
        now_waiting = f"now waits on {gate.id}" if gate else f"is now at {package.position}"
        raise StateError(
            ErrorCode.INVALID_STATE,
            f"package {package.pk} is no longer waiting on {expected_gate}: it {now_waiting}",
            gate=expected_gate,
        )


def _ensure_unmoved(package: Package, action: Action, asked_at: datetime | None) -> None:
    """Refuse, as a state error, a decision on a package that moved after it was asked for.

    The lock is taken after the asking: a package that moved meanwhile was decided by someone
    else first (a lost race). What the person decided about is gone, so the answer is 409
    "look again", never the 403 the package's new gate would give them (wrong role there).
    """
    if asked_at is None or package.stage_entered_at <= asked_at:
        return
    gate = gate_for(_position(package), template_for(package.brief))
    waiting = f", waiting on {gate.id}" if gate else ""
    raise StateError(
        ErrorCode.INVALID_STATE,
        f"package {package.pk} moved on while your {action.value} waited: another decision "
        f"took it to {package.position}{waiting}; look at it again before deciding",
        gate=gate.id if gate else None,
    )


def _decide(
    package_id: int,
    person: Person,
    action: Action,
    *,
    batch: bool = False,
    note: str = "",
    expected_gate: str | None = None,
    asked_at: datetime | None = None,
) -> tuple[Package, Person, Decision]:
    """Lock the package, re-read the person, and ask the workflow engine (inside a transaction)."""
    package = _locked_package(package_id, person)
    _ensure_gate(package, expected_gate)
    _ensure_unmoved(package, action, asked_at)
    person = _current_person(person)
    decision = decide(
        _position(package),
        action,
        person_actor(person),
        _facts(package, person, action, batch=batch, note=note),
        template_for(package.brief),
    )
    return package, person, decision


def _record(
    package: Package,
    person: Person,
    decision: Decision,
    before: str,
    *,
    version: Version | None,
    note: str = "",
    data: dict,
) -> None:
    record(
        action=decision.audit_action,
        actor=person.email,
        subject_type="package",
        subject_id=str(package.pk),
        workspace=package.brief.workspace.slug,
        from_position=before,
        to_position=package.position,
        content_hash=version.content_hash if version else "",
        note=note,
        sku=package.sku,
        channel=package.channel,
        gate=decision.gate,
        data=data,
    )


@records_refusals("package", "review")
def review_package(*, package_id: int, person: Person) -> ItemResult:
    """Mark the current version reviewed by this person (required for batch approval)."""
    with transaction.atomic():
        package, person, decision = _decide(package_id, person, Action.REVIEW)
        version = package.current_version
        _, created = Review.objects.get_or_create(
            package=package, version=version, person=person.email
        )
        if created:
            _record(
                package,
                person,
                decision,
                package.position,
                version=version,
                data={"version": version.number},
            )
    return ItemResult(
        package.pk,
        True,
        "reviewed",
        f"version {version.number} marked reviewed",
        position=package.position,
    )


@records_refusals("package", "approve")
def approve_package(
    *,
    package_id: int,
    person: Person,
    note: str = "",
    batch: bool = False,
    expected_gate: str | None = None,
    asked_at: datetime | None = None,
) -> ItemResult:
    """Pass the package's current gate for its current version.

    ``asked_at`` is when the person asked (now, by default): a package that moved on after it
    is refused as a state error (409), the answer every loser of an approval race gets.
    """
    asked_at = asked_at or timezone.now()  # before the lock: the lock may wait on a winner
    with transaction.atomic():
        package, person, decision = _decide(
            package_id,
            person,
            Action.APPROVE,
            batch=batch,
            note=note,
            expected_gate=expected_gate,
            asked_at=asked_at,
        )
        version = package.current_version
        try:
            with transaction.atomic():  # a savepoint: a lost race must not poison the outer one
                Approval.objects.create(
                    package=package,
                    version=version,
                    gate=decision.gate,
                    person=person.email,
                    content_hash=version.content_hash,
                    note=note,
                )
        except IntegrityError as exc:
            raise StateError(
                ErrorCode.INVALID_STATE,
                f"{decision.gate} was already approved for package {package.pk}",
                gate=decision.gate,
            ) from exc
        before = _move(package, decision, timezone.now())
        if note:
            remember(
                kind=Note.Kind.APPROVAL,
                package=package,
                text=note,
                person=person.email,
                version=version,
                gate=decision.gate,
            )
        if decision.next_position.state is PackageState.APPROVED:
            remember_winner(
                package=package, version=version, person=person.email, gate=decision.gate
            )
        _record(
            package,
            person,
            decision,
            before,
            version=version,
            note=note,
            data={
                "version": version.number,
                "batch": batch,
                "roles": sorted(person.roles),
                **_relaxed(package, decision),
            },
        )
    return ItemResult(
        package.pk,
        True,
        "approved",
        f"{decision.gate} approved; now {package.position}",
        position=package.position,
    )


def _relaxed(package: Package, decision: Decision) -> dict:
    """Say, in the approval's event, that separation of duties was relaxed for it, and by
    which workspace setting."""
    if not decision.also_approved_by_actor:
        return {}
    setting = f"workflows.{package.brief.template}.allow_same_person_two_gates"
    return {
        "same_person_two_gates": {
            "allowed_by": setting,
            "also_approved": list(decision.also_approved_by_actor),
        }
    }


@records_refusals("package", "reject")
def reject_package(
    *,
    package_id: int,
    person: Person,
    note: str,
    batch: bool = False,
    expected_gate: str | None = None,
    asked_at: datetime | None = None,
) -> ItemResult:
    """Send the package back to the previous stage with the notes (the next draft reads them).

    ``asked_at`` as for :func:`approve_package`.
    """
    asked_at = asked_at or timezone.now()  # before the lock: the lock may wait on a winner
    with transaction.atomic():
        package, person, decision = _decide(
            package_id,
            person,
            Action.REJECT,
            batch=batch,
            note=note,
            expected_gate=expected_gate,
            asked_at=asked_at,
        )
        version = package.current_version
        before = _move(package, decision, timezone.now())
        remember(
            kind=Note.Kind.REJECTION,
            package=package,
            text=note,
            person=person.email,
            version=version,
            gate=decision.gate,
        )
        _record(
            package,
            person,
            decision,
            before,
            version=version,
            note=note,
            data={"version": version.number if version else None, "batch": batch},
        )
    return ItemResult(
        package.pk,
        True,
        "rejected",
        f"{decision.gate} rejected; back at {package.position}",
        position=package.position,
    )


# The most packages one batch request may name, in the API and the web app alike: a batch is one
# transaction per package, in the request, so its size bounds the request's time.
BATCH_LIMIT = 500


def decide_each(package_ids: Iterable[int], act: Callable[[int], ItemResult]) -> list[ItemResult]:
    """Apply ``act`` to each package in its own transaction; report refusals per item."""
    results = []
    for package_id in package_ids:
        try:
            results.append(act(package_id))
        except WorkflowError as exc:
            results.append(
                ItemResult(
                    package_id,
                    False,
                    "refused",
                    exc.message,
                    code=exc.code.value,
                    http_status=exc.http_status,
                )
            )
        except NotFound as exc:
            results.append(
                ItemResult(package_id, False, "refused", str(exc), code=exc.code, http_status=404)
            )
    return results
