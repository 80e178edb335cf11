"""Cut a packshot out of its plain background, or refuse and say why.

The product is everything not connected to the frame's border through near-background pixels
(a flood from the border), so a white label inside a dark jar stays product. The edge is then
re-estimated per pixel as a blend of the local product colour and the background colour, which
gives an anti-aliased alpha and removes the background's fringe (no white halo on a dark
scene). When the border is not plain, or the mask comes out ragged or cropped, the cut-out is
refused: a clean refusal is better than a product with a torn edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

# Border noise above this (max channel deviation, 99th percentile) is not a plain backdrop.
MAX_BORDER_NOISE = 24
# Total outline length / convex hull perimeter: smooth products sit near 1.0-1.4.
MAX_RAGGEDNESS = 2.2
MIN_TOLERANCE = 10
MAX_TOLERANCE = 40


class CutoutRefused(ValueError):
    """The product cannot be cut out cleanly; ``reason`` says why in the user's terms."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class Cutout:
    rgba: Image.Image  # full frame, product opaque, background transparent
    bbox: tuple[int, int, int, int]  # x, y, width, height of the product
    background: tuple[int, int, int] | None = None  # the plain colour removed, if any


def _bbox_of(alpha: np.ndarray, threshold: int = 8) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero((alpha > threshold).any(axis=1))
    cols = np.flatnonzero((alpha > threshold).any(axis=0))
    if rows.size == 0:
        return None
    x0, x1, y0, y1 = int(cols[0]), int(cols[-1]), int(rows[0]), int(rows[-1])
    return x0, y0, x1 - x0 + 1, y1 - y0 + 1


def _sides(arr: np.ndarray, width: int) -> dict[str, np.ndarray]:
    return {
        "top": arr[:width].reshape(-1, 3),
        "bottom": arr[-width:].reshape(-1, 3),
        "left": arr[:, :width].reshape(-1, 3),
        "right": arr[:, -width:].reshape(-1, 3),
    }


