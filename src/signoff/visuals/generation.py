"""Image runs: queuing a batch of options around one hypothesis, and executing it.

A run makes N options per SKU from the brief's direction and the SKU's packshot, in four
steps (plan, references, generate, check and store), under the brief's run lock (one run of a
brief at a time, copy or images) and its cost budget. Each SKU's options are committed
together with their events, so a run that dies keeps what it finished and the next run of the
same batch makes only the rest. A SKU with no packshot gets no option: it is reported missing.
Each SKU's request is built by ``image_requests``; its answer is checked and stored by
``run_results``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from signoff.agents.guard import screen_text
from signoff.audit.services import record
from signoff.briefs.authority import ensure_may_run
from signoff.briefs.models import Brief
from signoff.briefs.workflow import template_for
from signoff.core.errors import InputError, Problem
from signoff.core.text import clip
from signoff.packages.planning import drafting_version
from signoff.packages.runlock import run_in_progress, run_lock
from signoff.packages.services import drafting_cost
from signoff.visuals.image_requests import (
    EXAMPLE_KINDS,
    image_request,
    master_size,
    reference_inputs,
    run_direction,
)
from signoff.visuals.models import ImageRun, ImageVersion, Reference
from signoff.visuals.providers.port import ImageProvider, ImageProviderError, ImageRequest
from signoff.visuals.providers.registry import image_provider
from signoff.visuals.run_results import Answer, RunOutcome, store_answer
from signoff.workflow import ErrorCode, StateError
from signoff.workspaces.models import Person

STEPS = ("plan", "references", "generate", "check and store")
MAX_OPTIONS = 10

Progress = Callable[[str, int, int], None]


def _noop(step: str, done: int, total: int) -> None:
    return None


@dataclass
class _Plan:
    sku: str
    product_name: str
    packshots: list[Reference]
    needed: int  # options this batch still owes the SKU
    request: ImageRequest | None = None


def queue_image_run(
    *,
    brief: Brief,
    person: Person | None,
    skus: list[str] | None = None,
    n: int = 4,
    hypothesis: str = "",
    provider: str | None = None,
) -> ImageRun:
    """Check the request and record the run as queued (nothing is generated yet).

    ``person`` is None for the command line's own runs (as for `signoff run`): the run is
    then the system's, recorded as ``system:cli``.
    """
    if person is not None:
        ensure_may_run(person, brief, "generate images for")
    problems = []
    if not 1 <= n <= MAX_OPTIONS:
        problems.append(Problem(f"--n must be 1 to {MAX_OPTIONS}, got {n}", field="n"))
    # The same input guard as the brief's texts: an instruction never reaches the image model.
    found, _, _ = screen_text("hypothesis", hypothesis)
    problems += [
        Problem(
            f"the hypothesis tries to instruct the system ({hypothesis[f.span[0] : f.span[1]]!r}); "
            "say the idea to show without it",
            field="hypothesis",
        )
        for f in found
        if f.rule_id == "input.injection" and f.span
    ]
    version = drafting_version(brief, template_for(brief))  # refuses before G1
    known = set(version.products.values_list("sku", flat=True))
    for sku in skus or []:
        if sku not in known:
            problems.append(
                Problem(
                    f"SKU {sku!r} is not in brief {brief.slug}; its SKUs are "
                    f"{', '.join(sorted(known))}",
                    field="sku",
                )
            )
    try:
        chosen = image_provider(provider)
    except (ValueError, ImproperlyConfigured) as exc:
        problems.append(Problem(str(exc), field="provider"))
    if problems:
        raise InputError(problems)
    if run_in_progress(brief):
        raise StateError(
            ErrorCode.RUN_IN_PROGRESS,
            f"a run of brief {brief.slug} is in progress; wait for it to finish",
        )
    return ImageRun.objects.create(
        brief=brief,
        started_by=person.email if person is not None else "system:cli",
        provider=provider or _spec_of(chosen),
        hypothesis=hypothesis.strip(),
        n=n,
        skus=list(skus or []),
        total=0,
    )


def execute_image_run(run_id: int, progress: Progress = _noop) -> RunOutcome:
    """Do a queued run: the four steps under the brief's run lock."""
    run = ImageRun.objects.select_related("brief__workspace").get(pk=run_id)
    brief = run.brief
    with run_lock(brief):
        outcome = RunOutcome(run)
        _mark_interrupted(brief, run)
        _start(run)
        try:
            _generate(run, outcome, _recorded(run, progress))
        except BaseException as exc:
            _end(run, "failed", outcome, error=f"{exc.__class__.__name__}: {exc}")
            raise
        _end(run, run.status if run.status == "stopped" else "finished", outcome)
    return outcome


