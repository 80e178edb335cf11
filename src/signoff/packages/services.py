"""Run a brief: expand its packages, check completeness, draft and check every package.

Drafting and checking happen in memory (pure code); everything the run stores (packages,
versions, findings, the run record and the audit events of every move) is written in one
transaction, so a run lands whole or not at all. Every move goes through the workflow engine:
the copy drafter is an agent, and agents may only draft.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from signoff.agents.checking import check_draft, check_product_images
from signoff.agents.checks.consistency import audit_consistency
from signoff.agents.context import (
    BrandRules,
    BriefFacts,
    CheckFinding,
    Draft,
    InputSignals,
    ProductFacts,
)
from signoff.agents.feedback import asks_for, ignored_findings, unchanged_findings
from signoff.agents.providers import provider_for
from signoff.agents.providers.port import DraftFailed, DraftRequest, Provider
from signoff.agents.refit import draft_and_refit
from signoff.audit.services import record, record_many
from signoff.briefs import hooks
from signoff.briefs.completeness import Gap, family_attributes, find_gaps
from signoff.briefs.models import Brief, BriefVersion
from signoff.briefs.workflow import brief_gate, first_package_position, template_for
from signoff.channels.catalog import resolve_spec
from signoff.channels.spec import ChannelSpec
from signoff.core.forked import can_fork, default_workers, map_forked
from signoff.core.paths import confined
from signoff.core.rows import insert_rows
from signoff.core.text import clip
from signoff.insights.selectors import learnings_for
from signoff.memory.services import as_prompt_note, notes_for_drafts
from signoff.packages.carry import carry_findings, carry_onto, plan_carries
from signoff.packages.confidence import Evidence, confidence, draft_evidence
from signoff.packages.matrix import Cell, expand
from signoff.packages.models import (
    Finding,
    Package,
    Run,
    Version,
    carried_image_findings,
    version_digest,
)
from signoff.packages.runlock import ensure_no_run_in_progress, run_lock
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

logger = logging.getLogger(__name__)

STEPS = (
    "Reading product context",
    "Analysing references",
    "Generating options",
    "Checking brand fit",
)
DRAFTER = Actor(id="agent:copy_drafter", kind=ActorKind.AGENT)
Progress = Callable[[str, int, int], None]  # (step, done, total)
# Packages per write while worker processes draft: large enough that the statements stay
# few, small enough that the writes overlap the drafting.
FORKED_WRITE_EVERY = 200
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
    draft_move: tuple[str, Position, Position] | None = None  # taken only if the draft succeeds
    draft_fields: dict | None = None
    origin: dict | None = None
    failure: DraftFailed | None = None
    findings: list[CheckFinding] = field(default_factory=list)
    evidence: Evidence | None = None  # what the draft rests on, for its confidence
    # A person's edit of the package under an older brief version (signoff.packages.carry):
    # carried onto the redraft, or in conflict with the change and flagged for a person.
    carry: dict | None = None
    conflict: dict | None = None
    # Set when stored: the package row, and the version the draft became.
    package_id: int | None = None
    version_number: int | None = None
    content_hash: str = ""
    images: dict = field(default_factory=dict)
    # What the checks compare the draft with: the brief's other products, and what the input
    # guard found in the brief (flagged instructions, personal data).
    siblings: tuple[ProductFacts, ...] = ()
    inputs: InputSignals | None = None

    @property
    def all_moves(self) -> list[tuple[str, Position, Position]]:
        drafted = self.draft_move is not None and self.draft_fields is not None
        return [*self.moves, self.draft_move] if drafted else list(self.moves)

    @property
    def target(self) -> Position:
        moves = self.all_moves
        return moves[-1][2] if moves else self.position


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
        plan.draft_move = (drafted.audit_action, start, drafted.next_position)
    return plan


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
        plans, skipped, image_findings = _plan_run(brief, version, template, progress)
        run = _start_run(brief, version, actor, len(plans))
        batch = _Batch(brief, version, run, actor, commit_every=_commit_every(provider))
        try:
            budget, not_started = _draft_check_store(
                brief, version, plans, image_findings, batch, provider, concurrency, progress
            )
        except BaseException as error:
            _fail_run(run, batch, error, actor)
            raise
        return _finish_run(run, batch, skipped, not_started, budget, actor)


def ensure_may_queue_run(brief: Brief) -> None:
    """Refuse now, before queueing, what the worker would refuse: a brief that has not passed
    G1, or one being run already."""
    drafting_version(brief, template_for(brief))
    ensure_no_run_in_progress(brief)


def _plan_run(
    brief: Brief, version: BriefVersion, template: Template, progress: Progress
) -> tuple[list[PlannedPackage], int, dict[tuple[str, str], list[CheckFinding]]]:
    """Steps 1 and 2: what each package needs and lacks, and its product images' findings.

    Returns the plans, how many packages need nothing, and the image findings per channel and
    SKU.
    """
    workspace = brief.workspace
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
    # One tuple for the run: the checks index the siblings once per tuple.
    siblings, signals = tuple(products), version.screen().signals
    for i, cell in enumerate(cells, 1):
        product, channel = by_sku[cell.sku], channels[cell.channel]
        needed, gaps = find_gaps(product, channel, family, required_attributes)
        plan = _plan(cell, existing.get(cell), product, channel, needed, gaps, template)
        if plan is not None:
            plan.siblings, plan.inputs = siblings, signals
            plans.append(plan)
        progress(STEPS[0], i, len(cells))

    # 2. References: the product images, checked once per channel and SKU.
    base_dir = Path(version.base_dir or ".")
    image_findings: dict[tuple[str, str], list[CheckFinding]] = {}
    for i, plan in enumerate(plans, 1):
        key = (plan.cell.channel, plan.cell.sku)
        if key not in image_findings:
            # Checked at intake too; a version stored before paths were confined is held to
            # the same rule, so a path that leads out of its folder reads as a missing file.
            paths = [
                confined(base_dir, image) or base_dir / "missing" / Path(image).name
                for image in plan.product.images
            ]
            image_findings[key] = check_product_images(plan.channel, paths)
        progress(STEPS[1], i, len(plans))
    return plans, len(cells) - len(plans), image_findings


def _draft_check_store(
    brief: Brief,
    version: BriefVersion,
    plans: list[PlannedPackage],
    image_findings: dict[tuple[str, str], list[CheckFinding]],
    batch: _Batch,
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
        (plan, _request(plan, facts, rules, memory, channel_messages, learned)) for plan in ready
    ]
    plan_carries(ready, version, rules)
    processes = _processes(provider, budget, len(requests))
    if processes > 1:
        # Still one transaction for the run, but written in slices as the workers hand back
        # SKUs, so this process writes rows while they draft the next ones.
        with transaction.atomic():
            batch.commit_every = FORKED_WRITE_EVERY
            for group in _draft_and_check_forked(
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
        _draft_all(provider, requests, concurrency or _concurrency(provider), budget)
    ) as drafted:
        for i, plan in enumerate(drafted, 1):
            progress(STEPS[2], i, len(ready))
            done_by_sku.setdefault(plan.cell.sku, []).append(plan)
            waiting[plan.cell.sku] -= 1
            if waiting[plan.cell.sku] == 0:
                group = done_by_sku.pop(plan.cell.sku)
                _check(group, rules, image_findings)
                checked += len(group)
                progress(STEPS[3], checked, len(ready))
                batch.add(group)
    for group in done_by_sku.values():  # SKUs the budget cut short: keep what was drafted
        _check(group, rules, image_findings)
        batch.add(group)
    batch.flush()
    not_started = len(ready) - sum(1 for p in ready if p.draft_fields or p.failure)
    return budget, not_started


def _request(
    plan: PlannedPackage,
    facts: BriefFacts,
    rules: BrandRules,
    memory: dict,
    channel_messages: dict[str, list[str]],
    learned: dict[str, list[str]] | None = None,
) -> DraftRequest:
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


def _draft_one(provider: Provider, plan: PlannedPackage, request: DraftRequest) -> PlannedPackage:
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


def _draft_all(
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
            spent(_draft_one(provider, plan, request))
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
                plan = _draft_one(provider, *item)
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


def _processes(provider: Provider, budget: Budget, packages: int) -> int:
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


def _draft_and_check_forked(
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
    plans = [_draft_one(provider, plan, request) for plan, request in group]
    _check(plans, rules, image_findings)
    return [(p.draft_fields, p.origin, p.failure, p.findings, p.evidence) for p in plans]


def _check(group: list[PlannedPackage], rules: BrandRules, image_findings: dict) -> None:
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


def _concurrency(provider: Provider) -> int:
    limits = getattr(settings, "SIGNOFF_CONCURRENCY", {})
    return int(limits.get(provider.name, 1 if provider.name == "builtin" else 4))


def _commit_every(provider: Provider) -> int:
    # The builtin composer is fast: one transaction for the run. A remote model is slow and
    # paid for: commit each SKU as it is done, so a crash loses as little as possible.
    return 1_000_000 if provider.name == "builtin" else 1


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


def _carried(carry: dict) -> dict:
    return {k: carry[k] for k in ("from_version", "person", "fields")}


def _start_run(brief: Brief, version: BriefVersion, actor: str, planned: int) -> Run:
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


class _Batch:
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
            _store(self.brief, self.version, self.run, self.pending, self.actor)
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


def _store(
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


def _finish_run(
    run: Run, batch: _Batch, skipped: int, not_started: int, budget: Budget, actor: str
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


def _fail_run(run: Run, batch: _Batch, error: BaseException, actor: str) -> None:
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
