"""Claim status changes and the packages they block or release, across every brief.

Flagging or withdrawing a claim blocks every package whose current version makes it;
reinstating it releases them (each returns exactly to where it was once no other cause holds
it). The claim change, every block or unblock and their audit events are one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from signoff.agents.checks.claims import claim_mentions
from signoff.agents.context import Draft
from signoff.audit.services import record
from signoff.briefs.workflow import template_for
from signoff.channels.catalog import resolve_spec
from signoff.core.errors import InputError, NotFound, Problem
from signoff.packages.models import Package
from signoff.workflow import (
    Action,
    Actor,
    ActorKind,
    AuthorityError,
    ErrorCode,
    Facts,
    Position,
    Role,
    decide,
)
from signoff.workspaces.models import Claim, Person, Workspace
from signoff.workspaces.rules import brand_rules

CLAIMS_SYSTEM = Actor(id="system:claims", kind=ActorKind.SYSTEM)
USABLE = {Claim.Status.APPROVED}
# The claims registry is compliance's: a status change blocks or releases copy everywhere.
CLAIM_KEEPERS = frozenset({Role.COMPLIANCE})
# Called inside set_claim_status's transaction with (workspace, claim id, new status); each
# returns facts for the claim's event. The outbox registers here, so this module never
# imports it: published packages are past blocking, but what was delivered may need a takedown.
status_changed: list[Callable[[Workspace, str, str], dict[str, Any]]] = []


@dataclass
class ClaimChange:
    claim: str
    before: str
    after: str
    blocked: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)


def packages_using(
    workspace: Workspace, claim_id: str, *, published: bool = False
) -> list[Package]:
    """Return the unpublished packages (or, with ``published``, the published ones) whose
    current version makes the claim."""
    rules = brand_rules(workspace)
    packages = Package.objects.filter(
        brief__workspace=workspace, current_version__isnull=False
    ).select_related("brief", "current_version", "current_version__brief_version")
    if published:
        packages = packages.filter(state=Package.State.PUBLISHED)
    else:
        packages = packages.exclude(state=Package.State.PUBLISHED)
    products: dict[tuple[int, str], object] = {}
    specs: dict[str, object] = {}
    using = []
    for package in packages:
        version = package.current_version
        key = (version.brief_version_id, package.sku)
        if key not in products:
            products[key] = version.brief_version.products.get(sku=package.sku).facts()
        if package.channel not in specs:
            specs[package.channel] = resolve_spec(
                package.channel, workspace.channel_overrides.get(package.channel)
            )
        draft = Draft(specs[package.channel], version.fields, products[key])
        if any(m.claim_id == claim_id for m in claim_mentions(draft, rules)):
            using.append(package)
    return using


def blocked_by_claim(workspace: Workspace, claim_id: str) -> list[Package]:
    """Return the packages a claim holds blocked, whatever their copy says now."""
    blocked = Package.objects.filter(brief__workspace=workspace, state=Package.State.BLOCKED)
    return [p for p in blocked if any(r.get("claim") == claim_id for r in p.blocked_reasons)]


def release_claims_no_longer_made(package: Package, person: Person) -> list[str]:
    """After an edit: drop the claim reasons the new copy no longer gives; unblock if none left.

    Call inside the edit's transaction, with the package locked. Return the claims dropped.
    """
    held = [r["claim"] for r in package.blocked_reasons if r.get("kind") == "claim"]
    if not held:
        return []
    workspace = package.brief.workspace
    spec = resolve_spec(package.channel, workspace.channel_overrides.get(package.channel))
    product = package.current_version.brief_version.products.get(sku=package.sku).facts()
    draft = Draft(spec, package.current_version.fields, product)
    still = {m.claim_id for m in claim_mentions(draft, brand_rules(workspace))}
    dropped = [claim for claim in held if claim not in still]
    for claim in dropped:
        _release(package, claim, person)
    return dropped


def set_claim_status(
    *, workspace: Workspace, claim_id: str, status: str, note: str, person: Person
) -> ClaimChange:
    """Change a claim's status and block or release every package that uses it."""
    if status not in Claim.Status.values:
        raise InputError(
            [Problem(f"expected one of {', '.join(Claim.Status.values)}", field="status")]
        )
    if not note.strip():
        raise InputError([Problem("say why the claim's status changes", field="--note")])
    with transaction.atomic():
        person = Person.objects.get(pk=person.pk)
        if person.workspace_id != workspace.pk:
            raise NotFound(f"no workspace {workspace.slug!r} for {person.email}")
        if not CLAIM_KEEPERS & set(person.roles):
            raise AuthorityError(
                ErrorCode.WRONG_ROLE,
                f"{person.email} may not change the claims registry: compliance must",
                required_roles=CLAIM_KEEPERS,
            )
        try:
            claim = Claim.objects.select_for_update().get(workspace=workspace, claim_id=claim_id)
        except Claim.DoesNotExist as exc:
            known = ", ".join(workspace.claims.values_list("claim_id", flat=True))
            raise NotFound(f"no claim {claim_id!r} in {workspace.slug} (known: {known})") from exc
        change = ClaimChange(claim_id, claim.status, status)
        claim.status = status
        claim.save(update_fields=["status", "updated_at"])
        affected = packages_using(workspace, claim_id)
        locked = Package.objects.select_for_update(of=("self",)).filter(
            pk__in=[p.pk for p in affected]
        )
        for package in locked.select_related("brief", "brief__workspace"):
            if status in USABLE:
                if _release(package, claim_id, person):
                    change.released.append(package.pk)
            elif _block(package, claim_id, status, note, person):
                change.blocked.append(package.pk)
        facts = {
            k: v for hook in status_changed for k, v in hook(workspace, claim_id, status).items()
        }
        record(
            action="claim.status_changed",
            actor=person.email,
            subject_type="claim",
            subject_id=claim_id,
            workspace=workspace.slug,
            note=note,
            data={
                "from": change.before,
                "to": status,
                "blocked": change.blocked,
                "released": change.released,
                **facts,
            },
        )
    return change


