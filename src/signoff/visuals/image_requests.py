"""What an image run asks the provider for, SKU by SKU.

One direction for the run (the brief's, with its negative and example references and the
batch's hypothesis), then for each SKU what people said about its earlier options, its
packshots, the brand examples and a seed of its own. The prompt itself is written by the pure
``direction`` module; this module reads what it needs from the database.
"""

from __future__ import annotations

import dataclasses
from typing import get_args

from django.conf import settings

from signoff.briefs.models import Brief, BriefVersion
from signoff.briefs.workflow import template_for
from signoff.channels.catalog import resolve_spec
from signoff.packages.planning import drafting_version
from signoff.visuals.direction import direction_from, feedback_line, image_prompt, screened
from signoff.visuals.models import ImageRating, ImageRun, ImageVersion, Reference
from signoff.visuals.providers.port import Direction, ImageInput, ImageRequest, ReferenceKind
from signoff.visuals.references import note_references
from signoff.visuals.storage import read_blob

# References shown to the model as examples of the look, beside the packshots.
EXAMPLE_KINDS = (Reference.Kind.BRAND_EXAMPLE, Reference.Kind.PREVIOUS_WINNER)


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


def run_direction(run: ImageRun, version: BriefVersion, refs: list[Reference]) -> Direction:
    """The run's direction: the brief's, with the notes of its negative and example references
    and the batch's hypothesis."""
    negatives = [r.note for r in refs if r.kind == Reference.Kind.NEGATIVE and r.note]
    negatives += [note for kind, note in note_references(version) if kind == "negative"]
    examples = [r.note for r in refs if r.kind in EXAMPLE_KINDS and r.note]
    return direction_from(
        version.data,
        palette=(run.brief.workspace.brand or {}).get("palette", []),
        screen=version.screen(),
        hypothesis=run.hypothesis,
        negatives=negatives,
        examples=examples,
    )


def reference_inputs(refs: list[Reference]) -> dict[int, ImageInput]:
    """Each reference's file, read once, as the provider port takes it (by reference id)."""
    return {r.pk: ImageInput(r.blob.sha256, _kind(r), read_blob(r.blob), r.note) for r in refs}


def image_request(
    brief: Brief,
    direction: Direction,
    *,
    sku: str,
    product_name: str,
    packshots: tuple[ImageInput, ...],
    references: tuple[ImageInput, ...],
    n: int,
    size: tuple[int, int],
) -> ImageRequest:
    """One SKU's request: the run's direction with what people said about the SKU's earlier
    options, and a seed of its own."""
    sku_direction = dataclasses.replace(direction, past_feedback=_feedback(brief, sku))
    prompt = image_prompt(sku_direction, product_name=product_name, purpose="scene", size=size)
    return ImageRequest(
        sku=sku,
        product_name=product_name,
        prompt=prompt,
        direction=sku_direction,
        packshots=packshots,
        references=references,
        n=n,
        size=size,
        seed=_seed(brief, sku),
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
