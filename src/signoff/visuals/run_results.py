"""What an image run keeps: each SKU's answer from the provider, read, checked and stored.

Every generated image is decoded and checked (``checking.check_option``) before a person sees
it. A usable one becomes a ready option (an image version with its findings and an
``image.generated`` event); an unusable answer, or a provider that did not answer, becomes a
failed option with an ``image.generation_failed`` event, so what was paid for stays on record.
One SKU's options are stored in one transaction, numbered after the SKU's last image version.
The run itself (queuing, its steps, the lock and the budget) is ``generation``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from PIL import Image

from signoff.audit.services import record
from signoff.briefs.models import Brief
from signoff.core.text import clip
from signoff.visuals.checking import Checked, check_option
from signoff.visuals.imaging import Decoded, ImageInputError, decode_image
from signoff.visuals.models import ImageFinding, ImageRun, ImageVersion
from signoff.visuals.providers.port import GeneratedImage, ImageRequest, ImageResult
from signoff.visuals.storage import put_blob

AGENT = "agent:image_generator"


@dataclass
class RunOutcome:
    """What a run made, failed and found missing, SKU by SKU (``execute_image_run``'s answer)."""

    run: ImageRun
    made: dict[str, list[int]] = field(default_factory=dict)  # SKU -> image version ids
    failed: dict[str, list[str]] = field(default_factory=dict)  # SKU -> reasons
    missing: dict[str, str] = field(default_factory=dict)  # SKU -> what is missing


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back for one SKU's request: the provider's result, or why there is none."""

    sku: str
    request: ImageRequest
    result: ImageResult | None = None
    error: str = ""
    seconds: float = 0.0


def store_answer(run: ImageRun, answer: Answer, outcome: RunOutcome) -> None:
    """Keep one SKU's options (each checked), or record why there are none; one transaction.

    Decoding and checking each answer (the slow part) happens before the transaction, so the
    database's write lock is held only for the rows.
    """
    brief = run.brief
    request, result = answer.request, answer.result
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
            outcome.failed.setdefault(answer.sku, []).append(answer.error)
            number = _next_number(brief, answer.sku)
            _failed(run, answer.sku, number, {**base, "provider": run.provider}, answer.error)
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
            "latency_ms": round(result.latency_ms or answer.seconds * 1000, 1),
            "usage": result.usage,
            "digital_source_type": generated.digital_source_type,
            "option": i + 1,
        }
        kept.append((origin, generated, _examine(generated, origin, request, packshot.image)))
    with transaction.atomic():
        number = _next_number(brief, answer.sku)
        for origin, generated, examined in kept:
            _keep(run, answer.sku, number, origin, generated, examined, outcome)
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


def _size_accepted(got: tuple[int, int], want: tuple[int, int]) -> bool:
    # A remote model answers in the sizes it supports (1024x1024 for 2048x2048 asked): the
    # same shape is accepted, a different shape is not.
    return abs(got[0] / got[1] - want[0] / want[1]) < 0.01


def _next_number(brief: Brief, sku: str) -> int:
    last = ImageVersion.objects.filter(brief=brief, sku=sku).order_by("-number").first()
    return (last.number + 1) if last else 1


def _max_pixels() -> int:
    return settings.SIGNOFF_IMAGE_MAX_PIXELS
