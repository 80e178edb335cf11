"""Launches: a channel of a brief going out, with its export bundle and manifest."""

from django.db import models

from signoff.briefs.models import Brief


class Launch(models.Model):
    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="launches")
    channel = models.CharField(max_length=100)
    person = models.EmailField()
    bundle_path = models.CharField(max_length=1000)
    manifest_hash = models.CharField(max_length=64)  # SHA-256 of manifest.json as written
    packages = models.JSONField(default=list)  # package ids
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brief", "channel"], name="launch_once_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.brief.slug} / {self.channel}"
