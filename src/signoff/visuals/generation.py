"""Generating image options in batches around one hypothesis.

A run makes N options per SKU from the brief's direction and the SKU's packshot, in four
steps (plan, references, generate, check and store), under the brief's run lock (one run of a
brief at a time, copy or images) and its cost budget. Each SKU's options are committed
together with their events, so a run that dies keeps what it finished and the next run of the
same batch makes only the rest. A SKU with no packshot gets no option: it is reported missing.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import get_args

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from PIL import Image

from signoff.agents.guard import screen_text
from signoff.audit.services import record
from signoff.briefs.authority import ensure_may_run
from signoff.briefs.models import Brief, BriefVersion
from signoff.briefs.workflow import template_for
from signoff.channels.catalog import resolve_spec
from signoff.core.errors import InputError, Problem
from signoff.core.text import clip
from signoff.packages.planning import drafting_version
from signoff.packages.runlock import run_in_progress, run_lock
from signoff.packages.services import drafting_cost
from signoff.visuals.checking import Checked, check_option
from signoff.visuals.direction import direction_from, feedback_line, image_prompt, screened
from signoff.visuals.imaging import Decoded, ImageInputError, decode_image
from signoff.visuals.models import ImageFinding, ImageRating, ImageRun, ImageVersion, Reference
from signoff.visuals.providers.port import (
    Direction,
    GeneratedImage,
    ImageInput,
    ImageProvider,
    ImageProviderError,
    ImageRequest,
    ImageResult,
    ReferenceKind,
)
from signoff.visuals.providers.registry import image_provider
from signoff.visuals.references import note_references
from signoff.visuals.storage import put_blob, read_blob
from signoff.workflow import ErrorCode, StateError
from signoff.workspaces.models import Person

STEPS = ("plan", "references", "generate", "check and store")
AGENT = "agent:image_generator"
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
    result: ImageResult | None = None
    error: str = ""
    seconds: float = 0.0


@dataclass
class RunOutcome:
    run: ImageRun
    made: dict[str, list[int]] = field(default_factory=dict)  # SKU -> image version ids
    failed: dict[str, list[str]] = field(default_factory=dict)  # SKU -> reasons
    missing: dict[str, str] = field(default_factory=dict)  # SKU -> what is missing


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
    direction = _direction(run, version, refs)
    inputs = {r.pk: ImageInput(r.blob.sha256, _kind(r), read_blob(r.blob), r.note) for r in refs}
    size = master_size(brief)
    for i, plan in enumerate(plans, 1):
        feedback = _feedback(brief, plan.sku)
        sku_direction = dataclasses.replace(direction, past_feedback=feedback)
        prompt = image_prompt(
            sku_direction, product_name=plan.product_name, purpose="scene", size=size
        )
        plan.request = ImageRequest(
            sku=plan.sku,
            product_name=plan.product_name,
            prompt=prompt,
            direction=sku_direction,
            packshots=tuple(inputs[r.pk] for r in plan.packshots),
            references=tuple(
                inputs[r.pk]
                for r in refs
                if r.kind in (Reference.Kind.BRAND_EXAMPLE, Reference.Kind.PREVIOUS_WINNER)
            ),
            n=plan.needed,
            size=size,
            seed=_seed(brief, plan.sku),
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
            for plan in pool.map(lambda p: _call(provider, p), batch):
                progress(STEPS[2], done + 1, len(plans))
                spent += plan.result.cost if plan.result else 0.0
                _store(run, plan, outcome)
                done += 1
                progress(STEPS[3], done, len(plans))


def _call(provider: ImageProvider, plan: _Plan) -> _Plan:
    started = time.monotonic()
    try:
        plan.result = provider.generate(plan.request)
    except ImageProviderError as exc:
        plan.error = str(exc) or exc.__class__.__name__
    plan.seconds = time.monotonic() - started
    return plan


def _store(run: ImageRun, plan: _Plan, outcome: RunOutcome) -> None:
    """Keep one SKU's options (each checked), or record why there are none; one transaction.

    Decoding and checking each answer (the slow part) happens before the transaction, so the
    database's write lock is held only for the rows.
    """
    brief = run.brief
    request, result = plan.request, plan.result
    base = {
        "kind": "agent",
        "agent": "image_generator",
        "prompt": request.prompt,
        "references": [i.sha256 for i in (*request.packshots, *request.references)],
        "packshot": request.packshots[0].sha256,
        "size_requested": list(request.size),
        "hypothesis": run.hypothesis or request.direction.hypothesis,
    }
    if result is None:
        with transaction.atomic():
            outcome.failed.setdefault(plan.sku, []).append(plan.error)
            number = _next_number(brief, plan.sku)
            _failed(run, plan.sku, number, {**base, "provider": run.provider}, plan.error)
        return
    packshot = decode_image(request.packshots[0].data, "packshot", max_pixels=_max_pixels())
    per_image_cost = result.cost / max(1, len(result.images))
    kept = []
    for i, generated in enumerate(result.images):
        origin = {
            **base,
            "provider": result.provider,
            "model": result.model,
            # What the provider did with the prompt (the builtin compositor's recipe), or the
            # prompt as sent after redaction.
            "provider_prompt": result.prompt,
            "parameters": {**result.parameters, **generated.parameters},
            "seed": generated.seed,
            "cost": round(per_image_cost, 6),
            "latency_ms": round(result.latency_ms or plan.seconds * 1000, 1),
            "usage": result.usage,
            "digital_source_type": generated.digital_source_type,
            "option": i + 1,
        }
        kept.append((origin, generated, _examine(generated, origin, request, packshot.image)))
    with transaction.atomic():
        number = _next_number(brief, plan.sku)
        for origin, generated, examined in kept:
            _keep(run, plan.sku, number, origin, generated, examined, outcome)
            number += 1


@dataclass(frozen=True, slots=True)
class _Examined:
    """One answer, read and checked: its decoded image and findings, or why it is unusable."""

    decoded: Decoded | None = None
    checked: Checked | None = None
    reason: str = ""


def _examine(
    generated: GeneratedImage, origin: dict, request: ImageRequest, packshot: Image.Image
) -> _Examined:
    try:
        decoded = decode_image(
            generated.data, f"option {origin['option']}", max_pixels=_max_pixels()
        )
    except ImageInputError as exc:
        return _Examined(reason=f"the provider's answer is not a usable image: {exc.message}")
    got, want = (decoded.width, decoded.height), tuple(request.size)
    if got != want and not _size_accepted(got, want):
        return _Examined(
            reason=f"the provider answered {got[0]}x{got[1]} px; {want[0]}x{want[1]} was asked for"
        )
    checked = check_option(decoded.image, packshot, generated.parameters.get("product_box"))
    return _Examined(decoded, checked)


def _keep(
    run: ImageRun,
    sku: str,
    number: int,
    origin: dict,
    generated: GeneratedImage,
    examined: _Examined,
    outcome: RunOutcome,
) -> ImageVersion:
    """Store one examined option (inside the SKU's transaction), or record it as failed."""
    brief = run.brief
    if examined.decoded is None:
        outcome.failed.setdefault(sku, []).append(examined.reason)
        return _failed(run, sku, number, origin, examined.reason)
    decoded, checked = examined.decoded, examined.checked
    blob = put_blob(
        brief.workspace,
        generated.data,
        fmt=decoded.format,
        width=decoded.width,
        height=decoded.height,
    )
    origin = {**origin, "size": [decoded.width, decoded.height], "notes": list(decoded.notes)}
    image = ImageVersion.objects.create(
        brief=brief,
        sku=sku,
        number=number,
        kind=ImageVersion.Kind.OPTION,
        status=ImageVersion.Status.READY,
        blob=blob,
        run=run,
        origin=origin,
        author=AGENT,
        hypothesis=origin["hypothesis"],
        product_bbox=checked.product_bbox,
    )
    ImageFinding.objects.bulk_create(
        ImageFinding(image=image, **finding) for finding in checked.findings
    )
    record(
        action="image.generated",
        actor=AGENT,
        actor_kind="agent",
        subject_type="image",
        subject_id=str(image.pk),
        workspace=brief.workspace.slug,
        content_hash=blob.sha256,
        data={
            "brief": brief.slug,
            "sku": sku,
            "number": number,
            "run": run.pk,
            "provider": origin.get("provider"),
            "model": origin.get("model"),
            "seed": origin.get("seed"),
            "cost": origin.get("cost"),
        },
    )
    outcome.made.setdefault(sku, []).append(image.pk)
    return image


def _failed(run: ImageRun, sku: str, number: int, origin: dict, reason: str) -> ImageVersion:
    image = ImageVersion.objects.create(
        brief=run.brief,
        sku=sku,
        number=number,
        kind=ImageVersion.Kind.OPTION,
        status=ImageVersion.Status.FAILED,
        run=run,
        origin=origin,
        author=AGENT,
        hypothesis=origin.get("hypothesis", ""),
        error=reason,
    )
    record(
        action="image.generation_failed",
        actor=AGENT,
        actor_kind="agent",
        subject_type="image",
        subject_id=str(image.pk),
        workspace=run.brief.workspace.slug,
        data={"brief": run.brief.slug, "sku": sku, "run": run.pk, "reason": clip(reason, 500)},
    )
    return image


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


def master_size(brief: Brief) -> tuple[int, int]:
    """A square master large enough for every slot of the brief's channels to be cut from it
    without enlarging (capped by SIGNOFF_IMAGE_MASTER_MAX_PX)."""
    overrides = brief.workspace.channel_overrides
    side = 1024
    version = drafting_version(brief, template_for(brief))
    for channel in version.data.get("channels", []):
        spec = resolve_spec(channel, overrides.get(channel))
        for slot in spec.images.slots if spec.images else []:
            side = max(side, slot.width_px, slot.height_px)
    side = min(side, getattr(settings, "SIGNOFF_IMAGE_MASTER_MAX_PX", 3600))
    return (side, side)


def _spec_of(provider: ImageProvider) -> str:
    return provider.name if provider.name == "builtin" else f"{provider.name}:{provider.model}"


def _size_accepted(got: tuple[int, int], want: tuple[int, int]) -> bool:
    # A remote model answers in the sizes it supports (1024x1024 for 2048x2048 asked): the
    # same shape is accepted, a different shape is not.
    return abs(got[0] / got[1] - want[0] / want[1]) < 0.01


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


def _direction(run: ImageRun, version: BriefVersion, refs: list[Reference]) -> Direction:
    negatives = [r.note for r in refs if r.kind == Reference.Kind.NEGATIVE and r.note]
    negatives += [note for kind, note in note_references(version) if kind == "negative"]
    examples = [
        r.note
        for r in refs
        if r.kind in (Reference.Kind.BRAND_EXAMPLE, Reference.Kind.PREVIOUS_WINNER) and r.note
    ]
    return direction_from(
        version.data,
        palette=(run.brief.workspace.brand or {}).get("palette", []),
        screen=version.screen(),
        hypothesis=run.hypothesis,
        negatives=negatives,
        examples=examples,
    )


def _feedback(brief: Brief, sku: str) -> tuple[str, ...]:
    ratings = (
        ImageRating.objects.filter(image__brief__workspace=brief.workspace, image__sku=sku)
        .select_related("image")
        .order_by("-created_at")[:8]
    )
    return screened(
        (feedback_line(r.stars, r.tags, r.note, r.image.number) for r in ratings), "feedback"
    )


def _kind(reference: Reference) -> ReferenceKind:
    # The port knows four kinds; competitors and inspiration are shown as brand examples.
    return reference.kind if reference.kind in get_args(ReferenceKind) else "brand_example"


def _seed(brief: Brief, sku: str) -> int:
    # Deterministic per brief, SKU and batch, so the builtin compositor repeats itself, while a
    # second batch for the same SKU explores new framings.
    batches = ImageVersion.objects.filter(brief=brief, sku=sku).count()
    return (sum(ord(c) for c in f"{brief.slug}/{sku}") * 7919 + batches * 101) % (2**31)


def _next_number(brief: Brief, sku: str) -> int:
    last = ImageVersion.objects.filter(brief=brief, sku=sku).order_by("-number").first()
    return (last.number + 1) if last else 1


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


def _max_pixels() -> int:
    return settings.SIGNOFF_IMAGE_MAX_PIXELS
