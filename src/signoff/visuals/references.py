"""Adding references to a brief: packshots, brand examples, previous winners, negatives.

A reference's file is read once (a file that is not a usable raster image is refused with
its name), stored content-addressed, and recorded with an audit event, all in the caller's
transaction: a batch with one bad file stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from signoff.audit.services import record
from signoff.briefs.models import Brief, BriefVersion
from signoff.core.errors import InputError, Problem
from signoff.core.paths import confined
from signoff.visuals.imaging import ImageInputError, decode_image
from signoff.visuals.models import Reference
from signoff.visuals.storage import put_blob

KINDS = tuple(Reference.Kind.values)


@dataclass(frozen=True, slots=True)
class ReferenceFile:
    """One file to add: its bytes, the name the person gave it, and what it is."""

    data: bytes
    filename: str
    kind: str
    sku: str = ""
    note: str = ""
    where: str | None = None  # the brief field it came from ("products.0.images.0")


def add_references(
    *,
    brief: Brief,
    files: list[ReferenceFile],
    actor: str,
    brief_version: BriefVersion | None = None,
    record_events: bool = True,
) -> list[Reference]:
    """Store every file as a reference of the brief, or none of them (InputError).

    Each new reference is an event, unless the caller records them in its own (a brief
    version's files are named in its ``brief.added`` event)."""
    problems = _problems(brief, files)
    decoded = {}
    for i, item in enumerate(files):
        try:
            decoded[i] = decode_image(
                item.data, item.filename, max_pixels=settings.SIGNOFF_IMAGE_MAX_PIXELS
            )
        except ImageInputError as exc:
            problems.append(Problem(exc.message, file=item.filename, field=item.where))
    if problems:
        raise InputError(problems)
    added = []
    with transaction.atomic():
        for i, item in enumerate(files):
            image = decoded[i]
            blob = put_blob(
                brief.workspace, item.data, fmt=image.format, width=image.width, height=image.height
            )
            reference, created = Reference.objects.get_or_create(
                brief=brief,
                kind=item.kind,
                sku=item.sku,
                blob=blob,
                defaults={
                    "filename": Path(item.filename).name,
                    "note": item.note,
                    "notes": list(image.notes),
                    "brief_version": brief_version,
                    "added_by": actor,
                },
            )
            if created and record_events:
                record(
                    action="reference.added",
                    actor=actor,
                    actor_kind="person" if "@" in actor else "system",
                    subject_type="brief",
                    subject_id=str(brief.pk),
                    workspace=brief.workspace.slug,
                    content_hash=blob.sha256,
                    note=item.note,
                    data={
                        "brief": brief.slug,
                        "kind": item.kind,
                        "sku": item.sku,
                        "file": reference.filename,
                        "size": [blob.width, blob.height],
                        "notes": list(image.notes),
                    },
                )
            added.append(reference)
    return added


def _problems(brief: Brief, files: list[ReferenceFile]) -> list[Problem]:
    problems = []
    skus = _skus(brief)
    for item in files:
        if item.kind not in KINDS:
            problems.append(
                Problem(
                    f"unknown kind {item.kind!r}; expected one of {', '.join(KINDS)}",
                    file=item.filename,
                    field="kind",
                )
            )
        if item.kind == Reference.Kind.PACKSHOT and not item.sku:
            problems.append(
                Problem("a packshot needs the SKU it shows (--sku)", file=item.filename)
            )
        if item.sku and skus and item.sku not in skus:
            problems.append(
                Problem(
                    f"SKU {item.sku!r} is not in brief {brief.slug}; its SKUs are "
                    f"{', '.join(sorted(skus))}",
                    file=item.filename,
                    field="sku",
                )
            )
    return problems


def _skus(brief: Brief) -> set[str]:
    version = brief.latest_version()
    if version is None:
        return set()
    return set(version.products.values_list("sku", flat=True))


def files_named_by_brief(version: BriefVersion) -> list[ReferenceFile]:
    """The files a brief version names: each product's images (its packshots) and the
    ``references:`` entries with a path, read from the version's folder (paths confined)."""
    base = Path(version.base_dir or ".")
    files = []
    for product in version.products.order_by("position"):
        for j, image in enumerate(product.images):
            path = confined(base, image)
            if path is not None:
                files.append(
                    ReferenceFile(
                        path.read_bytes(),
                        image,
                        Reference.Kind.PACKSHOT,
                        sku=product.sku,
                        where=f"products.{product.position}.images.{j}",
                    )
                )
    for i, entry in enumerate(version.data.get("references", [])):
        kind = entry.get("kind", "")
        if not entry.get("path"):
            continue
        path = confined(base, entry["path"])
        if path is not None:
            files.append(
                ReferenceFile(
                    path.read_bytes(),
                    entry["path"],
                    kind if kind in KINDS else Reference.Kind.INSPIRATION,
                    note=entry.get("note") or "",
                    where=f"references.{i}.path",
                )
            )
    return files


def note_references(version: BriefVersion) -> list[tuple[str, str]]:
    """The ``references:`` entries that are notes only (a negative with no file): kind, note."""
    return [
        (entry.get("kind", ""), entry.get("note") or "")
        for entry in version.data.get("references", [])
        if not entry.get("path") and entry.get("note")
    ]


def on_brief_added(version: BriefVersion, actor: str) -> dict:
    """Make the brief version's named files its references (inside add_brief's transaction);
    return them by hash for the version's event."""
    files = files_named_by_brief(version)
    if not files:
        return {}
    added = add_references(
        brief=version.brief, files=files, actor=actor, brief_version=version, record_events=False
    )
    return {
        "references": [
            {"kind": r.kind, "sku": r.sku, "file": r.filename, "sha256": r.blob.sha256}
            for r in added
        ]
    }


def reference_hashes(brief: Brief) -> list[dict]:
    """The references a brief has now, by hash: what a G1 approval is given with."""
    return [
        {"kind": r.kind, "sku": r.sku, "sha256": r.blob.sha256, "file": r.filename}
        for r in brief.references.select_related("blob").filter(blob__isnull=False)
    ]