def _recorded(run: ImageRun, progress: Progress) -> Progress:
    """Report progress to the caller and onto the run's row, for the pages that poll it (at
    most twice a second, and at the end of each step)."""
    last = [0.0]

    def report(step: str, done: int, total: int) -> None:
        progress(step, done, total)
        now = time.monotonic()
        if now - last[0] >= 0.5 or done == total:
            ImageRun.objects.filter(pk=run.pk).update(step=step, done=done, total=total)
            last[0] = now

    return report


def _mark_interrupted(brief: Brief, current: ImageRun) -> None:
    # Under the lock, a run still recorded as running is one whose worker died.
    brief.image_runs.filter(status="running").exclude(pk=current.pk).update(
        status="interrupted", finished_at=timezone.now()
    )


def _start(run: ImageRun) -> None:
    with transaction.atomic():
        run.status = "running"
        run.save(update_fields=["status"])
        record(
            action="image.run_started",
            actor=run.started_by,
            actor_kind="person" if "@" in run.started_by else "system",
            subject_type="brief",
            subject_id=str(run.brief_id),
            workspace=run.brief.workspace.slug,
            data={
                "brief": run.brief.slug,
                "run": run.pk,
                "n": run.n,
                "skus": run.skus,
                "provider": run.provider,
                "hypothesis": run.hypothesis,
            },
        )


def _generate(run: ImageRun, outcome: RunOutcome, progress: Progress) -> None:
    brief = run.brief
    version = drafting_version(brief, template_for(brief))
    provider = image_provider(run.provider)
    products = list(version.products.order_by("position"))
    if run.skus:
        products = [p for p in products if p.sku in run.skus]
    # 1. Plan: every SKU with a packshot, and how many options it still needs.
    refs = list(brief.references.select_related("blob").filter(blob__isnull=False))
    screen = version.screen()  # what the copy drafter may read of the brief, the prompt too
    plans = []
    for i, product in enumerate(products, 1):
        packshots = [r for r in refs if r.kind == Reference.Kind.PACKSHOT and r.sku == product.sku]
        if not packshots:
            outcome.missing[product.sku] = (
                "no packshot: images are made from the product's own photo; add a packshot "
                f"reference for SKU {product.sku} to brief {brief.slug}"
            )
        elif (needed := _still_needed(run, product.sku)) > 0:
            name = screen.text(f"products[{product.sku}].name", product.name) or product.sku
            plans.append(_Plan(product.sku, name, packshots, needed))
        progress(STEPS[0], i, len(products))
    # 2. References: read every file once; build each SKU's request.
    direction = run_direction(run, version, refs)
    inputs = reference_inputs(refs)
    examples = tuple(inputs[r.pk] for r in refs if r.kind in EXAMPLE_KINDS)
    size = master_size(brief)
    for i, plan in enumerate(plans, 1):
        plan.request = image_request(
            brief,
            direction,
            sku=plan.sku,
            product_name=plan.product_name,
            packshots=tuple(inputs[r.pk] for r in plan.packshots),
            references=examples,
            n=plan.needed,
            size=size,
        )
        progress(STEPS[1], i, len(plans))
    run.total = len(plans)
    run.save(update_fields=["total"])
    # 3 and 4. Generate (up to the provider's concurrency) and store each SKU as it comes.
    budget = (version.data.get("budget") or {}).get("max_cost")
    spent = _spent_before(brief)
    workers = _concurrency(provider)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = list(plans)
        done = 0
        while pending:
            if budget is not None and spent >= budget:
                run.status = "stopped"
                run.summary = {
                    **run.summary,
                    "stopped": f"cost budget reached: ${spent:.4f} of ${budget:.4f}",
                    "not_started": [p.sku for p in pending],
                }
                break
            batch, pending = pending[:workers], pending[workers:]
            for answer in pool.map(lambda p: _call(provider, p), batch):
                progress(STEPS[2], done + 1, len(plans))
                spent += answer.result.cost if answer.result else 0.0
                store_answer(run, answer, outcome)
                done += 1
                progress(STEPS[3], done, len(plans))


