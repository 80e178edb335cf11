"""The print proof screens: an option, or a print slot's rendition, as it prints.

The page shows what ``signoff images proof`` writes (the image fitted with its physical size
and effective ppi, finding regions boxed, 100 % crops, the findings) and the same PDF, plus a
view at true print size. Thin: ``signoff.visuals.proofing`` loads, checks and lays out; the
views pick the object in the person's workspace (a 404 otherwise) and render.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_GET

from signoff.core.errors import InputError, NotFound
from signoff.visuals import proofing, selectors
from signoff.visuals.models import Blob, ImageVersion, Rendition
from signoff.visuals.proof import PrintSize
from signoff.web.views import with_person
from signoff.web.views_images import _overlays
from signoff.workspaces.models import Person

# The browser shows these as they are stored; anything else (TIFF, BMP) is sent as a PNG.
BROWSER_FORMATS = ("jpeg", "png", "webp", "gif")
CROP_LETTERS = "ABCDEFGHIJKL"


def _image(person: Person, image_id: int) -> ImageVersion:
    try:
        return selectors.image_for(person, image_id)
    except NotFound as exc:
        raise Http404(str(exc)) from None


def _rendition(person: Person, rendition_id: int) -> Rendition:
    found = (
        Rendition.objects.select_related("blob", "image__blob", "image__brief__workspace")
        .filter(pk=rendition_id, image__brief__workspace_id=person.workspace_id)
        .first()
    )
    if found is None:
        raise Http404(f"no rendition {rendition_id}")
    return found


def _refusal(exc: InputError) -> str:
    return "; ".join(p.message for p in exc.problems)


# --- pages ----------------------------------------------------------------------------------


@require_GET
@with_person
def image_proof(request: HttpRequest, person: Person, image_id: int) -> HttpResponse:
    found = _image(person, image_id)
    channels = proofing.print_channels(found.brief.workspace)
    chosen = request.GET.get("channel") or (channels[0].id if channels else "")
    context = {
        "image": found,
        "rendition": None,
        "channels": channels,
        "chosen": chosen,
        "pdf_url": reverse("web:image-proof-pdf", kwargs={"image_id": found.pk})
        + "?"
        + urlencode({"channel": chosen}),
        "crop_url": reverse("web:image-crop", kwargs={"image_id": found.pk}),
        "file_url": reverse("web:image-file", kwargs={"image_id": found.pk}),
    }
    return _page(request, person, context, lambda: proofing.image_proof(found, chosen))


@require_GET
@with_person
def rendition_proof(request: HttpRequest, person: Person, rendition_id: int) -> HttpResponse:
    found = _rendition(person, rendition_id)
    context = {
        "image": found.image,
        "rendition": found,
        "channels": [],
        "chosen": found.channel,
        "pdf_url": reverse("web:rendition-proof-pdf", kwargs={"rendition_id": found.pk}),
        "crop_url": reverse("web:rendition-crop", kwargs={"rendition_id": found.pk}),
        "file_url": reverse("web:rendition-file", kwargs={"rendition_id": found.pk}),
    }
    return _page(request, person, context, lambda: proofing.rendition_proof(found))


def _page(
    request: HttpRequest,
    person: Person,
    context: dict,
    make: Callable[[], proofing.StoredProof],
) -> HttpResponse:
    context.update(person=person, brief=context["image"].brief)
    try:
        proof = make()
    except InputError as exc:
        # Not a print channel (or none chosen): say why and which channels do print.
        context["refusal"] = _refusal(exc)
        return render(request, "web/images/proof.html", context, status=400)
    sheet = proof.sheet
    findings = [
        {
            "rule_id": f.rule_id,
            "severity": f.severity,
            "message": f.message,
            "bbox": list(f.bbox) if f.bbox else None,
            "suggested_fix": f.suggested_fix,
            "measured": _number(f.measured),
            "limit": _number(f.limit),
        }
        for f in sheet.findings
    ]
    overlay = _overlays({"size": list(sheet.size), "findings": findings, "product_bbox": None})
    width, height = sheet.size
    full = context["file_url"] if proof.blob.format in BROWSER_FORMATS else context["crop_url"]
    context.update(
        proof=proof,
        channel=proof.channel,
        size=sheet.size,
        printed=_printed(sheet.printed),
        findings=findings,
        counts={s: sum(1 for f in findings if f["severity"] == s) for s in ("block", "warn")},
        overlay=overlay,
        crops=[
            {
                "letter": CROP_LETTERS[i],
                "name": c.name,
                "x": c.box[0],
                "y": c.box[1],
                "w": c.box[2],
                "h": c.box[3],
                "flagged": c.flagged,
                "box": ",".join(str(v) for v in c.box),
            }
            for i, c in enumerate(sheet.crops[: len(CROP_LETTERS)])
        ],
        label_size=max(14, round(max(width, height) * 0.02)),
        full_url=full,
    )
    return render(request, "web/images/proof.html", context)


def _printed(printed: PrintSize | None) -> dict | None:
    """The physical size in the units a print buyer and a designer each think in."""
    if printed is None:
        return None
    w, h = printed.width_mm, printed.height_mm
    cut = None
    if printed.trim_mm is not None:
        # Scaled to cover, the image runs past the trim and bleed on one axis: that part is cut.
        over_w = w - printed.trim_mm[0] - 2 * printed.bleed_mm
        over_h = h - printed.trim_mm[1] - 2 * printed.bleed_mm
        if max(over_w, over_h) >= 1:
            axis, over = ("width", over_w) if over_w >= over_h else ("height", over_h)
            cut = f"{over:.0f} mm of the {axis} falls outside the print"
    return {
        "mm": f"{w:.0f} × {h:.0f} mm",
        "cm": f"{w / 10:.1f} × {h / 10:.1f} cm",
        "inches": f"{printed.width_in:.1f} × {printed.height_in:.1f} in",
        "ppi": f"{printed.ppi:.0f}",
        "min_ppi": printed.min_ppi,
        "enough": printed.enough,
        "trim": (
            f"{printed.trim_mm[0]:g} × {printed.trim_mm[1]:g} mm" if printed.trim_mm else None
        ),
        "bleed": f"{printed.bleed_mm:g} mm" if printed.bleed_mm else None,
        "cut": cut,
        # For the view at print size: CSS lengths (a CSS mm assumes 96 px per inch).
        "width_mm": f"{w:.2f}",
        "height_mm": f"{h:.2f}",
        "css_width": round(w / 25.4 * 96),
        "css_height": round(h / 25.4 * 96),
    }


def _number(value: float | None) -> str | None:
    if value is None:
        return None
    return f"{value:.2f}".rstrip("0").rstrip(".")


# --- the PDF --------------------------------------------------------------------------------


@require_GET
@with_person
def image_proof_pdf(request: HttpRequest, person: Person, image_id: int) -> HttpResponse:
    found = _image(person, image_id)
    channel = request.GET.get("channel", "")
    return _pdf(lambda: proofing.image_proof(found, channel))


@require_GET
@with_person
def rendition_proof_pdf(request: HttpRequest, person: Person, rendition_id: int) -> HttpResponse:
    found = _rendition(person, rendition_id)
    return _pdf(lambda: proofing.rendition_proof(found))


def _pdf(make: Callable[[], proofing.StoredProof]) -> HttpResponse:
    try:
        proof = make()
    except InputError as exc:
        return HttpResponseBadRequest(_refusal(exc), content_type="text/plain; charset=utf-8")
    response = HttpResponse(proof.pdf(), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, proof.filename)
    response["Cache-Control"] = "private, no-cache"  # the channel's rules may change
    return response


# --- crops ----------------------------------------------------------------------------------


@require_GET
@with_person
def image_crop(request: HttpRequest, person: Person, image_id: int) -> HttpResponse:
    found = _image(person, image_id)
    if found.blob is None:
        raise Http404("no stored file")
    return _crop(request, found.blob)


@require_GET
@with_person
def rendition_crop(request: HttpRequest, person: Person, rendition_id: int) -> HttpResponse:
    return _crop(request, _rendition(person, rendition_id).blob)


def _crop(request: HttpRequest, blob: Blob) -> HttpResponse:
    """``?box=x,y,w,h`` of the stored image as a PNG (no box: all of it); cached by hash."""
    raw = request.GET.get("box", "")
    box = None
    if raw:
        try:
            x, y, w, h = (int(v) for v in raw.split(","))
        except ValueError:
            return HttpResponseBadRequest("box is x,y,w,h in pixels")
        if min(x, y) < 0 or min(w, h) < 1 or max(w, h) > proofing.MAX_CROP_SIDE:
            return HttpResponseBadRequest(
                f"box needs x, y >= 0 and a width and height of 1 to {proofing.MAX_CROP_SIDE} px"
            )
        box = (x, y, w, h)
    etag = f'"{blob.sha256}-crop-{raw or "full"}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(proofing.crop_png(blob, box), content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=86400"
    return response
