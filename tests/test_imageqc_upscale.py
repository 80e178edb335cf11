"""``image.upscaled`` on real renditions and real enlargements: every slot rendered from a large
textured master is native (no finding), and Lanczos / bicubic enlargements of a sharp source
are found with their true resolution."""

from __future__ import annotations

import io
import re
from functools import lru_cache

import pytest
from imageqc_samples import jpeg, packshot, scene, scene_box
from PIL import Image

from signoff.channels.catalog import load_catalog
from signoff.visuals import edits
from signoff.visuals.qc import check_image
from signoff.visuals.renditions import render, rendered_bbox

MASTER_SIDE = 3600  # every slot downscales from it, the A2 poster (3543 px tall) included
SLOTS = [
    (channel, slot)
    for channel, spec in sorted(load_catalog().items())
    if spec.images is not None
    for slot in spec.images.slots
]


@lru_cache(maxsize=1)
def _master() -> tuple[Image.Image, tuple[int, int, int, int]]:
    """A textured scene (grain, bokeh, the product) and where the product is."""
    size = (MASTER_SIDE, MASTER_SIDE)
    return scene(packshot(), size, 0.4, seed=3), scene_box(packshot(), size, 0.4)


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


@pytest.mark.parametrize(
    ("channel", "slot"), SLOTS, ids=[f"{channel}.{slot.id}" for channel, slot in SLOTS]
)
def test_renditions_of_a_large_master_are_not_called_enlarged(channel, slot):
    # pad_white slots start from the packshot on white (3000 px), cover slots from the scene.
    if slot.fit == "pad_white":
        master, box = packshot(), None
    else:
        master, box = _master()
    made = render(master, slot, product_bbox=box, digital_source_type=None)
    assert not [note for note in made.notes if "upscaled" in note]
    img = _open(made.data)

    findings = check_image(
        img,
        load_catalog()[channel].images.qc,
        main=slot.fit == "pad_white",
        packshot=packshot(),
        product_bbox=rendered_bbox(master.size, slot, box),
    )

    assert [f.message for f in findings if f.family == "image.upscaled"] == []


def _sharp_crop(side: int) -> Image.Image:
    """Native pixels: a crop of the master around the product's label."""
    master, (x, y, w, h) = _master()
    cx, cy = x + w // 2, y + h // 2
    return master.crop((cx - side // 2, cy - side // 2, cx + (side + 1) // 2, cy + (side + 1) // 2))


@pytest.mark.parametrize(
    ("source_side", "enlarge"),
    [
        pytest.param(1000, lambda img: edits.upscale(img, 2)[0], id="lanczos 2x (upscale edit)"),
        pytest.param(500, lambda img: edits.upscale(img, 4)[0], id="lanczos 4x (upscale edit)"),
        pytest.param(500, lambda img: img.resize((2000, 2000), Image.BICUBIC), id="bicubic 4x"),
        pytest.param(1334, lambda img: img.resize((2000, 2000), Image.BICUBIC), id="bicubic 1.5x"),
    ],
)
def test_enlargements_are_found_with_their_true_resolution(source_side, enlarge):
    img = jpeg(enlarge(_sharp_crop(source_side)), 90)

    findings = check_image(img, load_catalog()["google_merchant"].images.qc, main=False)

    (found,) = [f for f in findings if f.family == "image.upscaled"]
    assert found.rule_id == "image.upscaled.enlarged"
    assert found.severity == "block"  # Google Merchant refuses upscaled images
    width, height = (
        int(v) for v in re.search(r"from about (\d+) x (\d+) px", found.message).groups()
    )
    assert abs(width / source_side - 1) <= 0.25, found.message
    assert abs(height / source_side - 1) <= 0.25, found.message
