"""Notifications as a background task, for a deployment that schedules tasks itself."""

from __future__ import annotations

from django_tasks import task

from signoff.notifications.services import notify


@task()
def send_due_notifications() -> dict:
    """Send the SLA reminders, escalations and digests due now (as `signoff notify`)."""
    summary = notify()
    return {k: v for k, v in summary.items() if k != "items"}
