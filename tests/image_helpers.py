"""Packages that carry images, for tests about gates and launches rather than pixels.

The last gate and launch refuse a package whose channel's required image slots are empty.
Tests of governance give their packages images here: one small real image per SKU stored as
an option, a rendition per required slot, attached through the real ``attach_images`` service
(a new package version that binds copy and images) by the workspace's operator, who renders in
practice and approves at no gate. Rendering real slot sizes is covered by the visuals tests.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from PIL import Image

from signoff.channels.catalog import resolve_spec
from signoff.packages.images import attach_images
from signoff.packages.models import Package
from signoff.visuals.models import ImageVersion, Rendition
from signoff.visuals.storage import put_blob


def give_images(packages: Iterable[Package], renderer: str | None = None) -> None:
    """Fill every required image slot of each package's current version (a new version), as
    ``renderer`` or else the workspace's first operator."""
    for package in packages:
        package = Package.objects.select_related("brief__workspace").get(pk=package.pk)
        images = required_images(package)
        if not images:
            continue
        people = package.brief.workspace.people.order_by("id")
        if renderer:
            person = people.get(email=renderer)
        else:
            person = next(p for p in people if "operator" in p.roles)
        attach_images(package_id=package.pk, person=person, images=images)


def required_images(package: Package) -> dict[str, dict]:
    """A rendition for each required slot of the package's channel, as ``attach_images`` takes
    them (empty when the channel requires none)."""
    workspace = package.brief.workspace
    spec = resolve_spec(package.channel, workspace.channel_overrides.get(package.channel))
    slots = [s for s in (spec.images.slots if spec.images else []) if s.required]
    if not slots:
        return {}
    image = _option(package)
    images = {}
    for slot in slots:
        rendition = Rendition.objects.get_or_create(
            image=image,
            channel=package.channel,
            slot=slot.id,
            defaults={
                "blob": image.blob,
                "filename": f"{package.sku}_{package.channel}_{slot.id}.png",
                "width": image.blob.width,
                "height": image.blob.height,
                "format": "png",
                "quality": 0,
                "notes": [],
            },
        )[0]
        images[slot.id] = {
            "sha256": image.blob.sha256,
            "rendition": rendition.pk,
            "image": image.pk,
            "file": rendition.filename,
            "width": rendition.width,
            "height": rendition.height,
            "format": "png",
        }
    return images


def _option(package: Package) -> ImageVersion:
    found = ImageVersion.objects.filter(brief=package.brief, sku=package.sku).first()
    if found is not None:
        return found
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (214, 160, 90)).save(buffer, format="PNG")
    blob = put_blob(package.brief.workspace, buffer.getvalue(), fmt="png", width=64, height=64)
    return ImageVersion.objects.create(
        brief=package.brief,
        sku=package.sku,
        number=1,
        kind=ImageVersion.Kind.OPTION,
        status=ImageVersion.Status.READY,
        blob=blob,
        origin={"kind": "test", "provider": "test", "size": [64, 64]},
        author="agent:image_generator",
    )