def _call(provider: ImageProvider, plan: _Plan) -> Answer:
    started = time.monotonic()
    result, error = None, ""
    try:
        result = provider.generate(plan.request)
    except ImageProviderError as exc:
        error = str(exc) or exc.__class__.__name__
    return Answer(plan.sku, plan.request, result, error, time.monotonic() - started)


def _end(run: ImageRun, status: str, outcome: RunOutcome, error: str = "") -> None:
    with transaction.atomic():
        run.status = status
        run.error = error
        run.finished_at = timezone.now()
        run.summary = {
            **run.summary,
            "made": {sku: len(ids) for sku, ids in outcome.made.items()},
            "failed": outcome.failed,
            "missing": outcome.missing,
            "cost": round(
                sum(
                    i.origin.get("cost") or 0
                    for i in ImageVersion.objects.filter(run=run, status="ready")
                ),
                6,
            ),
        }
        run.save(update_fields=["status", "error", "finished_at", "summary"])
        record(
            action="image.run_failed" if status == "failed" else "image.run_finished",
            actor=run.started_by,
            actor_kind="person" if "@" in run.started_by else "system",
            subject_type="brief",
            subject_id=str(run.brief_id),
            workspace=run.brief.workspace.slug,
            data={"brief": run.brief.slug, "run": run.pk, "status": status, **run.summary},
            note=clip(error, 500),
        )


# --- small facts ---------------------------------------------------------------------------


def _spec_of(provider: ImageProvider) -> str:
    return provider.name if provider.name == "builtin" else f"{provider.name}:{provider.model}"


def _still_needed(run: ImageRun, sku: str) -> int:
    """Options this SKU still needs in this batch: an interrupted twin's count for it."""
    twin = (
        ImageRun.objects.filter(
            brief=run.brief,
            status="interrupted",
            hypothesis=run.hypothesis,
            provider=run.provider,
            n=run.n,
        )
        .exclude(pk=run.pk)
        .order_by("-started_at")
        .first()
    )
    if twin is None:
        return run.n
    kept = ImageVersion.objects.filter(run=twin, sku=sku, status="ready").count()
    return max(0, run.n - kept)


def _spent_before(brief: Brief) -> float:
    """One budget covers the brief's copy and its images."""
    return drafting_cost(brief) + image_cost(brief)


def image_cost(brief: Brief) -> float:
    """Dollars the brief's images have cost: every option and edit a provider charged for,
    failed answers included (the provider was paid for them too)."""
    return sum(
        i.origin.get("cost") or 0 for i in ImageVersion.objects.filter(brief=brief).only("origin")
    )


def _concurrency(provider: ImageProvider) -> int:
    if provider.name == "builtin":
        return 1  # CPU-bound: threads add nothing
    return max(1, int(getattr(settings, "SIGNOFF_IMAGE_CONCURRENCY", 2)))
