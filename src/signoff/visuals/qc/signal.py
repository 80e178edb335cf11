"""``image.sharpness`` and ``image.compression``: signal-level rules that need full resolution,
measured on thin full-resolution strips and a normalised product crop (``image.upscaled``, on
the same strips, is in ``upscale``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from signoff.channels.image_qc import CompressionQC, SharpnessQC
from signoff.visuals.qc.findings import BBox, ImageFinding

# ITU-T T.81 Annex K tables in natural (row-major) order, as Pillow's ``quantization`` gives.
ANNEX_K_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.float64)  # fmt: skip
ANNEX_K_CHROMA = np.array(
    [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
     24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32,
    dtype=np.float64,
)  # fmt: skip


def _lap_var(gray: np.ndarray) -> float:
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


def sharpness(gray512: np.ndarray) -> tuple[float, float]:
    """(scale ratio, variance of Laplacian at 512 px) of a region normalised to 512 px.

    The ratio compares the region at 512 px with itself at 256 px: halving removes blur under
    ~1 px, so sharp content keeps the ratio high whatever its subject, blurred content loses it.
    """
    half = cv2.resize(gray512, (max(1, gray512.shape[1] // 2), max(1, gray512.shape[0] // 2)),
                      interpolation=cv2.INTER_AREA)  # fmt: skip
    v512, v256 = _lap_var(gray512), _lap_var(half)
    return (v512 / v256 if v256 > 1e-6 else 1.0), v512


def check_sharpness(
    gray512: np.ndarray, reference_var: float | None, rules: SharpnessQC, bbox: BBox | None
) -> list[ImageFinding]:
    if min(gray512.shape) < 16:
        return []
    ratio, v512 = sharpness(gray512)
    out = []
    if reference_var is None and ratio < rules.min_sharpness:
        out.append(ImageFinding(
            "image.sharpness.blur", rules.severity,
            f"product region is blurred: sharpness {ratio:.2f} (variance of Laplacian at 512 px"
            f" over 256 px); needs at least {rules.min_sharpness:.2f}",
            bbox, "re-render or re-shoot in focus; do not sharpen a blurred upscale",
            ratio, rules.min_sharpness,
        ))  # fmt: skip
    elif reference_var and v512 / reference_var < rules.min_relative_sharpness:
        rel = v512 / reference_var
        out.append(ImageFinding(
            "image.sharpness.blur", rules.severity,
            f"product region is softer than the packshot: {rel * 100:.0f} % of its variance of"
            f" Laplacian at 512 px; needs at least {rules.min_relative_sharpness * 100:.0f} %",
            bbox, "re-render from the packshot at full resolution", rel,
            rules.min_relative_sharpness,
        ))  # fmt: skip
    return out


@dataclass(frozen=True, slots=True)
class StepLines:
    """Pixel-to-pixel steps along full-resolution grey lines (``gray_strips``), one direction.

    ``steps[line, p]`` is pixel p + 1 minus pixel p; lines start on the JPEG 8 px grid, so
    p % 8 == 7 crosses a block edge. ``mean_abs``: mean |step| per position, over the lines.
    """

    steps: np.ndarray
    mean_abs: np.ndarray


def step_lines(lines: np.ndarray) -> StepLines:
    """The steps of stacked grey lines (lines x length), computed once for every rule."""
    steps = np.diff(lines, axis=1)
    return StepLines(steps, np.abs(steps).mean(axis=0))


def fold_steps(steps: np.ndarray, period: int) -> np.ndarray:
    """Median step at each phase of ``period``: medians ignore the product's own edges."""
    n = steps.size // period * period
    return np.median(steps[:n].reshape(-1, period), axis=0)


def ijg_table(base: np.ndarray, quality: int) -> np.ndarray:
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    return np.clip(np.floor((base * scale + 50) / 100), 1, 255)


_ALL_Q = [
    np.stack([ijg_table(b, q) for q in range(1, 101)]) for b in (ANNEX_K_LUMA, ANNEX_K_CHROMA)
]


def estimate_quality(tables: dict) -> tuple[int, float] | None:
    """(IJG quality 1-100, RMS error of the fit) from a JPEG's quantization tables."""
    got = [np.asarray(tables[i], dtype=np.float64) for i in (0, 1) if i in tables]
    if not got or got[0].size != 64:
        return None
    bases = [ANNEX_K_LUMA, ANNEX_K_CHROMA][: len(got)]
    errs = sum(((_ALL_Q[i] - t[None]) ** 2).sum(axis=1) for i, t in enumerate(got))
    best = int(np.argmin(errs))
    return best + 1, math.sqrt(float(errs[best]) / (64 * len(bases)))


