"""Drafting a run's packages (threads, or worker processes for a local drafter) and checking
each SKU's drafts together, within the brief's budget."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace

from django.conf import settings

from signoff.agents.checking import check_draft
from signoff.agents.checks.consistency import audit_consistency
from signoff.agents.context import BrandRules, BriefFacts, Draft
from signoff.agents.feedback import asks_for, ignored_findings, unchanged_findings
from signoff.agents.providers.port import DraftFailed, DraftRequest, Provider
from signoff.agents.refit import draft_and_refit
from signoff.core.forked import can_fork, default_workers, map_forked
from signoff.memory.services import as_prompt_note
from signoff.packages.carry import carry_findings, carry_onto
from signoff.packages.confidence import draft_evidence
from signoff.packages.matrix import Cell
from signoff.packages.planning import PlannedPackage


@dataclass
class Budget:
    """A brief's cap on what drafting may spend; failed attempts count too."""

    max_tokens: int | None = None
    max_cost: float | None = None
    tokens: int = 0
    cost: float = 0.0

    def spend(self, tokens: int, cost: float) -> None:
        self.tokens += tokens
        self.cost += cost

    def exhausted(self) -> str:
        """Return why the budget is spent, or "" while there is some left."""
        if self.max_tokens is not None and self.tokens >= self.max_tokens:
            return f"token budget reached: {self.tokens} of {self.max_tokens}"
        if self.max_cost is not None and self.cost >= self.max_cost:
            return f"cost budget reached: ${self.cost:.4f} of ${self.max_cost:.4f}"
        return ""


def draft_request(
    plan: PlannedPackage,
    facts: BriefFacts,
    rules: BrandRules,
    memory: dict,
    channel_messages: dict[str, list[str]],
    learned: dict[str, list[str]] | None = None,
) -> DraftRequest:
    """What the drafter is asked for one package: the brief's facts with this channel's
    messages, the notes and learnings that apply, and the copy a rejection sent back."""
    used = memory.get((plan.cell.sku, plan.cell.channel), [])
    learnings = (learned or {}).get(plan.cell.channel, [])
    plan.origin = {
        "notes_used": [as_prompt_note(n) for n in used],
        "memory_ids": [n.pk for n in used],
        **({"learnings_used": learnings} if learnings else {}),
    }
    messages = (*facts.key_messages, *channel_messages.get(plan.cell.channel, ()))
    return DraftRequest(
        channel=plan.channel,
        product=plan.product,
        brief=replace(
            facts,
            key_messages=messages,
            notes=tuple(plan.origin["notes_used"]),
            learnings=tuple(learnings),
        ),
        rules=rules,
        variant=plan.cell.variant,
        variant_index=ord(plan.cell.variant) - ord("A"),
        market=plan.cell.market,
        revision=sum(1 for n in used if (n.sku, n.channel) == (plan.cell.sku, plan.cell.channel)),
        replaces=_rejected_fields(plan),
    )


def draft_one(provider: Provider, plan: PlannedPackage, request: DraftRequest) -> PlannedPackage:
    """Draft one package (refitted to its spec where the provider needs it) into its plan."""
    try:
        result, refit = draft_and_refit(provider, request)
    except DraftFailed as failure:
        plan.failure = failure
        return plan
    plan.draft_fields = result.fields
    if plan.carry:
        plan.draft_fields = carry_onto(result.fields, plan.carry)
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
        **({"refit": refit} if refit else {}),
        **({"carried_edit": _carried(plan.carry)} if plan.carry else {}),
        **({"edit_conflict": _carried(plan.conflict)} if plan.conflict else {}),
        **(plan.origin or {}),
    }
    return plan


def draft_all(
    provider: Provider,
    requests: list[tuple[PlannedPackage, DraftRequest]],
    concurrency: int,
    budget: Budget,
) -> Iterator[PlannedPackage]:
    """Yield each plan as its draft (or failure) comes back; stop starting new ones when the
    budget is spent. The provider runs in worker threads: it touches no database."""

    def spent(plan: PlannedPackage) -> None:
        if plan.failure is not None:
            used = plan.failure
            budget.spend(used.input_tokens + used.output_tokens, used.cost)
        else:
            origin = plan.origin
            budget.spend(origin["input_tokens"] + origin["output_tokens"], origin["cost"])

    if concurrency <= 1:
        for plan, request in requests:
            if budget.exhausted():
                return
            spent(draft_one(provider, plan, request))
            yield plan
        return
    # Each worker takes its next request itself as soon as its draft is back, so a slot never
    # waits for this thread, which meanwhile checks and stores finished SKUs (a generator only
    # runs when its caller asks for the next item).
    pending = iter(requests)
    lock = threading.Lock()
    finished: queue.SimpleQueue[PlannedPackage | BaseException | None] = queue.SimpleQueue()
    stopped = False

    def work() -> None:
        try:
            while True:
                with lock:
                    item = None if stopped or budget.exhausted() else next(pending, None)
                if item is None:
                    return
                plan = draft_one(provider, *item)
                with lock:
                    spent(plan)
                finished.put(plan)
        except BaseException as error:  # handed to the caller's thread, raised there
            finished.put(error)
        finally:
            finished.put(None)

    workers = min(concurrency, len(requests))
    threads = [
        threading.Thread(target=work, name=f"draft-{i}", daemon=True) for i in range(workers)
    ]
    for thread in threads:
        thread.start()
    error: BaseException | None = None
    try:
        running = workers
        while running:
            result = finished.get()
            if result is None:
                running -= 1
            elif isinstance(result, BaseException):
                # No new drafts; the ones in flight are paid for, so they are still handed
                # back (and their finished SKUs kept) before the error is raised.
                error = error or result
                with lock:
                    stopped = True
            else:
                yield result
        if error is not None:
            raise error
    finally:
        # The caller failed or stopped early: no new drafts; the ones in flight finish.
        with lock:
            stopped = True
        for thread in threads:
            thread.join()


