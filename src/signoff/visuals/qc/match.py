"""``image.product_match``: is the product in the image the SKU's packshot?

Locate: on a light background the segmentation's product box; on a scene, template matching of
edge maps (Sobel magnitude: colour-blind, so a recoloured product is still found) over ~25
scales at 320 px, refined at proxy scale. Then the crop is resized onto the packshot's box and
compared: silhouette (white backgrounds), dominant colours (k-means in Lab, CIEDE2000 with the
packshot as reference), a 4x4 grid of median colours (a missing lid or recoloured part), and
SSIM per grid cell (label text and detail).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.color import deltaE_ciede2000
from skimage.metrics import structural_similarity

from signoff.channels.image_qc import ProductMatchQC
from signoff.visuals.qc._pixels import to_lab
from signoff.visuals.qc.findings import BBox, ImageFinding
from signoff.visuals.qc.segment import Segmentation, segment

WORK = 256  # compare at this long side: label text is still ~20 px tall
GRID = 6  # cells of ~1/6 of the product: a label line or a lid is one or two cells
SEARCH_SIDE = 192  # coarse search size: the smallest product searched is 23 px tall


@dataclass(frozen=True, slots=True)
class Reference:
    rgb: np.ndarray  # the packshot's product crop (proxy scale), uint8
    mask: np.ndarray  # bool, same shape


def reference(packshot_rgb: np.ndarray) -> Reference | None:
    seg = segment(packshot_rgb)
    if seg.product_bbox is None or min(seg.product_bbox[2:]) < 8:
        return None
    x, y, w, h = seg.product_bbox
    return Reference(packshot_rgb[y : y + h, x : x + w], seg.product[y : y + h, x : x + w])


def _edges(rgb: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mag = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    return cv2.GaussianBlur(mag, (0, 0), 1.0)


def _window_std(sums: tuple[np.ndarray, np.ndarray], tw: int, th: int) -> np.ndarray:
    """Standard deviation of every tw x th window (top-left anchored, like matchTemplate)."""
    out = []
    for integral in sums:
        out.append(
            integral[th:, tw:] - integral[:-th, tw:] - integral[th:, :-tw] + integral[:-th, :-tw]
        )
    n = tw * th
    return np.sqrt(np.maximum(out[1] / n - (out[0] / n) ** 2, 0))


def _match(edges: np.ndarray, ref_rgb: np.ndarray, sizes: list[tuple[int, int]]):
    best = (-2.0, (0, 0, 1, 1))
    # Normalised correlation is 0/0 on a flat window (a JPEG q20 sky) and OpenCV reports 1
    # there: windows with almost no edges cannot hold the product.
    sums = cv2.integral2(edges, sdepth=cv2.CV_64F)
    floor = 0.1 * float(edges.std())
    for tw, th in sizes:
        if tw < 8 or th < 8 or tw > edges.shape[1] or th > edges.shape[0]:
            continue
        templ = _edges(cv2.resize(ref_rgb, (tw, th), interpolation=cv2.INTER_AREA))
        if float(templ.std()) < 1e-3:
            continue
        res = cv2.matchTemplate(edges, templ, cv2.TM_CCOEFF_NORMED)
        res[(_window_std(sums, tw, th) < floor) | ~np.isfinite(res)] = -1
        _, score, _, (x, y) = cv2.minMaxLoc(res)
        if score > best[0]:
            best = (float(score), (x, y, tw, th))
    return best


def locate(rgb: np.ndarray, ref: Reference) -> tuple[BBox, float]:
    """(box in ``rgb`` px, match score) of the product on a scene."""
    height, width = rgb.shape[:2]
    f = min(1.0, SEARCH_SIDE / max(height, width))
    small = cv2.resize(rgb, (max(1, round(width * f)), max(1, round(height * f))), cv2.INTER_AREA)
    aspect = ref.mask.shape[1] / ref.mask.shape[0]
    sizes, th = [], 0.12 * small.shape[0]
    while th <= small.shape[0] and th * aspect <= small.shape[1]:
        sizes.append((round(th * aspect), round(th)))
        th *= 1.12
    sizes.append((min(small.shape[1], round(small.shape[0] * aspect)), small.shape[0]))
    # Templates for the coarse pass come from a copy no bigger than the search image.
    shrink = min(1.0, small.shape[0] / ref.rgb.shape[0], small.shape[1] / ref.rgb.shape[1])
    coarse_ref = cv2.resize(
        ref.rgb,
        (max(1, round(ref.rgb.shape[1] * shrink)), max(1, round(ref.rgb.shape[0] * shrink))),
        interpolation=cv2.INTER_AREA,
    )
    score, (x, y, w, h) = _match(_edges(small), coarse_ref, sizes)
    if score < -1:
        return (0, 0, width, height), -1.0
    # Refine at full proxy scale in a window around the coarse hit.
    x, y, w, h = (round(v / f) for v in (x, y, w, h))
    pad_x, pad_y = w // 6 + 4, h // 6 + 4
    x0, y0 = max(0, x - pad_x), max(0, y - pad_y)
    x1, y1 = min(width, x + w + pad_x), min(height, y + h + pad_y)
    window = _edges(rgb[y0:y1, x0:x1])
    fine = [(round(w * s), round(h * s)) for s in (0.96, 1.0, 1.04)]
    fscore, (fx, fy, fw, fh) = _match(window, ref.rgb, fine)
    if fscore >= score:
        return (x0 + fx, y0 + fy, fw, fh), fscore
    return (x, y, w, h), score


def _palette(lab: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(k x 3 centres, weights) of Lab pixels, largest first."""
    if len(lab) > 4000:
        lab = lab[np.linspace(0, len(lab) - 1, 4000).astype(int)]
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


