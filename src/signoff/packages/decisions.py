"""People's decisions on packages: review, approve, reject, edit (or apply a suggested fix).

Each decision is one transaction: lock the package, read the person's roles as they are now,
ask the pure workflow engine (``signoff.workflow.decide``), store the new position, the
approval or note, and the audit event together. A batch is a list of such transactions; one
item's refusal never touches another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from signoff.agents.context import CheckFinding, FieldValue
from signoff.audit.services import record
from signoff.briefs.workflow import template_for
from signoff.core.errors import InputError, NotFound, Problem
from signoff.memory.services import remember, remember_winner
from signoff.packages.claims import release_claims_no_longer_made
from signoff.packages.diffing import describe_changes
from signoff.packages.editing import check_edit
from signoff.packages.image_slots import empty_image_slots
from signoff.packages.models import (
    Approval,
    Finding,
    Note,
    Package,
    Review,
    Version,
    carried_image_findings,
)
from signoff.packages.readiness import blocking_rules, empty_fields
from signoff.packages.refusals import records_refusals
from signoff.packages.scoring import score_version
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


def save_version(
    package: Package,
    person: Person,
    decision: Decision,
    previous: Version,
    *,
    fields: dict,
    images: dict | None,
    digest: str,
    findings: list[CheckFinding],
    origin: dict,
    author: str | None = None,
) -> tuple[Version, list[str], str]:
    """Store a person's new version of the package with its findings; void every live
    approval (the new content matches none), move the package as decided, and score it.

    Return the version, the gates whose approvals were voided, and where the package was.
    Runs inside the caller's transaction, before the caller records the event.
    """
    version = Version.objects.create(
        package=package,
        number=previous.number + 1,
        fields=fields,
        images=images or None,
        origin=origin,
        author=author or person.email,
        parent=previous,
        brief_version=previous.brief_version,
        content_hash=digest,
    )
    Finding.objects.bulk_create(Finding.from_check(version, f) for f in findings)
    now = timezone.now()
    live = Approval.objects.filter(package=package, voided_at__isnull=True)
    voided = list(live.values_list("gate", flat=True))
    live.update(voided_at=now, voided_by=version)
    before = _move(package, decision, now)
    package.current_version = version
    package.confidence = score_version(package, version, findings)
    package.save(update_fields=["current_version", "confidence"])
    return version, voided, before


def suggestion_is_checkers(workspace: object) -> bool:
    """Whether an accepted suggested fix is recorded as the checker's (the default policy)."""
    policies = getattr(workspace, "policies", None) or {}
    return policies.get("accepted_suggestion_authorship", "checker") == "checker"


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """Read ``field=value`` pairs from the command line."""
    changes: dict[str, str] = {}
    problems = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            problems.append(Problem(f"expected field=value, got {pair!r}", field="--set"))
        else:
            changes[name.strip()] = value
    if problems:
        raise InputError(problems)
    return changes


