"""Render a selected master image into each channel slot's file.

``cover`` fills the slot's frame and crops, but never through the product's bounding box;
``pad_white`` centres the product on RGB 255 white at the slot's ``fill``. Every file carries
the sRGB profile, the slot's dpi, and (for generated images) the IPTC DigitalSourceType in XMP.
JPEG/WebP quality is lowered step by step to fit a byte limit, never below the slot's minimum.

Memory: ``render_all`` decodes a master once, at the smallest JPEG draft scale every slot can
use; resizing goes through ``resize(box=..., reducing_gap=...)`` so no full-size copy of the
master (and no float copy at all) is made.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageChops, PngImagePlugin, TiffImagePlugin

from signoff.channels.spec import ImageSlot
from signoff.visuals.cutout import CutoutRefused, cut_out
from signoff.visuals.imaging import (
    decode_image,
    digital_source_xmp,
    open_header,
    srgb_icc_bytes,
)

LANCZOS = Image.Resampling.LANCZOS
# Reduce by whole factors first, then Lanczos: as sharp to the eye and several times faster.
REDUCING_GAP = 3.0
QUALITY_STEP = 5
DEFAULT_FILL = 0.85
DEFAULT_MAX_PIXELS = 200_000_000
_PROBE_SIDE = 1024


class RenditionError(ValueError):
    """A slot cannot be rendered from this master; the message says why."""


@dataclass(slots=True)
class Rendition:
    data: bytes
    width: int
    height: int
    format: str  # jpeg | png | webp | tiff, as in the slot
    quality: int | None
    bytes: int
    notes: list[str] = field(default_factory=list)


def _cover_window(
    size: tuple[int, int], ratio: float, bbox: tuple[float, float, float, float] | None
) -> tuple[float, float, float, float]:
    """The largest window of ``ratio`` that holds the whole bbox, centred on it if it can be.

    It may reach outside the image when the bbox is too large for any crop of that ratio.
    """
    width, height = size
    ww, wh = (height * ratio, float(height)) if width / height > ratio else (width, width / ratio)
    bx, by, bw, bh = bbox if bbox is not None else (0.0, 0.0, float(width), float(height))
    if bbox is not None and (bw > ww or bh > wh):
        grow = max(bw / ww, bh / wh)
        ww, wh = ww * grow, wh * grow
    if bbox is None:
        return (width - ww) / 2, (height - wh) / 2, ww, wh

    def place(start: float, extent: float, window: float, total: float) -> float:
        pos = start + extent / 2 - window / 2
        pos = min(max(pos, 0.0), total - window) if window <= total else (total - window) / 2
        # Whatever the image allows, the bbox must stay inside the window.
        return min(max(pos, start + extent - window), start)

    return place(bx, bw, ww, width), place(by, bh, wh, height), ww, wh


def rendered_bbox(
    size: tuple[int, int], slot: ImageSlot, bbox: Sequence[float] | None
) -> tuple[int, int, int, int] | None:
    """Where a cover slot puts the product: the master's bbox in the rendition's pixels, for
    the checks that compare the product with its packshot (None for pad_white or no bbox)."""
    if bbox is None or slot.fit != "cover":
        return None
    wx, wy, ww, _ = _cover_window(size, slot.width_px / slot.height_px, tuple(bbox))
    scale = slot.width_px / ww
    x, y, w, h = bbox
    return (round((x - wx) * scale), round((y - wy) * scale), round(w * scale), round(h * scale))


def _edge_colour(img: Image.Image) -> tuple[int, ...]:
    probe = img.reduce(max(1, max(img.size) // 64)).convert("RGB")
    strip = Image.new("RGB", (probe.width * 2, 1))
    strip.paste(probe.crop((0, 0, probe.width, 1)), (0, 0))
    strip.paste(probe.crop((0, probe.height - 1, probe.width, probe.height)), (probe.width, 0))
    return tuple(int(v) for v in strip.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0)))


def _cover(img: Image.Image, slot: ImageSlot, bbox, notes: list[str]) -> Image.Image:  # noqa: ANN001
    sw, sh = slot.width_px, slot.height_px
    wx, wy, ww, wh = _cover_window(img.size, sw / sh, bbox)
    scale = sw / ww
    if scale > 1.01:
        notes.append(f"upscaled {scale:.2f}x: the crop window is {ww:.0f} px wide for {sw} px")
    inside = (max(wx, 0.0), max(wy, 0.0), min(wx + ww, img.width), min(wy + wh, img.height))
    if inside == (wx, wy, wx + ww, wy + wh):
        return img.resize((sw, sh), LANCZOS, box=inside, reducing_gap=REDUCING_GAP)
    notes.append(
        f"the product does not fit a {sw}:{sh} crop of the image: padded with the edge colour"
    )
    canvas = Image.new("RGB", (sw, sh), _edge_colour(img))
    dx, dy = (inside[0] - wx) * scale, (inside[1] - wy) * scale
    part_w = max(1, round((inside[2] - inside[0]) * scale))
    part_h = max(1, round((inside[3] - inside[1]) * scale))
    part = img.resize((part_w, part_h), LANCZOS, box=inside, reducing_gap=REDUCING_GAP)
    canvas.paste(part, (round(dx), round(dy)))
    return canvas


def _white_bbox(img: Image.Image) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) of what is not pure white, if the whole border is RGB 255; else None."""
    factor = max(1, math.ceil(max(img.size) / _PROBE_SIDE))
    probe = img.reduce(factor) if factor > 1 else img
    w, h = probe.size
    for box in ((0, 0, w, 1), (0, h - 1, w, h), (0, 0, 1, h), (w - 1, 0, w, h)):
        if any(lo < 255 for lo, _ in probe.crop(box).getextrema()):
            return None
    ink = ImageChops.invert(probe).point(lambda v: 255 if v > 4 else 0).getbbox()
    if ink is None:
        raise RenditionError("the image is blank white: there is no product to place")
    # One probe pixel of margin so the reduction never clips the product's edge.
    x0, y0 = max((ink[0] - 1) * factor, 0), max((ink[1] - 1) * factor, 0)
    x1, y1 = min((ink[2] + 1) * factor, img.width), min((ink[3] + 1) * factor, img.height)
    return x0, y0, x1 - x0, y1 - y0


