"""People's decisions on images: rate, select, edit. Each is one transaction with its event.

Selection is a person's decision, by a role the brief's template gives it (a content lead, or
the CMO on a campaign), never an agent's; nobody selects an image they made themselves
(maker-checker, as for copy). An edit is a new image version with the old one as parent: an
approval or selection of the parent does not carry over.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from signoff.audit.services import record
from signoff.briefs.authority import ensure_may_run
from signoff.briefs.workflow import template_for
from signoff.core.errors import InputError, Problem
from signoff.visuals import edits
from signoff.visuals.checking import check_option
from signoff.visuals.imaging import ImageInputError, decode_image
from signoff.visuals.models import ImageFinding, ImageRating, ImageVersion, Reference, Selection
from signoff.visuals.providers.port import ImageEditRequest, ImageProviderError
from signoff.visuals.providers.registry import image_provider
from signoff.visuals.storage import put_blob, read_blob
from signoff.workflow import AuthorityError, ErrorCode, StateError
from signoff.workspaces.models import Person

TAG_MAX = 20


def _ready(image: ImageVersion) -> None:
    if image.status != ImageVersion.Status.READY:
        raise StateError(
            ErrorCode.INVALID_STATE,
            f"image {image.pk} is a failed option ({image.error}); it holds no image to use",
        )


def rate_image(
    *, image: ImageVersion, person: Person, stars: int, tags: list[str], note: str = ""
) -> ImageRating:
    """Keep a person's 1-5 rating with tags and a note; the next batch's prompt reads it."""
    problems = []
    if not 1 <= stars <= 5:
        problems.append(Problem(f"a rating is 1 to 5 stars, got {stars}", field="stars"))
    tags = [t.strip().lower() for t in tags if t.strip()]
    if len(tags) > TAG_MAX or any(len(t) > 40 for t in tags):
        problems.append(Problem(f"at most {TAG_MAX} tags of 40 characters each", field="tags"))
    if problems:
        raise InputError(problems)
    _ready(image)
    with transaction.atomic():
        rating = ImageRating.objects.create(
            image=image, person=person.email, stars=stars, tags=tags, note=note.strip()
        )
        record(
            action="image.rated",
            actor=person.email,
            subject_type="image",
            subject_id=str(image.pk),
            workspace=image.brief.workspace.slug,
            content_hash=image.blob.sha256,
            note=note,
            data={"brief": image.brief.slug, "sku": image.sku, "stars": stars, "tags": tags},
        )
    return rating


def select_image(*, image: ImageVersion, person: Person, note: str = "") -> Selection:
    """Make ``image`` the SKU's selected image (replacing an earlier selection)."""
    _ready(image)
    with transaction.atomic():
        person = Person.objects.get(pk=person.pk)  # the roles as they are now
        brief = image.brief
        roles = template_for(brief).image_selector_roles
        if not roles.intersection(person.roles):
            raise AuthorityError(
                ErrorCode.WRONG_ROLE,
                f"{person.email} may not select images for {brief.slug}: only "
                f"{' or '.join(sorted(roles))} may",
                required_roles=roles,
            )
        makers = {v.author for v in _lineage(image)}
        if person.email in makers:
            raise AuthorityError(
                ErrorCode.MAKER_CHECKER,
                f"{person.email} made or edited image {image.pk} and may not also select it",
            )
        live = Selection.objects.select_for_update().filter(
            brief=brief, sku=image.sku, replaced_at__isnull=True
        )
        previous = live.first()
        if previous is not None and previous.image_id == image.pk:
            raise StateError(
                ErrorCode.INVALID_STATE, f"image {image.pk} is already selected for {image.sku}"
            )
        live.update(replaced_at=timezone.now())
        selection = Selection.objects.create(
            brief=brief, sku=image.sku, image=image, person=person.email, note=note.strip()
        )
        record(
            action="image.selected",
            actor=person.email,
            subject_type="image",
            subject_id=str(image.pk),
            workspace=brief.workspace.slug,
            content_hash=image.blob.sha256,
            note=note,
            data={
                "brief": brief.slug,
                "sku": image.sku,
                "number": image.number,
                "replaces": previous.image_id if previous else None,
            },
        )
    return selection


def _lineage(image: ImageVersion) -> list[ImageVersion]:
    chain = []
    while image is not None:
        chain.append(image)
        image = image.parent
    return chain


@dataclass(frozen=True, slots=True)
class EditAsk:
    """One edit: exactly one of these is set."""

    prompt: str = ""
    mask: bytes | None = None
    background: str = ""  # white | transparent | #RRGGBB
    upscale: int = 0  # 2 | 4
    crop: tuple[int, int, int, int] | None = None
    provider: str | None = None


