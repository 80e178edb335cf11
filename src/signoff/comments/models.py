"""Where a comment points, whom it mentions, and whether it is resolved."""

from __future__ import annotations

from django.db import models

from signoff.packages.models import Note, Package, Version
from signoff.workspaces.models import Person


class Comment(models.Model):
    """A comment (its text is the ``Note``) on a version, optionally anchored to a passage.

    The anchor is the field path (``title``, ``bullet_points[2]``), the quoted text and its
    [start, end) offsets in that field of the version commented on; later versions may move
    the text, so the quote is kept as it was.
    """

    note = models.OneToOneField(Note, on_delete=models.CASCADE, related_name="anchor")
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="comments")
    version = models.ForeignKey(Version, null=True, on_delete=models.SET_NULL, related_name="+")
    field = models.CharField(max_length=100, blank=True)
    quote = models.TextField(blank=True)
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.EmailField(blank=True)
    resolution = models.TextField(blank=True)  # the resolver's note

    class Meta:
        ordering = ["package", "id"]
        indexes = [models.Index(fields=["package", "resolved_at"])]

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None


class Mention(models.Model):
    """A person named with @ in a comment: shown to them until the comment is resolved."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mentions")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="mentions")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "person"], name="mention_once_per_comment")
        ]
        ordering = ["id"]