def worker_processes(provider: Provider, budget: Budget, packages: int) -> int:
    """How many processes draft and check: more than one only for a provider that computes
    locally (a remote model waits on the network, and threads cover that), for a run large
    enough to repay starting them, and with no budget to stop at exactly (tokens are counted
    as drafts come back)."""
    if not getattr(provider, "computes_locally", False) or not can_fork():
        return 1
    if budget.max_tokens is not None or budget.max_cost is not None:
        return 1
    if packages < settings.SIGNOFF_FORK_MIN_PACKAGES:
        return 1
    return settings.SIGNOFF_DRAFT_PROCESSES or default_workers()


def draft_and_check_forked(
    provider: Provider,
    requests: list[tuple[PlannedPackage, DraftRequest]],
    rules: BrandRules,
    image_findings: dict,
    processes: int,
) -> Iterator[list[PlannedPackage]]:
    """Draft and check each SKU's packages in worker processes; yield each SKU's checked plans.

    The same functions as the one-process path, so the drafts and findings are the same.
    """
    by_sku: dict[str, list[tuple[PlannedPackage, DraftRequest]]] = {}
    for item in requests:
        by_sku.setdefault(item[0].cell.sku, []).append(item)
    groups = list(by_sku.values())
    jobs = [(provider, rules, image_findings, group) for group in groups]
    for index, results in map_forked(_draft_and_check_group, jobs, workers=processes):
        plans = [plan for plan, _ in groups[index]]
        for plan, result in zip(plans, results, strict=True):
            plan.draft_fields, plan.origin, plan.failure, plan.findings, plan.evidence = result
        yield plans


def _draft_and_check_group(job: tuple) -> list[tuple]:
    """In a worker process: draft and check one SKU's packages; return what the plans gained."""
    provider, rules, image_findings, group = job
    plans = [draft_one(provider, plan, request) for plan, request in group]
    check_group(plans, rules, image_findings)
    return [(p.draft_fields, p.origin, p.failure, p.findings, p.evidence) for p in plans]


def check_group(group: list[PlannedPackage], rules: BrandRules, image_findings: dict) -> None:
    """Every rule on every draft of one SKU, then consistency across them."""
    drafts: dict[Cell, Draft] = {}
    for plan in group:
        if plan.draft_fields is None:
            continue
        draft = Draft(
            plan.channel,
            plan.draft_fields,
            plan.product,
            plan.cell.market,
            plan.cell.variant,
            siblings=plan.siblings,
            inputs=plan.inputs,
        )
        drafts[plan.cell] = draft
        # Any provider's redraft is held to what this package's rejections asked to remove.
        notes = (plan.origin or {}).get("notes_used", [])
        asks = asks_for(notes, plan.cell.sku, plan.cell.channel, plan.channel.fields)
        plan.findings = (
            check_draft(draft, rules)
            + ignored_findings(plan.draft_fields, asks)
            + unchanged_findings(plan.draft_fields, _rejected_fields(plan), asks)
            + carry_findings(plan)
            + image_findings[(plan.cell.channel, plan.cell.sku)]
        )
        plan.evidence = draft_evidence(draft, rules, plan.origin, len(plan.needed), len(plan.gaps))
    by_cell = {plan.cell: plan for plan in group}
    for cell, finding in audit_consistency(list(drafts.items()), rules):
        by_cell[cell].findings.append(finding)


def _rejected_fields(plan: PlannedPackage) -> dict | None:
    """The copy this redraft replaces (the version a rejection sent back), if any."""
    previous = plan.existing.current_version if plan.existing is not None else None
    return previous.fields if previous is not None else None


def default_concurrency(provider: Provider) -> int:
    limits = getattr(settings, "SIGNOFF_CONCURRENCY", {})
    return int(limits.get(provider.name, 1 if provider.name == "builtin" else 4))


def _carried(carry: dict) -> dict:
    return {k: carry[k] for k in ("from_version", "person", "fields")}
