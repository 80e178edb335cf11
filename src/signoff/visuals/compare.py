"""R&D: one prompt for one SKU on several image providers, side by side.

Nothing is stored: the options come back as bytes with their provider, model, cost, latency
and check findings, for a person to look at. An option a person keeps becomes an image version
of the brief like any generated option (``keep_option``), with ``compare`` in its provenance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from signoff.audit.services import record
from signoff.briefs.authority import ensure_may_run
from signoff.briefs.models import Brief
from signoff.briefs.workflow import template_for
from signoff.core.errors import InputError, Problem
from signoff.packages.services import drafting_version
from signoff.visuals.checking import check_option
from signoff.visuals.direction import direction_from, image_prompt
from signoff.visuals.imaging import ImageInputError, decode_image
from signoff.visuals.models import ImageFinding, ImageVersion, Reference
from signoff.visuals.providers.port import ImageInput, ImageProviderError, ImageRequest
from signoff.visuals.providers.registry import image_provider
from signoff.visuals.storage import put_blob, read_blob
from signoff.workspaces.models import Person


@dataclass
class ComparedOption:
    provider: str
    model: str
    index: int  # 1-based within the provider's answer
    data: bytes | None
    size: tuple[int, int] | None
    cost: float
    latency_ms: float
    prompt: str
    parameters: dict = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)
    error: str = ""
    digital_source_type: str = ""
    seed: int | None = None


def compare_providers(
    *, brief: Brief, person: Person, sku: str, providers: list[str], n: int = 1
) -> list[ComparedOption]:
    """Run the same request on each provider; store nothing."""
    ensure_may_run(person, brief, "compare image providers for")
    version = drafting_version(brief, template_for(brief))
    product = version.products.filter(sku=sku).first()
    if product is None:
        raise InputError([Problem(f"SKU {sku!r} is not in brief {brief.slug}", field="sku")])
    packshots = list(
        Reference.objects.filter(brief=brief, kind="packshot", sku=sku).select_related("blob")
    )
    if not packshots:
        raise InputError(
            [Problem(f"{sku} has no packshot; no image is made without one", field="sku")]
        )
    screen = version.screen()  # the brief as the guard left it, as generation sends it
    direction = direction_from(
        version.data, palette=(brief.workspace.brand or {}).get("palette", []), screen=screen
    )
    name = screen.text(f"products[{sku}].name", product.name) or sku
    size = (1024, 1024)
    prompt = image_prompt(direction, product_name=name, purpose="scene", size=size)
    request = ImageRequest(
        sku=sku,
        product_name=name,
        prompt=prompt,
        direction=direction,
        packshots=tuple(
            ImageInput(r.blob.sha256, "packshot", read_blob(r.blob)) for r in packshots
        ),
        n=n,
        size=size,
        seed=1,
    )
    packshot = decode_image(request.packshots[0].data, "packshot", max_pixels=_max_pixels()).image
    out = []
    for spec in providers:
        provider = image_provider(spec)
        started = time.monotonic()
        try:
            result = provider.generate(request)
        except ImageProviderError as exc:
            out.append(
                ComparedOption(
                    provider.name,
                    provider.model,
                    1,
                    None,
                    None,
                    0.0,
                    (time.monotonic() - started) * 1000,
                    prompt,
                    error=str(exc),
                )
            )
            continue
        for i, generated in enumerate(result.images, 1):
            try:
                decoded = decode_image(
                    generated.data, f"{spec} option {i}", max_pixels=_max_pixels()
                )
            except ImageInputError as exc:
                out.append(
                    ComparedOption(
                        result.provider,
                        result.model,
                        i,
                        None,
                        None,
                        0.0,
                        result.latency_ms,
                        prompt,
                        error=exc.message,
                    )
                )
                continue
            checked = check_option(decoded.image, packshot)
            out.append(
                ComparedOption(
                    provider=result.provider,
                    model=result.model,
                    index=i,
                    data=generated.data,
                    size=(decoded.width, decoded.height),
                    cost=result.cost / max(1, len(result.images)),
                    latency_ms=result.latency_ms,
                    prompt=prompt,
                    parameters={**result.parameters, **generated.parameters},
                    findings=checked.findings,
                    digital_source_type=generated.digital_source_type,
                    seed=generated.seed,
                )
            )
    return out


def keep_option(
    *, brief: Brief, person: Person, sku: str, option: ComparedOption, note: str = ""
) -> ImageVersion:
    """Store a compared option a person chose to keep, as an option of the brief."""
    ensure_may_run(person, brief, "keep compared images for")
    if option.data is None:
        raise InputError([Problem(f"that option failed: {option.error}", field="keep")])
    decoded = decode_image(option.data, "kept option", max_pixels=_max_pixels())
    packshot_ref = Reference.objects.filter(brief=brief, kind="packshot", sku=sku).first()
    with transaction.atomic():
        blob = put_blob(
            brief.workspace,
            option.data,
            fmt=decoded.format,
            width=decoded.width,
            height=decoded.height,
        )
        last = ImageVersion.objects.filter(brief=brief, sku=sku).order_by("-number").first()
        image = ImageVersion.objects.create(
            brief=brief,
            sku=sku,
            number=(last.number + 1) if last else 1,
            kind=ImageVersion.Kind.OPTION,
            status=ImageVersion.Status.READY,
            blob=blob,
            origin={
                "kind": "agent",
                "agent": "image_generator",
                "compare": True,
                "kept_by": person.email,
                "note": note.strip(),
                "provider": option.provider,
                "model": option.model,
                "prompt": option.prompt,
                "parameters": option.parameters,
                "seed": option.seed,
                "cost": round(option.cost, 6),
                "latency_ms": round(option.latency_ms, 1),
                "references": [packshot_ref.blob.sha256] if packshot_ref else [],
                "digital_source_type": option.digital_source_type,
                "size": [decoded.width, decoded.height],
            },
            author="agent:image_generator",
            product_bbox=option.parameters.get("product_box"),
        )
        ImageFinding.objects.bulk_create(
            ImageFinding(image=image, **row) for row in option.findings
        )
        record(
            action="image.generated",
            actor=person.email,
            subject_type="image",
            subject_id=str(image.pk),
            workspace=brief.workspace.slug,
            content_hash=blob.sha256,
            note=note,
            data={
                "brief": brief.slug,
                "sku": sku,
                "number": image.number,
                "compare": True,
                "provider": option.provider,
                "model": option.model,
            },
        )
    return image


def _max_pixels() -> int:
    return settings.SIGNOFF_IMAGE_MAX_PIXELS
