"""Send what is due: claim each notification by its dedup key, send it, record it.

Claiming inserts the row (its key is unique), so two `signoff notify` runs, or a run and the
worker's schedule, never send the same notification twice: the second insert fails and that
run skips it. The send happens outside any transaction (an SMTP server or webhook may be
slow); its outcome and its audit event are then written in one transaction. A failed send is
tried again by the next run, up to ``SIGNOFF_NOTIFY_MAX_ATTEMPTS``; a run that died mid-send
leaves a claim that the next run takes over once ``SIGNOFF_NOTIFY_LEASE_SECONDS`` passed.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from signoff.audit.services import record
from signoff.briefs.models import Brief
from signoff.briefs.workflow import template_for
from signoff.notifications.models import Notification
from signoff.notifications.rules import (
    Due,
    Waiting,
    due_digests,
    due_for_waits,
    webhook_url,
)
from signoff.notifications.sending import SendFailed, send
from signoff.packages.models import Package
from signoff.workflow import GateLevel, Position, gate_for
from signoff.workspaces.models import Person, Workspace
from signoff.workspaces.selectors import role_holders

ACTOR = "system:notify"


def waiting(workspace: Workspace) -> list[Waiting]:
    """Every package of the workspace waiting at a package gate now, with who it waits on:
    its owner if they hold the gate's role, else every active holder of the role."""
    briefs = {b.pk: b for b in Brief.objects.filter(workspace=workspace)}
    templates = {}
    for brief in briefs.values():
        brief.workspace = workspace
        if brief.template not in templates:
            templates[brief.template] = template_for(brief)
    holders = role_holders(workspace.pk)
    items = []
    for package in Package.objects.filter(
        brief_id__in=list(briefs), state=Package.State.IN_REVIEW
    ).order_by("stage_entered_at", "id"):
        brief = briefs[package.brief_id]
        gate = gate_for(Position.parse(package.position), templates[brief.template])
        if gate is None or gate.level is not GateLevel.PACKAGE:
            continue
        people = holders.get(gate.owner.value, [])
        owners = (package.owner,) if package.owner in people else tuple(people)
        items.append(
            Waiting(
                package=package.pk,
                brief=brief.slug,
                sku=package.sku,
                channel=package.channel,
                gate=gate.id,
                template=brief.template,
                since=package.stage_entered_at,
                sla_hours=gate.sla_hours,
                owners=owners,
            )
        )
    return items


def due_now(workspace: Workspace, now: datetime) -> list[Due]:
    """Everything due for the workspace at ``now``, sent or not."""
    config = workspace.notifications or {}
    items = waiting(workspace)
    due = due_for_waits(
        items,
        now=now,
        escalation=config.get("escalation") or {},
        webhook=bool(config.get("webhook_env")),
        email=settings.SIGNOFF_NOTIFY_EMAIL,
    )
    if settings.SIGNOFF_NOTIFY_EMAIL:
        readers = Person.objects.filter(workspace=workspace, active=True, digest=True)
        waiting_on = {p.email: [w for w in items if p.email in w.owners] for p in readers}
        due += due_digests(
            waiting_on,
            now=now,
            digest_hour=int(config.get("digest_hour", 8)),
            workspace=workspace.slug,
        )
    return due


def _open(due: list[Due], now: datetime) -> tuple[list[Due], dict[str, Notification]]:
    """The due notifications not sent yet, nor being sent by another run; and the rows of the
    ones to try again."""
    rows = {n.key: n for n in Notification.objects.filter(key__in=[d.key for d in due])}
    lease = timedelta(seconds=settings.SIGNOFF_NOTIFY_LEASE_SECONDS)
    todo = []
    for item in due:
        row = rows.get(item.key)
        if row is None:
            todo.append(item)
        elif row.status == Notification.Status.FAILED:
            if row.attempts < settings.SIGNOFF_NOTIFY_MAX_ATTEMPTS:
                todo.append(item)
        elif row.status == Notification.Status.SENDING and row.claimed_at < now - lease:
            todo.append(item)
    return todo, rows


