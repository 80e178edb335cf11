"""``image.print``: effective ppi at the printed size, bleed, and colours a press cannot print.

The gamut test is an approximation without the printer's ICC profile: a pixel is out of gamut
when its CIELAB chroma exceeds the largest chroma a coated CMYK press (FOGRA39-like) reaches at
that hue. The limits below are read off published FOGRA39 gamut plots at mid lightness and
rounded down; a soft proof with the printer's profile is the real check.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image

from signoff.channels.image_qc import PrintQC
from signoff.visuals.qc._pixels import largest_component, to_lab
from signoff.visuals.qc.findings import ImageFinding, pct

MM_PER_INCH = 25.4
# (hue angle in degrees, max printable C*ab): red, orange, yellow, green, cyan, blue, magenta.
_GAMUT = np.array(
    [(30, 82), (60, 85), (95, 95), (150, 75), (210, 55), (260, 55), (300, 62), (340, 78)],
    dtype=np.float64,
)


def chroma_limit(hue: np.ndarray) -> np.ndarray:
    h = np.concatenate([_GAMUT[-1:, 0] - 360, _GAMUT[:, 0], _GAMUT[:1, 0] + 360])
    c = np.concatenate([_GAMUT[-1:, 1], _GAMUT[:, 1], _GAMUT[:1, 1]])
    return np.interp(hue, h, c)


def check_print(
    rgb: np.ndarray, size: tuple[int, int], physical, rules: PrintQC, to_image
) -> list[ImageFinding]:
    out: list[ImageFinding] = []
    width, height = size
    w_in, h_in = physical.width_mm / MM_PER_INCH, physical.height_mm / MM_PER_INCH
    bleed_in = rules.bleed_mm / MM_PER_INCH
    # Scaled to cover the trim plus bleed: the smaller of the two axes' ppi.
    ppi = min(width / (w_in + 2 * bleed_in), height / (h_in + 2 * bleed_in))
    # A slot sized for exactly min_ppi rounds its pixels to whole numbers (3543.3 -> 3543 px
    # for A2 plus bleed at 150 ppi): being short by less than half a pixel is not low resolution.
    rounded = min((width + 0.5) / (w_in + 2 * bleed_in), (height + 0.5) / (h_in + 2 * bleed_in))
    if rounded < physical.min_ppi:
        need = (
            round((w_in + 2 * bleed_in) * physical.min_ppi),
            round((h_in + 2 * bleed_in) * physical.min_ppi),
        )
        out.append(ImageFinding(
            "image.print.ppi", rules.severity,
            f"effective resolution is {ppi:.0f} ppi at {physical.width_mm:g} x"
            f" {physical.height_mm:g} mm; print needs at least {physical.min_ppi} ppi"
            f" ({need[0]} x {need[1]} px)",
            None, "re-render from the master at the print size; do not upscale", ppi,
            float(physical.min_ppi),
        ))  # fmt: skip
    if rules.bleed_mm > 0 and abs(height - width) > 0.01 * max(width, height):
        # The uniform margin b that makes the image's ratio (W:H) equal (w + 2b):(h + 2b):
        # W (h + 2b) = H (w + 2b)  ->  b = (W h - H w) / (2 (H - W)). A square trim can't tell.
        spare = (width * physical.height_mm - height * physical.width_mm) / (2 * (height - width))
        if physical.width_mm == physical.height_mm:
            spare = rules.bleed_mm
        if spare + 0.5 < rules.bleed_mm:
            out.append(ImageFinding(
                "image.print.bleed", rules.bleed_severity,
                f"image ratio leaves {max(spare, 0):.1f} mm of bleed per side beyond the"
                f" {physical.width_mm:g} x {physical.height_mm:g} mm trim; print needs"
                f" {rules.bleed_mm:g} mm",
                None,
                f"render at {physical.width_mm + 2 * rules.bleed_mm:g} x"
                f" {physical.height_mm + 2 * rules.bleed_mm:g} mm (trim plus bleed), keeping"
                " the product inside the trim",
                spare, rules.bleed_mm,
            ))  # fmt: skip
    small = rgb
    factor = math.ceil(max(rgb.shape[:2]) / 256)
    if factor > 1:  # a share of pixels: ~256 px estimates it within ~0.5 %
        # Pillow's integer box reduction: OpenCV's INTER_AREA is ~5x slower at a ratio like 2.6.
        small = np.asarray(Image.fromarray(rgb).reduce(factor))
    lab = to_lab(small)
    chroma, hue = cv2.cartToPolar(lab[..., 1].copy(), lab[..., 2].copy(), angleInDegrees=True)
    outside = chroma > chroma_limit(hue) * rules.gamut_chroma_scale
    share = float(outside.mean())
    if share > rules.max_out_of_gamut_share:
        box = largest_component(outside)
        back = rgb.shape[1] / small.shape[1]
        if box is not None:
            box = tuple(round(v * back) for v in box)
        out.append(ImageFinding(
            "image.print.gamut", rules.gamut_severity,
            f"{pct(share)} of the pixels are more saturated than coated CMYK prints (CIELAB"
            f" chroma above a FOGRA39-like limit per hue, an approximation); at most"
            f" {pct(rules.max_out_of_gamut_share)}",
            to_image(box) if box else None,
            "soft-proof with the printer's ICC profile and tone those colours down",
            share, rules.max_out_of_gamut_share,
        ))  # fmt: skip
    return out