def _save_move(
    package: Package, action: Action, reasons: list[dict], person: Person, claim_id: str
) -> None:
    template = template_for(package.brief)
    position = Position.parse(package.position, blocked_from=package.blocked_from)
    decision = decide(
        position, action, CLAIMS_SYSTEM, Facts(open_block_reasons=len(reasons)), template
    )
    before = package.position
    target = decision.next_position
    package.stage, package.state = target.stage.value, target.state.value
    package.blocked_from = str(target.blocked_from) if target.blocked_from else ""
    package.blocked_reasons = reasons
    if before != package.position:
        package.stage_entered_at = timezone.now()
    package.save(
        update_fields=["stage", "state", "blocked_from", "blocked_reasons", "stage_entered_at"]
    )
    record(
        action=decision.audit_action,
        actor=CLAIMS_SYSTEM.id,
        actor_kind="system",
        subject_type="package",
        subject_id=str(package.pk),
        workspace=package.brief.workspace.slug,
        from_position=before,
        to_position=package.position,
        content_hash=package.current_version.content_hash if package.current_version_id else "",
        sku=package.sku,
        channel=package.channel,
        data={"claim": claim_id, "by": person.email},
    )


def _block(package: Package, claim_id: str, status: str, note: str, person: Person) -> bool:
    if any(r.get("claim") == claim_id for r in package.blocked_reasons):
        return False
    reasons = [
        *package.blocked_reasons,
        {
            "kind": "claim",
            "claim": claim_id,
            "field": "",
            "message": f"uses claim {claim_id!r}, now {status}: {note}",
        },
    ]
    _save_move(package, Action.BLOCK, reasons, person, claim_id)
    return True


def _release(package: Package, claim_id: str, person: Person) -> bool:
    reasons = [r for r in package.blocked_reasons if r.get("claim") != claim_id]
    if len(reasons) == len(package.blocked_reasons):
        return False
    if reasons:  # still held by another cause: only the reason goes
        package.blocked_reasons = reasons
        package.save(update_fields=["blocked_reasons"])
        return True
    _save_move(package, Action.UNBLOCK, reasons, person, claim_id)
    return True
