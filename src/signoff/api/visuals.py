"""References, image generation, rating, selection, edits, provider comparisons, renditions.

No model is called inside a request for the brief's work: a batch of options is queued (202)
and a worker makes it; so is a prompt edit (checked first, then queued) and a render pass.
Rating, selecting and the builtin edits (background, upscale, crop) answer at once. A
provider comparison is R&D on one SKU and answers in the request; its options wait in a
scratch area, outside the content store, until the person keeps one (``visuals.comparisons``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Any, Literal
from urllib.parse import quote

from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from signoff.api.errors import error_responses
from signoff.api.scope import brief_for
from signoff.briefs.authority import ensure_may_run
from signoff.core.errors import InputError, NotFound, Problem
from signoff.visuals import compare_scratch, proofing, selectors
from signoff.visuals.comparisons import (
    MAX_PROVIDERS,
    held_comparison,
    keep_compared,
    option_summary,
    run_comparison,
)
from signoff.visuals.decisions import EditAsk, edit_image, rate_image, select_image
from signoff.visuals.generation import MAX_OPTIONS, queue_image_run
from signoff.visuals.models import ImageRun, Rendition
from signoff.visuals.prompt_edits import check_prompt_edit
from signoff.visuals.references import ReferenceFile, add_references
from signoff.visuals.storage import file_storage
from signoff.visuals.tasks import generate_images_task, prompt_edit_task, render_task
from signoff.workspaces.models import Person

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
    prompt: str | None = Field(
        default=None, description="an edit by a provider, queued for a worker (202)"
    )
    mask: str | None = Field(
        default=None,
        description="with prompt: a PNG of the image's size, base64; edited where alpha is 0",
    )
    provider: str | None = Field(
        default=None, description="with prompt: openai or openai:MODEL (default: the setting)"
    )
    note: str = Field(default="", max_length=2000)


class CompareIn(Schema):
    sku: str = Field(min_length=1, max_length=100)
    providers: list[str] = Field(min_length=1, max_length=MAX_PROVIDERS)
    n: int = Field(default=1, ge=1, le=MAX_OPTIONS)


class KeepIn(Schema):
    option: str = Field(min_length=1, max_length=200, description='e.g. "builtin:1"')
    note: str = Field(default="", max_length=2000)


class ComparedOptionOut(Schema):
    key: str  # what to keep it by: "builtin:1", or "openai:MODEL:1" where that is ambiguous
    provider: str
    model: str
    index: int
    size: list[int] | None
    format: str
    cost: float
    latency_ms: float
    prompt: str
    findings: list[dict[str, Any]]
    error: str | None
    kept_as: int | None
    file: str | None  # where to fetch the option's image while the comparison is held


class ComparisonOut(Schema):
    id: str
    brief: str
    sku: str
    created_at: str
    expires_at: str
    keep: str  # POST {"option": key} here to store one
    options: list[ComparedOptionOut]


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


class EditQueuedOut(Schema):
    task: str
    status: str
    location: str  # the SKU's images, where the edited version appears once it is made


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


@router.post(
    "/images/{image_id}/edits",
    response={201: dict, 202: EditQueuedOut, **error_responses(400, 403, 409)},
)
def edit(request: HttpRequest, response: HttpResponse, image_id: int, payload: EditIn) -> Status:
    """One edit as a new version. The builtin edits answer at once (201, the new image):
    ``background`` (white, transparent, #RRGGBB), ``upscale`` (2 or 4) or ``crop``
    ([x, y, w, h]). A ``prompt`` edit (with an optional base64 ``mask`` and a ``provider``)
    is checked now and made by a worker (202): the new version then appears in the SKU's
    images, with the prompt in its provenance."""
    found = selectors.image_for(request.auth, image_id)
    if payload.prompt is None and payload.mask is None and payload.provider is None:
        ask = EditAsk(
            background=payload.background,
            upscale=payload.upscale,
            crop=tuple(payload.crop) if payload.crop else None,
        )
        made = edit_image(image=found, person=request.auth, ask=ask, note=payload.note)
        return Status(201, selectors.image_detail(made))
    mixed = [f for f in ("background", "upscale", "crop") if getattr(payload, f)]
    if mixed:
        raise InputError(
            [Problem("give one edit: a prompt, or background, upscale or crop", field=mixed[0])]
        )
    checked = check_prompt_edit(
        image=found,
        person=request.auth,
        prompt=payload.prompt or "",
        mask=_base64(payload.mask, "mask") if payload.mask is not None else None,
        provider=payload.provider,
        note=payload.note,
    )
    result = prompt_edit_task.enqueue(**dataclasses.asdict(checked))
    location = f"/api/briefs/{found.brief.slug}/images?sku={quote(found.sku)}"
    response["Location"] = location
    return Status(
        202, {"task": str(result.id), "status": str(result.status).lower(), "location": location}
    )


def _base64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError([Problem("not valid base64", field=field)]) from None


@router.post(
    "/briefs/{slug}/images/compare",
    response={200: ComparisonOut, **error_responses(400, 403, 409)},
)
def compare(request: HttpRequest, slug: str, payload: CompareIn) -> dict:
    """One SKU's prompt on several image providers side by side (``n`` options each), run
    now. Nothing is stored in the content store: the options are held for a day, for you
    only, to be kept by their ``key`` (``POST .../compare/{id}/keep``)."""
    brief = brief_for(request.auth, slug)
    held = run_comparison(
        brief=brief,
        person=request.auth,
        sku=payload.sku,
        providers=payload.providers,
        n=payload.n,
    )
    return _comparison(slug, held)


@router.get(
    "/briefs/{slug}/images/compare/{compare_id}",
    response={200: ComparisonOut, **error_responses()},
)
def comparison(request: HttpRequest, slug: str, compare_id: str) -> dict:
    """A comparison you ran, while it is held (a day), with what you kept from it."""
    brief = brief_for(request.auth, slug)
    return _comparison(slug, held_comparison(brief=brief, person=request.auth, token=compare_id))


@router.get(
    "/briefs/{slug}/images/compare/{compare_id}/options/{number}/file",
    response={200: None, **error_responses()},
)
def compared_file(request: HttpRequest, slug: str, compare_id: str, number: int) -> HttpResponse:
    """Option ``number`` (1-based, in the comparison's order) as the provider answered it."""
    brief = brief_for(request.auth, slug)
    held = held_comparison(brief=brief, person=request.auth, token=compare_id)
    if not 1 <= number <= len(held.options):
        raise NotFound(f"no option {number} in comparison {compare_id}")
    option = held.options[number - 1]
    data = compare_scratch.read_option(held, option)
    return HttpResponse(
        data, content_type=_CONTENT_TYPES.get(option.format, "application/octet-stream")
    )


@router.post(
    "/briefs/{slug}/images/compare/{compare_id}/keep",
    response={201: dict, **error_responses(400, 403, 409)},
)
def keep(request: HttpRequest, slug: str, compare_id: str, payload: KeepIn) -> Status:
    """Store one compared option (``"builtin:1"``) as an option of the brief: 201 with the
    new image. 404 for a comparison that is not yours or no longer held, 422 ``option`` for
    an option it does not have (or that failed), 409 for one already kept."""
    brief = brief_for(request.auth, slug)
    image = keep_compared(
        brief=brief,
        person=request.auth,
        token=compare_id,
        option=payload.option,
        note=payload.note,
    )
    return Status(201, selectors.image_detail(image))


def _comparison(slug: str, held: compare_scratch.Held) -> dict:
    base = f"/api/briefs/{slug}/images/compare/{held.token}"
    return {
        "id": held.token,
        "brief": slug,
        "sku": held.sku,
        "created_at": held.created_at.isoformat(),
        "expires_at": held.expires_at.isoformat(),
        "keep": f"{base}/keep",
        "options": [
            {
                **option_summary(option),
                "file": f"{base}/options/{n}/file" if option.file and not option.kept_as else None,
            }
            for n, option in enumerate(held.options, 1)
        ],
    }


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
    found = _rendition(request.auth, rendition_id)
    return _file(found.blob.name, found.format, found.filename)


@router.get("/renditions/{rendition_id}/proof.pdf", response={200: None, **error_responses()})
def rendition_proof(request: HttpRequest, rendition_id: int) -> HttpResponse:
    """The rendition's print proof (``signoff images proof``'s PDF) at the dpi in its file;
    422 ``invalid_input`` when its channel does not print."""
    return _pdf(proofing.rendition_proof(_rendition(request.auth, rendition_id)))


@router.get("/images/{image_id}/proof.pdf", response={200: None, **error_responses()})
def image_proof(request: HttpRequest, image_id: int, channel: str) -> HttpResponse:
    """The image's print proof for a print ``channel`` (scaled to cover its print size); 422
    ``invalid_input`` at ``channel`` when it does not print, naming those that do."""
    return _pdf(proofing.image_proof(selectors.image_for(request.auth, image_id), channel))


def _rendition(person: Person, rendition_id: int) -> Rendition:
    try:
        return Rendition.objects.select_related(
            "blob", "image__blob", "image__brief__workspace"
        ).get(pk=rendition_id, image__brief__workspace_id=person.workspace_id)
    except Rendition.DoesNotExist:
        raise NotFound(f"no rendition {rendition_id}") from None


def _pdf(proof: proofing.StoredProof) -> HttpResponse:
    response = HttpResponse(proof.pdf(), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, proof.filename)
    return response


def _file(name: str, fmt: str, filename: str) -> FileResponse:
    handle = file_storage().open(name, "rb")
    return FileResponse(
        handle, content_type=_CONTENT_TYPES.get(fmt, "application/octet-stream"), filename=filename
    )
