"""``image.product_match``: is the product in the image the SKU's packshot?

Reference: the packshot's cut-out, the same way a compositor cuts it (everything not reachable
from the frame border through near-white pixels), so a cream label or lid stays product and
the white backdrop never takes part in a comparison.

Locate: a caller that placed the product (compositor, renditions) passes its box; on a light
background the segmentation's box; otherwise an edge-template search (``locate``). Every box
is then refined locally (masked normalised correlation, +-3 % scale, a few px of shift) so
the comparison is aligned to a pixel.

Compare in one aligned frame: the packshot's crop and the image's product, both resampled to
the same size (at most ``WORK`` px and never larger than the product is in the image, so an
enlarged copy of a small product is not held against a sharp packshot) and lightly blurred,
so Lanczos ringing, JPEG q85 and the scale change weigh alike on both. Only pixels inside the
eroded cut-out mask and inside the frame count: the soft shadow, the scene showing through the
anti-aliased edge and any part cut off by a cover crop are left out. Then: dominant colours
(k-means in Lab, CIEDE2000), a 6x6 grid of median colours (a missing lid or recoloured part),
SSIM per grid cell (label text and detail) and, on white backgrounds, the silhouette.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image
from skimage.color import deltaE_ciede2000

from signoff.channels.image_qc import ProductMatchQC
from signoff.visuals.qc._pixels import bbox_of, to_lab
from signoff.visuals.qc.findings import BBox, ImageFinding
from signoff.visuals.qc.locate import locate
from signoff.visuals.qc.segment import Segmentation, segment

WORK = 256  # compare at this long side at most: label text is still ~10 px tall
MIN_WORK = 64  # a product smaller than this in the image cannot be compared in detail
GRID = 6  # cells of ~1/6 of the product: a label line or a lid is one or two cells
NEAR_WHITE = 12  # packshot backdrop: every channel within this of 255
BLUR = 0.8  # px at the work size, on both sides: evens out resampling and JPEG ringing
MIN_VISIBLE = 0.5  # share of the product that must be inside the frame to be compared


@dataclass(frozen=True, slots=True)
class Reference:
    rgb: np.ndarray  # the packshot's product crop (proxy scale), uint8, at the cut-out box
    mask: np.ndarray  # bool, the cut-out (near-white backdrop excluded), same shape
    seg_mask: np.ndarray  # bool, the light-background segmentation's product, same shape
    seg_box: BBox  # box of seg_mask in crop px: what ``segment`` finds on a white main image
    gray: np.ndarray  # ``rgb`` in grey, for the edge search (``locate``)


def cutout_mask(rgb: np.ndarray, tolerance: int = NEAR_WHITE) -> np.ndarray:
    """Pixels not reachable from the frame border through near-white ones."""
    red, green, blue = cv2.split(rgb)
    darkest = cv2.min(cv2.min(red, green), blue)
    light = (darkest >= 255 - tolerance).astype(np.uint8)
    _, labels = cv2.connectedComponents(light, connectivity=4)
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    seeds = np.zeros(labels.max() + 1, bool)
    seeds[border] = True
    seeds[0] = False  # label 0 is the non-light pixels
    product = ~seeds[labels]
    # Specks (sensor dust, JPEG noise on the backdrop) are not product.
    count, cc, stats, _ = cv2.connectedComponentsWithStats(product.astype(np.uint8), 8)
    if count <= 1:
        return product
    keep = stats[:, cv2.CC_STAT_AREA] >= max(4, 0.0005 * product.size)
    keep[0] = False
    return keep[cc]


def reference(packshot_rgb: np.ndarray) -> Reference | None:
    seg = segment(packshot_rgb)
    if seg.product_bbox is None or min(seg.product_bbox[2:]) < 8:
        return None
    mask = cutout_mask(packshot_rgb) | seg.product
    box = bbox_of(mask)
    if box is None:
        return None
    x, y, w, h = box
    sx, sy, sw, sh = seg.product_bbox
    return Reference(
        packshot_rgb[y : y + h, x : x + w],
        mask[y : y + h, x : x + w],
        seg.product[y : y + h, x : x + w],
        (sx - x, sy - y, sw, sh),
        cv2.cvtColor(np.ascontiguousarray(packshot_rgb[y : y + h, x : x + w]), cv2.COLOR_RGB2GRAY),
    )


def _palette(lab: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(k x 3 centres, weights) of Lab pixels, largest first."""
    if len(lab) > 3000:
        lab = lab[np.linspace(0, len(lab) - 1, 3000).astype(int)]
    k = max(1, min(k, len(lab)))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(0)  # deterministic findings for the same pixels
    _, labels, centres = cv2.kmeans(
        lab.astype(np.float32), k, None, criteria, 2, cv2.KMEANS_PP_CENTERS
    )
    weights = np.bincount(labels.ravel(), minlength=k) / len(labels)
    order = np.argsort(-weights)
    return centres[order], weights[order]


