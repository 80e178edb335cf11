"""Run a brief: expand its packages, check completeness, draft and check every package.

Drafting and checking happen in memory (pure code); everything the run stores (packages,
versions, findings, the run record and the audit events of every move) is written in one
transaction, so a run lands whole or not at all. Every move goes through the workflow engine:
the copy drafter is an agent, and agents may only draft.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from signoff.agents.checking import check_draft, check_product_images
from signoff.agents.checks.consistency import audit_consistency
from signoff.agents.context import BriefFacts, CheckFinding, Draft, ProductFacts
from signoff.agents.providers import get_provider
from signoff.agents.providers.port import DraftRequest, Provider
from signoff.audit.services import record, record_many
from signoff.briefs.completeness import Gap, family_attributes, find_gaps
from signoff.briefs.models import Brief, BriefVersion
from signoff.briefs.workflow import brief_gate, first_package_position, template_for
from signoff.channels.catalog import resolve_spec
from signoff.channels.spec import ChannelSpec
from signoff.core.hashing import content_hash
from signoff.memory.services import as_prompt_note, notes_for_drafts
from signoff.packages.confidence import confidence
from signoff.packages.matrix import Cell, expand
from signoff.packages.models import Finding, Package, Run, Version
from signoff.workflow import (
    Action,
    Actor,
    ActorKind,
    ErrorCode,
    Facts,
    PackageState,
    Position,
    StateError,
    Template,
    decide,
)
from signoff.workspaces.rules import brand_rules
from signoff.workspaces.selectors import role_holders

STEPS = (
    "Reading product context",
    "Analysing references",
    "Generating options",
    "Checking brand fit",
)
DRAFTER = Actor(id="agent:copy_drafter", kind=ActorKind.AGENT)
Progress = Callable[[str, int, int], None]  # (step, done, total)
POSITION_FIELDS = (
    "stage",
    "state",
    "stage_entered_at",
    "completeness",
    "blocked_reasons",
    "blocked_from",
    "confidence",
)


@dataclass
class PlannedPackage:
    cell: Cell
    product: ProductFacts
    channel: ChannelSpec
    needed: list[str]
    gaps: list[Gap]
    position: Position  # where the package is now (a new one: the template's start)
    existing: Package | None = None
    moves: list[tuple[str, Position, Position]] = field(default_factory=list)  # action, from, to
    draft_fields: dict | None = None
    origin: dict | None = None
    findings: list[CheckFinding] = field(default_factory=list)

    @property
    def target(self) -> Position:
        return self.moves[-1][2] if self.moves else self.position


@dataclass
class RunSummary:
    run_id: int
    packages: int
    drafted: int
    skipped: int  # nothing to do: already drafted, waiting on people, or blocked otherwise
    blocked: int  # blocked for missing product data
    findings: dict[str, int]


def _noop(step: str, done: int, total: int) -> None:
    """Progress sink for callers that don't show progress."""


def drafting_version(brief: Brief, template: Template) -> BriefVersion:
    """Return the brief version to draft from: the one G1 locked, where there is a G1."""
    gate = brief_gate(template)
    if gate is None:
        return brief.latest_version()
    if brief.approved_version_id is None or brief.state != PackageState.APPROVED:
        holders = role_holders(brief.workspace_id).get(gate.owner, [])
        who = ", ".join(holders) or "nobody holds that role yet"
        raise StateError(
            ErrorCode.INVALID_STATE,
            f"brief {brief.slug} has not passed {gate.id} ({gate.label}) for its current "
            f"version; a {gate.owner} ({who}) can approve it: signoff brief approve {brief.slug}",
            gate=gate.id,
            required_roles=[gate.owner],
        )
    return brief.approved_version


def _plan(
    cell: Cell,
    package: Package | None,
    product: ProductFacts,
    channel: ChannelSpec,
    needed: list[str],
    gaps: list[Gap],
    template: Template,
) -> PlannedPackage | None:
    """Decide what the run does to one cell; None when there is nothing to do."""
    if package is None:
        position = first_package_position(template)
    else:
        position = Position.parse(package.position, blocked_from=package.blocked_from)
    plan = PlannedPackage(cell, product, channel, needed, gaps, position, package)
    system = Actor(id="system:run", kind=ActorKind.SYSTEM)
    start = position
    if position.state is PackageState.BLOCKED:
        reasons = package.blocked_reasons if package else []
        if any(r.get("kind") != "missing_data" for r in reasons) or gaps:
            return None  # blocked for another cause, or the data is still missing
        unblocked = decide(position, Action.UNBLOCK, system, Facts(), template)
        plan.moves.append((unblocked.audit_action, position, unblocked.next_position))
        start = unblocked.next_position
    try:
        drafted = decide(start, Action.DRAFT, DRAFTER, Facts(), template)
    except StateError:
        return None  # drafted already, or waiting on people
    if gaps:
        blocked = decide(start, Action.BLOCK, system, Facts(), template)
        plan.moves.append((blocked.audit_action, start, blocked.next_position))
    else:
        plan.moves.append((drafted.audit_action, start, drafted.next_position))
    return plan


