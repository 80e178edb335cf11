"""The outbox: one row per package version and destination, written with the launch.

A row is the promise to deliver; the worker keeps it. Rows are claimed with a lease
(``lease_owner``, ``lease_until``) so several workers can run at once, and a worker that dies
mid-send leaves a lease that runs out: the next worker sends again, with the same
idempotency key, and the receiver recognises it.
"""

from __future__ import annotations

from django.db import models

from signoff.briefs.models import Brief
from signoff.outbox.rules import DeliveryState
from signoff.packages.models import Package, Version


class Delivery(models.Model):
    class State(models.TextChoices):
        PENDING = DeliveryState.PENDING  # to be sent, or sent again at next_attempt_at
        DELIVERED = DeliveryState.DELIVERED  # the receiver answered 2xx; receiver_id kept
        FAILED = DeliveryState.FAILED  # refused for good (a 4xx, a misconfiguration)
        DEAD = DeliveryState.DEAD  # every attempt failed; waits for a person's retry
        NEEDS_TAKEDOWN = DeliveryState.NEEDS_TAKEDOWN  # a claim it makes was withdrawn
        TAKEN_DOWN = DeliveryState.TAKEN_DOWN  # the receiver confirmed the takedown

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="deliveries")
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="deliveries")
    version = models.ForeignKey(Version, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(max_length=100)
    destination = models.CharField(max_length=100)  # the workspace file's destination name
    kind = models.CharField(max_length=30)  # folder, webhook, ...
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    # Stable for this package version and destination: every attempt sends the same one.
    idempotency_key = models.CharField(max_length=64, unique=True)
    # The document as published, fixed at launch: every attempt sends the same bytes.
    document = models.JSONField()
    attempts = models.PositiveIntegerField(default=0)  # counted when claimed, before sending
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # null: nothing scheduled
    lease_owner = models.CharField(max_length=80, blank=True)  # the claim being worked on
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)  # last HTTP status
    last_error = models.TextField(blank=True)  # the last failure, in the receiver's words
    receiver_id = models.CharField(max_length=500, blank=True)  # the receiver's receipt
    # Why it must come down (set with needs_takedown; sent in every takedown attempt).
    takedown_reason = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "destination"], name="delivery_once_per_version_destination"
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["brief", "channel"], name="delivery_brief_channel"),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.package_id} v{self.document.get('version')} -> {self.destination}"


class Attempt(models.Model):
    """One attempt at a delivery and what came of it: every failure is kept with its reason."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveIntegerField()  # the delivery's attempt count when it was made
    action = models.CharField(max_length=20, default="publish")  # publish or takedown
    outcome = models.CharField(max_length=20)  # the state it led to, or "interrupted"
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # HTTP status, if any
    error = models.TextField(blank=True)
    receiver_id = models.CharField(max_length=500, blank=True)
    worker = models.CharField(max_length=80, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["delivery", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.outcome}"
