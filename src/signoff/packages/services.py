"""Run a brief: expand its packages, check completeness, draft and check every package.

The drafting and checking happen in memory (pure code); everything the run stores (packages,
versions, findings, the run record and one audit event per package) is written in one
transaction, so a run either lands whole or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
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
from signoff.briefs.completeness import family_attributes, find_gaps
from signoff.briefs.models import Brief
from signoff.channels.catalog import resolve_spec
from signoff.channels.spec import ChannelSpec
from signoff.core.hashing import content_hash
from signoff.packages.confidence import confidence
from signoff.packages.matrix import Cell, expand
from signoff.packages.models import Finding, Package, Run, Version
from signoff.workspaces.rules import brand_rules

STEPS = (
    "Reading product context",
    "Analysing references",
    "Generating options",
    "Checking brand fit",
)
DRAFTER = "agent:copy_drafter"
Progress = Callable[[str, int, int], None]  # (step, done, total)

# Where a freshly drafted package waits, and where one missing data waits.
DRAFTED = ("S3", Package.State.IN_REVIEW)
MISSING_DATA = ("S2", Package.State.BLOCKED)
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
    gaps: list
    existing: Package | None = None
    draft_fields: dict | None = None
    origin: dict | None = None
    findings: list[CheckFinding] = field(default_factory=list)


@dataclass
class RunSummary:
    run_id: int
    packages: int
    drafted: int
    skipped: int  # already drafted from this brief version
    blocked: int
    findings: dict[str, int]


def _noop(step: str, done: int, total: int) -> None:
    """Progress sink for callers that don't show progress."""


def run_brief(
    brief: Brief,
    *,
    provider: Provider | None = None,
    progress: Progress = _noop,
    actor: str = "system:run",
) -> RunSummary:
    """Draft and check every package of the brief's latest version that needs it."""
    provider = provider or get_provider()
    version = brief.latest_version()
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

    # 1. Product context: which facts each package needs and lacks.
    family = family_attributes(products)
    plans: list[PlannedPackage] = []
    skipped = 0
    for i, cell in enumerate(cells, 1):
        package = existing.get(cell)
        current = package.current_version if package else None
        if current is not None and current.brief_version_id == version.pk:
            skipped += 1
        else:
            channel = channels[cell.channel]
            needed, gaps = find_gaps(
                by_sku[cell.sku], channel, family, data.get("required_attributes", [])
            )
            plans.append(PlannedPackage(cell, by_sku[cell.sku], channel, needed, gaps, package))
        progress(STEPS[0], i, len(cells))

    # 2. References: the product images, checked once per channel.
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
    for i, plan in enumerate(ready, 1):
        result = provider.draft(
            DraftRequest(
                channel=plan.channel,
                product=plan.product,
                brief=brief_facts,
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

    return _store(brief, version, plans, skipped, actor)


def _position_fields(plan: PlannedPackage, now) -> dict:
    stage, state = MISSING_DATA if plan.gaps else DRAFTED
    return {
        "stage": stage,
        "state": state,
        "stage_entered_at": now,
        "completeness": {"required": plan.needed, "missing": [g.field for g in plan.gaps]},
        "blocked_reasons": [
            {"kind": "missing_data", "field": g.field, "message": g.message} for g in plan.gaps
        ],
        "blocked_from": "S2/draft" if plan.gaps else "",
        "confidence": confidence(
            (f.severity for f in plan.findings), len(plan.needed), len(plan.gaps)
        ),
    }


def _store(brief: Brief, version, plans: list[PlannedPackage], skipped: int, actor: str):
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
        before = {id(p): p.existing.position if p.existing else "" for p in plans}
        new, changed = [], []
        for plan in plans:
            fields = _position_fields(plan, now)
            if plan.existing is None:
                plan.existing = Package(
                    brief=brief,
                    sku=plan.cell.sku,
                    channel=plan.cell.channel,
                    market=plan.cell.market,
                    variant=plan.cell.variant,
                    owner=brief.owner,
                    **fields,
                )
                new.append(plan.existing)
            else:
                for name, value in fields.items():
                    setattr(plan.existing, name, value)
                changed.append(plan.existing)
        Package.objects.bulk_create(new)
        if changed:
            Package.objects.bulk_update(changed, POSITION_FIELDS, batch_size=500)
        versions = {}
        for plan in plans:
            if plan.draft_fields is not None:
                previous = plan.existing.current_version
                versions[id(plan)] = Version(
                    package=plan.existing,
                    number=(previous.number + 1) if previous else 1,
                    fields=plan.draft_fields,
                    origin=plan.origin,
                    author=DRAFTER,
                    parent=previous,
                    brief_version=version,
                    content_hash=content_hash(plan.draft_fields),
                )
        Version.objects.bulk_create(versions.values())
        Finding.objects.bulk_create(
            (
                Finding(
                    version=versions[id(plan)],
                    agent=f.agent,
                    rule_id=f.rule_id,
                    severity=f.severity,
                    field=f.field or "",
                    span_start=f.span[0] if f.span else None,
                    span_end=f.span[1] if f.span else None,
                    message=f.message,
                    suggested_fix=f.suggested_fix or "",
                )
                for plan in plans
                for f in plan.findings
            ),
            batch_size=2000,
        )
        if versions:
            latest = Version.objects.filter(package=OuterRef("pk")).order_by("-number")
            Package.objects.filter(pk__in=[v.package_id for v in versions.values()]).update(
                current_version=Subquery(latest.values("pk")[:1])
            )
        record_many(
            [
                _event(brief, run, plan, versions.get(id(plan)), before[id(plan)], actor)
                for plan in plans
            ]
        )
        severities: dict[str, int] = defaultdict(int)
        for plan in plans:
            for f in plan.findings:
                severities[f.severity] += 1
        blocked = sum(1 for plan in plans if plan.gaps)
        run.status = "finished"
        run.finished_at = timezone.now()
        run.summary = {
            "packages": len(plans) + skipped,
            "drafted": len(versions),
            "skipped": skipped,
            "blocked": blocked,
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
    return RunSummary(
        run.pk, len(plans) + skipped, len(versions), skipped, blocked, dict(severities)
    )


def _event(
    brief: Brief, run: Run, plan: PlannedPackage, stored: Version | None, before: str, actor: str
) -> dict:
    package = plan.existing
    return {
        "action": "package.drafted" if stored else "package.blocked",
        "actor": DRAFTER if stored else actor,
        "actor_kind": "agent" if stored else "system",
        "subject_type": "package",
        "subject_id": str(package.pk),
        "workspace": brief.workspace.slug,
        "from_position": before,
        "to_position": package.position,
        "content_hash": stored.content_hash if stored else "",
        "sku": package.sku,
        "channel": package.channel,
        "data": {
            "run": run.pk,
            "version": stored.number if stored else None,
            "findings": len(plan.findings),
            "missing": [g.field for g in plan.gaps],
        },
    }