def run_brief(
    brief: Brief,
    *,
    provider: Provider | None = None,
    progress: Progress = _noop,
    actor: str = "system:run",
) -> RunSummary:
    """Draft and check every package of the brief that needs it (new, rejected, unblocked)."""
    provider = provider or get_provider()
    template = template_for(brief)
    version = drafting_version(brief, template)
    workspace = brief.workspace
    rules = brand_rules(workspace)
    data = version.data
    products = [p.facts() for p in version.products.all()]
    by_sku = {p.sku: p for p in products}
    channels = {
        cid: resolve_spec(cid, workspace.channel_overrides.get(cid)) for cid in data["channels"]
    }
    existing = {
        Cell(p.sku, p.channel, p.market, p.variant): p
        for p in brief.packages.select_related("current_version")
    }
    cells = expand(list(by_sku), data["channels"], data["markets"], data["variants"])

    # 1. Product context: which facts each package needs and lacks, and what to do with it.
    family = family_attributes(products)
    required_attributes = data.get("required_attributes", [])
    plans: list[PlannedPackage] = []
    for i, cell in enumerate(cells, 1):
        product, channel = by_sku[cell.sku], channels[cell.channel]
        needed, gaps = find_gaps(product, channel, family, required_attributes)
        plan = _plan(cell, existing.get(cell), product, channel, needed, gaps, template)
        if plan is not None:
            plans.append(plan)
        progress(STEPS[0], i, len(cells))

    # 2. References: the product images, checked once per channel and SKU.
    base_dir = Path(version.base_dir or ".")
    image_findings: dict[tuple[str, str], list[CheckFinding]] = {}
    for i, plan in enumerate(plans, 1):
        key = (plan.cell.channel, plan.cell.sku)
        if key not in image_findings:
            paths = [base_dir / image for image in plan.product.images]
            image_findings[key] = check_product_images(plan.channel, paths)
        progress(STEPS[1], i, len(plans))

    # 3. Drafting, for every package that has the data it needs.
    brief_facts = BriefFacts(
        name=data["name"],
        audience=data.get("audience", ""),
        key_messages=tuple(data.get("key_messages", [])),
        acceptance_criteria=tuple(data.get("acceptance_criteria", [])),
        markets=tuple(data["markets"]),
    )
    ready = [plan for plan in plans if not plan.gaps]
    memory = notes_for_drafts(workspace.pk, {(p.cell.sku, p.cell.channel) for p in ready})
    for i, plan in enumerate(ready, 1):
        used = memory.get((plan.cell.sku, plan.cell.channel), [])
        facts = replace(brief_facts, notes=tuple(as_prompt_note(n) for n in used))
        result = provider.draft(
            DraftRequest(
                channel=plan.channel,
                product=plan.product,
                brief=facts,
                rules=rules,
                variant=plan.cell.variant,
                variant_index=ord(plan.cell.variant) - ord("A"),
                market=plan.cell.market,
            )
        )
        plan.draft_fields = result.fields
        plan.origin = {
            "kind": "agent",
            "agent": "copy_drafter",
            "provider": result.provider,
            "model": result.model,
            "prompt": result.prompt,
            "parameters": result.parameters,
            "input_tokens": result.input_tokens,
            "output_tokens": result.output_tokens,
            "latency_ms": result.latency_ms,
            "cost": result.cost,
            "notes_used": list(facts.notes),
            "memory_ids": [n.pk for n in used],
        }
        progress(STEPS[2], i, len(ready))

    # 4. Checks: every rule on every draft, then consistency across each SKU's packages.
    drafts: dict[Cell, Draft] = {}
    for i, plan in enumerate(ready, 1):
        draft = Draft(
            plan.channel, plan.draft_fields, plan.product, plan.cell.market, plan.cell.variant
        )
        drafts[plan.cell] = draft
        plan.findings = (
            check_draft(draft, rules) + image_findings[(plan.cell.channel, plan.cell.sku)]
        )
        progress(STEPS[3], i, len(ready))
    plan_by_cell = {plan.cell: plan for plan in ready}
    for cell, finding in audit_consistency(list(drafts.items()), rules):
        plan_by_cell[cell].findings.append(finding)

    return _store(brief, version, plans, len(cells) - len(plans), actor)