def nr_score(lines: StepLines) -> float:
    """Wang, Sheikh & Bovik (ICIP 2002) no-reference JPEG quality, on their 1-10 scale.

    B: mean step across 8 px block edges; A: activity inside blocks; Z: zero-crossing rate of
    the steps inside blocks. S = -245.9 + 261.9 B^-0.024 A^0.016 Z^0.0064 (their fit).
    """
    d = lines.steps
    if d.shape[1] < 15 or not d.shape[0]:
        return 10.0
    edge = (np.arange(d.shape[1]) % 8) == 7
    across = float(lines.mean_abs[edge].mean())
    b = across
    a = (8 * float(lines.mean_abs.mean()) - across) / 7
    crossing = (d[:, :-1] * d[:, 1:]) < 0
    inside = ~edge[:-1]
    z = float(crossing.sum(axis=0)[inside].sum()) / (d.shape[0] * int(inside.sum()))
    b, a, z = max(b, 1e-3), max(a, 1e-3), max(z, 1e-4)
    return -245.9 + 261.9 * b**-0.0240 * a**0.0160 * z**0.0064


def block_periodicity(lines: StepLines) -> tuple[float, float]:
    """(strength at the 8 px JPEG grid, strongest strength at periods 5-7 and 9-11).

    Strength: the median step at the period's raised phase over the median phase, minus 1
    (medians, so a flat illustration's few hard edges do not count). JPEG blocking raises
    phase 7 of 8 only; flat-colour artwork raises nothing periodically.
    """
    if lines.mean_abs.size < 95:
        return 0.0, 0.0
    steps = lines.mean_abs

    def strength(fold: np.ndarray, phase: int | None) -> float:
        median = float(np.median(fold))
        raised = float(fold[phase] if phase is not None else fold.max())
        return (raised - median) / (median + 0.5)

    others = max(strength(fold_steps(steps, p), None) for p in (5, 6, 7, 9, 10, 11))
    return strength(fold_steps(steps, 8), 7), others


# Block-grid evidence needed when the file's tables do not show a low quality: phase 7 of 8
# raised by this much, and this many times more than any other period. Measured: JPEG q20-50
# 0.9-1.2 (others <= 0.06); flat PNG artwork and q92 JPEG of it 0.0.
MIN_GRID_STRENGTH = 0.3
GRID_OVER_OTHERS = 3.0
# Tables at or above this quality are not evidence of visible blocking by themselves.
TABLE_EVIDENCE_QUALITY = 90


def nr_scores(rows: StepLines, cols: StepLines) -> float:
    return min(nr_score(rows), nr_score(cols))


def jpeg_evidence(rows: StepLines, cols: StepLines, tables: dict | None) -> tuple[bool, str]:
    """Whether the pixels were JPEG-compressed enough to block: low-quality DQT tables, or
    blockiness periodic at 8 px and absent at other periods."""
    estimate = estimate_quality(tables) if tables else None
    if estimate is not None and estimate[0] < TABLE_EVIDENCE_QUALITY:
        return True, f"JPEG tables of quality about {estimate[0]}"
    grid_r, other_r = block_periodicity(rows)
    grid_c, other_c = block_periodicity(cols)
    grid, other = min(grid_r, grid_c), max(other_r, other_c)
    if grid >= MIN_GRID_STRENGTH and grid >= GRID_OVER_OTHERS * max(other, 0.02):
        return True, f"steps periodic at 8 px (strength {grid:.2f}, other periods {other:.2f})"
    return False, ""


def check_compression(
    rows: StepLines,
    cols: StepLines,
    tables: dict | None,
    rules: CompressionQC,
    score: float | None = None,
) -> list[ImageFinding]:
    out = []
    estimate = estimate_quality(tables) if tables else None
    if estimate is not None and estimate[0] < rules.min_quality:
        q, rms = estimate
        how = "exact IJG tables" if rms == 0 else f"IJG fit, RMS {rms:.1f}: approximate"
        out.append(ImageFinding(
            "image.compression.quality", rules.severity,
            f"JPEG quality is about {q} ({how}); needs at least {rules.min_quality}",
            None, f"re-export from the master at quality {max(rules.min_quality, 85)} or more",
            float(q), float(rules.min_quality),
        ))  # fmt: skip
    score = nr_scores(rows, cols) if score is None else score
    if score < rules.min_nr_score:
        # Flat-colour artwork scores low too (few steps, no texture): only JPEG evidence counts.
        evident, why = jpeg_evidence(rows, cols, tables)
        if evident:
            out.append(ImageFinding(
                "image.compression.blocking", rules.severity,
                f"visible 8x8 JPEG blocking: no-reference quality score {score:.1f} (Wang-Bovik,"
                f" 1-10 scale; {why}); needs at least {rules.min_nr_score:g}",
                None, "re-export from the master (not from this JPEG) at a higher quality",
                score, rules.min_nr_score,
            ))  # fmt: skip
    return out


def heavily_compressed(
    rows: StepLines,
    cols: StepLines,
    tables: dict | None,
    score: float | None = None,
) -> bool:
    """JPEG quality under 50, or a Wang-Bovik score under 4 with JPEG evidence."""
    estimate = estimate_quality(tables) if tables else None
    if estimate is not None and estimate[0] < 50:
        return True
    score = nr_scores(rows, cols) if score is None else score
    return score < 4.0 and jpeg_evidence(rows, cols, tables)[0]