@records_refusals("package", "edit")
def edit_package(
    *,
    package_id: int,
    person: Person,
    changes: Mapping[str, FieldValue],
    note: str = "",
    suggestion: Finding | None = None,
    base_version: int | None = None,
) -> tuple[ItemResult, list[str]]:
    """Save a person's new version; void the approvals it no longer matches.

    ``base_version``: the version number the person edited (the editor's form carries it).
    When the package has moved on to a newer version since, saving would silently undo that
    version's changes (a lost update): refused as a state error, and nothing is stored.

    ``suggestion``: the changes are that finding's suggested fix, accepted verbatim (only
    :func:`apply_fix` passes it). Under the workspace policy
    ``accepted_suggestion_authorship: checker`` (the default) the version is the checker's
    (author ``agent:<check>``, origin kind ``suggestion`` naming who accepted it), so the person
    who accepted it may still approve it; under ``person`` it is their edit like any other.

    Return the result and the diff reporter's lines (what changed, field by field).
    """
    with transaction.atomic():
        package, person, decision = _decide(package_id, person, Action.EDIT, note=note)
        previous = package.current_version
        if previous is None:
            raise StateError(
                ErrorCode.INVALID_STATE, f"package {package.pk} has no version to edit yet"
            )
        if base_version is not None and previous.number != base_version:
            raise StateError(
                ErrorCode.INVALID_STATE,
                f"package {package.pk} is at version {previous.number} (by {previous.author}) "
                f"since you opened version {base_version}: nothing was saved; reload it, "
                f"see what changed, and make your change again on version {previous.number}",
            )
        # The same checks the web editor runs as you type (signoff.packages.editing).
        checked = check_edit(package, previous, changes)
        if not checked.changed:
            raise InputError(
                [Problem("nothing changed: the new values equal the current ones", field="--set")]
            )
        fields, digest, product, rules = (
            checked.fields,
            checked.digest,
            checked.product,
            checked.rules,
        )
        findings = list(checked.findings)
        # The images did not change: their checks still stand on the new version.
        findings += carried_image_findings(previous)
        origin = {
            "kind": "person",
            "person": person.email,
            "note": note,
            "changed": sorted(changes),
        }
        author = None
        if suggestion is not None and suggestion_is_checkers(package.brief.workspace):
            author = f"agent:{suggestion.agent}"
            origin = {
                **origin,
                "kind": "suggestion",
                "agent": suggestion.agent,
                "rule_id": suggestion.rule_id,
                "finding": suggestion.pk,
                "accepted_by": person.email,
                "policy": "accepted_suggestion_authorship: checker",
            }
        version, voided, before = save_version(
            package,
            person,
            decision,
            previous,
            fields=fields,
            images=previous.images,
            digest=digest,
            findings=findings,
            origin=origin,
            author=author,
        )
        summary = describe_changes(previous.fields, fields, rules=rules, product=product)
        if note:
            remember(
                kind=Note.Kind.EDIT,
                package=package,
                text=note,
                person=person.email,
                version=version,
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
                "parent": previous.number,
                "parent_hash": previous.content_hash,
                "voided": voided,
                "changes": summary,
                **({"accepted_suggestion": origin} if author else {}),
            },
        )
        # Copy that no longer makes a withdrawn claim is released from that block (its own
        # event, after the edit's).
        release_claims_no_longer_made(package, person)
    message = f"version {version.number} saved; now {package.position}"
    if voided:
        message += f"; voided approvals: {', '.join(voided)}"
    return ItemResult(package.pk, True, "edited", message, position=package.position), summary


@records_refusals("package", "edit")
def apply_fix(*, package_id: int, finding_id: int, person: Person) -> tuple[ItemResult, list[str]]:
    """Apply a finding's suggested fix as a new version, accepted by ``person``: like an edit,
    but recorded as the checker's suggestion under the default workspace policy (see
    :func:`edit_package`).

    The finding must be on the package's current version (``NotFound`` otherwise: a finding of
    an older version is gone) and name a field and a fix (``InputError`` at ``finding_id``). A
    fix that no longer fits its field is refused the same way, about this finding.
    """
    with transaction.atomic():
        package = _locked_package(package_id, person)  # the current version cannot move now
        finding = Finding.objects.filter(
            pk=finding_id, version_id=package.current_version_id
        ).first()
        if finding is None:
            raise NotFound(
                f"no finding {finding_id} on the current version of package {package.pk}"
            )
        if not finding.field or not finding.suggested_fix:
            raise InputError.single(
                f"finding {finding.pk} suggests no fix to apply", field="finding_id"
            )
        try:
            return edit_package(
                package_id=package.pk,
                person=person,
                changes={finding.field: finding.suggested_fix},
                note=f"applied the suggested fix for {finding.rule_id}",
                suggestion=finding,
            )
        except InputError as exc:
            raise InputError(
                [Problem(f"{finding.field}: {p.message}", field="finding_id") for p in exc.problems]
            ) from exc


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
