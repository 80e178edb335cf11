"""What the screens' buttons do: each calls one domain service and reports in plain words.

Nothing here decides anything: the services lock, ask the workflow engine and record the
audit event; these functions only turn a refusal into a result a person can read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial

from django.db.models import QuerySet

from signoff.briefs.approval import approve_brief
from signoff.briefs.models import Brief
from signoff.briefs.workflow import template_for
from signoff.core.errors import InputError, NotFound
from signoff.delivery.services import LaunchResult, launch_channel
from signoff.packages.assignment import reassign_item
from signoff.packages.authoring import apply_fix as apply_suggested_fix
from signoff.packages.decisions import (
    ItemResult,
    approve_package,
    decide_each,
    reject_package,
    review_package,
)
from signoff.packages.models import Package
from signoff.web.approval_matrix import at_launch_gate, launch_gate
from signoff.workflow import WorkflowError
from signoff.workspaces.models import Person


@dataclass(frozen=True)
class Outcome:
    """One action's result for the screen: ok or refused, and why."""

    ok: bool
    message: str
    code: str = ""


def _act(
    person: Person,
    action: str,
    note: str,
    owner: str,
    *,
    batch: bool,
    expected_gate: str | None,
    package_id: int,
) -> ItemResult:
    if action == "reassign":
        return reassign_item(package_id=package_id, person=person, owner_email=owner)
    if action == "review":
        return review_package(package_id=package_id, person=person)
    if action == "approve":
        return approve_package(
            package_id=package_id,
            person=person,
            note=note,
            batch=batch,
            expected_gate=expected_gate,
        )
    if action == "review_approve":
        # One pass: the review mark and the approval, each its own recorded decision; the
        # approval counts as reviewed because it just was.
        reviewed = review_package(package_id=package_id, person=person)
        approved = approve_package(
            package_id=package_id,
            person=person,
            note=note,
            batch=batch,
            expected_gate=expected_gate,
        )
        return dataclasses.replace(approved, message=f"{reviewed.message}; {approved.message}")
    if action == "reject":
        return reject_package(
            package_id=package_id,
            person=person,
            note=note,
            batch=batch,
            expected_gate=expected_gate,
        )
    raise ValueError(f"unknown action {action!r}")


def decide_packages(
    package_ids: list[int],
    *,
    person: Person,
    action: str,
    note: str = "",
    owner: str = "",
    expected_gate: str | None = None,
    batch: bool | None = None,
) -> list[ItemResult]:
    """Review, approve, reject or reassign (to ``owner``) each package in its own transaction;
    refusals per item.

    Several packages are a batch (or ``batch=True``): approval then covers only versions the
    person reviewed. With ``expected_gate``, a package no longer waiting on it is refused.
    """
    ids = list(dict.fromkeys(package_ids))
    act = partial(
        _act,
        person,
        action,
        note,
        owner,
        batch=len(ids) > 1 if batch is None else batch,
        expected_gate=expected_gate,
    )
    return decide_each(ids, lambda package_id: act(package_id=package_id))


def approve_at_launch_gate(brief: Brief, package_id: int, *, person: Person) -> Outcome:
    """Approve one matrix cell at the brief's launch gate (G4); refused if it waits elsewhere."""
    gate = launch_gate(template_for(brief))
    (result,) = decide_packages(
        [package_id], person=person, action="approve", expected_gate=gate.id, batch=False
    )
    return Outcome(result.ok, result.message, result.code or "")


def approve_for_launch(brief: Brief, channel: str, *, person: Person) -> list[ItemResult]:
    """Approve, as one batch, every package of ``channel`` waiting on the launch gate (G4).

    A batch: only the versions this person marked reviewed pass; the others are refused with
    the reason, each in its own result.
    """
    gate = launch_gate(template_for(brief))
    return decide_packages(
        at_launch_gate(brief, channel),
        person=person,
        action="approve",
        expected_gate=gate.id,
        batch=True,
    )


def reassign_choices(person: Person) -> QuerySet[Person]:
    """The people a package of the person's workspace can be reassigned to (lazy: only the
    pages that show the batch form read it)."""
    return Person.objects.filter(workspace_id=person.workspace_id, active=True).order_by("name")


def refusal(exc: WorkflowError | InputError | NotFound) -> Outcome:
    """Say a service's refusal in plain words, with the stable code the API answers too."""
    if isinstance(exc, WorkflowError):
        return Outcome(False, exc.message, exc.code.value)
    if isinstance(exc, InputError):
        return Outcome(False, "; ".join(p.message for p in exc.problems), exc.code)
    return Outcome(False, str(exc), exc.code)


def apply_fix(package: Package, finding_id: int, *, person: Person) -> Outcome:
    """Apply a finding's suggested fix as a new version by ``person`` (``apply_fix``).

    A finding that is not on the current version is not found: ``NotFound`` propagates, so
    the screen can answer 404 as for any other stale link.
    """
    try:
        result, lines = apply_suggested_fix(
            package_id=package.pk, finding_id=finding_id, person=person
        )
    except (WorkflowError, InputError) as exc:
        return refusal(exc)
    changed = f" Changed: {'; '.join(lines)}" if lines else ""
    return Outcome(True, f"{result.message}.{changed}")


def approve_brief_g1(brief: Brief, *, person: Person, note: str = "") -> Outcome:
    """Pass G1 for the brief's latest version."""
    try:
        approval = approve_brief(brief=brief, person=person, note=note)
    except (WorkflowError, NotFound) as exc:
        return refusal(exc)
    return Outcome(True, f"{approval.gate} approved: brief version locked for drafting")


def launch(brief: Brief, channel: str, *, person: Person) -> Outcome:
    """Publish one channel of the brief (the point of no return) and write its bundle."""
    try:
        result: LaunchResult = launch_channel(brief=brief, channel=channel, person=person)
    except (WorkflowError, InputError, NotFound) as exc:
        return refusal(exc)
    return Outcome(
        True,
        f"{channel} launched: {len(result.packages)} packages published by "
        f"{result.launched_by} at {result.launched_at:%Y-%m-%d %H:%M} UTC; "
        f"receipt {result.manifest_hash[:12]}",
    )