def edit_image(
    *, image: ImageVersion, person: Person, ask: EditAsk, note: str = ""
) -> ImageVersion:
    """Make a new image version from ``image`` with one edit; check it; record who and how."""
    _ready(image)
    ensure_may_run(person, image.brief, "edit images of")
    chosen = [bool(ask.prompt), bool(ask.background), bool(ask.upscale), ask.crop is not None]
    if sum(chosen) != 1:
        raise InputError(
            [Problem("give exactly one edit: --prompt, --background, --upscale or --crop")]
        )
    source = decode_image(read_blob(image.blob), f"image {image.pk}", max_pixels=_max_pixels())
    origin = {"kind": "person", "person": person.email, "note": note, "parent": image.pk}
    try:
        if ask.prompt:
            data, width, height, fmt, extra = _provider_edit(image, ask, person)
            origin |= extra
        else:
            edited, operation = _builtin_edit(source.image, ask)
            data, fmt = _encode(edited)
            width, height = edited.size
            origin |= {"provider": "builtin", "model": "edits-1", **operation}
    except (edits.EditRefused, ImageProviderError) as exc:
        raise StateError(ErrorCode.INVALID_STATE, f"the edit was not made: {exc}") from exc
    try:
        decoded = decode_image(data, "edited image", max_pixels=_max_pixels())
    except ImageInputError as exc:
        raise StateError(
            ErrorCode.INVALID_STATE, f"the provider's edit is not a usable image: {exc.message}"
        ) from exc
    packshot = _packshot(image)
    checked = check_option(decoded.image, packshot, _moved_bbox(image, ask))
    with transaction.atomic():
        blob = put_blob(image.brief.workspace, data, fmt=fmt, width=width, height=height)
        last = ImageVersion.objects.filter(brief=image.brief, sku=image.sku).order_by("-number")
        edited_version = ImageVersion.objects.create(
            brief=image.brief,
            sku=image.sku,
            number=last.first().number + 1,
            kind=ImageVersion.Kind.EDIT,
            status=ImageVersion.Status.READY,
            parent=image,
            blob=blob,
            origin={**origin, "size": [width, height], "notes": list(decoded.notes)},
            author=person.email,
            hypothesis=image.hypothesis,
            product_bbox=checked.product_bbox,
        )
        ImageFinding.objects.bulk_create(
            ImageFinding(image=edited_version, **row) for row in checked.findings
        )
        record(
            action="image.edited",
            actor=person.email,
            subject_type="image",
            subject_id=str(edited_version.pk),
            workspace=image.brief.workspace.slug,
            content_hash=blob.sha256,
            note=note,
            data={
                "brief": image.brief.slug,
                "sku": image.sku,
                "parent": image.pk,
                "parent_hash": image.blob.sha256,
                "operation": origin.get("operation"),
                "parameters": origin.get("parameters", {}),
            },
        )
    return edited_version


def _builtin_edit(source, ask: EditAsk):  # noqa: ANN001, ANN202 - PIL images
    if ask.background:
        edited, parameters, note = edits.replace_background(source, ask.background)
        return edited, {"operation": "background", "parameters": parameters, "edit_note": note}
    if ask.upscale:
        edited, parameters, note = edits.upscale(source, ask.upscale)
        return edited, {
            "operation": "upscale",
            "parameters": parameters,
            "edit_note": note,
            "upscaled": True,
        }
    edited, parameters, note = edits.crop(source, *ask.crop)
    return edited, {"operation": "crop", "parameters": parameters, "edit_note": note}


def _provider_edit(image: ImageVersion, ask: EditAsk, person: Person):  # noqa: ANN202
    provider = image_provider(ask.provider)
    packshots = tuple(
        _input(ref) for ref in image.brief.references.filter(kind="packshot", sku=image.sku)
    )
    result = provider.edit(
        ImageEditRequest(
            image=read_blob(image.blob), prompt=ask.prompt, mask=ask.mask, packshots=packshots
        )
    )
    if not result.images:
        raise ImageProviderError(f"{provider.name} returned no image")
    generated = result.images[0]
    decoded = decode_image(generated.data, "edited image", max_pixels=_max_pixels())
    extra = {
        "kind": "agent",
        "agent": "image_editor",
        "asked_by": person.email,
        "operation": "prompt",
        "provider": result.provider,
        "model": result.model,
        "prompt": result.prompt or ask.prompt,
        "parameters": {**result.parameters, "mask": ask.mask is not None},
        "cost": result.cost,
        "latency_ms": result.latency_ms,
        "digital_source_type": generated.digital_source_type,
    }
    return generated.data, decoded.width, decoded.height, decoded.format, extra


def _input(reference: Reference):  # noqa: ANN202 - an ImageInput
    from signoff.visuals.providers.port import ImageInput

    return ImageInput(reference.blob.sha256, "packshot", read_blob(reference.blob), reference.note)


def _packshot(image: ImageVersion):  # noqa: ANN202 - a PIL image or None
    reference = (
        image.brief.references.filter(kind="packshot", sku=image.sku).select_related("blob").first()
    )
    if reference is None:
        return None
    return decode_image(read_blob(reference.blob), "packshot", max_pixels=_max_pixels()).image


def _moved_bbox(image: ImageVersion, ask: EditAsk) -> list[int] | None:
    box = image.product_bbox
    if not box:
        return None
    if ask.upscale:
        return [v * ask.upscale for v in box]
    if ask.crop is not None:
        x, y, _, _ = ask.crop
        return [box[0] - x, box[1] - y, box[2], box[3]]
    if ask.background:
        return list(box)
    return None


def _encode(edited) -> tuple[bytes, str]:  # noqa: ANN001 - a PIL image
    import io

    buffer = io.BytesIO()
    edited.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue(), "png"


def _max_pixels() -> int:
    return settings.SIGNOFF_IMAGE_MAX_PIXELS
