"""A person's new version of a package: an edit, or a checker's suggested fix accepted.

Like every decision (``signoff.packages.decisions``), each is one transaction: the package
locked, the workflow asked, the version with its findings, the approvals it voids, its score
and the audit event stored together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils import timezone

from signoff.agents.context import CheckFinding, FieldValue
from signoff.core.errors import InputError, NotFound, Problem
from signoff.memory.services import remember
from signoff.packages.claims import release_claims_no_longer_made
from signoff.packages.decisions import ItemResult, _decide, _locked_package, _move, _record
from signoff.packages.diffing import describe_changes
from signoff.packages.editing import check_edit
from signoff.packages.models import (
    Approval,
    Finding,
    Note,
    Package,
    Version,
    carried_image_findings,
)
from signoff.packages.refusals import records_refusals
from signoff.packages.scoring import score_version
from signoff.workflow import Action, Decision, ErrorCode, StateError
from signoff.workspaces.models import Person


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
