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


def components(
    mask: np.ndarray, connectivity: int, stats: bool = True
) -> tuple[int, np.ndarray, np.ndarray | None]:
    """Connected components of a uint8 mask: (count, labels, stats or None).

    16-bit labels take a third less time than 32-bit ones; OpenCV refuses them past 65,535
    components (a noise image), and then 32-bit labels are used. Stats cost as much again.
    """
    try:
        return _components(mask, connectivity, stats, cv2.CV_16U)
    except cv2.error:
        return _components(mask, connectivity, stats, cv2.CV_32S)


def _components(mask: np.ndarray, connectivity: int, stats: bool, ltype: int):
    if stats:
        count, labels, table, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
            mask, connectivity, ltype, cv2.CCL_DEFAULT
        )
        return count, labels, table
    count, labels = cv2.connectedComponentsWithAlgorithm(mask, connectivity, ltype, cv2.CCL_DEFAULT)
    return count, labels, None


def labelled(labels: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Bool mask of the pixels whose label is marked in ``wanted`` (bool, one per label)."""
    ids = np.flatnonzero(wanted)
    if ids.size == 0:
        return np.zeros(labels.shape, bool)
    if ids.size <= 4:  # a few comparisons beat a lookup per pixel
        mask = labels == ids[0]
        for i in ids[1:]:
            mask |= labels == i
        return mask
    return np.take(wanted, labels)


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
) -> tuple[np.ndarray, np.ndarray]:
    """Full-resolution grey strips across ``region``, stacked: (row strips' lines, column
    strips' lines, transposed), each (count * thick, length) float32.

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
    return np.concatenate(rows), np.concatenate(cols)


def region_gray(
    img: Image.Image,
    region: BBox | None,
    side: int,
    small: np.ndarray | None = None,
    scale: float = 1.0,
) -> np.ndarray:
    """The region in grey, its long side resized to ``side`` (area filter) as float32.

    ``small``: the proxy of ``img`` (``scale`` proxy px per image px). When the region spans at
    least ``side`` proxy px it is read from there: the proxy is a box-filtered reduction, so
    this is the same area average without reading the full-resolution pixels again.
    """
    width, height = img.size
    x, y, w, h = region or (0, 0, width, height)
    if small is not None and max(w, h) * scale >= side:
        px0, py0 = int(x * scale), int(y * scale)
        px1, py1 = math.ceil((x + w) * scale), math.ceil((y + h) * scale)
        crop = cv2.cvtColor(np.ascontiguousarray(small[py0:py1, px0:px1]), cv2.COLOR_RGB2GRAY)
        return _to_side(crop.astype(np.float32), side)
    # Reduce straight from the region (no full-resolution crop: a 12k master's product is
    # 300 MB), then convert the small result.
    factor = max(1, max(w, h) // (side * 2))
    crop = img.reduce(factor, box=(x, y, x + w, y + h)).convert("L")
    return _to_side(np.asarray(crop, dtype=np.float32), side)


def _to_side(arr: np.ndarray, side: int) -> np.ndarray:
    scale = side / max(arr.shape)
    size = (max(1, round(arr.shape[1] * scale)), max(1, round(arr.shape[0] * scale)))
    if scale < 1:
        return shrink_area(arr, size)
    return cv2.resize(arr, size, interpolation=cv2.INTER_CUBIC)


def shrink_area(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``arr`` (uint8 grey or RGB, float32 grey) averaged down to ``size`` (w, h).

    Pillow's box filter: the same area average as OpenCV's INTER_AREA, which takes a slow path
    at non-integer ratios (3 ms for 667 -> 320 px grey, against Pillow's 1 ms).
    """
    return np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.BOX))
