"""Find the SKU's product on a scene nobody placed it on: an edge-template search.

Edge maps (Sobel magnitude of grey, lightly blurred: colour-blind, so a recoloured product is
still found) of the packshot's cut-out are matched against the image's by normalised
correlation (``TM_CCOEFF_NORMED``) at 160 px over ~14 scales; the six best hits are matched
again at 256 px in a window around each, over +-8 % of scale, because the coarse 15 % scale
steps can rank a part of the product above the whole.

Cost: one FFT of the image's edges serves every template of a pass (``cv2.matchTemplate``
transforms the image again for each one), circular correlation is exact at every position
where the template fits, and the window sums that normalise it come from one integral
image. Templates depend only on the packshot and their size, so they are made once per
packshot and size: a brief checks many images of a few sizes against one.
"""

from __future__ import annotations

import math
from typing import Protocol

import cv2
import numpy as np

from signoff.visuals.qc._pixels import shrink_area
from signoff.visuals.qc.findings import BBox


class Packshot(Protocol):
    """What the search needs of a packshot (``match.Reference`` has it): its grey crop and
    its cut-out mask, both at the crop's size."""

    @property
    def gray(self) -> np.ndarray: ...

    @property
    def mask(self) -> np.ndarray: ...


SEARCH_SIDE = 160  # coarse search size
FINE_SIDE = 256  # the fine pass
# Template heights come from fixed geometric ladders (px): every image of a packshot draws on
# the same few dozen templates, so they are made once, whatever the product's size.
COARSE_STEP = 1.15  # scale step between coarse template sizes
FINE_STEP = 1.04
LADDER_FROM = 8.0
MIN_SHARE = 0.15  # smallest product height searched, as a share of the frame's height
KEEP = 6  # coarse hits matched again at the fine size
FINE_RANGE = 0.08  # the fine pass tries heights within +-8 % of a coarse hit's
FLAT_SHARE = 0.1  # a window whose edges vary less than this share of the image's is flat

_TEMPLATES: dict[tuple[int, int, int], tuple[np.ndarray, float] | None] = {}


def edges(gray: np.ndarray) -> np.ndarray:
    """Blurred Sobel gradient magnitude of a grey image, float32."""
    gray = gray.astype(np.float32)
    mag = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    return cv2.GaussianBlur(mag, (0, 0), 1.0)


def _template(ref: Packshot, tw: int, th: int) -> tuple[np.ndarray, float] | None:
    """(zero-mean edge template, its norm) of the packshot's crop at tw x th; None if flat."""
    key = (id(ref), tw, th)
    if key not in _TEMPLATES:
        if len(_TEMPLATES) > 512:
            _TEMPLATES.clear()
        templ = edges(shrink_area(ref.gray, (tw, th)))
        templ -= templ.mean()
        norm = float(np.sqrt((templ * templ).sum()))
        _TEMPLATES[key] = (templ, norm) if norm / np.sqrt(tw * th) >= 1e-3 else None
    return _TEMPLATES[key]


class _Search:
    """Normalised correlation of many templates with one edge image."""

    def __init__(self, image: np.ndarray) -> None:
        self.shape = image.shape
        # Any transform size from the image's own up is exact where the template fits; OpenCV's
        # optimal sizes are several times faster than, say, a prime one.
        self.fft_shape = tuple(cv2.getOptimalDFTSize(n) for n in image.shape)
        padded = np.zeros(self.fft_shape, np.float32)
        padded[: image.shape[0], : image.shape[1]] = image
        self.spectrum = cv2.dft(padded)  # CCS-packed, as ``mulSpectrums`` takes it
        self.sums = cv2.integral2(image, sdepth=cv2.CV_64F)
        # Normalised correlation is 0/0 on a flat window (a JPEG q20 sky): windows with almost
        # no edges cannot hold the product.
        self.floor = FLAT_SHARE * float(image.std())

    def best(self, templ: np.ndarray, norm: float) -> tuple[float, int, int]:
        """(score, x, y) of the best window for ``templ`` (zero-mean, ``norm``)."""
        height, width = self.shape
        th, tw = templ.shape
        rows, cols = height - th + 1, width - tw + 1
        # Correlation by FFT at the transform size: positions where the template fits do not
        # wrap around, and only those are read.
        kernel = np.zeros(self.fft_shape, np.float32)
        kernel[:th, :tw] = templ
        kernel = cv2.dft(kernel, nonzeroRows=th)
        product = cv2.mulSpectrums(self.spectrum, kernel, 0, conjB=True)
        flags = cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE
        corr = cv2.idft(product, flags=flags, nonzeroRows=rows)[:rows, :cols]
        s1, s2 = (i[th:, tw:] - i[:-th, tw:] - i[th:, :-tw] + i[:-th, :-tw] for i in self.sums)
        n = tw * th
        spread = np.maximum(s2 - s1 * s1 / n, 0.0)  # n x the window's variance
        score = corr / (np.sqrt(spread) * norm + 1e-9)
        score[spread < n * self.floor**2] = -1.0
        y, x = np.unravel_index(int(np.argmax(score)), score.shape)
        return float(score[y, x]), int(x), int(y)