def _claim(workspace: Workspace, item: Due, row: Notification | None, now: datetime) -> bool:
    """Take the notification for this run; False if another run has it."""
    if row is None:
        try:
            with transaction.atomic():
                Notification.objects.create(
                    workspace=workspace,
                    key=item.key,
                    kind=item.kind,
                    channel=item.channel,
                    package_id=item.package,
                    gate=item.gate,
                    recipients=list(item.recipients),
                    subject=item.subject[:300],
                    body=item.body,
                    claimed_at=now,
                )
        except IntegrityError:
            return False
        return True
    # Only the run that sees the row as it was takes it over.
    return bool(
        Notification.objects.filter(pk=row.pk, status=row.status, claimed_at=row.claimed_at).update(
            status=Notification.Status.SENDING, claimed_at=now
        )
    )


def _finish(
    workspace: Workspace, item: Due, now: datetime, *, said: str = "", error: str = ""
) -> None:
    """Store how the send went, with its audit event: one transaction."""
    with transaction.atomic():
        row = Notification.objects.select_for_update().get(key=item.key)
        package = row.package
        event = record(
            action="notification.failed" if error else "notification.sent",
            actor=ACTOR,
            actor_kind="system",
            subject_type="package" if item.package else "person",
            subject_id=str(item.package) if item.package else item.person,
            workspace=workspace.slug,
            note=error or said,
            sku=package.sku if package else None,
            channel=package.channel if package else None,
            gate=item.gate or None,
            data={
                "kind": item.kind,
                "via": item.channel,
                "key": item.key,
                "recipients": list(item.recipients),
                "subject": item.subject,
                **dict(item.data),
            },
        )
        row.status = Notification.Status.FAILED if error else Notification.Status.SENT
        row.error = error
        row.attempts += 1
        row.sent_at = None if error else now
        row.event_seq = event.seq
        row.save(update_fields=["status", "error", "attempts", "sent_at", "event_seq"])


def notify(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    workspace: Workspace | None = None,
) -> dict:
    """Send every notification due at ``now`` (injectable: tests move the clock, nothing
    sleeps) in every workspace, or one. ``dry_run`` lists them and sends nothing."""
    now = now or timezone.now()
    workspaces = [workspace] if workspace is not None else list(Workspace.objects.all())
    summary = {"due": 0, "sent": 0, "failed": 0, "skipped": 0, "dry_run": dry_run, "items": []}
    for space in workspaces:
        todo, rows = _open(due_now(space, now), now)
        url = webhook_url((space.notifications or {}).get("webhook_env"))
        for item in todo:
            summary["due"] += 1
            entry = {**asdict(item), "workspace": space.slug, "status": "due"}
            entry["recipients"] = list(item.recipients)
            entry["data"] = dict(item.data)
            summary["items"].append(entry)
            if dry_run:
                continue
            if not _claim(space, item, rows.get(item.key), now):
                summary["skipped"] += 1
                entry["status"] = "skipped"
                continue
            try:
                said = send(item, webhook_url=url)
            except SendFailed as exc:
                _finish(space, item, now, error=str(exc))
                summary["failed"] += 1
                entry["status"], entry["error"] = "failed", str(exc)
            else:
                _finish(space, item, now, said=said)
                summary["sent"] += 1
                entry["status"] = "sent"
    return summary


def sent_for(workspace: Workspace, *, limit: int = 50) -> list[Notification]:
    """The workspace's latest notifications, newest first."""
    return list(Notification.objects.filter(workspace=workspace)[:limit])


def set_digest(*, person: Person, on: bool) -> Person:
    """Turn the person's daily digest on or off (their own choice), with its audit event."""
    with transaction.atomic():
        locked = Person.objects.select_for_update().select_related("workspace").get(pk=person.pk)
        if locked.digest != on:
            locked.digest = on
            locked.save(update_fields=["digest"])
            record(
                action="person.digest_changed",
                actor=locked.email,
                subject_type="person",
                subject_id=locked.email,
                workspace=locked.workspace.slug,
                data={"digest": on},
            )
    return locked
