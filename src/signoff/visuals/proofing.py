"""Proofs of stored images and renditions for a print channel: the web page, its PDF, the API.

Loads the stored pixels, checks them against the channel's rules the way ``signoff images
proof`` does, and lays the sheet out with the pure ``signoff.visuals.proof``, which also draws
the PDF. Scoping (whose workspace) is the caller's: every function takes an object already
found in the person's workspace.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.conf import settings
from PIL import Image
from pydantic import ValidationError

from signoff.channels.catalog import catalog_ids, resolve_spec
from signoff.channels.spec import ChannelSpec
from signoff.core.errors import InputError, NotFound
from signoff.visuals.imaging import decode_image
from signoff.visuals.models import Blob, ImageVersion, Reference, Rendition
from signoff.visuals.proof import ProofLayout, layout, print_size, prints, sheet_pdf
from signoff.visuals.qc.run import check_image
from signoff.visuals.renditions import rendered_bbox
from signoff.visuals.storage import read_blob
from signoff.workspaces.models import Workspace

MAX_CROP_SIDE = 4096  # a crop request larger than this is a whole-image download, not a crop


@dataclass(frozen=True, slots=True)
class StoredProof:
    """One stored image's proof for one channel, ready to render or draw."""

    title: str
    channel: ChannelSpec
    blob: Blob
    image: Image.Image  # decoded: oriented, sRGB, transparency flattened onto white
    sheet: ProofLayout
    filename: str  # for the PDF download

    def pdf(self) -> bytes:
        return sheet_pdf(self.image, title=self.title, sheet=self.sheet)


def print_channels(workspace: Workspace) -> list[ChannelSpec]:
    """The channels that print (a physical size or a slot with a dpi), as the workspace sees
    them, by name."""
    found = []
    for channel_id in sorted(set(catalog_ids()) | set(workspace.channel_overrides)):
        try:
            spec = resolve_spec(channel_id, workspace.channel_overrides.get(channel_id))
        except (NotFound, ValidationError):
            continue  # a broken override is reported where overrides are edited, not here
        if prints(spec.images):
            found.append(spec)
    return sorted(found, key=lambda spec: spec.name)


def print_channel(workspace: Workspace, channel_id: str) -> ChannelSpec:
    """The channel to proof for; refuse one that does not print, naming those that do."""
    channels = print_channels(workspace)
    for spec in channels:
        if spec.id == channel_id:
            return spec
    known = ", ".join(spec.id for spec in channels) or "none in this workspace"
    try:
        resolve_spec(channel_id, workspace.channel_overrides.get(channel_id))
    except (NotFound, ValidationError):
        raise InputError.single(
            f"unknown channel {channel_id!r}; print channels: {known}", field="channel"
        ) from None
    raise InputError.single(
        f"{channel_id} is not a print channel: it has no print size and no slot with a dpi, "
        f"so there is no physical size to proof; print channels: {known}",
        field="channel",
    )


def image_proof(image: ImageVersion, channel_id: str) -> StoredProof:
    """An option or edit as it would print on ``channel_id`` (scaled to cover its print size)."""
    if image.blob is None:
        raise InputError.single(f"image {image.pk} failed and holds no file", field="image")
    channel = print_channel(image.brief.workspace, channel_id)
    picture, tables = _decode(image.blob, f"image {image.pk}")
    rules = channel.images
    found = check_image(
        picture,
        rules.qc,
        main=False,
        packshot=_packshot(image),
        physical=rules.print,
        jpeg_quantization=tables,
    )
    bbox = image.product_bbox
    sheet = layout(
        picture,
        findings=found,
        printed=print_size(rules, picture.size),
        product_bbox=bbox if bbox and len(bbox) == 4 else None,
    )
    title = f"{image.sku} option {image.number}"
    return StoredProof(
        title=f"{title} for {channel.name}",
        channel=channel,
        blob=image.blob,
        image=picture,
        sheet=sheet,
        filename=f"proof-{image.sku}-{image.number}-{channel.id}.pdf",
    )


def rendition_proof(rendition: Rendition) -> StoredProof:
    """A channel slot's rendition at the dpi in its file, checked as rendering checked it."""
    image = rendition.image
    channel = print_channel(image.brief.workspace, rendition.channel)
    rules = channel.images
    slot = rules.slot(rendition.slot)
    picture, tables = _decode(rendition.blob, rendition.filename)
    # Where the product landed in this slot: the master's box through the slot's cover crop.
    box = None
    if slot is not None and image.product_bbox and image.blob is not None:
        box = rendered_bbox((image.blob.width, image.blob.height), slot, image.product_bbox)
    found = check_image(
        picture,
        rules.qc,
        main=slot is not None and rules.slots[0].id == slot.id and slot.fit == "pad_white",
        packshot=_packshot(image),
        physical=rules.print,
        jpeg_quantization=tables,
        product_bbox=box,
    )
    sheet = layout(
        picture,
        findings=found,
        printed=print_size(rules, picture.size, rendition.slot),
        product_bbox=box,
    )
    return StoredProof(
        title=f"{rendition.filename} for {channel.name}",
        channel=channel,
        blob=rendition.blob,
        image=picture,
        sheet=sheet,
        filename=f"proof-{rendition.filename.rsplit('.', 1)[0]}.pdf",
    )


def crop_png(blob: Blob, box: tuple[int, int, int, int] | None = None) -> bytes:
    """The stored image's pixels inside ``box`` (x, y, w, h; clamped to the image; the whole
    image when None) as a PNG: lossless, so a 100 % crop shows the file's own artefacts."""
    picture, _ = _decode(blob, f"file {blob.sha256[:12]}")
    if box is not None:
        x, y, w, h = box
        left, top = min(max(x, 0), picture.width - 1), min(max(y, 0), picture.height - 1)
        right, bottom = min(left + max(w, 1), picture.width), min(top + max(h, 1), picture.height)
        picture = picture.crop((left, top, right, bottom))
    buffer = io.BytesIO()
    # Speed over size: a whole poster at level 9 takes seconds; these are viewed, not kept.
    picture.save(buffer, format="PNG", compress_level=1 if box is None else 6)
    return buffer.getvalue()


def _decode(blob: Blob, name: str) -> tuple[Image.Image, dict | None]:
    data = read_blob(blob)
    decoded = decode_image(
        data, name, max_pixels=settings.SIGNOFF_IMAGE_MAX_PIXELS, keep_alpha=False
    )
    tables = None
    if decoded.format == "JPEG":  # the file's own tables: the compression check reads them
        with Image.open(io.BytesIO(data)) as raw:
            tables = getattr(raw, "quantization", None)
    return decoded.image, tables


def _packshot(image: ImageVersion) -> Image.Image | None:
    reference = (
        Reference.objects.filter(
            brief=image.brief, kind="packshot", sku=image.sku, blob__isnull=False
        )
        .select_related("blob")
        .first()
    )
    if reference is None:
        return None
    return _decode(reference.blob, "packshot")[0]
