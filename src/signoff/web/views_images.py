"""The image screens: stored files and thumbnails, generation with its progress, the options
grid, one option (findings drawn over it, provenance, rate, select, edit).

Thin like ``views``: parse the input, call one ``signoff.visuals`` service or selector, render.
Every file is served only to a signed-in person of its workspace; anything else is a 404.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from PIL import Image

from signoff.briefs.authority import ensure_may_run, may_run
from signoff.briefs.models import Brief
from signoff.briefs.workflow import template_for
from signoff.core.errors import InputError, NotFound
from signoff.packages.runlock import run_in_progress
from signoff.visuals import selectors
from signoff.visuals.decisions import EditAsk, edit_image, rate_image, select_image
from signoff.visuals.generation import MAX_OPTIONS, queue_image_run
from signoff.visuals.models import Blob, ImageRun, ImageVersion, Reference, Rendition, Selection
from signoff.visuals.prompt_edits import prompt_edit_providers
from signoff.visuals.storage import file_storage
from signoff.visuals.tasks import generate_images_task, render_task
from signoff.web.scope import brief_for
from signoff.web.views import with_person
from signoff.workflow import WorkflowError
from signoff.workspaces.models import Person

CONTENT_TYPES = {f: f"image/{f}" for f in ("jpeg", "png", "webp", "tiff", "gif", "bmp")}
THUMB_MIN, THUMB_MAX = 16, 2048
SEVERITIES = ("block", "warn", "info")


# --- files ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)  # content-addressed: a hash's thumbnail never changes
def _thumbnail(name: str, sha256: str, width: int) -> bytes:
    """Return the stored file as a JPEG at most ``width`` px wide (transparency on white)."""
    with file_storage().open(name, "rb") as handle, Image.open(handle) as opened:
        if opened.format == "JPEG":
            opened.draft("RGB", (width, max(1, width * opened.height // opened.width)))
        image = opened.convert("RGBA") if opened.mode in ("RGBA", "LA", "P", "PA") else opened
        if image.mode == "RGBA":
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
            image = flat
        image = image.convert("RGB") if image.mode != "RGB" else image
        if image.width > width:
            image.thumbnail((width, THUMB_MAX * 4), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=84, optimize=True, progressive=True)
    return buffer.getvalue()


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
        response = HttpResponse(_thumbnail(blob.name, blob.sha256, size), content_type="image/jpeg")
    else:
        response = FileResponse(
            file_storage().open(blob.name, "rb"),
            content_type=CONTENT_TYPES.get(blob.format, "application/octet-stream"),
            filename=filename,
        )
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=86400"
    return response


def _scoped(model: type[Rendition] | type[Reference], pk: int, **scope: int) -> Any:
    found = model.objects.select_related("blob").filter(pk=pk, **scope).first()
    if found is None:
        raise Http404(f"no {model.__name__.lower()} {pk}")
    return found


@require_GET
@with_person
def image_file(request: HttpRequest, person: Person, image_id: int) -> HttpResponse:
    found = _image(person, image_id)
    fmt = found.blob.format if found.blob else ""
    return _serve(request, found.blob, f"{found.sku}-{found.number}.{fmt}")


@require_GET
@with_person
def rendition_file(request: HttpRequest, person: Person, rendition_id: int) -> HttpResponse:
    found = _scoped(Rendition, rendition_id, image__brief__workspace_id=person.workspace_id)
    return _serve(request, found.blob, found.filename)


@require_GET
@with_person
def reference_file(request: HttpRequest, person: Person, reference_id: int) -> HttpResponse:
    found = _scoped(Reference, reference_id, brief__workspace_id=person.workspace_id)
    return _serve(request, found.blob, found.filename or f"reference-{found.pk}")


def _decide(
    request: HttpRequest, found: ImageVersion | None, act: Callable[[], Any], done: str
) -> Any:
    """Run one decision; show its refusal (role, state or input) as a message, as the package
    screens do. Return what it made, or None when refused."""
    try:
        made = act()
    except (WorkflowError, InputError) as exc:
        if isinstance(exc, InputError):
            # Each problem with its place: the file or field the person named.
            text, code = "; ".join(str(p) for p in exc.problems), exc.code
        else:
            text, code = exc.message, exc.code.value
        messages.error(request, f"Refused ({code}): {text}")
        return None
    messages.success(request, done.format(made=made, image=found))
    return made


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
    """The options per SKU in the brief's product order, each SKU with its packshot."""
    every = [_tile(i) for i in selectors.images_of(brief)]
    refs = brief.references.filter(kind="packshot", blob__isnull=False).order_by("-id")
    packshots = {r.sku: r for r in refs}  # the first added wins
    products = _products(brief)
    known = dict(products)
    products += [(s, "") for s in dict.fromkeys(i["sku"] for i in every) if s not in known]
    groups = []
    for sku, name in products:
        mine = [i for i in every if i["sku"] == sku]
        shown = [i for i in mine if not (hide_blocked and i["blocking"])]
        ready = sum(i["status"] != "failed" for i in shown)
        groups.append(
            {
                "sku": sku,
                "name": name,
                "packshot": packshots.get(sku),
                "options": shown,
                "ready": ready,
                "hidden": len(mine) - len(shown),
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
    form = GenerateForm(skus=[s for s, _ in _products(brief)])
    version = brief.approved_version or brief.latest_version()
    if version and version.data.get("hypothesis"):
        form.fields["hypothesis"].widget.attrs["placeholder"] = version.data["hypothesis"]
    context.update(
        {
            "form": form,
            "may_run": may_run(person, brief),
            "progress": run_progress(brief, _latest_run(brief, request)),
            "selected": len(selectors.selected_images(brief)),
            "products": _products(brief),
            "reference_kinds": Reference.Kind.choices,
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
    data = form.cleaned_data

    def queue() -> ImageRun:
        with transaction.atomic():
            run = queue_image_run(
                brief=brief,
                person=person,
                skus=data["skus"],
                n=data["n"],
                hypothesis=data["hypothesis"],
            )
            transaction.on_commit(lambda: generate_images_task.enqueue(run.pk))
        return run

    which = ", ".join(data["skus"]) or "every SKU with a packshot"
    run = _decide(request, None, queue, f"Batch queued: {data['n']} options for {which}.")
    url = reverse("web:images", kwargs={"slug": brief.slug})
    return redirect(f"{url}?run={run.pk}" if run else url)


@require_POST
@with_person
def images_render(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    brief = brief_for(person, slug)

    def queue() -> None:
        ensure_may_run(person, brief, "render images of")
        render_task.enqueue(brief.pk, person.pk, [])

    _decide(request, None, queue, "Render queued: every slot from each SKU's selected image.")
    return redirect("web:images", slug=brief.slug)


# --- one option -----------------------------------------------------------------------------


class RateForm(forms.Form):
    stars = forms.TypedChoiceField(
        choices=[(i, str(i)) for i in range(1, 6)], coerce=int, widget=forms.RadioSelect
    )
    tags = forms.CharField(required=False, max_length=500)
    note = forms.CharField(required=False, max_length=2000)


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
    keys = ("x", "y", "w", "h")
    label = max(12, round(max(detail["size"]) * 0.022))  # numbers at ~2 % of the image
    boxes = []
    for n, f in enumerate(detail["findings"], 1):
        if f["bbox"] and len(f["bbox"]) == 4:
            x, y, w, h = f["bbox"]
            # A ring around the box keeps a small region findable; the number sits beside it.
            ring = max(w, h) / 2 + label
            boxes.append(
                {
                    "n": n,
                    "severity": f["severity"],
                    "x": x,
                    "y": y,
                    "w": w,
                    "h": h,
                    "cx": x + w / 2,
                    "cy": y + h / 2,
                    "r": round(ring, 1),
                    "lx": round(x + w / 2 + ring * 0.75),
                    "ly": round(y + h / 2 - ring * 0.75),
                }
            )
    product = detail["product_bbox"]
    return {
        "width": detail["size"][0],
        "height": detail["size"][1],
        "boxes": boxes,
        "product": dict(zip(keys, product, strict=True)) if product and len(product) == 4 else None,
        "label": label,
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
        "prompt_providers": prompt_edit_providers(),
    }
    return render(request, "web/images/image.html", context)


@require_POST
@with_person
def image_rate(request: HttpRequest, person: Person, image_id: int) -> HttpResponse:
    found = _image(person, image_id)
    form = RateForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not rated: {_form_errors(form)}")
    else:
        data = form.cleaned_data
        tags = [t for t in data["tags"].split(",") if t.strip()]
        _decide(
            request,
            found,
            lambda: rate_image(
                image=found, person=person, stars=data["stars"], tags=tags, note=data["note"]
            ),
            "Rated option {image.number} {made.stars}/5.",
        )
    return redirect("web:image", image_id=found.pk)


@require_POST
@with_person
def image_select(request: HttpRequest, person: Person, image_id: int) -> HttpResponse:
    found = _image(person, image_id)
    note = request.POST.get("note", "")[:2000]
    _decide(
        request,
        found,
        lambda: select_image(image=found, person=person, note=note),
        "Option {image.number} is now the selected image of {image.sku}.",
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
    made = _decide(
        request,
        found,
        lambda: edit_image(
            image=found, person=person, ask=form.ask(), note=form.cleaned_data["note"]
        ),
        "Edit saved as option {made.number}.",
    )
    return redirect("web:image", image_id=made.pk if made else found.pk)


def _form_errors(form: forms.Form) -> str:
    return "; ".join(
        f"{name if name != '__all__' else 'form'}: {' '.join(errors)}"
        for name, errors in form.errors.items()
    )
