"""Background work on images. Tasks take ids, never model instances."""

from __future__ import annotations

import dataclasses

from django_tasks import task

from signoff.briefs.models import Brief
from signoff.visuals.generation import execute_image_run
from signoff.visuals.prompt_edits import PromptEdit, run_prompt_edit
from signoff.visuals.rendering import render_brief
from signoff.workspaces.models import Person


@task()
def generate_images_task(run_id: int) -> dict:
    """Generate a queued batch of options; a rerun after a crash makes only the rest."""
    outcome = execute_image_run(run_id)
    return {
        "run": run_id,
        "made": outcome.made,
        "failed": outcome.failed,
        "missing": outcome.missing,
    }


@task()
def render_task(brief_id: int, person_id: int, skus: list[str]) -> dict:
    """Render and attach every slot for the brief's selected images."""
    brief = Brief.objects.select_related("workspace").get(pk=brief_id)
    person = Person.objects.get(pk=person_id)
    return dataclasses.asdict(render_brief(brief=brief, person=person, skus=skus or None))


@task()
def prompt_edit_task(
    image_id: int, person_id: int, prompt: str, provider: str, note: str = "", mask_sha256: str = ""
) -> dict:
    """Edit an image by prompt through its provider: a new version with the image as parent.

    Checked before it was queued (``prompt_edits.check_prompt_edit``); the service checks
    authority and state again, as they may have changed while the task waited. A refusal
    (the provider's, or the edit's checks) fails the task with its reason.
    """
    edit = PromptEdit(image_id, person_id, prompt, provider, note, mask_sha256)
    made = run_prompt_edit(edit)
    return {"image": made.pk, "parent": image_id, "number": made.number}
