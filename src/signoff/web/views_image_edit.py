"""A prompt edit from an option's page: checked here, made by a worker.

The same service as ``signoff images edit IMAGE --prompt`` and ``POST /api/images/{id}/edits``
with a prompt: the prompt, the mask and the provider are checked in the request (each refusal
names its field), then the provider call is queued, since no model is called inside a request.
The edited version appears on the option's page once a worker has made it.
"""

from __future__ import annotations

import dataclasses

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from django_tasks import TaskResult, TaskResultStatus

from signoff.core.errors import InputError
from signoff.visuals.prompt_edits import PROMPT_MAX, check_prompt_edit
from signoff.visuals.tasks import prompt_edit_task
from signoff.web.views import with_person
from signoff.web.views_images import _form_errors, _image
from signoff.workflow import WorkflowError
from signoff.workspaces.models import Person

MASK_MAX_BYTES = 50 * 1024 * 1024  # what the Images API takes per input image


class PromptEditForm(forms.Form):
    # Not required here: an empty prompt is refused by the service, in the API's words.
    prompt = forms.CharField(required=False, max_length=PROMPT_MAX, widget=forms.Textarea)
    mask = forms.FileField(required=False)
    provider = forms.CharField(required=False, max_length=200)
    note = forms.CharField(required=False, max_length=2000)

    def clean_mask(self) -> bytes | None:
        upload = self.cleaned_data.get("mask")
        if not upload:
            return None
        if upload.size > MASK_MAX_BYTES:
            raise forms.ValidationError(f"a mask is at most {MASK_MAX_BYTES // 2**20} MB")
        return upload.read()


@require_POST
@with_person
def image_prompt_edit(request: HttpRequest, person: Person, image_id: int) -> HttpResponse:
    found = _image(person, image_id)
    form = PromptEditForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, f"No edit queued: {_form_errors(form)}")
        return redirect("web:image", image_id=found.pk)
    data = form.cleaned_data
    try:
        checked = check_prompt_edit(
            image=found,
            person=person,
            prompt=data["prompt"],
            mask=data["mask"],
            provider=data["provider"],
            note=data["note"],
        )
    except (WorkflowError, InputError) as exc:
        messages.error(request, f"Refused ({exc.code}): {_refusal(exc)}")
        return redirect("web:image", image_id=found.pk)
    result = prompt_edit_task.enqueue(**dataclasses.asdict(checked))
    # With a worker in this process (or the immediate backend) the edit may be done already.
    if result.status == TaskResultStatus.SUCCESSFUL:
        made = result.return_value
        messages.success(
            request, f"Prompt edit made by {checked.provider}: saved as option {made['number']}."
        )
        return redirect("web:image", image_id=made["image"])
    if result.status == TaskResultStatus.FAILED:
        messages.error(request, f"The prompt edit by {checked.provider} failed: {_reason(result)}")
        return redirect("web:image", image_id=found.pk)
    messages.success(
        request,
        f"Prompt edit of option {found.number} queued for {checked.provider}. It runs in the "
        "background: the edited version will appear on this page, under its lineage, as a new "
        "option once the provider has made it.",
    )
    return redirect("web:image", image_id=found.pk)


def _refusal(exc: WorkflowError | InputError) -> str:
    if isinstance(exc, InputError):
        return "; ".join(str(p) for p in exc.problems)  # each with its field
    return exc.message


def _reason(result: TaskResult) -> str:
    """The refusal a failed task ended with: the last line of its traceback, unprefixed."""
    if not result.errors:
        return "no reason was recorded"
    lines = result.errors[-1].traceback.strip().splitlines() or ["no reason was recorded"]
    return lines[-1].partition(": ")[2] or lines[-1]