def _hex(lab: np.ndarray) -> str:
    rgb = cv2.cvtColor(lab.reshape(1, 1, 3).astype(np.float32), cv2.COLOR_Lab2RGB)[0, 0]
    return "#" + "".join(f"{int(round(min(1, max(0, c)) * 255)):02X}" for c in rgb)


SSIM_C1, SSIM_C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2  # Wang et al.'s 8-bit constants


def _ssim_blur(values: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(values, (11, 11), 1.5)


def _local_stats(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, variance) in SSIM's Gaussian window (sigma 1.5) around every pixel."""
    mean = _ssim_blur(gray)
    return mean, _ssim_blur(gray * gray) - mean * mean


def _ssim_map(a: tuple[np.ndarray, np.ndarray, np.ndarray], b: np.ndarray) -> np.ndarray:
    """SSIM (Wang et al. 2004, Gaussian sigma 1.5) per pixel, in OpenCV; ``a`` is (grey, its
    ``_local_stats``), made once per reference."""
    a, mu_a, var_a = a
    mu_b, var_b = _local_stats(b)
    cov = _ssim_blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + SSIM_C1) * (2 * cov + SSIM_C2)
    return num / ((mu_a * mu_a + mu_b * mu_b + SSIM_C1) * (var_a + var_b + SSIM_C2))


# --- the aligned frame --------------------------------------------------------------------

FBox = tuple[float, float, float, float]  # where the whole reference crop sits, image px


def _gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _sample(img: Image.Image, frame: FBox, size: tuple[int, int], pad: int):
    """The image under ``frame`` resampled to ``size`` plus ``pad`` work px on each side, and a
    bool map of what lies inside the image. Reads only the region: no full-size copy."""
    tw, th = size
    width, height = img.size
    fx, fy, fw, fh = frame
    ax, ay = fw / tw, fh / th  # image px per work px
    ox, oy = fx - pad * ax, fy - pad * ay
    ow, oh = tw + 2 * pad, th + 2 * pad
    x0, y0 = max(0, int(np.floor(ox)) - 2), max(0, int(np.floor(oy)) - 2)
    x1 = min(width, int(np.ceil(ox + ow * ax)) + 2)
    y1 = min(height, int(np.ceil(oy + oh * ay)) + 2)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None, None
    # Integer box-filter reduction first, so the warp below shrinks by less than 2x.
    factor = max(1, int(min(ax, ay)))
    box = (x0, y0, x1, y1)
    small = np.asarray(img.reduce(factor, box=box) if factor > 1 else img.crop(box))
    rest_x, rest_y = ax / factor, ay / factor
    if max(rest_x, rest_y) > 1.05:  # anti-alias the remaining shrink
        sig_x = max(0.01, 0.5 * float(np.sqrt(max(rest_x**2 - 1, 0))))
        sig_y = max(0.01, 0.5 * float(np.sqrt(max(rest_y**2 - 1, 0))))
        small = cv2.GaussianBlur(small, (0, 0), sigmaX=sig_x, sigmaY=sig_y)
    # Work px (u, v) centre -> small px centre.
    matrix = np.float32(
        [
            [rest_x, 0, (ox - x0) / factor + 0.5 * rest_x - 0.5],
            [0, rest_y, (oy - y0) / factor + 0.5 * rest_y - 0.5],
        ]
    )
    out = cv2.warpAffine(
        small, matrix, (ow, oh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip
    u = ox + (np.arange(ow) + 0.5) * ax
    v = oy + (np.arange(oh) + 0.5) * ay
    inside = ((v >= 0) & (v <= height))[:, None] & ((u >= 0) & (u <= width))[None, :]
    return out, inside


def _grad(gray: np.ndarray) -> np.ndarray:
    gray = cv2.GaussianBlur(gray, (0, 0), 1.0)
    return cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))


