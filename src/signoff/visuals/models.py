"""Stored image files, references, image versions, ratings, selections and renditions.

Files are content-addressed: a ``Blob`` is one file's bytes, stored once per workspace under
its SHA-256 and never rewritten. Everything else points at blobs: a reference (a packshot, a
brand example), an image version (a generated option, an edit), a rendition (a channel slot).
"""

from __future__ import annotations

from django.db import models

from signoff.briefs.models import Brief, BriefVersion
from signoff.workspaces.models import Workspace


class Blob(models.Model):
    """One stored file, by its SHA-256, inside one workspace's storage folder."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    sha256 = models.CharField(max_length=64)
    name = models.CharField(max_length=300)  # the storage name (workspace/blobs/ab/abcd...)
    size = models.PositiveBigIntegerField()
    format = models.CharField(max_length=10)  # jpeg, png, tiff, webp, ...
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "sha256"], name="blob_unique_sha")
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.width}x{self.height} {self.format})"


class Reference(models.Model):
    """A file (or a note) a brief's images are made from."""

    class Kind(models.TextChoices):
        PACKSHOT = "packshot"  # the product as it is: what every image must stay faithful to
        BRAND_EXAMPLE = "brand_example"  # the look to aim for
        PREVIOUS_WINNER = "previous_winner"  # an image that did well before
        NEGATIVE = "negative"  # what must not appear
        COMPETITOR = "competitor"
        INSPIRATION = "inspiration"

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="references")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sku = models.CharField(max_length=100, blank=True)  # a packshot's SKU
    blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.RESTRICT)
    filename = models.CharField(max_length=300, blank=True)  # as the person named it
    note = models.TextField(blank=True)
    notes = models.JSONField(default=list)  # conversions made when it was read ("CMYK -> sRGB")
    brief_version = models.ForeignKey(
        BriefVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_by = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brief", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brief", "kind", "sku", "blob"],
                condition=models.Q(blob__isnull=False),
                name="reference_once_per_file",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.sku or ''} {self.filename}".strip()


class ImageRun(models.Model):
    """One `signoff images generate`: what it asked for, made and spent, and how it ended."""

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="image_runs")
    started_by = models.CharField(max_length=254)
    provider = models.CharField(max_length=100)
    hypothesis = models.TextField(blank=True)
    n = models.PositiveSmallIntegerField()
    skus = models.JSONField(default=list)  # the SKUs asked for; empty = every SKU
    status = models.CharField(max_length=20, default="queued")  # queued|running|finished|...
    step = models.CharField(max_length=40, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]


class ImageVersion(models.Model):
    """An immutable image: a generated option, an edit or an upload, with its provenance."""

    class Kind(models.TextChoices):
        OPTION = "option"  # made by a provider from the brief's direction
        EDIT = "edit"  # made from a parent (prompt edit, background, upscale, crop)

    class Status(models.TextChoices):
        READY = "ready"  # stored and checked
        FAILED = "failed"  # the provider's answer was not a usable image; nothing stored

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="images")
    sku = models.CharField(max_length=100)
    number = models.PositiveIntegerField()  # per brief and SKU: option 1, 2, ...
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.RESTRICT)
    blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.RESTRICT)
    run = models.ForeignKey(ImageRun, null=True, blank=True, on_delete=models.SET_NULL)
    # provider, model, prompt, references (hashes), parameters, seed, cost, latency_ms,
    # digital_source_type, notes; an edit also names the operation and its parameters.
    origin = models.JSONField()
    author = models.CharField(max_length=254)  # "agent:image_generator" or a person's email
    hypothesis = models.TextField(blank=True)
    product_bbox = models.JSONField(null=True, blank=True)  # [x, y, w, h] where known
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brief", "sku", "number"]
        constraints = [
            models.UniqueConstraint(fields=["brief", "sku", "number"], name="image_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.sku} #{self.number}"

    def save(self, *args: object, **kwargs: object) -> None:
        # An image version is a snapshot: a change is a new version with this one as parent.
        if not self._state.adding:
            raise ValueError(f"image version {self.pk} is immutable; make a new version")
        super().save(*args, **kwargs)


class ImageFinding(models.Model):
    """One image check's result on an image version or a rendition."""

    image = models.ForeignKey(ImageVersion, on_delete=models.CASCADE, related_name="findings")
    rendition = models.ForeignKey(
        "Rendition", null=True, blank=True, on_delete=models.CASCADE, related_name="findings"
    )
    rule_id = models.CharField(max_length=100)
    severity = models.CharField(max_length=10)  # info | warn | block
    message = models.TextField()
    bbox = models.JSONField(null=True, blank=True)  # [x, y, w, h] in the checked image
    suggested_fix = models.TextField(blank=True)

    class Meta:
        ordering = ["image", "id"]


class ImageRating(models.Model):
    """A person's 1-5 rating of an image, with feedback tags: memory for the next batch."""

    image = models.ForeignKey(ImageVersion, on_delete=models.CASCADE, related_name="ratings")
    person = models.EmailField()
    stars = models.PositiveSmallIntegerField()
    tags = models.JSONField(default=list)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["image", "created_at"]


class Selection(models.Model):
    """A person chose one image for a SKU. Replaced (never deleted) by the next choice."""

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="selections")
    sku = models.CharField(max_length=100)
    image = models.ForeignKey(ImageVersion, on_delete=models.RESTRICT, related_name="+")
    person = models.EmailField()
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["brief", "sku", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["brief", "sku"],
                condition=models.Q(replaced_at__isnull=True),
                name="selection_live_once_per_sku",
            )
        ]


class Rendition(models.Model):
    """The selected image made into one channel slot (size, crop, format, bytes)."""

    image = models.ForeignKey(ImageVersion, on_delete=models.CASCADE, related_name="renditions")
    channel = models.CharField(max_length=100)
    slot = models.CharField(max_length=50)
    blob = models.ForeignKey(Blob, on_delete=models.RESTRICT)
    filename = models.CharField(max_length=300)  # from the workspace's naming pattern
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=10)
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["image", "channel", "slot"]
        constraints = [
            models.UniqueConstraint(
                fields=["image", "channel", "slot"], name="rendition_once_per_slot"
            )
        ]
