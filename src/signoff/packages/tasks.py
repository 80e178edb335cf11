"""Background work on packages. Tasks take ids, never model instances."""

from __future__ import annotations

import dataclasses
import datetime

from django_tasks import task

from signoff.briefs.models import Brief
from signoff.packages.runlock import run_in_progress
from signoff.packages.services import run_brief


@task()
def run_brief_task(brief_id: int) -> dict:
    """Draft and check what the brief needs; safe to run again after a crash."""
    brief = Brief.objects.select_related("workspace").get(pk=brief_id)
    return dataclasses.asdict(run_brief(brief, actor="system:worker"))


@dataclasses.dataclass(frozen=True)
class QueuedRun:
    queued_at: datetime.datetime
    taken: bool  # a worker has taken it and is planning (the run row comes after planning)


def queued_run(brief: Brief) -> QueuedRun | None:
    """The brief's oldest run still in the task queue (waiting, or taken and being planned).

    The queue is the record everyone shares, so a run queued by one person reads as queued for
    every person, on every page. Only the database queue can be read this way; with another
    task backend nothing reads as queued. A task recorded as taken while nobody holds the
    brief's run lock lost its worker before it started: it no longer counts.
    """
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    if not isinstance(run_brief_task.get_backend(), DatabaseBackend):
        return None
    rows = DBTaskResult.objects.filter(
        task_path=run_brief_task.module_path,
        args_kwargs__args__0=brief.pk,
        status__in=(TaskResultStatus.READY, TaskResultStatus.RUNNING),
    ).order_by("enqueued_at")
    waiting = [(row.enqueued_at, row.status) for row in rows.only("enqueued_at", "status")[:20]]
    if not waiting:
        return None
    taken = any(status == TaskResultStatus.RUNNING for _, status in waiting)
    if taken and not run_in_progress(brief):
        waiting = [row for row in waiting if row[1] == TaskResultStatus.READY]
        taken = False
    return QueuedRun(waiting[0][0], taken) if waiting else None
