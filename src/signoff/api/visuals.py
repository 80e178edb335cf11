"""References, image generation, rating, selection, edits and renditions.

No model is called inside a request: a batch of options is queued (202) and a worker makes it;
so is a prompt edit and a render pass. Rating, selecting and the builtin edits (background,
upscale, crop) answer at once.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from signoff.api.errors import error_responses
from signoff.api.scope import brief_for
from signoff.briefs.authority import ensure_may_run
from signoff.core.errors import InputError, NotFound, Problem
from signoff.visuals import selectors
from signoff.visuals.decisions import EditAsk, edit_image, rate_image, select_image
from signoff.visuals.generation import queue_image_run
from signoff.visuals.models import ImageRun, Rendition
from signoff.visuals.references import ReferenceFile, add_references
from signoff.visuals.storage import file_storage
from signoff.visuals.tasks import generate_images_task, render_task

router = Router(tags=["images"])

_CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "gif": "image/gif",
    "bmp": "image/bmp",
}


class FileIn(Schema):
    name: str = Field(min_length=1, max_length=300)
    data_base64: str = Field(min_length=1, description="the file's bytes, base64-encoded")


class ReferencesIn(Schema):
    kind: Literal[
        "packshot", "brand_example", "previous_winner", "negative", "competitor", "inspiration"
    ]
    files: list[FileIn] = Field(min_length=1, max_length=20)
    sku: str = ""
    note: str = Field(default="", max_length=2000)


class GenerateIn(Schema):
    skus: list[str] = []
    n: int = Field(default=4, ge=1, le=10)
    hypothesis: str = Field(default="", max_length=2000)
    provider: str | None = None


class RateIn(Schema):
    stars: int = Field(ge=1, le=5)
    tags: list[str] = Field(default=[], max_length=20)
    note: str = Field(default="", max_length=2000)


class SelectIn(Schema):
    note: str = Field(default="", max_length=2000)


class EditIn(Schema):
    background: str = ""
    upscale: Literal[0, 2, 4] = 0
    crop: list[int] | None = Field(default=None, min_length=4, max_length=4)
    note: str = Field(default="", max_length=2000)


class RenderIn(Schema):
    skus: list[str] = []


class QueuedOut(Schema):
    id: int
    status: str
    location: str


class RenderQueuedOut(Schema):
    task: str
    status: str
    location: str


class ImageRunOut(Schema):
    id: int
    status: str
    step: str
    done: int
    total: int
    n: int
    provider: str
    hypothesis: str
    summary: dict[str, Any]
    error: str


@router.get("/briefs/{slug}/references", response={200: list[dict], **error_responses()})
def references(request: HttpRequest, slug: str) -> list[dict]:
    """The brief's references (packshots, brand examples, previous winners, negatives)."""
    return selectors.references_of(brief_for(request.auth, slug))


@router.post(
    "/briefs/{slug}/references",
    response={201: list[dict], **error_responses(400, 403)},
)
def add_reference_files(request: HttpRequest, slug: str, payload: ReferencesIn) -> Status:
    """Add files (base64) as references of one kind; a packshot names its SKU. One bad file
    refuses them all (422, located by ``files.N``); nothing is stored then."""
    brief = brief_for(request.auth, slug)
    ensure_may_run(request.auth, brief, "add references to")
    files, problems = [], []
    for i, item in enumerate(payload.files):
        try:
            data = base64.b64decode(item.data_base64, validate=True)
        except (binascii.Error, ValueError):
            problems.append(Problem("not valid base64", field=f"files.{i}.data_base64"))
            continue
        files.append(
            ReferenceFile(
                data, item.name, payload.kind, payload.sku, payload.note, where=f"files.{i}"
            )
        )
    if problems:
        raise InputError(problems)
    added = add_references(brief=brief, files=files, actor=request.auth.email)
    ids = {r.pk for r in added}
    return Status(201, [r for r in selectors.references_of(brief) if r["id"] in ids])


@router.post(
    "/briefs/{slug}/images/runs", response={202: QueuedOut, **error_responses(400, 403, 409)}
)
def generate(
    request: HttpRequest, response: HttpResponse, slug: str, payload: GenerateIn
) -> Status:
    """Queue a batch of N options per SKU (all SKUs, or ``skus``); a worker makes them. 409
    ``run_in_progress`` while another run of the brief holds its lock, or before G1."""
    brief = brief_for(request.auth, slug)
    run = queue_image_run(
        brief=brief,
        person=request.auth,
        skus=payload.skus,
        n=payload.n,
        hypothesis=payload.hypothesis,
        provider=payload.provider,
    )
    generate_images_task.enqueue(run.pk)  # the run row is committed: a worker can read it
    location = f"/api/briefs/{slug}/images/runs/{run.pk}"
    response["Location"] = location
    return Status(202, {"id": run.pk, "status": run.status, "location": location})