def compare(
    ref: Reference,
    crop: np.ndarray,
    crop_mask: np.ndarray | None,
    rules: ProductMatchQC,
    to_image: callable,
) -> list[ImageFinding]:
    """Findings on ``crop`` (the located product) against ``ref``; ``to_image`` maps a box in
    the normalised crop (WORK px) to the checked image's px."""
    out: list[ImageFinding] = []
    rh, rw = ref.mask.shape
    f = WORK / max(rh, rw)
    tw, th = max(GRID * 4, round(rw * f)), max(GRID * 4, round(rh * f))
    ref_rgb = cv2.resize(ref.rgb, (tw, th), interpolation=cv2.INTER_AREA)
    mask = cv2.resize(ref.mask.astype(np.uint8), (tw, th), interpolation=cv2.INTER_NEAREST) > 0
    img_rgb = cv2.resize(crop, (tw, th), interpolation=cv2.INTER_AREA)
    inner = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if inner.sum() < 32:
        return out

    if crop_mask is not None:
        ref_aspect, img_aspect = rw / rh, crop_mask.shape[1] / crop_mask.shape[0]
        change = abs(img_aspect - ref_aspect) / ref_aspect
        got = cv2.resize(crop_mask.astype(np.uint8), (tw, th), interpolation=cv2.INTER_NEAREST)
        iou = float((mask & (got > 0)).sum() / max(1, (mask | (got > 0)).sum()))
        if change > rules.max_aspect_change or iou < rules.min_silhouette_iou:
            out.append(
                ImageFinding(
                    "image.product_match.shape",
                    rules.severity,
                    f"product outline differs from the packshot: silhouette IoU {iou:.2f}"
                    f" (need >= {rules.min_silhouette_iou:.2f}), box aspect changed by"
                    f" {change * 100:.0f} % (limit {rules.max_aspect_change * 100:.0f} %);"
                    " a part may be missing or added",
                    to_image((0, 0, tw, th)),
                    "re-render from the SKU's packshot; do not let the generator redraw the"
                    " product",
                    iou,
                    rules.min_silhouette_iou,
                )
            )

    ref_lab, img_lab = to_lab(ref_rgb), to_lab(img_rgb)
    ref_c, ref_w = _palette(ref_lab[inner])
    img_c, _ = _palette(img_lab[inner])
    worst, pair = 0.0, (ref_c[0], img_c[0])
    for centre, weight in zip(ref_c, ref_w, strict=True):
        if weight < 0.15:
            continue
        de = deltaE_ciede2000(np.repeat(centre[None], len(img_c), 0), img_c)
        if float(de.min()) > worst:
            worst, pair = float(de.min()), (centre, img_c[int(de.argmin())])
    if worst > rules.max_delta_e:
        out.append(
            ImageFinding(
                "image.product_match.colour",
                rules.severity,
                f"product colour differs from the packshot: dominant colour {_hex(pair[0])} is"
                f" {_hex(pair[1])} here, CIEDE2000 {worst:.1f} (limit {rules.max_delta_e:g});"
                " a different colourway?",
                to_image((0, 0, tw, th)),
                "re-render from the packshot of this SKU's colourway",
                worst,
                rules.max_delta_e,
            )
        )

    # Per cell: median colour and mean SSIM inside the product (the scene around it excluded).
    g_ref = cv2.cvtColor(ref_rgb, cv2.COLOR_RGB2GRAY)
    g_img = np.where(mask, cv2.cvtColor(img_rgb, cv2.COLOR_RGB2GRAY), g_ref)
    _, ssim_map = structural_similarity(
        g_ref,
        g_img,
        data_range=255,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        full=True,
    )
    boxes, ref_med, img_med, ssims = [], [], [], []
    for row in range(GRID):
        for col in range(GRID):
            ys = slice(row * th // GRID, (row + 1) * th // GRID)
            xs = slice(col * tw // GRID, (col + 1) * tw // GRID)
            cell = inner[ys, xs]
            if cell.mean() < 0.3:
                continue
            boxes.append((xs.start, ys.start, xs.stop - xs.start, ys.stop - ys.start))
            ref_med.append(np.median(ref_lab[ys, xs][cell], axis=0))
            img_med.append(np.median(img_lab[ys, xs][cell], axis=0))
            ssims.append(float(ssim_map[ys, xs][cell].mean()))
    if not boxes:
        return out
    cell_de = deltaE_ciede2000(np.array(ref_med), np.array(img_med))  # one call: ~20x faster
    worst_de = (float(cell_de.max()), boxes[int(cell_de.argmax())])
    worst_ssim = (min(ssims), boxes[int(np.argmin(ssims))])
    if worst_de[0] > rules.max_cell_delta_e and worst <= rules.max_delta_e:
        out.append(
            ImageFinding(
                "image.product_match.part",
                rules.severity,
                f"part of the product differs from the packshot: CIEDE2000 {worst_de[0]:.1f}"
                f" in one region (limit {rules.max_cell_delta_e:g}); a missing or changed part?",
                to_image(worst_de[1]),
                "re-render from the packshot; check the region for a missing lid, cap or part",
                worst_de[0],
                rules.max_cell_delta_e,
            )
        )
    if worst_ssim[0] < rules.min_detail_ssim:
        out.append(
            ImageFinding(
                "image.product_match.detail",
                rules.severity,
                f"label or detail differs from the packshot: SSIM {worst_ssim[0]:.2f} in one"
                f" region (need >= {rules.min_detail_ssim:.2f}); changed label text or artwork?",
                to_image(worst_ssim[1]),
                "re-render from the packshot so the label is copied, not redrawn",
                worst_ssim[0],
                rules.min_detail_ssim,
            )
        )
    return out


def match_findings(
    rgb: np.ndarray, seg: Segmentation, ref: Reference, rules: ProductMatchQC, to_image
) -> tuple[list[ImageFinding], BBox | None]:
    """Findings and the product's box in ``rgb`` px (None when it was not found)."""
    if seg.on_light and seg.product_bbox is not None:
        x, y, w, h = seg.product_bbox
        height, width = rgb.shape[:2]
        if x == 0 or y == 0 or x + w >= width or y + h >= height:
            # Cut at the frame edge (image.fill says so): a part is missing by framing, and
            # the outline cannot be aligned with the packshot's.
            return [
                ImageFinding(
                    "image.product_match.skipped",
                    "info",
                    "product touches the frame edge, so it was not compared with the packshot",
                    to_image((x, y, w, h)),
                )
            ], (x, y, w, h)
        crop, crop_mask, score = rgb[y : y + h, x : x + w], seg.product[y : y + h, x : x + w], 1.0
    else:
        (x, y, w, h), score = locate(rgb, ref)
        crop, crop_mask = rgb[y : y + h, x : x + w], None
    if score < rules.min_locate_score or crop.size == 0:
        return [
            ImageFinding(
                "image.product_match.not_found",
                rules.severity,
                f"the SKU's product was not found in the image: best template match"
                f" {score:.2f} (need >= {rules.min_locate_score:.2f})",
                None,
                "re-render from the SKU's packshot",
                score,
                rules.min_locate_score,
            )
        ], None

    def crop_to_image(box: BBox) -> BBox:
        sx, sy = w / crop_width, h / crop_height
        return to_image(
            (
                x + round(box[0] * sx),
                y + round(box[1] * sy),
                max(1, round(box[2] * sx)),
                max(1, round(box[3] * sy)),
            )
        )

    rh, rw = ref.mask.shape
    f = WORK / max(rh, rw)
    crop_width, crop_height = max(GRID * 4, round(rw * f)), max(GRID * 4, round(rh * f))
    return compare(ref, crop, crop_mask, rules, crop_to_image), (x, y, w, h)
