"""One row per notification sent (or tried) on one channel, unique by its dedup key."""

from __future__ import annotations

from django.db import models

from signoff.packages.models import Package
from signoff.workspaces.models import Workspace


class Notification(models.Model):
    class Status(models.TextChoices):
        SENDING = "sending"  # claimed by a `signoff notify` run; sent or failed soon
        SENT = "sent"  # taken by the SMTP server or the webhook: never sent again
        FAILED = "failed"  # refused or unreachable; the next run tries again

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="notifications_sent"
    )
    # "reminder:<package>:<gate>:<wait start>:<channel>",
    # "digest:<workspace>:<email>:<day>:email": the unique constraint is what makes "sent once"
    # hold across runs and workers.
    key = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=20)  # reminder | escalation | digest
    channel = models.CharField(max_length=20)  # email | webhook
    package = models.ForeignKey(
        Package, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    gate = models.CharField(max_length=32, blank=True)
    recipients = models.JSONField(default=list)  # e-mail addresses (none for the webhook)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    event_seq = models.BigIntegerField(null=True, blank=True)  # its audit event

    class Meta:
        ordering = ["-claimed_at", "-id"]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self) -> str:
        return self.key