def _backdrop(arr: np.ndarray) -> tuple[np.ndarray, float]:
    """The backdrop colour and its noise, judged from the frame's plain sides.

    A side the product stands on is not plain, so the colour comes from the sides that are;
    at least two must be, and they must agree, or this is not a packshot backdrop.
    """
    strip = max(2, min(arr.shape[:2]) // 100)
    plain = []
    worst = 0.0
    for pixels in _sides(arr, strip).values():
        pixels = pixels.astype(np.int16)
        spread = float(np.percentile(np.abs(pixels - np.median(pixels, axis=0)).max(axis=1), 99))
        worst = max(worst, spread)
        if spread <= MAX_BORDER_NOISE:
            plain.append(pixels)
    if len(plain) >= 2:
        border = np.concatenate(plain)
        bg = np.median(border, axis=0)
        deviation = np.abs(border - bg).max(axis=1)
        noise = float(np.percentile(deviation, 99))
        if noise <= MAX_BORDER_NOISE:
            return bg, noise
        worst = noise
    raise CutoutRefused(
        f"the background is not plain: its border varies by up to {worst:.0f} levels "
        f"(at most {MAX_BORDER_NOISE} allowed); a packshot on a plain backdrop is needed"
    )


def _cut_from_alpha(img: Image.Image) -> Cutout:
    alpha = np.asarray(img.getchannel("A"))
    bbox = _bbox_of(alpha)
    if bbox is None:
        raise CutoutRefused("the image is fully transparent: there is no product to cut out")
    return Cutout(rgba=img.copy(), bbox=bbox)


def _soft_edge(arr: np.ndarray, mask: np.ndarray, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Alpha and decontaminated colour in a thin band around the mask's edge."""
    kernel = np.ones((3, 3), np.uint8)
    inner = cv2.erode(mask, kernel, iterations=2)
    band = (cv2.dilate(mask, kernel, iterations=1) > 0) & (inner == 0)
    alpha = mask.astype(np.float32)
    ys, xs = np.nonzero(band)
    if ys.size == 0:
        return (alpha * 255).astype(np.uint8), arr
    # The local product colour: interior colours spread outward by a normalised blur, evaluated
    # only on the band, so no full-size float image of the frame is kept.
    y0, y1 = max(int(ys.min()) - 8, 0), min(int(ys.max()) + 9, arr.shape[0])
    x0, x1 = max(int(xs.min()) - 8, 0), min(int(xs.max()) + 9, arr.shape[1])
    sub = arr[y0:y1, x0:x1].astype(np.float32)
    weight = inner[y0:y1, x0:x1].astype(np.float32)
    spread_w = cv2.GaussianBlur(weight, (0, 0), 2.5)
    spread_c = cv2.GaussianBlur(sub * weight[..., None], (0, 0), 2.5)
    local = spread_c / np.maximum(spread_w, 1e-4)[..., None]
    by, bx = ys - y0, xs - x0
    pix = sub[by, bx]
    fg = np.where(spread_w[by, bx, None] > 1e-3, local[by, bx], pix)
    diff_fg = fg - bg
    denom = np.maximum((diff_fg * diff_fg).sum(axis=1), 1.0)
    est = ((pix - bg) * diff_fg).sum(axis=1) / denom
    est = np.clip(est, 0.0, 1.0)
    alpha[ys, xs] = est
    # Unmix the background out of edge pixels; faint pixels take the local product colour.
    unmixed = bg + (pix - bg) / np.maximum(est, 0.05)[:, None]
    colour = np.where(est[:, None] > 0.35, unmixed, fg)
    out = arr.copy()
    out[ys, xs] = np.clip(colour, 0, 255).astype(np.uint8)
    alpha_u8 = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
    # A sub-pixel feather removes the stair-steps the flood's hard mask leaves on diagonals.
    feathered = cv2.GaussianBlur(alpha_u8, (0, 0), 0.6)
    alpha_u8 = np.where(inner > 0, 255, feathered).astype(np.uint8)
    return alpha_u8, out


def cut_out(img: Image.Image) -> Cutout:
    """Cut the product out of ``img`` (RGB or RGBA), or raise CutoutRefused."""
    if img.mode == "RGBA" and img.getchannel("A").getextrema()[0] < 255:
        return _cut_from_alpha(img)
    arr = np.asarray(img.convert("RGB"))
    height, width = arr.shape[:2]
    if min(height, width) < 16:
        raise CutoutRefused(f"the image is too small to cut out ({width} x {height})")
    bg, noise = _backdrop(arr)
    tolerance = int(np.clip(3 * noise + 6, MIN_TOLERANCE, MAX_TOLERANCE))
    bg_u8 = bg.astype(np.int16)
    near = np.ones((height, width), np.uint8)
    for channel in range(3):
        near &= (np.abs(arr[..., channel].astype(np.int16) - bg_u8[channel]) <= tolerance).astype(
            np.uint8
        )
    _count, labels = cv2.connectedComponents(near, connectivity=4)
    edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    edge_labels = edge_labels[edge_labels > 0]
    mask = (~np.isin(labels, edge_labels)).astype(np.uint8)
    del labels, near
    # Specks of dust or JPEG noise are not product.
    n, comp, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= max(16, height * width // 2000)
    mask = keep[comp].astype(np.uint8)
    area = int(mask.sum())
    if area == 0:
        raise CutoutRefused("nothing stands out from the background: no product found")
    if area > 0.95 * height * width:
        raise CutoutRefused("the product fills the whole frame: there is no background to remove")
    touching = [
        side
        for side, line in (
            ("top", mask[0]),
            ("bottom", mask[-1]),
            ("left", mask[:, 0]),
            ("right", mask[:, -1]),
        )
        if line.any()
    ]
    if len(touching) > 1:
        raise CutoutRefused(
            f"the product touches the {' and '.join(touching)} edges: it is cropped in the "
            "packshot, so it cannot be cut out whole"
        )
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    hull = cv2.convexHull(np.concatenate(contours))
    raggedness = outline / max(cv2.arcLength(hull, True), 1.0)
    if raggedness > MAX_RAGGEDNESS:
        raise CutoutRefused(
            f"the cut-out edge is ragged (outline {raggedness:.1f}x its smooth hull, at most "
            f"{MAX_RAGGEDNESS}); the background is too close to the product's colours"
        )
    alpha, colour = _soft_edge(arr, mask, bg.astype(np.float32))
    rgba = Image.fromarray(np.dstack([colour, alpha]), "RGBA")
    bbox = _bbox_of(alpha)
    assert bbox is not None
    return Cutout(rgba=rgba, bbox=bbox, background=(int(bg[0]), int(bg[1]), int(bg[2])))
