"""A run's records: its start and end, and its packages, versions, findings and audit events
written in batches, each one transaction."""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from signoff.audit.services import record, record_many
from signoff.briefs.models import Brief, BriefVersion
from signoff.core.rows import insert_rows
from signoff.core.text import clip
from signoff.packages.confidence import confidence
from signoff.packages.drafting import Budget
from signoff.packages.models import (
    Finding,
    Package,
    Run,
    Version,
    carried_image_findings,
    version_digest,
)
from signoff.packages.planning import DRAFTER, PlannedPackage

logger = logging.getLogger(__name__)


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
class RunSummary:
    run_id: int
    status: str  # "finished", or "stopped" (the budget ran out; run again to go on)
    packages: int
    drafted: int
    skipped: int  # nothing to do: already drafted, waiting on people, or blocked otherwise
    blocked: int  # blocked for missing product data
    failed: int  # the provider gave no valid draft; the package waits for the next run
    not_started: int  # left for the next run when the budget stopped this one
    findings: dict[str, int]
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    message: str = ""


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
        "confidence": _confidence(plan),
    }


def _confidence(plan: PlannedPackage) -> int | None:
    """The new draft's score; a package this run did not draft keeps its own (None if it has
    no version: nothing drafted, nothing to be confident about)."""
    if plan.draft_fields is None or plan.evidence is None:
        return plan.existing.confidence if plan.existing is not None else None
    return confidence(((f.rule_id, f.severity.value) for f in plan.findings), plan.evidence)


def start_run(brief: Brief, version: BriefVersion, actor: str, planned: int) -> Run:
    """Record the run's start, and mark interrupted the runs its worker's death left running:
    this run holds the brief's run lock, so none of them is alive."""
    with transaction.atomic():
        dead = list(brief.runs.filter(status="running").order_by("pk"))
        for stale in dead:
            stale.status = "interrupted"
            stale.summary = {**stale.summary, "status": "interrupted"}
        Run.objects.bulk_update(dead, ["status", "summary"])
        run = Run.objects.create(brief=brief, brief_version=version)
        started = {"brief": brief.slug, "version": version.number, "packages": planned}
        events = [
            {
                "action": "run.interrupted",
                "actor": actor,
                "actor_kind": "system",
                "subject_type": "run",
                "subject_id": str(stale.pk),
                "workspace": brief.workspace.slug,
                "data": {**stale.summary, "found_by_run": run.pk},
            }
            for stale in dead
        ]
        events.append(
            {
                "action": "run.started",
                "actor": actor,
                "actor_kind": "system",
                "subject_type": "run",
                "subject_id": str(run.pk),
                "workspace": brief.workspace.slug,
                "data": started,
            }
        )
        record_many(events)
    return run


class RunBatch:
    """Finished packages waiting to be committed together."""

    def __init__(
        self, brief: Brief, version: BriefVersion, run: Run, actor: str, *, commit_every: int
    ) -> None:
        self.brief, self.version, self.run, self.actor = brief, version, run, actor
        self.commit_every = commit_every
        self.pending: list[PlannedPackage] = []
        self.stored: list[PlannedPackage] = []

    def add(self, plans: list[PlannedPackage]) -> None:
        self.pending += plans
        if len(self.pending) >= self.commit_every:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            stored = self.stored + self.pending
            # What the run has spent so far goes into the same transaction as what it bought,
            # so a run that crashes later still counts against the brief's budget.
            self.run.summary = {"status": "running", **_kept(stored)}
            store_plans(self.brief, self.version, self.run, self.pending, self.actor)
            self.stored = stored
            self.pending = []


def _kept(stored: list[PlannedPackage]) -> dict:
    """What a run that has not finished keeps: its drafts so far and what it spent on them."""
    return {"drafted": sum(1 for p in stored if p.draft_fields is not None), **_spent(stored)}


def _spent(plans: list[PlannedPackage]) -> dict:
    """Tokens and cost of these plans' drafts, failed attempts included."""
    usage = [
        (p.failure.input_tokens, p.failure.output_tokens, p.failure.cost)
        if p.failure is not None
        else tuple(
            (p.origin or {}).get(key, 0) for key in ("input_tokens", "output_tokens", "cost")
        )
        for p in plans
    ]
    return {
        "input_tokens": sum(u[0] for u in usage),
        "output_tokens": sum(u[1] for u in usage),
        "cost": round(sum(u[2] for u in usage), 6),
    }


# The columns the run writes, in the order of the value tuples below.
PACKAGE_COLUMNS = ("brief_id", "sku", "channel", "market", "variant", "owner", *POSITION_FIELDS)


VERSION_COLUMNS = (
    "package_id",
    "number",
    "fields",
    "origin",
    "author",
    "parent_id",
    "brief_version_id",
    "content_hash",
    "created_at",
    "images",
)


