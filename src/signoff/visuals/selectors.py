"""Reads of references, image versions and renditions, as the CLI, API and screens show them."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Prefetch

from signoff.briefs.models import Brief
from signoff.core.errors import NotFound
from signoff.visuals.models import (
    ImageFinding,
    ImageRun,
    ImageVersion,
    Reference,
    Rendition,
    Selection,
)
from signoff.visuals.storage import blob_path
from signoff.workspaces.models import Person


def references_of(brief: Brief) -> list[dict[str, Any]]:
    return [
        {
            "id": r.pk,
            "kind": r.kind,
            "sku": r.sku or None,
            "file": r.filename or None,
            "note": r.note,
            "sha256": r.blob.sha256 if r.blob else None,
            "size": [r.blob.width, r.blob.height] if r.blob else None,
            "format": r.blob.format if r.blob else None,
            "notes": r.notes,
            "added_by": r.added_by,
            "added_at": r.created_at.isoformat(),
        }
        for r in brief.references.select_related("blob").order_by("id")
    ]


def image_for(person: Person, image_id: int | str) -> ImageVersion:
    """The image version, if it is in the person's workspace (404 otherwise)."""
    try:
        return ImageVersion.objects.select_related("brief__workspace", "blob", "parent").get(
            pk=int(image_id), brief__workspace_id=person.workspace_id
        )
    except (ImageVersion.DoesNotExist, ValueError):
        raise NotFound(f"no image {image_id}") from None


def images_of(brief: Brief, *, sku: str | None = None, hide_blocked: bool = False) -> list[dict]:
    """Every image version of the brief (or one SKU), options and edits, oldest first."""
    images = (
        brief.images.select_related("blob", "parent")
        .annotate(stars=Avg("ratings__stars"), rated=Count("ratings", distinct=True))
        .prefetch_related(Prefetch("findings", ImageFinding.objects.filter(rendition__isnull=True)))
        .order_by("sku", "number")
    )
    if sku:
        images = images.filter(sku=sku)
    selected = set(
        Selection.objects.filter(brief=brief, replaced_at__isnull=True).values_list(
            "image_id", flat=True
        )
    )
    out = [image_summary(i, selected=i.pk in selected) for i in images]
    if hide_blocked:
        out = [i for i in out if not i["blocking"]]
    return out


def image_summary(image: ImageVersion, *, selected: bool = False) -> dict[str, Any]:
    findings = [
        {
            "rule_id": f.rule_id,
            "severity": f.severity,
            "message": f.message,
            "bbox": f.bbox,
            "suggested_fix": f.suggested_fix or None,
        }
        for f in image.findings.all()
        if f.rendition_id is None
    ]
    origin = image.origin
    stars = getattr(image, "stars", None)
    rated = getattr(image, "rated", None)
    if rated is None:  # not annotated by images_of: one image, so ask
        summary = image.ratings.aggregate(stars=Avg("stars"), rated=Count("id"))
        stars, rated = summary["stars"], summary["rated"]
    return {
        "id": image.pk,
        "sku": image.sku,
        "number": image.number,
        "kind": image.kind,
        "status": "selected" if selected else image.status,
        "parent": image.parent_id,
        "sha256": image.blob.sha256 if image.blob else None,
        "size": [image.blob.width, image.blob.height] if image.blob else None,
        "format": image.blob.format if image.blob else None,
        "path": blob_path(image.blob) if image.blob else None,
        "provider": origin.get("provider"),
        "model": origin.get("model"),
        "seed": origin.get("seed"),
        "cost": origin.get("cost"),
        "author": image.author,
        "hypothesis": image.hypothesis,
        "error": image.error or None,
        "stars": round(stars, 1) if stars else None,
        "rating_count": rated,
        "findings": findings,
        "blocking": any(f["severity"] == "block" for f in findings),
        "product_bbox": image.product_bbox,
        "created_at": image.created_at.isoformat(),
    }


def image_detail(image: ImageVersion) -> dict[str, Any]:
    """One image with its provenance, lineage, ratings and renditions."""
    selected = Selection.objects.filter(
        brief=image.brief, sku=image.sku, replaced_at__isnull=True, image=image
    ).exists()
    lineage = []
    parent = image.parent
    while parent is not None:
        lineage.append(
            {"id": parent.pk, "number": parent.number, "operation": parent.origin.get("operation")}
        )
        parent = parent.parent
    return {
        **image_summary(image, selected=selected),
        "brief": image.brief.slug,
        "origin": image.origin,
        "lineage": lineage,
        "ratings": [
            {
                "person": r.person,
                "stars": r.stars,
                "tags": r.tags,
                "note": r.note,
                "at": r.created_at.isoformat(),
            }
            for r in image.ratings.order_by("created_at")
        ],
        "renditions": [rendition_summary(r) for r in image.renditions.select_related("blob")],
    }


def rendition_summary(rendition: Rendition) -> dict[str, Any]:
    return {
        "id": rendition.pk,
        "channel": rendition.channel,
        "slot": rendition.slot,
        "file": rendition.filename,
        "size": [rendition.width, rendition.height],
        "format": rendition.format,
        "quality": rendition.quality,
        "bytes": rendition.blob.size,
        "sha256": rendition.blob.sha256,
        "path": blob_path(rendition.blob),
        "notes": rendition.notes,
        "findings": [
            {"rule_id": f.rule_id, "severity": f.severity, "message": f.message, "bbox": f.bbox}
            for f in rendition.findings.all()
        ],
    }


def image_runs_of(brief: Brief, limit: int = 20) -> list[ImageRun]:
    return list(brief.image_runs.order_by("-started_at", "-id")[:limit])


def selected_images(brief: Brief) -> dict[str, ImageVersion]:
    return {
        s.sku: s.image
        for s in Selection.objects.filter(brief=brief, replaced_at__isnull=True).select_related(
            "image__blob"
        )
    }


def packshot_skus(brief: Brief) -> set[str]:
    return set(Reference.objects.filter(brief=brief, kind="packshot").values_list("sku", flat=True))
