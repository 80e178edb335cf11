"""The trail of a package's images, for the launch manifest, and their files for the bundle.

For each slot: the rendition (file, size, format, hash), the image it was made from and that
image's whole lineage (provider, model, prompt, seed, references by hash, each edit with who
made it), the ratings it got, and who selected it with their note.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from signoff.visuals.models import ImageVersion, Rendition, Selection
from signoff.visuals.storage import read_blob


def images_trail(images: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """The manifest's ``images`` entry of one package version."""
    out = {}
    for slot, entry in (images or {}).items():
        rendition = (
            Rendition.objects.select_related("blob", "image__blob", "image__brief")
            .filter(pk=entry.get("rendition"))
            .first()
        )
        if rendition is None:
            out[slot] = {**entry, "missing": "the rendition is no longer stored"}
            continue
        image = rendition.image
        selection = (
            Selection.objects.filter(brief=image.brief, sku=image.sku, image=image)
            .order_by("-created_at")
            .first()
        )
        out[slot] = {
            "file": rendition.filename,
            "sha256": rendition.blob.sha256,
            "size": [rendition.width, rendition.height],
            "format": rendition.format,
            "quality": rendition.quality,
            "notes": rendition.notes,
            "image": _lineage(image),
            "selected": {
                "person": selection.person,
                "at": selection.created_at.isoformat(),
                "note": selection.note,
            }
            if selection
            else None,
        }
    return out


def _lineage(image: ImageVersion) -> list[dict[str, Any]]:
    chain = []
    while image is not None:
        origin = image.origin
        chain.append(
            {
                "image": image.pk,
                "number": image.number,
                "kind": image.kind,
                "sha256": image.blob.sha256 if image.blob else None,
                "author": image.author,
                "at": image.created_at.isoformat(),
                "provider": origin.get("provider"),
                "model": origin.get("model"),
                "prompt": origin.get("prompt"),
                "seed": origin.get("seed"),
                "references": origin.get("references", []),
                "operation": origin.get("operation"),
                "parameters": origin.get("parameters", {}),
                "digital_source_type": origin.get("digital_source_type"),
                "ratings": [
                    {"person": r.person, "stars": r.stars, "tags": r.tags, "note": r.note}
                    for r in image.ratings.order_by("created_at")
                ],
            }
        )
        image = image.parent
    return chain


def write_image_files(images: dict[str, dict[str, Any]] | None, folder: Path) -> list[str]:
    """Copy the version's rendition files into ``folder`` under their names; return them."""
    written = []
    for entry in (images or {}).values():
        rendition = Rendition.objects.select_related("blob").filter(pk=entry.get("rendition"))
        found = rendition.first()
        if found is None:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        (folder / found.filename).write_bytes(read_blob(found.blob))
        written.append(found.filename)
    return written