def _position_fields(plan: PlannedPackage, now: datetime) -> dict:
    target = plan.target
    return {
        "stage": target.stage.value,
        "state": target.state.value,
        "stage_entered_at": now,
        "completeness": {"required": plan.needed, "missing": [g.field for g in plan.gaps]},
        "blocked_reasons": [
            {"kind": "missing_data", "field": g.field, "message": g.message} for g in plan.gaps
        ],
        "blocked_from": str(target.blocked_from) if target.blocked_from else "",
        "confidence": confidence(
            (f.severity for f in plan.findings), len(plan.needed), len(plan.gaps)
        ),
    }


def _store(
    brief: Brief, version: BriefVersion, plans: list[PlannedPackage], skipped: int, actor: str
) -> RunSummary:
    now = timezone.now()
    with transaction.atomic():
        run = Run.objects.create(brief=brief, brief_version=version)
        record(
            action="run.started",
            actor=actor,
            actor_kind="system",
            subject_type="run",
            subject_id=str(run.pk),
            workspace=brief.workspace.slug,
            data={"brief": brief.slug, "version": version.number, "packages": len(plans)},
        )
        new, changed = [], []
        for plan in plans:
            values = _position_fields(plan, now)
            if plan.existing is None:
                plan.existing = Package(
                    brief=brief,
                    sku=plan.cell.sku,
                    channel=plan.cell.channel,
                    market=plan.cell.market,
                    variant=plan.cell.variant,
                    owner=brief.owner,
                    **values,
                )
                new.append(plan.existing)
            else:
                for name, value in values.items():
                    setattr(plan.existing, name, value)
                changed.append(plan.existing)
        Package.objects.bulk_create(new)
        if changed:
            Package.objects.bulk_update(changed, POSITION_FIELDS, batch_size=500)
        versions: dict[int, Version] = {}
        for plan in plans:
            if plan.draft_fields is not None:
                previous = plan.existing.current_version
                versions[id(plan)] = Version(
                    package=plan.existing,
                    number=(previous.number + 1) if previous else 1,
                    fields=plan.draft_fields,
                    origin=plan.origin,
                    author=DRAFTER.id,
                    parent=previous,
                    brief_version=version,
                    content_hash=content_hash(plan.draft_fields),
                )
        Version.objects.bulk_create(versions.values())
        Finding.objects.bulk_create(
            (Finding.from_check(versions[id(plan)], f) for plan in plans for f in plan.findings),
            batch_size=2000,
        )
        if versions:
            latest = Version.objects.filter(package=OuterRef("pk")).order_by("-number")
            Package.objects.filter(pk__in=[v.package_id for v in versions.values()]).update(
                current_version=Subquery(latest.values("pk")[:1])
            )
        record_many(
            [
                event
                for plan in plans
                for event in _events(brief, run, plan, versions.get(id(plan)), actor)
            ]
        )
        severities = Counter(f.severity.value for plan in plans for f in plan.findings)
        run.status = "finished"
        run.finished_at = timezone.now()
        run.summary = {
            "packages": len(plans) + skipped,
            "drafted": len(versions),
            "skipped": skipped,
            "blocked": sum(1 for plan in plans if plan.gaps),
            "findings": dict(severities),
        }
        run.save(update_fields=["status", "finished_at", "summary"])
        record(
            action="run.finished",
            actor=actor,
            actor_kind="system",
            subject_type="run",
            subject_id=str(run.pk),
            workspace=brief.workspace.slug,
            data=run.summary,
        )
    return RunSummary(run.pk, **run.summary)


def _events(
    brief: Brief, run: Run, plan: PlannedPackage, stored: Version | None, actor: str
) -> list[dict]:
    package = plan.existing
    events = []
    for action, before, after in plan.moves:
        drafted = action.endswith(".drafted")
        events.append(
            {
                "action": action,
                "actor": DRAFTER.id if drafted else actor,
                "actor_kind": "agent" if drafted else "system",
                "subject_type": "package",
                "subject_id": str(package.pk),
                "workspace": brief.workspace.slug,
                "from_position": str(before),
                "to_position": str(after),
                "content_hash": stored.content_hash if drafted and stored else "",
                "sku": package.sku,
                "channel": package.channel,
                "data": {
                    "run": run.pk,
                    "version": stored.number if drafted and stored else None,
                    "findings": len(plan.findings) if drafted else 0,
                    "missing": [g.field for g in plan.gaps],
                },
            }
        )
    return events
