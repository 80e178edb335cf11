"""Renditions: every slot of every package, made from the SKU's selected image.

Each master is decoded once per pass and rendered into every slot of the brief's channels
(resize, crop that keeps the product whole, or pad on white for a marketplace main image;
format, quality, sRGB, byte limit), checked against the channel's image rules, stored under
the workspace's naming pattern, and attached to the SKU's packages as a new version.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from PIL import Image

from signoff.agents.context import CheckFinding, Severity
from signoff.audit.services import record
from signoff.briefs.authority import ensure_may_run
from signoff.briefs.models import Brief
from signoff.briefs.workflow import template_for
from signoff.channels.catalog import resolve_spec
from signoff.channels.spec import ChannelSpec, ImageSlot
from signoff.core.errors import InputError, Problem
from signoff.core.naming import file_name, name_words
from signoff.packages.images import attach_images
from signoff.packages.models import IMAGE_AGENT, Package
from signoff.packages.services import drafting_version
from signoff.visuals import renditions
from signoff.visuals.checking import check_rendition
from signoff.visuals.imaging import decode_image
from signoff.visuals.models import ImageFinding, ImageVersion, Reference, Rendition, Selection
from signoff.visuals.storage import put_blob, read_blob
from signoff.workflow import WorkflowError
from signoff.workspaces.models import Person

DEFAULT_NAMING = "{brand}_{sku}_{channel}_{slot}_v{version}.{ext}"
_EXT = {"jpeg": "jpg", "png": "png", "webp": "webp", "tiff": "tif"}


@dataclass
class RenderReport:
    rendered: list[dict] = field(default_factory=list)  # one per rendition made or reused
    attached: list[dict] = field(default_factory=list)  # one per package
    missing: dict[str, str] = field(default_factory=dict)  # SKU -> why it has no renditions
    refused: list[dict] = field(default_factory=list)  # slots that could not be made


def render_brief(*, brief: Brief, person: Person, skus: list[str] | None = None) -> RenderReport:
    """Render every slot of every channel for each SKU's selected image and attach them."""
    ensure_may_run(person, brief, "render images of")
    version = drafting_version(brief, template_for(brief))
    known = set(version.products.values_list("sku", flat=True))
    unknown = [s for s in skus or [] if s not in known]
    if unknown:
        raise InputError(
            [Problem(f"SKU {s!r} is not in brief {brief.slug}", field="sku") for s in unknown]
        )
    report = RenderReport()
    channels = _channels(brief, version.data.get("channels", []))
    selections = {
        s.sku: s
        for s in Selection.objects.filter(brief=brief, replaced_at__isnull=True).select_related(
            "image__blob"
        )
    }
    for sku in sorted(set(skus or known)):
        selection = selections.get(sku)
        if selection is None:
            report.missing[sku] = (
                f"no selected image: choose one with `signoff images select IMAGE` "
                f"(see `signoff images list {brief.slug} --sku {sku}`)"
            )
            continue
        planned = _render_sku(brief, selection.image, channels, report)
        # One SKU is one transaction: its renditions, the package versions that carry them and
        # the event stand or fall together (a crash leaves the SKU as it was, to render again).
        with transaction.atomic():
            by_channel = _save(selection.image, planned, report)
            _attach(brief, sku, by_channel, person, report)
    return report


def _channels(brief: Brief, ids: list[str]) -> dict[str, ChannelSpec]:
    overrides = brief.workspace.channel_overrides
    specs = {c: resolve_spec(c, overrides.get(c)) for c in ids}
    return {c: s for c, s in specs.items() if s.images is not None and s.images.slots}


@dataclass
class _Planned:
    """A slot's rendition made and checked in memory, stored by ``_save``."""

    spec: ChannelSpec
    slot: ImageSlot
    made: renditions.Rendition
    name: str
    rows: list[dict]


