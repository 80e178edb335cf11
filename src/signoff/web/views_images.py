"""The image screens: stored files and thumbnails, generation with its progress, the options
grid, one option (findings drawn over it, provenance, rate, select, edit).

Thin like ``views``: parse the input, call one ``signoff.visuals`` service or selector, render.
Every file is served only to a signed-in person of its workspace; anything else is a 404.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from PIL import Image

from signoff.briefs.authority import may_run
from signoff.briefs.models import Brief
from signoff.briefs.workflow import template_for
from signoff.core.errors import InputError, NotFound
from signoff.packages.runlock import run_in_progress
from signoff.visuals import selectors
from signoff.visuals.decisions import EditAsk, edit_image, rate_image, select_image
from signoff.visuals.generation import MAX_OPTIONS, queue_image_run
from signoff.visuals.models import Blob, ImageRun, ImageVersion, Reference, Rendition, Selection
from signoff.visuals.storage import file_storage, read_blob
from signoff.visuals.tasks import generate_images_task, render_task
from signoff.web.scope import brief_for
from signoff.web.views import with_person
from signoff.workflow import WorkflowError
from signoff.workspaces.models import Person

CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "gif": "image/gif",
    "bmp": "image/bmp",
}
THUMB_MIN, THUMB_MAX = 16, 2048
THUMB_CACHE_BYTES = 48 * 1024 * 1024
_thumbs: OrderedDict[tuple[int, str, int], bytes] = OrderedDict()
_thumbs_lock = threading.Lock()
SEVERITIES = ("block", "warn", "info")


# --- files ----------------------------------------------------------------------------------


def _thumbnail(blob: Blob, width: int) -> bytes:
    """Return the blob as a JPEG at most ``width`` px wide (kept in a small in-memory LRU)."""
    key = (blob.workspace_id, blob.sha256, width)
    with _thumbs_lock:
        if key in _thumbs:
            _thumbs.move_to_end(key)
            return _thumbs[key]
    with Image.open(io.BytesIO(read_blob(blob))) as opened:
        if opened.format == "JPEG":
            opened.draft("RGB", (width, max(1, width * opened.height // opened.width)))
        image = opened.convert("RGBA") if opened.mode in ("RGBA", "LA", "P", "PA") else opened
        if image.mode == "RGBA":  # transparency shows on white, as the page's cards do
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
            image = flat
        elif image.mode != "RGB":
            image = image.convert("RGB")
        if image.width > width:
            image.thumbnail((width, THUMB_MAX * 4), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=84, optimize=True, progressive=True)
    data = buffer.getvalue()
    with _thumbs_lock:
        _thumbs[key] = data
        total = sum(len(v) for v in _thumbs.values())
        while total > THUMB_CACHE_BYTES and len(_thumbs) > 1:
            total -= len(_thumbs.popitem(last=False)[1])
    return data


def _serve(request: HttpRequest, blob: Blob | None, filename: str) -> HttpResponse:
    """The blob as stored, or with ``?w=N`` a JPEG thumbnail N px wide; cached by hash."""
    if blob is None:
        raise Http404("no stored file")
    width = request.GET.get("w", "")
    etag = f'"{blob.sha256}-{width or "full"}"'
    if request.headers.get("If-None-Match") == etag:
        response: HttpResponse = HttpResponse(status=304)
    elif width:
        try:
            size = min(max(int(width), THUMB_MIN), THUMB_MAX)
        except ValueError:
            raise Http404("w is a width in pixels") from None
        response = HttpResponse(_thumbnail(blob, size), content_type="image/jpeg")
    else:
        response = FileResponse(
            file_storage().open(blob.name, "rb"),
            content_type=CONTENT_TYPES.get(blob.format, "application/octet-stream"),
            filename=filename,
        )
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_GET
@with_person
def image_file(request: HttpRequest, person: Person, image_id: int) -> HttpResponse:
    found = _image(person, image_id)
    return _serve(request, found.blob, f"{found.sku}-{found.number}.{_ext(found.blob)}")


@require_GET
@with_person
def rendition_file(request: HttpRequest, person: Person, rendition_id: int) -> HttpResponse:
    found = (
        Rendition.objects.select_related("blob")
        .filter(pk=rendition_id, image__brief__workspace_id=person.workspace_id)
        .first()
    )
    if found is None:
        raise Http404(f"no rendition {rendition_id}")
    return _serve(request, found.blob, found.filename)


@require_GET
@with_person
def reference_file(request: HttpRequest, person: Person, reference_id: int) -> HttpResponse:
    found = (
        Reference.objects.select_related("blob")
        .filter(pk=reference_id, brief__workspace_id=person.workspace_id)
        .first()
    )
    if found is None:
        raise Http404(f"no reference {reference_id}")
    return _serve(request, found.blob, found.filename or f"reference-{found.pk}")


def _ext(blob: Blob | None) -> str:
    return blob.format if blob else "bin"


# --- generation and the options grid --------------------------------------------------------


class GenerateForm(forms.Form):
    skus = forms.MultipleChoiceField(
        label="SKUs", required=False, widget=forms.CheckboxSelectMultiple
    )
    n = forms.IntegerField(label="Options per SKU", min_value=1, max_value=MAX_OPTIONS, initial=4)
    hypothesis = forms.CharField(
        label="Hypothesis for this batch",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, skus: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["skus"].choices = [(s, s) for s in skus]
        self.fields["n"].widget.attrs.update({"min": 1, "max": MAX_OPTIONS})


def _products(brief: Brief) -> list[tuple[str, str]]:
    version = brief.approved_version or brief.latest_version()
    if version is None:
        return []
    return list(version.products.order_by("position").values_list("sku", "name"))


def _stars(value: float | None) -> list[bool]:
    full = int(round(value or 0))
    return [i < full for i in range(5)]


def _tile(image: dict) -> dict:
    counts = {s: sum(1 for f in image["findings"] if f["severity"] == s) for s in SEVERITIES}
    return {
        **image,
        "counts": counts,
        "stars_marks": _stars(image["stars"]),
        "blocking_findings": [f for f in image["findings"] if f["severity"] == "block"],
    }


def run_progress(brief: Brief, run: ImageRun | None) -> dict:
    """Return a run as it stands: status, step, SKUs done of total, and whether to poll."""
    if run is None:
        return {"brief": brief, "run": None, "polling": False}
    status = run.status
    if status == "running" and not run_in_progress(brief):
        status = "interrupted"  # recorded as running while nobody holds the lock: its worker died
    # The task does not report steps: count the SKUs whose options are stored so far.
    done = max(run.done, ImageVersion.objects.filter(run=run).values("sku").distinct().count())
    total = run.total or len(run.skus) or len(_products(brief))
    summary = run.summary or {}
    return {
        "brief": brief,
        "run": run,
        "status": status,
        "polling": status in ("queued", "running"),
        "done": min(done, total) if total else done,
        "total": total,
        "made": sum((summary.get("made") or {}).values()),
        "failed": summary.get("failed") or {},
        "missing": summary.get("missing") or {},
        "stopped": summary.get("stopped", ""),
        "cost": summary.get("cost"),
    }


def _latest_run(brief: Brief, request: HttpRequest) -> ImageRun | None:
    wanted = request.GET.get("run", "")
    runs = brief.image_runs.all()
    if wanted.isdigit():
        return runs.filter(pk=int(wanted)).first()
    return runs.order_by("-started_at", "-id").first()


def _grid(brief: Brief, hide_blocked: bool) -> dict:
    products = _products(brief)
    every = [_tile(i) for i in selectors.images_of(brief)]
    shown = [i for i in every if not (hide_blocked and i["blocking"])]
    packshots: dict[str, Reference] = {}
    for ref in brief.references.filter(kind="packshot", blob__isnull=False).order_by("id"):
        packshots.setdefault(ref.sku, ref)
    known = [sku for sku, _ in products]
    groups = []
    for sku, name in [
        *products,
        *((s, "") for s in sorted({i["sku"] for i in every}) if s not in known),
    ]:
        options = [i for i in shown if i["sku"] == sku]
        groups.append(
            {
                "sku": sku,
                "name": name,
                "packshot": packshots.get(sku),
                "options": options,
                "ready": sum(1 for i in options if i["status"] != "failed"),
                "hidden": sum(1 for i in every if i["sku"] == sku and i["blocking"])
                if hide_blocked
                else 0,
            }
        )
    return {"groups": groups, "hide_blocked": hide_blocked, "total": len(every)}


@require_GET
@with_person
def images(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    brief = brief_for(person, slug)
    hide_blocked = request.GET.get("hide_blocked", "") in ("1", "on", "true")
    context = {"person": person, "brief": brief, **_grid(brief, hide_blocked)}
    if request.htmx and request.htmx.target == "image-grid":
        return render(request, "web/images/_image_grid.html", context)
    context.update(
        {
            "form": GenerateForm(skus=[s for s, _ in _products(brief)]),
            "may_run": may_run(person, brief),
            "progress": run_progress(brief, _latest_run(brief, request)),
            "selected": len(selectors.selected_images(brief)),
        }
    )
    return render(request, "web/images/images.html", context)


@require_GET
@with_person
def images_progress(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    brief = brief_for(person, slug)
    context = {"progress": run_progress(brief, _latest_run(brief, request))}
    response = render(request, "web/images/_image_run_progress.html", context)
    if request.htmx and not context["progress"]["polling"]:
        response["HX-Refresh"] = "true"  # the run ended: reload to show its options
    return response


@require_POST
@with_person
def images_generate(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    brief = brief_for(person, slug)
    form = GenerateForm(request.POST, skus=[s for s, _ in _products(brief)])
    if not form.is_valid():
        messages.error(request, f"Nothing queued: {_form_errors(form)}")
        return redirect("web:images", slug=brief.slug)
    try:
        with transaction.atomic():
            run = queue_image_run(
                brief=brief,
                person=person,
                skus=form.cleaned_data["skus"],
                n=form.cleaned_data["n"],
                hypothesis=form.cleaned_data["hypothesis"],
            )
            transaction.on_commit(lambda: generate_images_task.enqueue(run.pk))
    except (WorkflowError, InputError) as exc:
        _refused(request, exc)
        return redirect("web:images", slug=brief.slug)
    which = ", ".join(run.skus) if run.skus else "every SKU with a packshot"
    messages.success(request, f"Batch queued: {run.n} options for {which}.")
    return redirect(f"{reverse('web:images', kwargs={'slug': brief.slug})}?run={run.pk}")


@require_POST
@with_person
def images_render(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    brief = brief_for(person, slug)
    if not may_run(person, brief):
        messages.error(
            request,
            f"Refused (wrong_role): {person.email} may not render images of {brief.slug}: "
            "only an operator or a gate owner of this brief may",
        )
    else:
        render_task.enqueue(brief.pk, person.pk, [])
        messages.success(
            request, "Render queued: every channel slot from each SKU's selected image."
        )
    return redirect("web:images", slug=brief.slug)


# --- one option -----------------------------------------------------------------------------


class RateForm(forms.Form):
    stars = forms.TypedChoiceField(
        choices=[(i, str(i)) for i in range(1, 6)], coerce=int, widget=forms.RadioSelect
    )
    tags = forms.CharField(required=False, max_length=500)
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class EditForm(forms.Form):
    operation = forms.ChoiceField(choices=[(o, o) for o in ("background", "upscale", "crop")])
    background = forms.CharField(required=False, max_length=20)
    upscale = forms.TypedChoiceField(
        required=False, choices=[("2", "2×"), ("4", "4×")], coerce=int, empty_value=0
    )
    x = forms.IntegerField(required=False, min_value=0)
    y = forms.IntegerField(required=False, min_value=0)
    w = forms.IntegerField(required=False, min_value=1)
    h = forms.IntegerField(required=False, min_value=1)
    note = forms.CharField(required=False, max_length=2000)

    def ask(self) -> EditAsk:
        data = self.cleaned_data
        if data["operation"] == "background":
            return EditAsk(background=(data["background"] or "").strip())
        if data["operation"] == "upscale":
            return EditAsk(upscale=data["upscale"] or 0)
        box = [data[k] for k in ("x", "y", "w", "h")]
        if any(v is None for v in box):
            raise InputError.single("a crop needs x, y, width and height", field="crop")
        return EditAsk(crop=(box[0], box[1], box[2], box[3]))


def _image(person: Person, image_id: int) -> ImageVersion:
    try:
        return selectors.image_for(person, image_id)
    except NotFound as exc:
        raise Http404(str(exc)) from None


def _overlays(detail: dict) -> dict | None:
    """Boxes to draw over the image in its own pixel space (an SVG viewBox of its size)."""
    if not detail["size"]:
        return None
    width, height = detail["size"]
    boxes = [
        {"n": n, "severity": f["severity"], "rule": f["rule_id"], "box": f["bbox"]}
        for n, f in enumerate(detail["findings"], 1)
        if f["bbox"] and len(f["bbox"]) == 4
    ]
    product = detail["product_bbox"] if detail["product_bbox"] else None
    label = max(12, round(max(width, height) * 0.022))
    return {
        "width": width,
        "height": height,
        "boxes": [
            {**b, "x": b["box"][0], "y": b["box"][1], "w": b["box"][2], "h": b["box"][3]}
            for b in boxes
        ],
        "product": dict(zip(("x", "y", "w", "h"), product, strict=False)) if product else None,
        "label": label,
        "stroke": max(2, round(max(width, height) / 400)),
    }


def _provenance_refs(image: ImageVersion, origin: dict) -> list[Reference]:
    hashes = origin.get("references") or []
    refs = image.brief.references.select_related("blob").filter(blob__sha256__in=hashes)
    return list(refs.order_by("id"))


@require_GET
@with_person
def image(request: HttpRequest, person: Person, image_id: int) -> HttpResponse:
    found = _image(person, image_id)
    detail = selectors.image_detail(found)
    siblings = list(
        ImageVersion.objects.filter(brief=found.brief, sku=found.sku)
        .order_by("number")
        .values_list("pk", "number")
    )
    index = [pk for pk, _ in siblings].index(found.pk)
    live = (
        Selection.objects.filter(brief=found.brief, sku=found.sku, replaced_at__isnull=True)
        .select_related("image")
        .first()
    )
    roles = template_for(found.brief).image_selector_roles
    counts = {s: sum(1 for f in detail["findings"] if f["severity"] == s) for s in SEVERITIES}
    stars = [r["stars"] for r in detail["ratings"]]
    detail["stars"] = round(sum(stars) / len(stars), 1) if stars else None  # not annotated here
    context = {
        "person": person,
        "brief": found.brief,
        "image": found,
        "detail": detail,
        "counts": counts,
        "stars_marks": _stars(detail["stars"]),
        "overlay": _overlays(detail),
        "references": _provenance_refs(found, detail["origin"]),
        "children": list(found.imageversion_set.order_by("number")),
        "previous": siblings[index - 1] if index > 0 else None,
        "next": siblings[index + 1] if index + 1 < len(siblings) else None,
        "selection": live,
        "selector_roles": sorted(str(getattr(r, "value", r)) for r in roles),
        "may_select": bool(roles.intersection(person.roles)),
        "may_edit": may_run(person, found.brief),
        "palette": (found.brief.workspace.brand or {}).get("palette", []),
        "rate_form": RateForm(),
    }
    return render(request, "web/images/image.html", context)


@require_POST
@with_person
def image_rate(request: HttpRequest, person: Person, image_id: int) -> HttpResponse:
    found = _image(person, image_id)
    form = RateForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not rated: {_form_errors(form)}")
        return redirect("web:image", image_id=found.pk)
    tags = [t for t in form.cleaned_data["tags"].split(",") if t.strip()]
    try:
        rate_image(
            image=found,
            person=person,
            stars=form.cleaned_data["stars"],
            tags=tags,
            note=form.cleaned_data["note"],
        )
    except (WorkflowError, InputError) as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"Rated option {found.number} {form.cleaned_data['stars']}/5.")
    return redirect("web:image", image_id=found.pk)


@require_POST
@with_person
def image_select(request: HttpRequest, person: Person, image_id: int) -> HttpResponse:
    found = _image(person, image_id)
    try:
        select_image(image=found, person=person, note=request.POST.get("note", "")[:2000])
    except (WorkflowError, InputError) as exc:
        _refused(request, exc)
    else:
        messages.success(
            request, f"Option {found.number} is now the selected image of {found.sku}."
        )
    return redirect("web:image", image_id=found.pk)


@require_POST
@with_person
def image_edit(request: HttpRequest, person: Person, image_id: int) -> HttpResponse:
    found = _image(person, image_id)
    form = EditForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"No edit made: {_form_errors(form)}")
        return redirect("web:image", image_id=found.pk)
    try:
        made = edit_image(
            image=found, person=person, ask=form.ask(), note=form.cleaned_data["note"]
        )
    except (WorkflowError, InputError) as exc:
        _refused(request, exc)
        return redirect("web:image", image_id=found.pk)
    messages.success(
        request, f"Edit saved as option {made.number} ({form.cleaned_data['operation']})."
    )
    return redirect("web:image", image_id=made.pk)


# --- small helpers --------------------------------------------------------------------------


def _refused(request: HttpRequest, exc: WorkflowError | InputError) -> None:
    if isinstance(exc, InputError):
        text, code = "; ".join(p.message for p in exc.problems), exc.code
    else:
        text, code = exc.message, exc.code.value
    messages.error(request, f"Refused ({code}): {text}")


def _form_errors(form: forms.Form) -> str:
    return "; ".join(
        f"{name if name != '__all__' else 'form'}: {' '.join(errors)}"
        for name, errors in form.errors.items()
    )