def store_plans(
    brief: Brief, version: BriefVersion, run: Run, plans: list[PlannedPackage], actor: str
) -> None:
    """Store packages, versions, findings and their events: one transaction.

    Rows go in as plain value tuples (``insert_rows``): a run writes thousands of them, and
    building a model instance per row would cost more than drafting and checking them.
    """
    now = timezone.now()
    with transaction.atomic():
        new, changed = [], []
        for plan in plans:
            values = _position_fields(plan, now)
            if plan.existing is None:
                cell = plan.cell
                new.append(
                    (
                        plan,
                        (
                            brief.pk,
                            cell.sku,
                            cell.channel,
                            cell.market,
                            cell.variant,
                            brief.owner,
                            *(values[name] for name in POSITION_FIELDS),
                        ),
                    )
                )
            else:
                for name, value in values.items():
                    setattr(plan.existing, name, value)
                plan.package_id = plan.existing.pk
                changed.append(plan.existing)
        ids = insert_rows(Package, PACKAGE_COLUMNS, (row for _, row in new), returning=True)
        for (plan, _), pk in zip(new, ids, strict=True):
            plan.package_id = pk
        if changed:
            Package.objects.bulk_update(changed, POSITION_FIELDS, batch_size=500)
        drafted = [plan for plan in plans if plan.draft_fields is not None]
        for plan in drafted:
            previous = plan.existing.current_version if plan.existing else None
            plan.version_number = (previous.number + 1) if previous else 1
            # A redraft keeps the package's images: only the copy is new.
            plan.images = (previous.images if previous else None) or {}
            plan.content_hash = version_digest(plan.draft_fields, plan.images)
            if plan.images:  # the images' checks still stand on the redraft
                plan.findings = [*plan.findings, *carried_image_findings(previous)]
        version_ids = insert_rows(
            Version,
            VERSION_COLUMNS,
            (
                (
                    plan.package_id,
                    plan.version_number,
                    plan.draft_fields,
                    plan.origin,
                    DRAFTER.id,
                    plan.existing.current_version_id if plan.existing else None,
                    version.pk,
                    plan.content_hash,
                    now,
                    plan.images,
                )
                for plan in drafted
            ),
            returning=True,
        )
        insert_rows(
            Finding,
            Finding.ROW_COLUMNS,
            (
                Finding.row(version_id, found)
                for plan, version_id in zip(drafted, version_ids, strict=True)
                for found in plan.findings
            ),
        )
        if version_ids:
            latest = Version.objects.filter(package=OuterRef("pk")).order_by("-number")
            Package.objects.filter(pk__in=[plan.package_id for plan in drafted]).update(
                current_version=Subquery(latest.values("pk")[:1])
            )
        record_many([event for plan in plans for event in _events(brief, run, plan, actor)])
        run.save(update_fields=["summary"])


def finish_run(
    run: Run, batch: RunBatch, skipped: int, not_started: int, budget: Budget, actor: str
) -> RunSummary:
    plans = batch.stored
    severities = Counter(f.severity.value for plan in plans for f in plan.findings)
    stop = budget.exhausted() if not_started else ""
    failed = [p for p in plans if p.failure is not None]
    spent = _spent(plans)
    summary = RunSummary(
        run_id=run.pk,
        status="stopped" if stop else "finished",
        packages=len(plans) + skipped + not_started,
        drafted=sum(1 for p in plans if p.draft_fields is not None),
        skipped=skipped,
        blocked=sum(1 for p in plans if p.gaps),
        failed=len(failed),
        not_started=not_started,
        findings=dict(severities),
        input_tokens=spent["input_tokens"],
        output_tokens=spent["output_tokens"],
        cost=spent["cost"],  # this run's; the budget also holds what earlier runs spent
        message=stop and f"stopped: {stop}; run again to draft the {not_started} left",
    )
    _end_run(run, summary.status, dataclasses.asdict(summary), "run.finished", actor)
    return summary


def fail_run(run: Run, batch: RunBatch, error: BaseException, actor: str) -> None:
    """Record that the run ended on an error, keeping what it committed and spent.

    Best effort: when the database itself is what failed, the run stays ``running`` (as after a
    killed worker) and the caller's error is the one raised either way.
    """
    summary = {
        "status": "failed",
        "error": clip(f"{type(error).__name__}: {error}", 500),
        **_kept(batch.stored),
    }
    try:
        _end_run(run, "failed", summary, "run.failed", actor)
    except DatabaseError:
        logger.exception("run %s failed and could not be marked failed", run.pk)


def _end_run(run: Run, status: str, summary: dict, action: str, actor: str) -> None:
    """Store how the run ended and its audit event: one transaction."""
    with transaction.atomic():
        run.status = status
        run.finished_at = timezone.now()
        run.summary = summary
        run.save(update_fields=["status", "finished_at", "summary"])
        record(
            action=action,
            actor=actor,
            actor_kind="system",
            subject_type="run",
            subject_id=str(run.pk),
            workspace=run.brief.workspace.slug,
            data=summary,
        )


def _events(brief: Brief, run: Run, plan: PlannedPackage, actor: str) -> list[dict]:
    stored = plan.draft_fields is not None
    events = []
    if plan.failure is not None:
        events.append(
            {
                "action": "package.draft_failed",
                "actor": DRAFTER.id,
                "actor_kind": "agent",
                "subject_type": "package",
                "subject_id": str(plan.package_id),
                "workspace": brief.workspace.slug,
                "from_position": str(plan.target),
                "to_position": str(plan.target),
                "sku": plan.cell.sku,
                "channel": plan.cell.channel,
                "data": {
                    "run": run.pk,
                    "reason": plan.failure.reason,
                    "attempts": plan.failure.attempts,
                    "provider": plan.failure.provider,
                    "model": plan.failure.model,
                },
            }
        )
    for action, before, after in plan.all_moves:
        drafted = action.endswith(".drafted")
        events.append(
            {
                "action": action,
                "actor": DRAFTER.id if drafted else actor,
                "actor_kind": "agent" if drafted else "system",
                "subject_type": "package",
                "subject_id": str(plan.package_id),
                "workspace": brief.workspace.slug,
                "from_position": str(before),
                "to_position": str(after),
                "content_hash": plan.content_hash if drafted and stored else "",
                "sku": plan.cell.sku,
                "channel": plan.cell.channel,
                "data": {
                    "run": run.pk,
                    "version": plan.version_number if drafted and stored else None,
                    "findings": len(plan.findings) if drafted else 0,
                    "missing": [g.field for g in plan.gaps],
                },
            }
        )
    return events