def _render_sku(
    brief: Brief, image: ImageVersion, channels: dict[str, ChannelSpec], report: RenderReport
) -> dict[str, dict[str, tuple[Rendition, list[dict]] | _Planned]]:
    """Make (or find) every slot's rendition of ``image``, outside any transaction; the master
    and the packshot are decoded once, and only when a slot still has to be made."""
    existing = {
        (r.channel, r.slot): r
        for r in image.renditions.select_related("blob").prefetch_related("findings")
    }
    source_type = image.origin.get("digital_source_type")
    master = packshot = None
    out: dict[str, dict[str, tuple[Rendition, list[dict]] | _Planned]] = {}
    for channel_id, spec in channels.items():
        for index, slot in enumerate(spec.images.slots):
            found = existing.get((channel_id, slot.id))
            if found is not None:
                rows = [_finding_row(f) for f in found.findings.all()]
                out.setdefault(channel_id, {})[slot.id] = (found, rows)
                report.rendered.append(_described(found, reused=True))
                continue
            if master is None:
                master = decode_image(
                    read_blob(image.blob), f"image {image.pk}", max_pixels=_max_pixels()
                )
                packshot = _packshot(brief, image.sku)
            made = _make(master.image, packshot, image, slot, source_type)
            if isinstance(made, str):
                report.refused.append(
                    {"sku": image.sku, "channel": channel_id, "slot": slot.id, "reason": made}
                )
                continue
            box = renditions.rendered_bbox(
                master.image.size,
                slot,
                image.product_bbox,  # pad_white slots (the packshot fallback too) have none
            )
            out.setdefault(channel_id, {})[slot.id] = _plan(
                brief, image, spec, slot, index, made, packshot, box
            )
    return out


def _save(
    image: ImageVersion,
    planned: dict[str, dict[str, tuple[Rendition, list[dict]] | _Planned]],
    report: RenderReport,
) -> dict[str, dict[str, tuple[Rendition, list[dict]]]]:
    """Store the SKU's new renditions with their findings (inside the caller's transaction)."""
    out: dict[str, dict[str, tuple[Rendition, list[dict]]]] = {}
    for channel_id, slots in planned.items():
        for slot_id, entry in slots.items():
            if isinstance(entry, _Planned):
                entry = (_store(image, entry), entry.rows)
                report.rendered.append(_described(entry[0], reused=False))
            out.setdefault(channel_id, {})[slot_id] = entry
    return out


def _finding_row(finding: ImageFinding) -> dict:
    return {
        "rule_id": finding.rule_id,
        "severity": finding.severity,
        "message": finding.message,
        "bbox": finding.bbox,
        "suggested_fix": finding.suggested_fix,
    }


def _make(master, packshot, image: ImageVersion, slot: ImageSlot, source_type):  # noqa: ANN001, ANN202
    """Render one slot; a marketplace main image from a scene is made from the packshot."""
    bbox = tuple(image.product_bbox) if image.product_bbox else None
    try:
        return renditions.render(master, slot, product_bbox=bbox, digital_source_type=source_type)
    except renditions.RenditionError as exc:
        if slot.fit != "pad_white" or packshot is None:
            return str(exc)
        try:
            made = renditions.render(packshot, slot, product_bbox=None, digital_source_type=None)
        except renditions.RenditionError as again:
            return str(again)
        return _with_note(made, f"made from the packshot: {exc}")


def _with_note(made, note: str):  # noqa: ANN001, ANN202
    made.notes.append(note)
    return made


def _plan(brief, image, spec, slot, index, made, packshot, box) -> _Planned:  # noqa: ANN001
    naming = (brief.workspace.brand or {}).get("file_naming") or DEFAULT_NAMING
    name = file_name(
        naming,
        brand=brief.workspace.slug,
        sku=image.sku,
        channel=spec.id,
        slot=slot.id,
        version=image.number,
        image=image.pk,
        width=made.width,
        height=made.height,
        ext=_EXT.get(made.format, made.format),
    )
    decoded = Image.open(io.BytesIO(made.data))
    quantization = getattr(decoded, "quantization", None)
    decoded.load()
    rows = check_rendition(
        decoded,
        spec,
        main=index == 0 and slot.fit == "pad_white",
        packshot=packshot,
        jpeg_quantization=quantization,
        product_bbox=box,
    )
    return _Planned(spec=spec, slot=slot, made=made, name=name, rows=rows)