@router.get("/briefs/{slug}/images/runs/{run_id}", response={200: ImageRunOut, **error_responses()})
def image_run(request: HttpRequest, slug: str, run_id: int) -> ImageRun:
    """A batch as it stands: queued, running (step, done of total), finished, stopped, failed."""
    brief = brief_for(request.auth, slug)
    try:
        return brief.image_runs.get(pk=run_id)
    except ImageRun.DoesNotExist:
        raise NotFound(f"no image run {run_id} of {slug}") from None


@router.get("/briefs/{slug}/images", response={200: list[dict], **error_responses()})
def images(
    request: HttpRequest, slug: str, sku: str = "", hide_blocked: bool = False
) -> list[dict]:
    """Every option and edit of the brief (or one SKU), with provenance and findings."""
    return selectors.images_of(
        brief_for(request.auth, slug), sku=sku or None, hide_blocked=hide_blocked
    )


@router.get("/images/{image_id}", response={200: dict, **error_responses()})
def image(request: HttpRequest, image_id: int) -> dict:
    """One image: provenance, lineage, ratings, findings and renditions."""
    return selectors.image_detail(selectors.image_for(request.auth, image_id))


@router.get("/images/{image_id}/file", response={200: None, **error_responses()})
def image_file(request: HttpRequest, image_id: int) -> FileResponse:
    """The image's file as stored."""
    found = selectors.image_for(request.auth, image_id)
    if found.blob is None:
        raise NotFound(f"image {image_id} failed and has no file")
    return _file(found.blob.name, found.blob.format, f"image-{found.pk}.{found.blob.format}")


@router.post("/images/{image_id}/rate", response={200: dict, **error_responses(400, 409)})
def rate(request: HttpRequest, image_id: int, payload: RateIn) -> dict:
    """Rate 1-5 with feedback tags and a note; the next batch for the SKU reads them."""
    found = selectors.image_for(request.auth, image_id)
    rate_image(
        image=found, person=request.auth, stars=payload.stars, tags=payload.tags, note=payload.note
    )
    return selectors.image_detail(found)


@router.post("/images/{image_id}/select", response={200: dict, **error_responses(400, 403, 409)})
def select(request: HttpRequest, image_id: int, payload: SelectIn) -> dict:
    """Select the image for its SKU (content lead, or the CMO on a campaign; 403 otherwise,
    ``maker_checker`` for an image you edited)."""
    found = selectors.image_for(request.auth, image_id)
    select_image(image=found, person=request.auth, note=payload.note)
    return selectors.image_detail(found)


@router.post("/images/{image_id}/edits", response={201: dict, **error_responses(400, 403, 409)})
def edit(request: HttpRequest, image_id: int, payload: EditIn) -> Status:
    """A builtin edit as a new version: ``background`` (white, transparent, #RRGGBB),
    ``upscale`` (2 or 4) or ``crop`` ([x, y, w, h]). Prompt edits by a model are made with
    ``signoff images edit IMAGE --prompt`` (a worker's job, never a request's)."""
    found = selectors.image_for(request.auth, image_id)
    ask = EditAsk(
        background=payload.background,
        upscale=payload.upscale,
        crop=tuple(payload.crop) if payload.crop else None,
    )
    made = edit_image(image=found, person=request.auth, ask=ask, note=payload.note)
    return Status(201, selectors.image_detail(made))


@router.post(
    "/briefs/{slug}/renditions", response={202: RenderQueuedOut, **error_responses(400, 403)}
)
def render(request: HttpRequest, response: HttpResponse, slug: str, payload: RenderIn) -> Status:
    """Queue a render pass: every slot of every channel from each SKU's selected image,
    attached to the packages as new versions."""
    brief = brief_for(request.auth, slug)
    ensure_may_run(request.auth, brief, "render images of")
    result = render_task.enqueue(brief.pk, request.auth.pk, payload.skus)
    location = f"/api/briefs/{slug}/images"
    response["Location"] = location
    return Status(
        202, {"task": str(result.id), "status": str(result.status).lower(), "location": location}
    )


@router.get("/renditions/{rendition_id}/file", response={200: None, **error_responses()})
def rendition_file(request: HttpRequest, rendition_id: int) -> FileResponse:
    """A rendition's file, named by the workspace's naming pattern."""
    try:
        found = Rendition.objects.select_related("blob").get(
            pk=rendition_id, image__brief__workspace_id=request.auth.workspace_id
        )
    except Rendition.DoesNotExist:
        raise NotFound(f"no rendition {rendition_id}") from None
    return _file(found.blob.name, found.format, found.filename)


def _file(name: str, fmt: str, filename: str) -> FileResponse:
    handle = file_storage().open(name, "rb")
    return FileResponse(
        handle, content_type=_CONTENT_TYPES.get(fmt, "application/octet-stream"), filename=filename
    )
