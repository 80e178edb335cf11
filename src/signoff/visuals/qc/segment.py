"""Product vs background on a light background, on the proxy.

Objects are pixels further from white than ``object_threshold`` on their darkest channel;
enclosed gaps (a cream label inside a vessel) are filled; everything reachable from the frame
border through non-object pixels is background. The largest object, with any object whose box
overlaps it (a lid separated by a highlight), is the product.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from signoff.visuals.qc._pixels import bbox_of, components, labelled
from signoff.visuals.qc.findings import BBox

LIGHT_BORDER = 235  # darkest channel above this: a light, white-ish border pixel
MIN_OBJECT_SHARE = 0.0002  # smaller specks are noise, not objects


@dataclass(frozen=True, slots=True)
class Segmentation:
    white_border: float  # share of border pixels that are light (a packshot-style frame)
    objects: np.ndarray  # bool, every object (holes filled)
    product: np.ndarray  # bool, the product's pixels
    product_bbox: BBox | None  # proxy px
    background: np.ndarray  # bool, background away from object edges
    extras: list[BBox]  # other objects' boxes (badges, props), proxy px
    darkest: np.ndarray  # uint8, each pixel's darkest channel (white when all are >= 255 - t)

    @property
    def on_light(self) -> bool:
        return self.white_border >= 0.6


def segment(rgb: np.ndarray, object_threshold: int = 40, ring: int = 3) -> Segmentation:
    height, width = rgb.shape[:2]
    red, green, blue = cv2.split(rgb)
    darkest = cv2.min(cv2.min(red, green), blue)  # numpy's min over axis 2 is ~10x slower
    border = np.concatenate([darkest[0], darkest[-1], darkest[:, 0], darkest[:, -1]])
    white_border = float((border > LIGHT_BORDER).mean())

    obj = darkest < 255 - object_threshold
    # Fill holes: non-object regions count as background only when they reach a light pixel
    # on the frame border, so a cream label of a product cut at the edge stays product.
    count, labels, _ = components((~obj).astype(np.uint8), 4, stats=False)
    edge_labels = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    seeds = np.zeros(count, bool)
    seeds[edge_labels[border > LIGHT_BORDER]] = True
    seeds[0] = False  # label 0 is the objects themselves
    outside = labelled(labels, seeds)
    objects = ~outside

    count, labels, stats = components(objects.astype(np.uint8), 8)
    min_area = max(4, int(MIN_OBJECT_SHARE * height * width))
    keep = 1 + np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= min_area)
    product = np.zeros_like(objects)
    extras: list[BBox] = []
    if keep.size:
        main = int(keep[np.argmax(stats[keep, cv2.CC_STAT_AREA])])
        mx, my, mw, mh = (int(v) for v in stats[main, :4])
        members = np.zeros(count, bool)
        for i in keep:
            x, y, w, h = (int(v) for v in stats[i, :4])
            if x < mx + mw and mx < x + w and y < my + mh and my < y + h:
                members[i] = True
            else:
                extras.append((x, y, w, h))
        product = labelled(labels, members)

    # Antialiasing and JPEG ringing live within a few px of an edge: not background.
    grown = cv2.dilate(objects.astype(np.uint8), np.ones((2 * ring + 1, 2 * ring + 1), np.uint8))
    background = outside & (grown == 0)
    return Segmentation(
        white_border, objects, product, bbox_of(product), background, extras, darkest
    )
