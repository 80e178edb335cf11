"""A workspace is one brand: its people and roles, voice, claims registry and channels."""

from datetime import datetime

from django.db import models
from django.utils import timezone


class Workspace(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    locale = models.CharField(max_length=20, default="en-US")
    # Voice, terminology, banned phrases, palette and fonts, as the workspace file gives them.
    brand = models.JSONField(default=dict)
    channels = models.JSONField(default=list)  # channel ids in use
    channel_overrides = models.JSONField(default=dict)  # {channel_id: partial or full spec}
    workflows = models.JSONField(default=dict)  # {template: {sla_hours: {...}, owners: {...}}}
    claim_policy = models.JSONField(default=dict)  # {status: severity} for claims found in copy
    # Rules people accepted from memory suggestions; kept apart so reloading the file keeps them.
    learned_rules = models.JSONField(default=dict)  # {"banned": [{phrase, suggest, reason}]}
    providers = models.JSONField(default=dict)  # {agent: "openai:MODEL"}: overrides settings
    # Where launches are delivered: the file's entries, folder paths made absolute (no secrets:
    # entries name the environment variables that hold them). See signoff.outbox.
    destinations = models.JSONField(default=list)
    # SLA reminders and escalations: {"webhook_env", "escalation": {template: {gate: {contact,
    # after_hours}}}, "digest_hour"} (signoff.notifications), and the metrics' manual baseline:
    # {"manual_hours_per_package"} (signoff.metrics).
    notifications = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict)
    # Workspace policies from the file's ``policies:`` (``accepted_suggestion_authorship``).
    policies = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.slug


class Person(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="people")
    email = models.EmailField()
    name = models.CharField(max_length=200)
    roles = models.JSONField(default=list)  # role names, e.g. ["content_lead"]
    active = models.BooleanField(default=True)  # removed from the file: kept for history
    digest = models.BooleanField(default=False)  # wants the daily digest of what waits on them

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "email"], name="person_unique_email")
        ]
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class Claim(models.Model):
    class Status(models.TextChoices):
        APPROVED = "approved"  # substantiated; may be used
        PENDING = "pending"  # under legal review
        NEEDS_SUBSTANTIATION = "needs_substantiation"  # needs cited evidence first
        FORBIDDEN = "forbidden"  # never
        WITHDRAWN = "withdrawn"  # was approved, no longer

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="claims")
    claim_id = models.SlugField(max_length=100)
    text = models.CharField(max_length=500, blank=True)
    pattern = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=30, choices=Status.choices)
    evidence = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "claim_id"], name="claim_unique_id")
        ]
        ordering = ["claim_id"]

    def __str__(self) -> str:
        return self.claim_id


class ApiToken(models.Model):
    """A person's token for the CLI and the API. Only its SHA-256 is stored.

    A token works until it expires or is revoked, and a revoked token never works again: not
    even when its person, removed from the workspace file, is listed again.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)  # shown in listings, so people can tell tokens apart
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()  # SIGNOFF_TOKEN_DAYS (90) after issue, unless asked
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=255, blank=True)  # an email or "system:<name>"
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}... ({self.person.email})"

    def status(self, now: datetime | None = None) -> str:
        """Return "active", "expired" or "revoked"."""
        if self.revoked_at is not None:
            return "revoked"
        if (now or timezone.now()) >= self.expires_at:
            return "expired"
        return "active"
