"""``image.text_overlay``: text, badges and watermarks added outside the product.

No model weights may be downloaded, so text is found the classic way: a morphological gradient
on the proxy, its connected components as glyph candidates (glyph-sized, not too elongated),
grouped into lines of similar-height neighbours. Anything overlapping the product's box is
dropped first: packaging text on the product is the known false positive of such checks.
"""

from __future__ import annotations

import cv2
import numpy as np

from signoff.channels.image_qc import TextOverlayQC
from signoff.visuals.qc._pixels import components
from signoff.visuals.qc.findings import BBox, ImageFinding

GRADIENT_MIN = 28  # grey-level contrast of a glyph's outline on the proxy


def _glyphs(gray: np.ndarray, rules: TextOverlayQC) -> list[tuple[int, int, int, int]]:
    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    mask = (grad >= GRADIENT_MIN).astype(np.uint8)
    count, _, stats = components(mask, 8)
    height = gray.shape[0]
    low, high = rules.min_height_share * height * 0.5, rules.max_height_share * height
    out = []
    for x, y, w, h, area in stats[1:count]:
        if not (low <= h <= high) or w > 2.5 * h or w < 2:
            continue
        if area < 0.1 * w * h or area > 0.9 * w * h:  # a stroke outline, not a blob or a speck
            continue
        out.append((int(x), int(y), int(w), int(h)))
    return out


def _lines(glyphs: list[BBox], min_glyphs: int) -> list[tuple[BBox, int]]:
    """Group glyphs that sit side by side at a similar height into lines."""
    glyphs = sorted(glyphs)
    used = [False] * len(glyphs)
    lines = []
    for i, (x, y, w, h) in enumerate(glyphs):
        if used[i]:
            continue
        members, right, cy, gh = [i], x + w, y + h / 2, h
        for j in range(i + 1, len(glyphs)):
            gx, gy, gw, gh2 = glyphs[j]
            if gx > right + 1.2 * gh:
                break
            if used[j] or abs(gy + gh2 / 2 - cy) > 0.5 * gh or not 0.5 < gh2 / gh < 2:
                continue
            members.append(j)
            right = max(right, gx + gw)
        if len(members) >= min_glyphs:
            for j in members:
                used[j] = True
            xs = [glyphs[j][0] for j in members] + [glyphs[j][0] + glyphs[j][2] for j in members]
            ys = [glyphs[j][1] for j in members] + [glyphs[j][1] + glyphs[j][3] for j in members]
            lines.append(((min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)), len(members)))
    return lines


def check_text_overlay(
    rgb: np.ndarray, product: BBox | None, rules: TextOverlayQC, to_image
) -> list[ImageFinding]:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    height, width = gray.shape
    glyphs = _glyphs(gray, rules)
    if product is not None:
        px, py, pw, ph = product
        mx, my = int(0.03 * pw) + 2, int(0.03 * ph) + 2
        px, py, pw, ph = px - mx, py - my, pw + 2 * mx, ph + 2 * my
        glyphs = [
            g for g in glyphs
            if g[0] + g[2] <= px or g[0] >= px + pw or g[1] + g[3] <= py or g[1] >= py + ph
        ]  # fmt: skip
    lines = _lines(glyphs, rules.min_glyphs)
    if not lines:
        return []
    (box, count) = max(lines, key=lambda line: line[0][2] * line[0][3])
    share = sum(b[2] * b[3] for b, _ in lines) / (width * height)
    return [
        ImageFinding(
            "image.text_overlay.text",
            rules.severity,
            f"{len(lines)} line(s) of text or a badge outside the product (largest: {count}"
            f" glyphs, {share * 100:.1f} % of the frame); this image may carry no added text,"
            " badges or watermarks (limit 0)",
            to_image(box),
            "remove the overlay: re-render without text, badges or watermarks",
            float(len(lines)),
            0.0,
        )
    ]
