"""A review link: a hashed random token that lets a guest view and comment on a set of packages."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from signoff.packages.models import Note, Package
from signoff.workspaces.models import Workspace


class ReviewLink(models.Model):
    """Who shared which packages, until when. The token itself is never stored, only its hash."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="review_links")
    token_hash = models.CharField(max_length=64, unique=True)  # SHA-256 hex of the token
    created_by = models.EmailField()
    note = models.TextField(blank=True)  # what the content lead asked the guest
    scope = models.JSONField(default=dict)  # {"kind": "packages"} or {"kind": "channel", ...}
    packages = models.ManyToManyField(Package, related_name="review_links")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.EmailField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"review link {self.pk} ({self.status()})"

    def status(self, now: object = None) -> str:
        """Return "active", "expired" or "revoked"."""
        if self.revoked_at is not None:
            return "revoked"
        if (now or timezone.now()) >= self.expires_at:
            return "expired"
        return "active"


class ReviewComment(models.Model):
    """Which memory note came through which link (the guest sees only these)."""

    link = models.ForeignKey(ReviewLink, on_delete=models.CASCADE, related_name="comments")
    note = models.OneToOneField(Note, on_delete=models.CASCADE, related_name="review_comment")
    guest = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
