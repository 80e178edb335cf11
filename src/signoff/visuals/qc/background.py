"""``image.background`` (pure white behind the product) and ``image.fill`` (product share of
the frame, product cut at an edge), both on the proxy's segmentation."""

from __future__ import annotations

import numpy as np

from signoff.channels.image_qc import BackgroundQC, FillQC
from signoff.visuals.qc._pixels import largest_component, scale_bbox
from signoff.visuals.qc.findings import ImageFinding, pct
from signoff.visuals.qc.segment import Segmentation

SIDES = ("top", "bottom", "left", "right")


def check_background(
    rgb: np.ndarray, seg: Segmentation, rules: BackgroundQC, scale: float, size: tuple[int, int]
) -> list[ImageFinding]:
    frame = rgb.shape[0] * rgb.shape[1]
    background = seg.background
    if background.sum() < 0.02 * frame:
        # Nothing reads as background at all: a full-bleed photo or a dark frame.
        share = 1.0 - seg.white_border
        return [
            ImageFinding(
                "image.background.not_white",
                rules.severity,
                f"no white background found: {pct(share)} of the frame border is not white"
                f" (RGB >= {rules.white_min}); this image needs the product on pure white",
                (0, 0, size[0], size[1]),
                "re-render the product on pure white (pad_white) from the packshot",
                share,
                rules.max_off_white_share,
            )
        ]
    off = background & (seg.darkest < rules.white_min)
    share = float(off.sum() / background.sum())
    if share <= rules.max_off_white_share:
        return []
    box = largest_component(off)
    x, y, w, h = box or (0, 0, 1, 1)
    area = off[y : y + h, x : x + w]
    mean = rgb[y : y + h, x : x + w][area].mean(axis=0) if area.any() else np.zeros(3)
    rgb_text = ", ".join(str(round(v)) for v in mean)
    return [
        ImageFinding(
            "image.background.not_white",
            rules.severity,
            f"{pct(share)} of the background is not pure white (each channel >= "
            f"{rules.white_min}); at most {pct(rules.max_off_white_share)} allowed. The largest"
            f" off-white area averages RGB ({rgb_text})",
            scale_bbox(box, scale, size),
            "set the background to RGB 255, 255, 255 (re-render with pad_white, or lift the"
            " whites with a levels adjustment)",
            share,
            rules.max_off_white_share,
        )
    ]


def check_fill(
    seg: Segmentation, rules: FillQC, scale: float, size: tuple[int, int], channel: str = ""
) -> list[ImageFinding]:
    height, width = seg.objects.shape
    box = seg.product_bbox
    needs = f"{channel} main image needs" if channel else "needs"
    if box is None:
        return [
            ImageFinding(
                "image.fill.low",
                rules.severity,
                f"no product found: the frame is empty; {needs} at least {pct(rules.min_fill)}",
                None,
                "render the product into the frame",
                0.0,
                rules.min_fill,
            )
        ]
    out: list[ImageFinding] = []
    fill = max(box[2], box[3]) / max(width, height)
    if fill + 1e-6 < rules.min_fill:
        out.append(
            ImageFinding(
                "image.fill.low",
                rules.severity,
                f"product spans {pct(fill)} of the frame; {needs} at least {pct(rules.min_fill)}",
                scale_bbox(box, scale, size),
                f"pad on white to {pct(max(rules.min_fill, 0.88))} fill (crop to the product,"
                " then pad_white)",
                fill,
                rules.min_fill,
            )
        )
    product = seg.product
    edges = {
        "top": product[0],
        "bottom": product[-1],
        "left": product[:, 0],
        "right": product[:, -1],
    }
    cut = {side: float(line.mean()) for side, line in edges.items()}
    cut = {side: share for side, share in cut.items() if share >= rules.min_cut_share}
    if cut:
        sides = " and ".join(f"{side} ({pct(share)} of the edge)" for side, share in cut.items())
        out.append(
            ImageFinding(
                "image.fill.cut",
                rules.cut_severity,
                f"product is cut off at the {sides}; the whole product must be in the frame"
                f" (limit {pct(rules.min_cut_share)} of an edge)",
                scale_bbox(box, scale, size),
                "re-frame from the master so the whole product is inside the frame",
                max(cut.values()),
                rules.min_cut_share,
            )
        )
    return out
