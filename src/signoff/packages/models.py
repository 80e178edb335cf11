"""Packages (SKU x channel x market x variant), their immutable versions and their findings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from signoff.briefs.models import Brief, BriefVersion
from signoff.core.hashing import content_hash

if TYPE_CHECKING:
    from signoff.agents.context import CheckFinding


class Package(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft"  # not yet drafted, or sent back for a new draft
        IN_REVIEW = "in_review"  # waiting on people at the current stage's gate
        APPROVED = "approved"  # passed the last gate; ready to launch
        REJECTED = "rejected"  # a gate said no; back at the previous stage with notes
        BLOCKED = "blocked"  # cannot move until its cause is fixed; remembers where it was
        PUBLISHED = "published"  # delivered: the point of no return

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="packages")
    sku = models.CharField(max_length=100)
    channel = models.CharField(max_length=100)
    market = models.CharField(max_length=20, default="en-US")
    variant = models.CharField(max_length=10, default="A")
    stage = models.CharField(max_length=20, default="S2")
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    owner = models.EmailField(blank=True)
    stage_entered_at = models.DateTimeField()
    blocked_from = models.CharField(max_length=50, blank=True)  # "stage/state" to return to
    blocked_reasons = models.JSONField(default=list)  # [{"kind", "field", "message"}]
    completeness = models.JSONField(default=dict)  # {"required": [...], "missing": [...]}
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)  # 0-100
    current_version = models.ForeignKey(
        "Version", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brief", "sku", "channel", "market", "variant"], name="package_unique_cell"
            )
        ]
        indexes = [models.Index(fields=["brief", "state"]), models.Index(fields=["brief", "sku"])]
        ordering = ["brief", "id"]

    def __str__(self) -> str:
        return f"{self.sku} x {self.channel} ({self.market}, {self.variant})"

    @property
    def position(self) -> str:
        return f"{self.stage}/{self.state}"


class Version(models.Model):
    """An immutable snapshot of a package's content, with where it came from."""

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    fields = models.JSONField()  # {field: text | [items]}
    # {"kind": "agent"|"person", "agent", "provider", "model", "prompt", "parameters", ...}
    origin = models.JSONField()
    author = models.CharField(max_length=254)  # a person's email, or "agent:copy_drafter"
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.RESTRICT)
    brief_version = models.ForeignKey(BriefVersion, on_delete=models.RESTRICT, related_name="+")
    content_hash = models.CharField(max_length=64)  # of the copy and the images together
    created_at = models.DateTimeField(auto_now_add=True)
    # The channel's image slots filled from renditions: {slot: {"sha256", "rendition", "image",
    # "file", "width", "height"}}. Part of the content: an approval is of copy and images.
    # Null (no image yet) rather than a default: SQLite then adds the column in place, and the
    # memory app's full-text triggers on this table survive the migration.
    images = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["package", "number"], name="version_unique_number")
        ]
        ordering = ["package", "number"]

    def __str__(self) -> str:
        return f"{self.package_id} v{self.number}"

    def save(self, *args: object, **kwargs: object) -> None:
        # A version is a snapshot: a change is a new version, never an update of this one.
        if not self._state.adding:
            raise ValueError(f"version {self.pk} is immutable; save a new version instead")
        super().save(*args, **kwargs)


def version_digest(fields: dict, images: dict | None) -> str:
    """The content hash of a version: its copy alone (as before images existed), or its copy
    and its images' hashes together, so a new image is new content."""
    if not images:
        return content_hash(fields)
    return content_hash({"fields": fields, "images": {k: v["sha256"] for k, v in images.items()}})


class Finding(models.Model):
    class Severity(models.TextChoices):
        INFO = "info"  # worth knowing
        WARN = "warn"  # look before approving
        BLOCK = "block"  # no gate passes until fixed

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="findings")
    agent = models.CharField(max_length=50)
    rule_id = models.CharField(max_length=100)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    field = models.CharField(max_length=100, blank=True)
    span_start = models.PositiveIntegerField(null=True, blank=True)
    span_end = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField()
    suggested_fix = models.TextField(blank=True)
    # The other packages the finding is about (the consistency auditor's disagreements):
    # [{"sku", "channel", "market", "variant", "says"}], so screens link them without parsing.
    related = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["version", "id"]

    def __str__(self) -> str:
        return f"{self.severity} {self.rule_id} on {self.field}"

    # The columns of ``row()``'s tuples, for ``signoff.core.rows.insert_rows``.
    ROW_COLUMNS = (
        "version_id",
        "agent",
        "rule_id",
        "severity",
        "field",
        "span_start",
        "span_end",
        "message",
        "suggested_fix",
        "related",
    )

    @classmethod
    def from_check(cls, version: Version, found: CheckFinding) -> Finding:
        """Return the row that stores one check's finding on a version (not saved yet)."""
        return cls(version=version, **dict(zip(cls.ROW_COLUMNS[1:], _values(found), strict=True)))

    @classmethod
    def row(cls, version_id: int, found: CheckFinding) -> tuple:
        """Return the same finding as a value tuple in ``ROW_COLUMNS`` order."""
        return (version_id, *_values(found))