def _pad_white(img: Image.Image, slot: ImageSlot, bbox, notes: list[str]) -> Image.Image:  # noqa: ANN001
    sw, sh = slot.width_px, slot.height_px
    fill = slot.fill or DEFAULT_FILL
    white = _white_bbox(img) if img.mode == "RGB" else None
    factor = 1
    if white is not None:
        bx, by, bw, bh = bbox if bbox is not None else white
        source = img
    else:
        # Cut out at about the slot's resolution: the flood is linear in pixels, and a
        # master is often far larger than any slot.
        factor = max(1, int(max(img.size) / (max(sw, sh) * 1.5)))
        work = img.reduce(factor) if factor > 1 else img
        try:
            cut = cut_out(work)
        except CutoutRefused as exc:
            raise RenditionError(f"cannot put this image on white: {exc.reason}") from exc
        bx, by, bw, bh = cut.bbox
        source = cut.rgba
        how = "its alpha" if cut.background is None else "a cut-out from its backdrop"
        notes.append(f"product placed on white using {how}")
    scale = min(fill * max(sw, sh) / max(bw, bh), sw / bw, sh / bh)
    pw, ph = max(1, round(bw * scale)), max(1, round(bh * scale))
    if scale * factor > 1.01:
        notes.append(f"upscaled {scale * factor:.2f}x to reach the {fill:.0%} fill")
    box = (bx, by, bx + bw, by + bh)
    product = source.resize((pw, ph), LANCZOS, box=box, reducing_gap=REDUCING_GAP)
    canvas = Image.new("RGB", (sw, sh), (255, 255, 255))
    at = ((sw - pw) // 2, (sh - ph) // 2)
    canvas.paste(product, at, mask=product.getchannel("A") if product.mode == "RGBA" else None)
    notes.append(f"product spans {max(pw, ph) / max(sw, sh):.1%} of the frame on RGB 255 white")
    return canvas


def _save(img: Image.Image, fmt: str, slot: ImageSlot, quality: int, xmp: bytes | None) -> bytes:
    out = io.BytesIO()
    options: dict = {"icc_profile": srgb_icc_bytes()}
    if slot.dpi and fmt != "webp":
        options["dpi"] = (slot.dpi, slot.dpi)
    if fmt == "jpeg":
        options |= {"quality": quality}
        if xmp:
            options["xmp"] = xmp
    elif fmt == "webp":
        options |= {"quality": quality, "method": 4}
        if xmp:
            options["xmp"] = xmp
    elif fmt == "png":
        # Pillow writes ``xmp=`` for PNG only from a later release: the standard iTXt chunk.
        if xmp:
            info = PngImagePlugin.PngInfo()
            info.add_itxt("XML:com.adobe.xmp", xmp.decode())
            options["pnginfo"] = info
        options["compress_level"] = 6 if quality >= 0 else 9
    else:
        options["compression"] = "tiff_lzw"
        if xmp:
            ifd = TiffImagePlugin.ImageFileDirectory_v2()
            ifd[700] = xmp  # the XMP tag, as Photoshop and exiftool write it
            ifd.tagtype[700] = 1
            options["tiffinfo"] = ifd
    img.save(out, fmt.upper(), **options)
    return out.getvalue()


def _encode(img: Image.Image, slot: ImageSlot, xmp: bytes | None, notes: list[str]) -> Rendition:
    fmt = slot.format
    lossy = fmt in ("jpeg", "webp")
    quality = slot.quality if lossy else 0
    data = _save(img, fmt, slot, quality, xmp)
    if slot.max_bytes is not None and len(data) > slot.max_bytes:
        if lossy:
            while len(data) > slot.max_bytes and quality > slot.min_quality:
                quality = max(quality - QUALITY_STEP, slot.min_quality)
                data = _save(img, fmt, slot, quality, xmp)
        elif fmt == "png":
            data = _save(img, fmt, slot, -1, xmp)
        if len(data) > slot.max_bytes:
            floor = f" at quality {quality}" if lossy else ""
            raise RenditionError(
                f"slot {slot.id}: the smallest {fmt.upper()} reached{floor} is {len(data):,} "
                f"bytes, over the {slot.max_bytes:,} byte limit"
            )
        if lossy:
            notes.append(
                f"quality lowered from {slot.quality} to {quality} to fit {slot.max_bytes:,} bytes"
            )
    return Rendition(data=data, width=img.width, height=img.height, format=fmt,
                     quality=quality if lossy else None, bytes=len(data), notes=notes)  # fmt: skip


def render(
    master: Image.Image,
    slot: ImageSlot,
    *,
    product_bbox: tuple | None,
    digital_source_type: str | None,
) -> Rendition:
    """Render one slot from a decoded master (RGB or RGBA). ``product_bbox`` is (x, y, w, h)."""
    notes: list[str] = []
    bbox = tuple(float(v) for v in product_bbox) if product_bbox else None
    if bbox is not None and (bbox[2] <= 0 or bbox[3] <= 0):
        bbox = None
    if master.mode not in ("RGB", "RGBA"):
        master = master.convert("RGB")
    if slot.fit == "pad_white":
        img = _pad_white(master, slot, bbox, notes)
    else:
        if master.mode == "RGBA":
            notes.append("alpha flattened onto white")
            flat = Image.new("RGB", master.size, (255, 255, 255))
            flat.paste(master, mask=master.getchannel("A"))
            master = flat
        img = _cover(master, slot, bbox, notes)
    xmp = digital_source_xmp(digital_source_type) if digital_source_type else None
    return _encode(img, slot, xmp, notes)


def _needed_scale(size: tuple[int, int], slot: ImageSlot, bbox) -> float:  # noqa: ANN001
    """How much of the master's resolution this slot can use (1.0 = all of it)."""
    if slot.fit == "cover":
        _, _, ww, _ = _cover_window(size, slot.width_px / slot.height_px, bbox)
        return slot.width_px / ww
    fill = slot.fill or DEFAULT_FILL
    # Without a bbox assume the product spans half the master, which errs on the sharp side.
    long_side = max(bbox[2], bbox[3]) if bbox else max(size) / 2
    return fill * max(slot.width_px, slot.height_px) / long_side


def _oriented_size(data: bytes, name: str, max_pixels: int) -> tuple[int, int]:
    """The master's displayed size from its header alone."""
    header = open_header(data, name, max_pixels)
    size = header.size
    # PNG keeps EXIF anywhere in the file and Pillow decodes the whole image to find it, which
    # would double a huge master's memory; only formats with EXIF in the header are asked.
    if header.format in ("JPEG", "MPO", "WEBP", "TIFF"):
        if header.getexif().get(0x0112) in (5, 6, 7, 8):
            size = (size[1], size[0])
    return size


def render_all(
    master_data: bytes,
    slots: Iterable[ImageSlot],
    *,
    name: str = "master",
    product_bbox: tuple | None = None,
    digital_source_type: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> dict[str, Rendition | RenditionError]:
    """Decode ``master_data`` once and render every slot; a slot that cannot be made maps to
    its RenditionError. ``product_bbox`` is in the master's full-size (oriented) pixels."""
    slots = list(slots)
    size = _oriented_size(master_data, name, max_pixels)
    bbox = tuple(float(v) for v in product_bbox) if product_bbox else None
    need = min(1.0, max((_needed_scale(size, s, bbox) for s in slots), default=1.0))
    draft = (math.ceil(size[0] * need), math.ceil(size[1] * need))
    decoded = decode_image(master_data, name, max_pixels=max_pixels, draft_size=draft)
    master = decoded.image
    shrink = master.width / size[0]
    scaled = tuple(v * shrink for v in bbox) if bbox else None
    out: dict[str, Rendition | RenditionError] = {}
    for slot in slots:
        try:
            made = render(
                master, slot, product_bbox=scaled, digital_source_type=digital_source_type
            )
        except RenditionError as exc:
            out[slot.id] = exc
            continue
        made.notes[:0] = list(decoded.notes)
        out[slot.id] = made
    return out
