"""Entry points: every QC family on one image, and the set-coherence rules on a selection.

Costs: one integer box-filter proxy (<= 700 px) serves background, fill, product match
(segmentation, search, and the product's pixels whenever the proxy has one per work pixel),
text and print; sharpness reads the product region normalised to 512 px, from the proxy when
it holds that many pixels; upscaling and compression share the pixel steps of sixteen 32 px
full-resolution strips. Nothing makes a full-size numpy copy, so peak memory stays close to
the decoded image itself.
"""

from __future__ import annotations

import weakref
from dataclasses import replace

from PIL import Image

from signoff.channels.image_qc import Applies, ImageQCSpec
from signoff.channels.spec import PrintSpec
from signoff.visuals.qc._pixels import as_rgb, gray_strips, proxy, region_gray, scale_bbox
from signoff.visuals.qc.background import check_background, check_fill
from signoff.visuals.qc.coherence import check_coherence
from signoff.visuals.qc.findings import BBox, ImageFinding
from signoff.visuals.qc.match import Reference, match_findings, reference
from signoff.visuals.qc.overlay import check_text_overlay
from signoff.visuals.qc.print_rules import check_print
from signoff.visuals.qc.segment import segment
from signoff.visuals.qc.signal import (
    check_compression,
    check_sharpness,
    heavily_compressed,
    nr_scores,
    sharpness,
    step_lines,
)
from signoff.visuals.qc.upscale import check_upscaled

MIN_SIDE = 16  # below this no pixel rule means anything


def _applies(applies: Applies, main: bool) -> bool:
    return applies == "all" or (applies == "main" and main)


# A brief checks many images against one packshot: prepare it once per packshot object.
_REFERENCES: dict[int, tuple[Reference | None, float | None]] = {}


def _prepare(packshot: Image.Image) -> tuple[Reference | None, float | None]:
    key = id(packshot)
    if key not in _REFERENCES:
        pack = as_rgb(packshot)
        pack_rgb, pack_scale = proxy(pack)
        ref = reference(pack_rgb)
        sharp = None
        if ref is not None:
            region = scale_bbox(segment(pack_rgb).product_bbox, pack_scale, pack.size)
            sharp = sharpness(region_gray(pack, region, 512))[1]
        _REFERENCES[key] = (ref, sharp)
        weakref.finalize(packshot, _REFERENCES.pop, key, None)
    return _REFERENCES[key]


def _clip_box(box: BBox, size: tuple[int, int]) -> BBox:
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = min(size[0], int(box[0] + box[2])), min(size[1], int(box[1] + box[3]))
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def _to_proxy(box: BBox, scale: float) -> BBox:
    return tuple(max(1, round(v * scale)) if i > 1 else round(v * scale)
                 for i, v in enumerate(box))  # fmt: skip


def check_image(
    img: Image.Image,
    spec: ImageQCSpec,
    *,
    main: bool,
    packshot: Image.Image | None = None,
    physical: PrintSpec | None = None,
    jpeg_quantization: dict | None = None,
    product_bbox: BBox | None = None,
) -> list[ImageFinding]:
    """Findings on one image. ``main``: it is the package's main image (marketplace rules);
    ``packshot``: the SKU's packshot to compare the product with; ``physical``: the print size;
    ``jpeg_quantization``: the file's DQT tables when ``img`` is no longer the JPEG itself;
    ``product_bbox``: (x, y, w, h) in ``img`` px where the caller placed the product's cut-out
    (compositor, renditions): used instead of searching for it, and may reach past the frame
    when a cover crop cut the product."""
    tables = jpeg_quantization or getattr(img, "quantization", None) or None
    img = as_rgb(img)
    size = img.size
    out: list[ImageFinding] = []
    if min(size) < MIN_SIDE:
        if physical is not None:
            return check_print(proxy(img)[0], size, physical, spec.print, lambda box: box)
        return out
    rgb, scale = proxy(img)

    def to_image(box: BBox | None) -> BBox | None:
        return scale_bbox(box, scale, size)

    seg = segment(rgb, spec.background.object_threshold)
    if _applies(spec.background.applies, main):
        out += check_background(rgb, seg, spec.background, scale, size)
    if _applies(spec.fill.applies, main) and seg.on_light:
        out += check_fill(seg, spec.fill, scale, size)
    product = seg.product_bbox if seg.on_light else None
    if product_bbox is not None:
        product = _to_proxy(_clip_box(product_bbox, size), scale)
    ref_sharp = None
    if packshot is not None and _applies(spec.product_match.applies, main):
        ref, ref_sharp = _prepare(packshot)
        if ref is not None:
            found, located = match_findings(
                img, rgb, scale, seg, ref, spec.product_match, product_bbox,
                spec.background.object_threshold,
            )  # fmt: skip
            out += found
            if located is not None:
                product = _to_proxy(located, scale)
    region = to_image(product)
    if region is not None and min(region[2:]) < MIN_SIDE:
        region = None
    upscaled = _applies(spec.upscaled.applies, main)
    blur: list[ImageFinding] = []
    if _applies(spec.sharpness.applies, main) or upscaled:
        # The upscale rule needs the verdict too: blur and enlargement remove the same detail.
        gray = region_gray(img, region, 512, rgb, scale)
        blur = check_sharpness(gray, ref_sharp, spec.sharpness, region)
    if _applies(spec.sharpness.applies, main):
        out += blur
    if upscaled or _applies(spec.compression.applies, main):
        rows, cols = (step_lines(lines) for lines in gray_strips(img, region))
        score = nr_scores(rows, cols)
        if _applies(spec.compression.applies, main):
            out += check_compression(rows, cols, tables, spec.compression, score)
        if upscaled:
            if heavily_compressed(rows, cols, tables, score):
                # Flat 8x8 blocks erase fine detail and their edges add false detail.
                out.append(
                    ImageFinding(
                        "image.upscaled.skipped",
                        "info",
                        "JPEG blocking too strong to tell whether the image was enlarged",
                    )
                )
            else:
                out += check_upscaled(rows, cols, spec.upscaled, size, blurred=bool(blur))
    if _applies(spec.text_overlay.applies, main):
        text = check_text_overlay(rgb, product, spec.text_overlay, to_image)
        if product is None and not seg.on_light:
            # Without the product's place on a scene this may be packaging text: ask, don't block.
            text = [
                replace(f, severity="warn", message=f.message + " (product not located: may be"
                        " packaging text)")
                for f in text
            ]  # fmt: skip
        out += text
    if physical is not None:
        out += check_print(rgb, size, physical, spec.print, to_image)
    return out


def check_set(
    images: dict[str, Image.Image], palette: list[str], spec: ImageQCSpec
) -> list[ImageFinding]:
    """Coherence findings across a brief's images, keyed by the caller's names for them."""
    return check_coherence(images, palette, spec.coherence)
