"""Run a brief: plan its packages, draft and check them, and store what they became.

The steps live in their own modules: ``planning`` (what each package needs and lacks),
``drafting`` (the provider calls and the checks of each SKU's drafts) and ``run_records`` (the
writes). Finished SKUs are committed in batches, each batch one transaction with its audit
events, so a run that crashes keeps what it finished. Every move goes through the workflow
engine: the copy drafter is an agent, and agents may only draft.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from contextlib import closing

from django.db import transaction

from signoff.agents.context import CheckFinding
from signoff.agents.providers import provider_for
from signoff.agents.providers.port import Provider
from signoff.briefs import hooks
from signoff.briefs.models import Brief, BriefVersion
from signoff.briefs.workflow import template_for
from signoff.insights.selectors import learnings_for
from signoff.memory.services import notes_for_drafts
from signoff.packages.carry import plan_carries
from signoff.packages.drafting import (
    Budget,
    check_group,
    default_concurrency,
    draft_all,
    draft_and_check_forked,
    draft_request,
    worker_processes,
)
from signoff.packages.planning import STEPS, PlannedPackage, Progress, drafting_version, plan_run
from signoff.packages.run_records import RunBatch, RunSummary, fail_run, finish_run, start_run
from signoff.packages.runlock import ensure_no_run_in_progress, run_lock
from signoff.workspaces.rules import brand_rules

# Packages per write while worker processes draft: large enough that the statements stay
# few, small enough that the writes overlap the drafting.
FORKED_WRITE_EVERY = 200


def _noop(step: str, done: int, total: int) -> None:
    """Progress sink for callers that don't show progress."""


def run_brief(
    brief: Brief,
    *,
    provider: Provider | None = None,
    progress: Progress = _noop,
    actor: str = "system:run",
    concurrency: int | None = None,
) -> RunSummary:
    """Draft and check every package of the brief that needs it (new, rejected, unblocked).

    Drafts run up to ``concurrency`` at a time (by default the provider's setting). Finished
    work is committed in batches (each its own transaction, a SKU's packages always together),
    so a run that crashes or hits its budget keeps what it finished, and the next run drafts
    only what is left: no package is drafted twice. One run of a brief at a time: another
    run of it in progress is a ``StateError`` (``run_in_progress``).
    """
    provider = provider or provider_for("copy_drafter", brief.workspace.providers)
    template = template_for(brief)
    version = drafting_version(brief, template)
    with run_lock(brief):
        plans, skipped, image_findings = plan_run(brief, version, template, progress)
        run = start_run(brief, version, actor, len(plans))
        batch = RunBatch(brief, version, run, actor, commit_every=_commit_every(provider))
        try:
            budget, not_started = _draft_check_store(
                brief, version, plans, image_findings, batch, provider, concurrency, progress
            )
        except BaseException as error:
            fail_run(run, batch, error, actor)
            raise
        return finish_run(run, batch, skipped, not_started, budget, actor)


def ensure_may_queue_run(brief: Brief) -> None:
    """Refuse now, before queueing, what the worker would refuse: a brief that has not passed
    G1, or one being run already."""
    drafting_version(brief, template_for(brief))
    ensure_no_run_in_progress(brief)


def _draft_check_store(
    brief: Brief,
    version: BriefVersion,
    plans: list[PlannedPackage],
    image_findings: dict[tuple[str, str], list[CheckFinding]],
    batch: RunBatch,
    provider: Provider,
    concurrency: int | None,
    progress: Progress,
) -> tuple[Budget, int]:
    """Steps 3 and 4: draft, then check each SKU's packages together as soon as all are back,
    and store them. Returns the budget as spent and how many packages were not started."""
    batch.add([plan for plan in plans if plan.gaps])  # blocked for data: nothing to draft
    ready = [plan for plan in plans if not plan.gaps]
    workspace = brief.workspace
    data = version.data
    rules = brand_rules(workspace)
    memory = notes_for_drafts(workspace.pk, {(p.cell.sku, p.cell.channel) for p in ready})
    # What earlier launches proved on each channel: the drafter cites it with its numbers.
    learned = learnings_for(workspace.pk, {p.cell.channel for p in ready})
    facts = version.facts()
    budget = _budget(brief, data.get("budget") or {})
    waiting = Counter(plan.cell.sku for plan in ready)
    done_by_sku: dict[str, list[PlannedPackage]] = {}
    checked = 0
    channel_messages = version.channel_messages()
    requests = [
        (plan, draft_request(plan, facts, rules, memory, channel_messages, learned))
        for plan in ready
    ]
    plan_carries(ready, version, rules)
    processes = worker_processes(provider, budget, len(requests))
    if processes > 1:
        # Still one transaction for the run, but written in slices as the workers hand back
        # SKUs, so this process writes rows while they draft the next ones.
        with transaction.atomic():
            batch.commit_every = FORKED_WRITE_EVERY
            for group in draft_and_check_forked(
                provider, requests, rules, image_findings, processes
            ):
                checked += len(group)
                progress(STEPS[2], checked, len(ready))
                progress(STEPS[3], checked, len(ready))
                batch.add(group)
            batch.flush()
        requests = []
    # Closed as soon as this loop ends, even by an error: no new draft (paid for) starts after.
    with closing(
        draft_all(provider, requests, concurrency or default_concurrency(provider), budget)
    ) as drafted:
        for i, plan in enumerate(drafted, 1):
            progress(STEPS[2], i, len(ready))
            done_by_sku.setdefault(plan.cell.sku, []).append(plan)
            waiting[plan.cell.sku] -= 1
            if waiting[plan.cell.sku] == 0:
                group = done_by_sku.pop(plan.cell.sku)
                check_group(group, rules, image_findings)
                checked += len(group)
                progress(STEPS[3], checked, len(ready))
                batch.add(group)
    for group in done_by_sku.values():  # SKUs the budget cut short: keep what was drafted
        check_group(group, rules, image_findings)
        batch.add(group)
    batch.flush()
    not_started = len(ready) - sum(1 for p in ready if p.draft_fields or p.failure)
    return budget, not_started


def _budget(brief: Brief, caps: dict) -> Budget:
    """Return the brief's budget with what its earlier runs (and its images) spent counted."""
    budget = Budget(**caps)
    for summary in _run_summaries(brief):
        budget.spend(
            summary.get("input_tokens", 0) + summary.get("output_tokens", 0),
            summary.get("cost", 0.0),
        )
    for spent_elsewhere in hooks.brief_spend:
        budget.spend(0, spent_elsewhere(brief))
    return budget


def drafting_cost(brief: Brief) -> float:
    """Dollars the brief's copy runs have spent, failed drafts included."""
    return sum(summary.get("cost", 0.0) for summary in _run_summaries(brief))


def _run_summaries(brief: Brief) -> Iterable[dict]:
    return brief.runs.exclude(summary={}).values_list("summary", flat=True)


def _commit_every(provider: Provider) -> int:
    # The builtin composer is fast: one transaction for the run. A remote model is slow and
    # paid for: commit each SKU as it is done, so a crash loses as little as possible.
    return 1_000_000 if provider.name == "builtin" else 1