def _values(found: CheckFinding) -> tuple:
    span = found.span
    return (
        found.agent,
        found.rule_id,
        str(found.severity),
        found.field or "",
        span[0] if span else None,
        span[1] if span else None,
        found.message,
        found.suggested_fix or "",
        [package.as_dict() for package in found.related],
    )


IMAGE_AGENT = "image_qc"  # the agent name image checks are stored under on a package version


def carried_image_findings(previous: Version) -> list[CheckFinding]:
    """The previous version's image findings, for a new version with the same images (a copy
    edit or a redraft): the images' checks still stand, blocking ones included."""
    from signoff.agents.context import CheckFinding, Severity

    return [
        CheckFinding(
            agent=f.agent,
            rule_id=f.rule_id,
            severity=Severity(f.severity),
            message=f.message,
            field=f.field or None,
            suggested_fix=f.suggested_fix or None,
        )
        for f in previous.findings.filter(agent=IMAGE_AGENT)
    ]


class Review(models.Model):
    """A person marked a version reviewed (batch approval only takes reviewed versions)."""

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="reviews")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="reviews")
    person = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "person"], name="review_once_per_person")
        ]


class Approval(models.Model):
    """A gate passed for one version. Voided (never deleted) when the content changes."""

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="approvals")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="approvals")
    gate = models.CharField(max_length=20)
    person = models.EmailField()
    content_hash = models.CharField(max_length=64)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        Version, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            # One live approval per gate and package: twenty people approving at once
            # leave exactly one row; the others fail and are told the state moved on.
            models.UniqueConstraint(
                fields=["package", "gate"],
                condition=models.Q(voided_at__isnull=True),
                name="approval_live_once_per_gate",
            )
        ]
        ordering = ["package", "created_at"]


class Note(models.Model):
    """What people decided or said about a package: the memory the next drafts read.

    Rejection notes, edit notes, approval notes, comments, and the copy of versions that passed
    the last gate (previous winners). SKU and channel are kept on the row because the drafter
    looks for notes on the same SKU or the same channel, across packages and briefs.
    """

    class Kind(models.TextChoices):
        REJECTION = "rejection"  # why a gate said no
        EDIT = "edit"  # why a person changed the copy
        APPROVAL = "approval"  # what the approver said
        COMMENT = "comment"  # anything else
        WINNER = "winner"  # a version that passed the last gate: copy reviewers liked

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="notes")
    version = models.ForeignKey(Version, null=True, on_delete=models.SET_NULL, related_name="+")
    person = models.EmailField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    gate = models.CharField(max_length=20, blank=True)
    sku = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=100, blank=True)
    rule_ids = models.JSONField(default=list)  # the rules of the version's findings then
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["package", "created_at"]
        indexes = [
            models.Index(fields=["sku", "created_at"]),
            models.Index(fields=["channel", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text[:40]}"


class Run(models.Model):
    """One `signoff run` of a brief version: what it did and how it ended."""

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="runs")
    brief_version = models.ForeignKey(BriefVersion, on_delete=models.RESTRICT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, default="running")  # running | finished | failed
    summary = models.JSONField(default=dict)


class RefusalWindow(models.Model):
    """Refused attempts of one kind in one minute: who tried what on which object, and why.
    (Also anonymous review-link views, per link and hour: attempt "view", code "viewed".)

    Not part of the audit chain: the chain gets one event for the first refusal of each key in
    each minute (``event_seq``), and this row counts the identical ones after it, so a flood
    of retries cannot swamp the log. The next event for the same key carries those repeats
    into the chain (``reported``); see ``signoff.packages.refusals``.
    """

    workspace = models.CharField(max_length=100)
    actor = models.CharField(max_length=255)
    attempt = models.CharField(max_length=20)  # the action tried: approve, review, edit, ...
    subject_type = models.CharField(max_length=20)  # package or brief
    subject_id = models.CharField(max_length=100)
    code = models.CharField(max_length=40)  # the refusal's ErrorCode
    window = models.DateTimeField()  # the start of the minute
    repeats = models.PositiveIntegerField(default=0)  # identical refusals after the recorded one
    reported = models.PositiveIntegerField(default=0)  # of the repeats, carried into the chain
    event_seq = models.BigIntegerField()  # the event recording this window's first refusal

    class Meta:
        constraints = [
            # One event per key and minute, whichever process is refused first.
            models.UniqueConstraint(
                fields=[
                    "workspace",
                    "actor",
                    "attempt",
                    "subject_type",
                    "subject_id",
                    "code",
                    "window",
                ],
                name="refusal_window_once_per_key",
            )
        ]
        ordering = ["window", "id"]

    def __str__(self) -> str:
        return f"{self.actor} {self.attempt} {self.subject_type}:{self.subject_id} {self.code}"
