"""Prompt edits from the API and the web app: checked in the request, made by a worker.

An edit by prompt is a provider call, so it is a worker's job (``prompt_edit_task``), never a
request's. Everything that can be known without the provider is checked before anything is
queued, each problem located by its field (``prompt``, ``mask``, ``provider``), so a person is
not told "queued" for an edit that cannot be made. The worker then runs the same service as
``signoff images edit --prompt`` (``decisions.edit_image``), which checks authority and state
again: they may have changed while the task waited.

The mask travels to the worker as a blob of the workspace's content store, by its SHA-256:
tasks take ids and plain values, never bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from signoff.briefs.authority import ensure_may_run
from signoff.core.errors import InputError, Problem
from signoff.visuals.decisions import EditAsk, edit_image
from signoff.visuals.imaging import Decoded, ImageInputError, decode_image
from signoff.visuals.models import Blob, ImageVersion
from signoff.visuals.providers.registry import IMAGE_PROVIDERS, image_provider, parse_spec
from signoff.visuals.storage import put_blob, read_blob
from signoff.workflow import ErrorCode, StateError
from signoff.workspaces.models import Person

PROMPT_MAX = 32_000  # the Images API's limit for GPT image models, in characters
# Providers whose ``edit`` refuses every prompt: the builtin compositor draws nothing new.
NO_PROMPT_EDITS = frozenset({"builtin"})


@dataclass(frozen=True, slots=True)
class PromptEdit:
    """A checked prompt edit, as the task takes it: ids and plain values."""

    image_id: int
    person_id: int
    prompt: str
    provider: str  # the spec as resolved now, so the worker uses what was checked
    note: str = ""
    mask_sha256: str = ""  # a blob of the image's workspace; "" for no mask


def prompt_edit_providers() -> list[str]:
    """The provider specs a person may pick for a prompt edit, the configured one first."""
    specs = [k for k in IMAGE_PROVIDERS if k not in NO_PROMPT_EDITS]
    configured = settings.SIGNOFF_IMAGE_PROVIDER
    if configured.partition(":")[0] not in NO_PROMPT_EDITS:
        specs = [configured, *(s for s in specs if s != configured)]
    return specs


def check_prompt_edit(
    *,
    image: ImageVersion,
    person: Person,
    prompt: str,
    mask: bytes | None = None,
    provider: str | None = None,
    note: str = "",
) -> PromptEdit:
    """Check a prompt edit of ``image`` by ``person``; store its mask; return it for the task.

    Raises StateError (409) for a failed option, AuthorityError (403) for someone who may not
    edit the brief's images, InputError (422) located at ``prompt``, ``mask`` or ``provider``.
    """
    if image.status != ImageVersion.Status.READY or image.blob is None:
        raise StateError(
            ErrorCode.INVALID_STATE,
            f"image {image.pk} is a failed option ({image.error}); it holds no image to edit",
        )
    ensure_may_run(person, image.brief, "edit images of")
    problems = []
    prompt = prompt.strip()
    if not prompt:
        problems.append(Problem("say what to change: the prompt is empty", field="prompt"))
    elif len(prompt) > PROMPT_MAX:
        problems.append(Problem(f"at most {PROMPT_MAX:,} characters", field="prompt"))
    spec = (provider or "").strip() or settings.SIGNOFF_IMAGE_PROVIDER
    problem = _provider_problem(spec)
    if problem:
        problems.append(problem)
    decoded = None
    if mask is not None:
        decoded, problem = _mask_problem(mask, image)
        if problem:
            problems.append(problem)
    if problems:
        raise InputError(problems)
    mask_sha256 = ""
    if decoded is not None and mask is not None:
        blob = put_blob(
            image.brief.workspace,
            mask,
            fmt=decoded.format,
            width=decoded.width,
            height=decoded.height,
        )
        mask_sha256 = blob.sha256
    return PromptEdit(image.pk, person.pk, prompt, spec, note.strip(), mask_sha256)


def run_prompt_edit(edit: PromptEdit) -> ImageVersion:
    """Make the edit (the worker's part): one provider call, then a new checked version."""
    image = ImageVersion.objects.select_related("brief__workspace", "blob").get(pk=edit.image_id)
    person = Person.objects.get(pk=edit.person_id)
    mask = None
    if edit.mask_sha256:
        blob = Blob.objects.get(workspace=image.brief.workspace, sha256=edit.mask_sha256)
        mask = read_blob(blob)
    ask = EditAsk(prompt=edit.prompt, mask=mask, provider=edit.provider)
    return edit_image(image=image, person=person, ask=ask, note=edit.note)


def _provider_problem(spec: str) -> Problem | None:
    try:
        kind, _ = parse_spec(spec)
        image_provider(spec)  # builds the client: its settings are checked, nothing is sent
    except ImproperlyConfigured as exc:
        return Problem(str(exc), field="provider")
    if kind in NO_PROMPT_EDITS:
        return Problem(
            f"the {kind} image provider does not edit by prompt (it composes from the "
            "packshot and draws nothing new); name one that does, such as openai, or use "
            "background, upscale or crop",
            field="provider",
        )
    return None


def _mask_problem(mask: bytes, image: ImageVersion) -> tuple[Decoded | None, Problem | None]:
    try:
        decoded = decode_image(mask, "mask", max_pixels=settings.SIGNOFF_IMAGE_MAX_PIXELS)
    except ImageInputError as exc:
        return None, Problem(f"the mask is not a usable image: {exc.message}", field="mask")
    want = (image.blob.width, image.blob.height)
    if (decoded.width, decoded.height) != want:
        return None, Problem(
            f"the mask is {decoded.width} x {decoded.height} but the image is {want[0]} x "
            f"{want[1]}; they must be the same size",
            field="mask",
        )
    # decode_image keeps an alpha channel only when some pixel is not opaque.
    if decoded.image.mode != "RGBA" or decoded.image.getchannel("A").getextrema()[0] != 0:
        return None, Problem(
            "the mask has no transparent pixel: the edit is made where its alpha is 0",
            field="mask",
        )
    return decoded, None
