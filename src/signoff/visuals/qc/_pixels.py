"""Shared pixel plumbing: mode normalisation, reduced-scale proxies, Lab, boxes, strips.

Rules work on a proxy of at most ``PROXY_SIDE`` px (made with ``Image.reduce``, a box filter
that only allocates the result) and on thin full-resolution strips, never on a full-size numpy
copy, so a 12,000 px master costs little more than its own decoded bitmap.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image

from signoff.visuals.qc.findings import BBox

PROXY_SIDE = 700  # a 2,000 px image reduces by 3: fill and background to 0.15 %


def as_rgb(img: Image.Image) -> Image.Image:
    """RGB for any mode; transparency goes onto white (cut-outs are shown on white)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey: scale to 8 bit first, Pillow's convert would clip at 255.
        arr = np.asarray(img, dtype=np.float32)
        top = float(arr.max()) or 1.0
        return Image.fromarray((arr * (255.0 / top)).astype(np.uint8)).convert("RGB")
    return img.convert("RGB")


def reduce_to(img: Image.Image, side: int) -> Image.Image:
    """``img`` shrunk by an integer box filter so its long side is at most ``side``."""
    factor = math.ceil(max(img.size) / side)
    return img.reduce(factor) if factor > 1 else img


def proxy(img: Image.Image, side: int = PROXY_SIDE) -> tuple[np.ndarray, float]:
    """(H x W x 3 uint8 array of a <= ``side`` px copy, proxy px per original px)."""
    small = reduce_to(img, side)
    return np.asarray(small), small.size[0] / img.size[0]


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB uint8 -> CIE Lab (D65) float32, L in 0..100. OpenCV: ~10x faster than skimage."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def bbox_of(mask: np.ndarray) -> BBox | None:
    ys, xs = np.nonzero(mask.any(axis=1)), np.nonzero(mask.any(axis=0))
    if ys[0].size == 0:
        return None
    y0, y1, x0, x1 = ys[0][0], ys[0][-1], xs[0][0], xs[0][-1]
    return int(x0), int(y0), int(x1 - x0 + 1), int(y1 - y0 + 1)


def scale_bbox(bbox: BBox | None, scale: float, size: tuple[int, int]) -> BBox | None:
    """A proxy-pixel box in original pixels (``scale`` = proxy / original), clipped."""
    if bbox is None:
        return None
    x, y, w, h = (round(v / scale) for v in bbox)
    x, y = min(max(x, 0), size[0] - 1), min(max(y, 0), size[1] - 1)
    return x, y, max(1, min(w, size[0] - x)), max(1, min(h, size[1] - y))


def largest_component(mask: np.ndarray) -> BBox | None:
    """Bounding box of the largest 8-connected component of ``mask``."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h, _ = stats[best]
    return int(x), int(y), int(w), int(h)


def gray_strips(
    img: Image.Image, region: BBox | None = None, count: int = 8, thick: int = 32
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Full-resolution grey strips across ``region``: (row strips, column strips, transposed).

    Strips start on multiples of 8 px so the JPEG block grid stays at x % 8 == 0 in each.
    """
    width, height = img.size
    x, y, w, h = region or (0, 0, width, height)
    x0, y0 = x - x % 8, y - y % 8
    x1, y1 = min(width, x + w), min(height, y + h)
    rows, cols = [], []
    for i in range(count):
        top = y0 + ((y1 - y0 - thick) * i // max(count - 1, 1)) // 8 * 8
        top = max(0, min(top, max(0, y1 - thick)) // 8 * 8)
        strip = img.crop((x0, top, x1, min(height, top + thick))).convert("L")
        rows.append(np.asarray(strip, dtype=np.float32))
        left = x0 + ((x1 - x0 - thick) * i // max(count - 1, 1)) // 8 * 8
        left = max(0, min(left, max(0, x1 - thick)) // 8 * 8)
        strip = img.crop((left, y0, min(width, left + thick), y1)).convert("L")
        cols.append(np.asarray(strip, dtype=np.float32).T)
    return rows, cols


def region_gray(img: Image.Image, region: BBox | None, side: int) -> np.ndarray:
    """The region in grey, its long side resized to ``side`` (area filter) as float32."""
    width, height = img.size
    x, y, w, h = region or (0, 0, width, height)
    # Reduce straight from the region (no full-resolution crop: a 12k master's product is
    # 300 MB), then convert the small result.
    factor = max(1, max(w, h) // (side * 2))
    crop = img.reduce(factor, box=(x, y, x + w, y + h)).convert("L")
    arr = np.asarray(crop, dtype=np.float32)
    scale = side / max(arr.shape)
    size = (max(1, round(arr.shape[1] * scale)), max(1, round(arr.shape[0] * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(arr, size, interpolation=interp)