@dataclass(frozen=True, slots=True)
class _Template:
    """The reference's edges at one scale, as spectra for the masked correlation."""

    size: tuple[int, int]  # (w, h)
    masked: np.ndarray  # CCS spectrum of the edges times the mask
    mask: np.ndarray  # CCS spectrum of the mask
    norm: float  # L2 norm of the edges times the mask


@dataclass(frozen=True, slots=True)
class _RefSide:
    """The reference's half of ``compare`` at one work size, blurred as the image will be."""

    lab: np.ndarray  # CIE Lab
    gray: tuple[np.ndarray, np.ndarray, np.ndarray]  # grey float32 and its ``_local_stats``
    inner: np.ndarray  # the cut-out mask, eroded: edge pixels mix in the scene
    palette: tuple[np.ndarray, np.ndarray]  # dominant colours inside ``inner``


def _ref_side(rgb: np.ndarray, mask: np.ndarray) -> _RefSide:
    th, tw = mask.shape
    radius = max(1, round(0.012 * max(tw, th)))
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    inner = cv2.erode(mask.astype(np.uint8), kernel) > 0
    soft = cv2.GaussianBlur(rgb, (0, 0), BLUR)
    lab, gray = to_lab(soft), _gray(soft)
    palette = _palette(lab[inner]) if inner.any() else (np.zeros((1, 3)), np.ones(1))
    return _RefSide(lab, (gray, *_local_stats(gray)), inner, palette)


@dataclass(frozen=True, slots=True)
class _Sized:
    """The reference at one work size: everything about it that does not depend on the image."""

    mask: np.ndarray  # the cut-out at the work size
    pad: int  # work px searched on each side by the local refinement
    fft_shape: tuple[int, int]  # transform size for a sample of the work size plus the pad
    templates: list[_Template]  # at 0.97, 1.0 and 1.03 of the work size
    side: _RefSide  # the reference's half of ``compare``


_SIZED: dict[tuple[int, int, int], _Sized] = {}


