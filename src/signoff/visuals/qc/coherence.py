"""``image.coherence``: does a set of images (a brief's selection) look like one family?

Per image, on a 256 px proxy: five dominant colours (k-means in Lab), mean L* (exposure), mean
a*/b* of near-neutral pixels (white balance) and, on light backgrounds, the product's share of
the frame (framing). An image is an outlier when it is both far from the set's median in
absolute terms and a robust outlier (modified z-score over the median absolute deviation), so
that one odd image in five is named and a uniform set is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from skimage.color import deltaE_ciede2000

from signoff.channels.image_qc import CoherenceQC
from signoff.visuals.qc._pixels import as_rgb, proxy, to_lab
from signoff.visuals.qc.findings import ImageFinding
from signoff.visuals.qc.match import _palette
from signoff.visuals.qc.segment import segment

NEUTRAL_CHROMA = 12.0  # C*ab below this counts as a grey/white for white balance


@dataclass(frozen=True, slots=True)
class Look:
    colours: np.ndarray  # k x 3 Lab
    weights: np.ndarray
    lightness: float
    balance: tuple[float, float] | None  # mean (a*, b*) of neutrals
    framing: float | None


def look(img: Image.Image) -> Look:
    rgb, _ = proxy(as_rgb(img), 256)
    lab = to_lab(rgb).reshape(-1, 3)
    colours, weights = _palette(lab, 5)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    neutral = (chroma < NEUTRAL_CHROMA) & (lab[:, 0] > 15) & (lab[:, 0] < 97)
    balance = None
    if neutral.mean() > 0.02:
        balance = (float(lab[neutral, 1].mean()), float(lab[neutral, 2].mean()))
    seg = segment(rgb)
    framing = None
    if seg.on_light and seg.product_bbox is not None:
        framing = max(seg.product_bbox[2:]) / max(rgb.shape[:2])
    return Look(colours, weights, float(lab[:, 0].mean()), balance, framing)


def palette_distance(ref: Look, other: Look) -> float:
    """Weighted mean, over ``other``'s colours, of the CIEDE2000 to the nearest of ``ref``'s."""
    total = 0.0
    for colour, weight in zip(other.colours, other.weights, strict=True):
        de = deltaE_ciede2000(ref.colours, np.repeat(colour[None], len(ref.colours), 0))
        total += weight * float(de.min())
    return total


def _hex_to_lab(code: str) -> np.ndarray:
    code = code.lstrip("#")
    rgb = np.array([[[int(code[i : i + 2], 16) for i in (0, 2, 4)]]], dtype=np.uint8)
    return to_lab(rgb).reshape(3)


def _outliers(values: dict[str, float], min_delta: float, max_z: float) -> dict[str, float]:
    """name -> signed difference from the median, for robust outliers beyond ``min_delta``."""
    if len(values) < 3:
        return {}
    arr = np.array(list(values.values()))
    med = float(np.median(arr))
    mad = float(np.median(np.abs(arr - med)))
    out = {}
    for name, value in values.items():
        diff = value - med
        z = 0.6745 * abs(diff) / mad if mad > 1e-9 else float("inf")
        if abs(diff) >= min_delta and z > max_z:
            out[name] = diff
    return out


def check_coherence(
    images: dict[str, Image.Image], palette: list[str], rules: CoherenceQC
) -> list[ImageFinding]:
    looks = {name: look(img) for name, img in images.items() if min(img.size) >= 4}
    out: list[ImageFinding] = []
    if palette:
        brand = Look(np.array([_hex_to_lab(c) for c in palette]), np.ones(len(palette)), 0, None,
                     None)  # fmt: skip
        for name, lk in looks.items():
            dist = palette_distance(brand, lk)
            if dist > rules.max_brand_delta_e:
                out.append(ImageFinding(
                    "image.coherence.brand", rules.severity,
                    f"{name!r} is off the brand palette: its colours are CIEDE2000 {dist:.0f}"
                    f" from the nearest brand colour on average; at most"
                    f" {rules.max_brand_delta_e:g}",
                    None, f"re-grade {name!r} towards the brand palette ({', '.join(palette)})",
                    dist, rules.max_brand_delta_e,
                ))  # fmt: skip
    names = list(looks)
    if len(names) >= 3:
        spread = {
            n: float(np.median([
                (palette_distance(looks[m], looks[n]) + palette_distance(looks[n], looks[m])) / 2
                for m in names if m != n
            ]))
            for n in names
        }  # fmt: skip
        for name, diff in _outliers(spread, rules.min_palette_delta_e, rules.max_z).items():
            if diff > 0:
                out.append(_set_finding(
                    "palette", name, rules,
                    f"palette differs from the rest of the set: CIEDE2000 {spread[name]:.0f} to"
                    f" the others (median of the set {spread[name] - diff:.0f}, outlier beyond"
                    f" +{rules.min_palette_delta_e:g})",
                    spread[name], rules.min_palette_delta_e, "re-grade it to the set's palette",
                ))  # fmt: skip
        light = {n: looks[n].lightness for n in names}
        for name, diff in _outliers(light, rules.min_exposure_delta_l, rules.max_z).items():
            word = "darker" if diff < 0 else "brighter"
            out.append(_set_finding(
                "exposure", name, rules,
                f"is {word} than the set: mean L* {light[name]:.0f} vs the set median"
                f" {light[name] - diff:.0f} (limit +/-{rules.min_exposure_delta_l:g})",
                light[name], rules.min_exposure_delta_l, "match its exposure to the set",
            ))  # fmt: skip
        bal = {n: looks[n].balance for n in names if looks[n].balance is not None}
        if len(bal) >= 3:
            centre = np.median(np.array(list(bal.values())), axis=0)
            dist = {n: float(np.hypot(*(np.array(v) - centre))) for n, v in bal.items()}
            for name, _ in _outliers(dist, rules.min_white_balance_delta, rules.max_z).items():
                a, b = bal[name]
                out.append(_set_finding(
                    "white_balance", name, rules,
                    f"white balance differs: its neutrals sit at a* {a:.1f}, b* {b:.1f}, "
                    f"{dist[name]:.1f} from the set's (limit {rules.min_white_balance_delta:g})",
                    dist[name], rules.min_white_balance_delta, "neutralise its white balance",
                ))  # fmt: skip
        frame = {n: looks[n].framing for n in names if looks[n].framing is not None}
        for name, diff in _outliers(frame, rules.min_framing_delta, rules.max_z).items():
            out.append(_set_finding(
                "framing", name, rules,
                f"product spans {frame[name] * 100:.0f} % of the frame vs the set median"
                f" {(frame[name] - diff) * 100:.0f} % (limit +/-{rules.min_framing_delta * 100:.0f}"
                " points)",
                frame[name], rules.min_framing_delta, "re-frame it like the rest of the set",
            ))  # fmt: skip
    return out


def _set_finding(kind, name, rules, text, measured, limit, fix) -> ImageFinding:
    return ImageFinding(
        f"image.coherence.{kind}",
        rules.severity,
        f"{name!r} {text}",
        None,
        f"{fix}",
        measured,
        limit,
    )
