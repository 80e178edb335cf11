"""The audit event: one row per transition or decision, append-only and hash-chained."""

from __future__ import annotations

from typing import Any

from django.db import models

from signoff.audit.errors import EventImmutable


class ActorKind(models.TextChoices):
    PERSON = "person", "Person"  # a signed-in human, named by email
    AGENT = "agent", "Agent"  # a bounded AI worker, named "agent:<name>"
    SYSTEM = "system", "System"  # the platform acting on its own, named "system:<name>"


class EventQuerySet(models.QuerySet["Event"]):
    # Bulk update/delete skip Model.save()/delete(), so they are closed here too; the database
    # triggers are the real guarantee, this only gives a clearer error earlier.
    def update(self, **kwargs: Any) -> int:
        raise EventImmutable()

    def delete(self) -> tuple[int, dict[str, int]]:
        raise EventImmutable()


class Event(models.Model):
    """One audit record. Write with ``signoff.audit.services.record``; never change it.

    ``seq`` is the primary key: the chain position is the identity, so there is no second
    counter that could disagree with it. There are no foreign keys on purpose: the log must
    outlive anything it mentions.
    """

    seq = models.BigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField()
    actor = models.CharField(max_length=255)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    action = models.CharField(max_length=100)
    subject_type = models.CharField(max_length=50)
    subject_id = models.CharField(max_length=100)
    workspace = models.CharField(max_length=100, blank=True, default="")
    from_position = models.CharField(max_length=100, blank=True, default="")
    to_position = models.CharField(max_length=100, blank=True, default="")
    content_hash = models.CharField(max_length=128, blank=True, default="")
    note = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    correlation_id = models.UUIDField(db_index=True)
    # Lifted out of ``data`` so who-approved is an index lookup, not a JSON scan.
    sku = models.CharField(max_length=100, null=True, blank=True)
    channel = models.CharField(max_length=100, null=True, blank=True)
    gate = models.CharField(max_length=32, null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = EventQuerySet.as_manager()

    class Meta:
        db_table = "audit_event"
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "seq"], name="audit_event_subject"),
            models.Index(fields=["action", "seq"], name="audit_event_action"),
            models.Index(fields=["workspace", "seq"], name="audit_event_workspace"),
            # who_approved: equality on sku, channel, action, then newest seq first.
            models.Index(fields=["sku", "channel", "action", "seq"], name="audit_event_cell"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.subject_type}:{self.subject_id} by {self.actor}"

    def save(self, **kwargs: Any) -> None:
        if not self._state.adding:
            raise EventImmutable(self.seq)
        # seq is set before insert, so without force_insert Django would try an UPDATE first.
        kwargs["force_insert"] = True
        super().save(**kwargs)

    def delete(self, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise EventImmutable(self.seq)