def _spectrum(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    padded = np.zeros(shape, np.float32)
    padded[: values.shape[0], : values.shape[1]] = values
    return cv2.dft(padded, nonzeroRows=values.shape[0])


def _correlate(image: np.ndarray, kernel: np.ndarray, rows: int) -> np.ndarray:
    """Cross-correlation from two CCS spectra; the first ``rows`` rows are exact where the
    kernel fits."""
    product = cv2.mulSpectrums(image, kernel, 0, conjB=True)
    return cv2.idft(product, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE, nonzeroRows=rows)


def _sized(ref: Reference, tw: int, th: int) -> _Sized:
    key = (id(ref), tw, th)
    if key not in _SIZED:
        if len(_SIZED) > 64:
            _SIZED.clear()
        rgb = cv2.resize(ref.rgb, (tw, th), interpolation=cv2.INTER_AREA)
        mask = cv2.resize(ref.mask.astype(np.uint8), (tw, th), interpolation=cv2.INTER_NEAREST)
        near = cv2.dilate(mask, np.ones((5, 5), np.uint8))
        edges = _grad(_gray(rgb))
        pad = max(3, round(0.04 * max(tw, th)))
        shape = (cv2.getOptimalDFTSize(th + 2 * pad), cv2.getOptimalDFTSize(tw + 2 * pad))
        templates = []
        for s in (0.97, 1.0, 1.03):
            sw, sh = round(tw * s), round(th * s)
            templ = cv2.resize(edges, (sw, sh), interpolation=cv2.INTER_LINEAR)
            m = cv2.resize(near, (sw, sh), interpolation=cv2.INTER_NEAREST).astype(np.float32)
            if float(templ[m > 0].std()) >= 1e-3:
                masked = templ * m
                norm = float(np.sqrt((masked * masked).sum()))
                templates.append(
                    _Template((sw, sh), _spectrum(masked, shape), _spectrum(m, shape), norm)
                )
        side = _ref_side(rgb, mask > 0)
        _SIZED[key] = _Sized(mask > 0, pad, shape, templates, side)
    return _SIZED[key]


def _refine(img: Image.Image, frame: FBox, sized: _Sized):
    """``frame`` moved and scaled (+-3 %) to where the packshot's edges match best."""
    th, tw = sized.mask.shape
    pad = sized.pad
    sample, _ = _sample(img, frame, (tw, th), pad)
    if sample is None:
        return frame, -1.0
    edges = _grad(_gray(sample))
    height, width = edges.shape
    plain = _spectrum(edges, sized.fft_shape)
    squared = _spectrum(edges * edges, sized.fft_shape)
    best = (-2.0, frame)
    for templ in sized.templates:
        sw, sh = templ.size
        if sw > width or sh > height:
            continue
        # Masked normalised correlation (OpenCV's TM_CCORR_NORMED with a 0/1 mask) by FFT, the
        # reference's spectra made once: the scene's own edges around the product (shadow,
        # horizon) do not count.
        rows, cols = height - sh + 1, width - sw + 1
        corr = _correlate(plain, templ.masked, rows)[:rows, :cols]
        energy = _correlate(squared, templ.mask, rows)[:rows, :cols]
        res = corr / (np.sqrt(np.maximum(energy, 1e-6)) * templ.norm)
        py, px = np.unravel_index(int(np.argmax(res)), res.shape)
        score = float(res[py, px])
        if score > best[0]:
            ax, ay = frame[2] / tw, frame[3] / th
            moved = (frame[0] + (px - pad) * ax, frame[1] + (py - pad) * ay,
                     frame[2] * sw / tw, frame[3] * sh / th)  # fmt: skip
            best = (score, moved)
    return best[1], best[0]


def _extend_cut(box: BBox, aspect: float, size: tuple[int, int], tol: float) -> BBox:
    """A product box clipped by the frame edge, grown back to the packshot's aspect."""
    x, y, w, h = box
    width, height = size
    if w / h < aspect * (1 - tol):
        grown = h * aspect
        if x <= 0 < x + w < width:
            return round(x + w - grown), y, round(grown), h
        if x > 0 and x + w >= width:
            return x, y, round(grown), h
    elif w / h > aspect * (1 + tol):
        grown = w / aspect
        if y <= 0 < y + h < height:
            return x, round(y + h - grown), w, round(grown)
        if y > 0 and y + h >= height:
            return x, y, w, round(grown)
    return box


def _finding(rule: str, rules: ProductMatchQC, message: str, bbox, fix, measured, limit):
    return ImageFinding(f"image.product_match.{rule}", rules.severity, message, bbox, fix,
                        measured, limit)  # fmt: skip


def compare(
    sized: _Sized,
    img_rgb: np.ndarray,
    visible: np.ndarray,
    rules: ProductMatchQC,
    to_image: Callable[[BBox], BBox],
    silhouette: tuple[np.ndarray, np.ndarray] | None = None,
    aspect_change: float = 0.0,
) -> list[ImageFinding]:
    """Findings on the aligned product ``img_rgb`` against the reference at the same work size
    (``sized``: its crop and cut-out mask); ``visible`` is what of it is inside the checked
    image; ``to_image`` maps a box in this frame to the checked image's px; ``silhouette`` =
    (packshot's, image's) object masks on a white background."""
    out: list[ImageFinding] = []
    mask, ref = sized.mask, sized.side
    th, tw = mask.shape
    whole = to_image((0, 0, tw, th))
    inner = ref.inner & visible
    if inner.sum() < 32:
        return out

    if silhouette is not None:
        ref_sil, got = silhouette
        iou = float((ref_sil & got).sum() / max(1, (ref_sil | got).sum()))
        if aspect_change > rules.max_aspect_change or iou < rules.min_silhouette_iou:
            out.append(_finding(
                "shape", rules,
                f"product outline differs from the packshot: silhouette IoU {iou:.2f}"
                f" (need >= {rules.min_silhouette_iou:.2f}), box aspect changed by"
                f" {aspect_change * 100:.0f} % (limit {rules.max_aspect_change * 100:.0f} %);"
                " a part may be missing or added",
                whole, "re-render from the SKU's packshot; do not let the generator redraw the"
                " product", iou, rules.min_silhouette_iou,
            ))  # fmt: skip

    img_s = cv2.GaussianBlur(img_rgb, (0, 0), BLUR)
    ref_lab, img_lab = ref.lab, to_lab(img_s)
    ref_c, ref_w = ref.palette if visible.all() else _palette(ref_lab[inner])
    img_c, _ = _palette(img_lab[inner])
    worst, pair = 0.0, (ref_c[0], img_c[0])
    for centre, weight in zip(ref_c, ref_w, strict=True):
        if weight < 0.15:
            continue
        de = deltaE_ciede2000(np.repeat(centre[None], len(img_c), 0), img_c)
        if float(de.min()) > worst:
            worst, pair = float(de.min()), (centre, img_c[int(de.argmin())])
    if worst > rules.max_delta_e:
        out.append(_finding(
            "colour", rules,
            f"product colour differs from the packshot: dominant colour {_hex(pair[0])} is"
            f" {_hex(pair[1])} here, CIEDE2000 {worst:.1f} (limit {rules.max_delta_e:g});"
            " a different colourway?",
            whole, "re-render from the packshot of this SKU's colourway", worst,
            rules.max_delta_e,
        ))  # fmt: skip

    # Per cell: median colour and mean SSIM inside the visible product (scene excluded).
    g_img = np.where(mask & visible, _gray(img_s), ref.gray[0])
    ssim_map = _ssim_map(ref.gray, g_img)
    # Cell sums in one pass (reduceat over the grid's edges): mean Lab and mean SSIM per cell.
    ys = [row * th // GRID for row in range(GRID)]
    xs = [col * tw // GRID for col in range(GRID)]

    def cell_sums(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(np.add.reduceat(values, ys, axis=0), xs, axis=1)

    weight = inner.astype(np.float32)
    count = cell_sums(weight)
    area = cell_sums(np.ones_like(weight))
    ref_mean = cell_sums(ref_lab * weight[..., None]) / np.maximum(count, 1)[..., None]
    img_mean = cell_sums(img_lab * weight[..., None]) / np.maximum(count, 1)[..., None]
    ssim_mean = cell_sums(ssim_map * weight) / np.maximum(count, 1)
    used = count / area >= 0.3
    if not used.any():
        return out
    rows, cols = np.nonzero(used)
    ye, xe = ys + [th], xs + [tw]
    boxes = [
        (xe[c], ye[r], xe[c + 1] - xe[c], ye[r + 1] - ye[r])
        for r, c in zip(rows, cols, strict=True)
    ]
    ref_med, img_med, ssims = ref_mean[used], img_mean[used], ssim_mean[used].tolist()
    cell_de = deltaE_ciede2000(ref_med, img_med)  # one call: ~20x faster
    worst_de = (float(cell_de.max()), boxes[int(cell_de.argmax())])
    worst_ssim = (min(ssims), boxes[int(np.argmin(ssims))])
    if worst_de[0] > rules.max_cell_delta_e and worst <= rules.max_delta_e:
        out.append(_finding(
            "part", rules,
            f"part of the product differs from the packshot: CIEDE2000 {worst_de[0]:.1f}"
            f" in one region (limit {rules.max_cell_delta_e:g}); a missing or changed part?",
            to_image(worst_de[1]),
            "re-render from the packshot; check the region for a missing lid, cap or part",
            worst_de[0], rules.max_cell_delta_e,
        ))  # fmt: skip
    if worst_ssim[0] < rules.min_detail_ssim:
        out.append(_finding(
            "detail", rules,
            f"label or detail differs from the packshot: SSIM {worst_ssim[0]:.2f} in one"
            f" region (need >= {rules.min_detail_ssim:.2f}); changed label text or artwork?",
            to_image(worst_ssim[1]),
            "re-render from the packshot so the label is copied, not redrawn",
            worst_ssim[0], rules.min_detail_ssim,
        ))  # fmt: skip
    return out


def _fill_holes(obj: np.ndarray) -> np.ndarray:
    count, labels = cv2.connectedComponents((~obj).astype(np.uint8), connectivity=4)
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    outside = np.zeros(count, bool)
    outside[border] = True
    outside[0] = False
    return ~outside[labels]


def match_findings(
    img: Image.Image,
    rgb: np.ndarray,
    scale: float,
    seg: Segmentation,
    ref: Reference,
    rules: ProductMatchQC,
    product_bbox: BBox | None = None,
    object_threshold: int = 40,
) -> tuple[list[ImageFinding], BBox | None]:
    """Findings and the product's box in image px (None when it was not found). ``rgb`` is
    the proxy of ``img`` (``scale`` proxy px per image px); ``product_bbox``: where the caller
    placed the product's cut-out, in image px."""
    width, height = img.size
    rh, rw = ref.mask.shape
    on_white = product_bbox is None and seg.on_light and seg.product_bbox is not None
    score = 1.0
    if product_bbox is not None:
        box = _extend_cut(tuple(product_bbox), rw / rh, (width, height), rules.max_aspect_change)
        frame = tuple(float(v) for v in box)
    elif on_white:
        x, y, w, h = seg.product_bbox
        pw, ph = rgb.shape[1], rgb.shape[0]
        if x == 0 or y == 0 or x + w >= pw or y + h >= ph:
            # Cut at the frame edge (image.fill says so): a part is missing by framing, and
            # the outline cannot be aligned with the packshot's.
            box = tuple(round(v / scale) for v in (x, y, w, h))
            return [ImageFinding(
                "image.product_match.skipped", "info",
                "product touches the frame edge, so it was not compared with the packshot", box,
            )], box  # fmt: skip
        # The segmentation's box is the packshot's seg_box: place the whole crop around it.
        sx, sy, sw, sh = ref.seg_box
        kx, ky = w / scale / sw, h / scale / sh
        frame = (x / scale - sx * kx, y / scale - sy * ky, rw * kx, rh * ky)
    else:
        (x, y, w, h), score = locate(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), ref)
        frame = (x / scale, y / scale, w / scale, h / scale)
    if score < rules.min_locate_score:
        return [ImageFinding(
            "image.product_match.not_found", rules.severity,
            f"the SKU's product was not found in the image: best template match"
            f" {score:.2f} (need >= {rules.min_locate_score:.2f})",
            None, "re-render from the SKU's packshot", score, rules.min_locate_score,
        )], None  # fmt: skip

    # Work size: at most WORK, and never larger than the product is in the image.
    side = min(WORK, round(max(frame[2], frame[3])))
    if side < MIN_WORK:
        return [ImageFinding(
            "image.product_match.skipped", "info",
            f"product is {side} px in the image, too small to compare with the packshot",
            _clip(frame, (width, height)),
        )], _clip(frame, (width, height))  # fmt: skip
    f = side / max(rw, rh)
    tw, th = max(GRID * 4, round(rw * f)), max(GRID * 4, round(rh * f))
    sized = _sized(ref, tw, th)
    mask = sized.mask
    # Read the product from the proxy when it has a pixel for every work pixel: it is the
    # same box-filtered average, without reading the full-resolution pixels again.
    source, k = img, 1.0
    if min(frame[2] / tw, frame[3] / th) * scale >= 1:
        # The proxy's exact reduction factor: ``scale`` is its rounded-up width over the image's.
        source, k = Image.fromarray(rgb), 1 / round(width / rgb.shape[1])
    moved, _ = _refine(source, tuple(v * k for v in frame), sized)
    frame = tuple(v / k for v in moved)
    located = _clip(frame, (width, height))
    pad = 4 if on_white else 0
    sample, inside = _sample(source, moved, (tw, th), pad)
    if sample is None:
        return [], located
    img_rgb = sample[pad : pad + th, pad : pad + tw]
    visible = inside[pad : pad + th, pad : pad + tw]
    share = float((mask & visible).sum() / max(1, mask.sum()))
    if share < MIN_VISIBLE:
        return [ImageFinding(
            "image.product_match.skipped", "info",
            f"only {share * 100:.0f} % of the product is inside the frame, so it was not"
            " compared with the packshot", located,
        )], located  # fmt: skip
    silhouette, aspect_change = None, 0.0
    if on_white:
        red, green, blue = cv2.split(sample)
        obj = cv2.min(cv2.min(red, green), blue) < 255 - object_threshold
        got = _fill_holes(obj)[pad : pad + th, pad : pad + tw]
        ref_sil = cv2.resize(ref.seg_mask.astype(np.uint8), (tw, th),
                             interpolation=cv2.INTER_NEAREST) > 0  # fmt: skip
        silhouette = (ref_sil, got)
        _, _, w, h = seg.product_bbox
        ref_aspect = ref.seg_box[2] / ref.seg_box[3]
        aspect_change = abs(w / h - ref_aspect) / ref_aspect

    def to_image(box: BBox) -> BBox:
        ax, ay = frame[2] / tw, frame[3] / th
        return _clip((frame[0] + box[0] * ax, frame[1] + box[1] * ay, box[2] * ax, box[3] * ay),
                     (width, height))  # fmt: skip

    found = compare(sized, img_rgb, visible, rules, to_image, silhouette, aspect_change)
    return found, located


def _clip(frame: FBox, size: tuple[int, int]) -> BBox:
    x0, y0 = max(0, round(frame[0])), max(0, round(frame[1]))
    x1 = min(size[0], round(frame[0] + frame[2]))
    y1 = min(size[1], round(frame[1] + frame[3]))
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)