def _best_of(search: _Search, ref: Packshot, sizes, keep: int) -> list[tuple[float, BBox]]:
    """The ``keep`` best (score, box) over ``sizes``, one per size, best first."""
    height, width = search.shape
    hits = []
    for tw, th in sizes:
        if tw < 8 or th < 8 or tw > width or th > height:
            continue
        made = _template(ref, tw, th)
        if made is None:
            continue
        score, x, y = search.best(*made)
        hits.append((score, (x, y, tw, th)))
    hits.sort(key=lambda hit: -hit[0])
    return hits[:keep] or [(-2.0, (0, 0, 1, 1))]


def _ladder(step: float, low: float, high: float) -> list[float]:
    """The heights LADDER_FROM * step**k between ``low`` and ``high``."""
    first = math.ceil(math.log(max(low, 1.0) / LADDER_FROM, step))
    last = math.floor(math.log(max(high, 1.0) / LADDER_FROM, step))
    return [LADDER_FROM * step**k for k in range(first, last + 1)]


def _shrunk(gray: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    height, width = gray.shape
    f = min(1.0, side / max(height, width))
    if f == 1.0:
        return gray, f
    size = (max(1, round(width * f)), max(1, round(height * f)))
    return shrink_area(gray, size), f


def locate(gray: np.ndarray, ref: Packshot) -> tuple[BBox, float]:
    """(cut-out box in ``gray`` px, match score) of the product on a scene; ``gray`` is the
    image's proxy in grey."""
    height, width = gray.shape
    mid, g = _shrunk(gray, FINE_SIDE)
    small, f = _shrunk(mid, SEARCH_SIDE)
    f *= g
    aspect = ref.mask.shape[1] / ref.mask.shape[0]
    low, high = MIN_SHARE * small.shape[0], min(small.shape[0], small.shape[1] / aspect)
    sizes = [(round(th * aspect), round(th)) for th in _ladder(COARSE_STEP, low, high)]
    sizes.append((min(small.shape[1], round(small.shape[0] * aspect)), small.shape[0]))
    hits = _best_of(_Search(edges(small)), ref, sizes, KEEP)
    if hits[0][0] < -1:
        return (0, 0, width, height), -1.0
    mid_edges = edges(mid)
    best = (-2.0, (0, 0, width, height))
    for _, box in hits:
        x, y, w, h = (v * g / f for v in box)
        pad_x, pad_y = round(w / 5) + 3, round(h / 5) + 3
        x0, y0 = max(0, round(x) - pad_x), max(0, round(y) - pad_y)
        x1 = min(mid.shape[1], round(x + w) + pad_x)
        y1 = min(mid.shape[0], round(y + h) + pad_y)
        ladder = _ladder(FINE_STEP, h * (1 - FINE_RANGE), h * (1 + FINE_RANGE))
        fine = [(round(th * aspect), round(th)) for th in ladder]
        window = _Search(mid_edges[y0:y1, x0:x1])
        ((score, (fx, fy, fw, fh)),) = _best_of(window, ref, fine, 1)
        if score > best[0]:
            best = (score, (x0 + fx, y0 + fy, fw, fh))
    score, box = best
    return tuple(round(v / g) for v in box), score
