"""Background work on packages. Tasks take ids, never model instances."""

from __future__ import annotations

import dataclasses

from django_tasks import task

from signoff.briefs.models import Brief
from signoff.packages.services import run_brief


@task()
def run_brief_task(brief_id: int) -> dict:
    """Draft and check what the brief needs; safe to run again after a crash."""
    brief = Brief.objects.select_related("workspace").get(pk=brief_id)
    return dataclasses.asdict(run_brief(brief, actor="system:worker"))
