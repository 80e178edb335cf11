"""``image.upscaled``: an image enlarged from fewer pixels than it has.

Enlarging adds pixels, not detail: the spectrum of an image enlarged k times stops at 1/k of
the frequencies its pixel grid can hold. The rule measures where it stops, on the
full-resolution grey strips across the product region (``_pixels.gray_strips``):

- the power spectrum of the pixel steps (first differences, whose spectrum is about flat for
  edges, so coarse and fine detail weigh alike) in 128 px segments aligned to the JPEG 8 px
  grid, averaged over the segments with texture only (mean step >= 1 grey level): flat
  backdrops, white padding and smooth gradients hold no detail at any resolution, and their
  steps are mostly JPEG noise;
- the bins at multiples of 1/8 cycle/px take their neighbours' level: JPEG block edges put
  energy there whatever the image's resolution;
- the detail ratio: mean power above ``HIGH_BAND`` cycles/px over the mean power at
  0.016-0.047 cycles/px (where every image up to ~8x enlarged still has its detail);
- the true resolution: the frequency below which ``CUTOFF_SHARE`` of the step energy lies,
  scaled by ``CALIBRATION``. An interpolation periodicity (Gallagher 2005) that agrees with
  that estimate fixes the factor exactly.

A blur removes the same frequencies (Pillow's Gaussian blur is spectrally a B-spline
enlargement): only interpolation's periodic trace tells the two apart. Without that trace, a
region the sharpness rule calls blurred is not called enlarged; an info finding says why.
"""

from __future__ import annotations

import math

import numpy as np

from signoff.channels.image_qc import UpscaledQC
from signoff.visuals.qc.findings import ImageFinding, pct
from signoff.visuals.qc.signal import StepLines, fold_steps

SEGMENT = 128  # px per spectrum: 1/128 cycle/px bins, 0.125 (a 4x enlargement's edge) = bin 16
MIN_STEP = 1.0  # mean |step| of a textured segment, grey levels
MIN_SEGMENTS = 16  # fewer textured segments than this: too little texture to tell
LINE_STEP = 4  # every 4th line of a strip: neighbouring lines hold nearly the same spectrum
REFERENCE_BINS = slice(2, 7)  # 0.016-0.047 cycles/px
HIGH_BAND = 0.3  # cycles/px: native detail, lost by any enlargement of 1.5x or more
# Measured on Lanczos, bicubic and bilinear enlargements (1.5x, 2x, 3x, 4x; PNG and JPEG
# q85-92) of sharp sources: 80 % of the step energy lies below 0.316 / k cycles/px; the
# estimate lands within -14 / +12 % of the true size across them.
CUTOFF_SHARE = 0.8
CALIBRATION = 0.316
SNAP_TOLERANCE = 1.25  # a periodicity's factor within this ratio of the estimate is taken
PERIODS = (2, 3, 4, 5)