def _store(image: ImageVersion, planned: _Planned) -> Rendition:
    made = planned.made
    blob = put_blob(
        image.brief.workspace, made.data, fmt=made.format, width=made.width, height=made.height
    )
    rendition = Rendition.objects.create(
        image=image,
        channel=planned.spec.id,
        slot=planned.slot.id,
        blob=blob,
        filename=planned.name,
        width=made.width,
        height=made.height,
        format=made.format,
        quality=made.quality,
        notes=list(made.notes),
    )
    ImageFinding.objects.bulk_create(
        ImageFinding(image=image, rendition=rendition, **row) for row in planned.rows
    )
    return rendition


def _attach(
    brief: Brief,
    sku: str,
    by_channel: dict[str, dict[str, tuple[Rendition, list[dict]]]],
    person: Person,
    report: RenderReport,
) -> None:
    packages = Package.objects.filter(brief=brief, sku=sku, channel__in=list(by_channel))
    for package in packages.order_by("channel", "market", "variant"):
        slots = by_channel[package.channel]
        images = {
            slot: {
                "sha256": r.blob.sha256,
                "rendition": r.pk,
                "image": r.image_id,
                "file": r.filename,
                "width": r.width,
                "height": r.height,
                "format": r.format,
            }
            for slot, (r, _) in slots.items()
        }
        findings = [
            CheckFinding(
                agent=IMAGE_AGENT,
                rule_id=row["rule_id"],
                severity=Severity(row["severity"]),
                message=f"{slot}: {row['message']}",
                field=f"images.{slot}",
                suggested_fix=row["suggested_fix"] or None,
            )
            for slot, (_, rows) in slots.items()
            for row in rows
        ]
        entry = {"package": package.pk, "sku": sku, "channel": package.channel}
        if package.current_version_id is None:
            report.attached.append({**entry, "outcome": "not drafted yet: run the brief first"})
            continue
        try:
            result = attach_images(
                package_id=package.pk, person=person, images=images, image_findings=findings
            )
        except WorkflowError as exc:
            report.attached.append({**entry, "outcome": "refused", "reason": exc.message})
            continue
        report.attached.append({**entry, "outcome": result.outcome, "message": result.message})
    record(
        action="image.rendered",
        actor=person.email,
        subject_type="brief",
        subject_id=str(brief.pk),
        workspace=brief.workspace.slug,
        # The file names, so memory search finds an image by any part of its name.
        note="Rendered "
        + "; ".join(
            f"{r.filename} ({name_words(r.filename)})"
            for slots in by_channel.values()
            for r, _ in slots.values()
        ),
        data={
            "brief": brief.slug,
            "sku": sku,
            "renditions": {
                channel: {slot: r.blob.sha256 for slot, (r, _) in slots.items()}
                for channel, slots in by_channel.items()
            },
        },
    )


def _described(rendition: Rendition, *, reused: bool) -> dict:
    return {
        "id": rendition.pk,
        "image": rendition.image_id,
        "sku": rendition.image.sku,
        "channel": rendition.channel,
        "slot": rendition.slot,
        "file": rendition.filename,
        "size": [rendition.width, rendition.height],
        "format": rendition.format,
        "bytes": rendition.blob.size,
        "sha256": rendition.blob.sha256,
        "notes": rendition.notes,
        "reused": reused,
    }


def _packshot(brief: Brief, sku: str):  # noqa: ANN202 - a PIL image or None
    reference = (
        Reference.objects.filter(brief=brief, kind="packshot", sku=sku)
        .select_related("blob")
        .first()
    )
    if reference is None:
        return None
    return decode_image(read_blob(reference.blob), "packshot", max_pixels=_max_pixels()).image


def _max_pixels() -> int:
    return settings.SIGNOFF_IMAGE_MAX_PIXELS