_WINDOW = np.hanning(SEGMENT).astype(np.float32)
_FREQ = np.fft.rfftfreq(SEGMENT)
_JPEG_BINS = range(SEGMENT // 8, SEGMENT // 2 + 1, SEGMENT // 8)


def step_spectrum(rows: StepLines, cols: StepLines) -> np.ndarray | None:
    """Mean power spectrum of the pixel steps over the textured segments of both directions,
    JPEG grid bins levelled; None when fewer than ``MIN_SEGMENTS`` segments have texture."""
    segments = []
    for lines in (rows, cols):
        usable = lines.steps.shape[1] // SEGMENT * SEGMENT
        if usable:
            segments.append(lines.steps[::LINE_STEP, :usable].reshape(-1, SEGMENT))
    if not segments:
        return None
    steps = np.concatenate(segments)
    steps = steps[np.abs(steps).mean(axis=1) >= MIN_STEP]
    if len(steps) < MIN_SEGMENTS:
        return None
    spectra = np.fft.rfft(steps * _WINDOW, axis=1)
    power = (spectra.real**2 + spectra.imag**2).mean(axis=0, dtype=np.float64)
    for b in _JPEG_BINS:
        beside = power[b - 1] if b + 1 >= power.size else (power[b - 1] + power[b + 1]) / 2
        power[b] = min(power[b], beside)
    return power


def detail_ratio(power: np.ndarray) -> float:
    """Mean power above ``HIGH_BAND`` over the mean power in the reference band."""
    reference = float(power[REFERENCE_BINS].mean())
    return float(power[_FREQ >= HIGH_BAND].mean()) / max(reference, 1e-9)


def true_factor(power: np.ndarray) -> float:
    """How many times enlarged the spectrum looks (1.0: native)."""
    cumulative = np.cumsum(power[1:])
    cumulative /= cumulative[-1]
    i = int(np.searchsorted(cumulative, CUTOFF_SHARE))
    below = cumulative[i - 1] if i else 0.0
    step = (cumulative[i] - CUTOFF_SHARE) / max(cumulative[i] - below, 1e-12)
    cutoff = _FREQ[1 + i] - step * _FREQ[1]
    return max(1.0, CALIBRATION / max(cutoff, 1e-3))


def periodicity(steps: np.ndarray) -> tuple[int, float]:
    """(period, strength) of the strongest interpolation periodicity among ``PERIODS``.

    Strength: the steps at the period's phase over the median phase, minus 1. Periods 2 and 4
    divide JPEG's 8 px grid, whose block edge alone is raised, so for them every phase that an
    enlargement would raise (P-1, 2P-1, ...) must be raised in the 8-phase fold. (Period 6 is
    left out: its fold puts the 8 px grid's edges on every other phase.)
    """
    if steps.size < 96:
        return 0, 0.0
    eight = fold_steps(steps, 8)
    best = (0, 0.0)
    for period in PERIODS:
        if 8 % period == 0:
            fold = eight
            raised = fold[period - 1 :: period].min()
        else:
            fold = fold_steps(steps, period)
            raised = fold.max()
        median = float(np.median(fold))
        strength = (float(raised) - median) / (median + 0.02)
        if strength > best[1]:
            best = (period, strength)
    return best


def _snap(factor: float, period: int) -> float | None:
    """The enlargement ``period`` allows (period / q) nearest ``factor``, if near enough."""
    allowed = [period / q for q in range(1, period) if math.gcd(period, q) == 1]
    best = min(allowed, key=lambda k: abs(math.log(k / factor)))
    return best if abs(math.log(best / factor)) <= math.log(SNAP_TOLERANCE) else None


def check_upscaled(
    rows: StepLines,
    cols: StepLines,
    rules: UpscaledQC,
    size: tuple[int, int],
    blurred: bool = False,
) -> list[ImageFinding]:
    """``rows``/``cols``: steps along the full-resolution grey strips; ``blurred``: the
    sharpness rule finds the same region blurred."""
    power = step_spectrum(rows, cols)
    if power is None:
        return []
    ratio = detail_ratio(power)
    if ratio >= rules.max_detail_ratio:
        return []
    factor = true_factor(power)
    traced = None
    px, sx = periodicity(rows.mean_abs)
    py, sy = periodicity(cols.mean_abs)
    if px == py and px and min(sx, sy) >= rules.min_periodicity:
        traced = _snap(factor, px)
    factor = traced or factor
    true_w, true_h = round(size[0] / factor), round(size[1] / factor)
    measured = (
        f"its detail above {HIGH_BAND:g} cycles/px is {pct(ratio)} of its coarse detail's level"
        f" (a native image keeps at least {pct(rules.max_detail_ratio)})"
    )
    if blurred and traced is None:
        return [ImageFinding(
            "image.upscaled.skipped", "info",
            f"the image holds the detail of about {true_w} x {true_h} px ({measured}), but the"
            " product region is blurred too: without an interpolation pattern blur and"
            " enlargement look alike, so this is left to image.sharpness",
            None, None, ratio, rules.max_detail_ratio,
        )]  # fmt: skip
    how = (
        f"the interpolation pattern repeats every {px} px"
        if traced
        else "factor from where its spectrum falls off"
    )
    return [ImageFinding(
        "image.upscaled.enlarged", rules.severity,
        f"image looks enlarged {factor:.2g}x from about {true_w} x {true_h} px: {measured};"
        f" {how}. The channel wants native resolution",
        None, "re-render from the master instead of upscaling", ratio, rules.max_detail_ratio,
    )]  # fmt: skip
