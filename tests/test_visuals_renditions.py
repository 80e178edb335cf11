"""Channel renditions (signoff.visuals.renditions): crops, white padding, bytes, metadata."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image, ImageDraw

from signoff.channels.spec import ImageSlot
from signoff.visuals.imaging import srgb_icc_bytes
from signoff.visuals.providers.port import COMPOSITE_SYNTHETIC
from signoff.visuals.renditions import (
    RenditionError,
    _cover_window,
    render,
    render_all,
)

RED = (220, 20, 20)


def _slot(**values) -> ImageSlot:
    return ImageSlot(**({"id": "main", "width_px": 400, "height_px": 400} | values))


def _scene(size=(1200, 600), box=(850, 80, 200, 440)) -> Image.Image:
    """A gradient scene with a red 'product' at ``box`` (x, y, w, h)."""
    width, height = size
    ramp = np.linspace(90, 200, width, dtype=np.uint8)
    img = Image.fromarray(np.dstack([np.tile(ramp, (height, 1))] * 3), "RGB")
    x, y, w, h = box
    ImageDraw.Draw(img).rectangle((x, y, x + w - 1, y + h - 1), fill=RED)
    return img


def _packshot(background=(255, 255, 255)) -> Image.Image:
    img = Image.new("RGB", (800, 800), background)
    ImageDraw.Draw(img).rounded_rectangle((250, 150, 549, 699), radius=40, fill=(50, 50, 52))
    return img


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def _red_mask(img: Image.Image) -> np.ndarray:
    px = np.asarray(img.convert("RGB")).astype(int)
    return (px[..., 0] > 160) & (px[..., 1] < 90) & (px[..., 2] < 90)


def _fill(img: Image.Image) -> float:
    px = np.asarray(img.convert("RGB"))
    ys, xs = np.nonzero((px < 250).any(axis=2))
    return max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) / max(img.size)


def test_cover_window_always_holds_the_bbox():
    rng = random.Random(7)
    for _ in range(2000):
        width, height = rng.randint(50, 4000), rng.randint(50, 4000)
        bw, bh = rng.uniform(1, width), rng.uniform(1, height)
        bx, by = rng.uniform(0, width - bw), rng.uniform(0, height - bh)
        ratio = rng.choice([1.0, 0.8, 9 / 16, 2.0, 420 / 594, 1.91])
        wx, wy, ww, wh = _cover_window((width, height), ratio, (bx, by, bw, bh))
        assert abs(ww / wh - ratio) < 1e-6
        assert wx <= bx + 1e-6
        assert wy <= by + 1e-6
        assert wx + ww >= bx + bw - 1e-6
        assert wy + wh >= by + bh - 1e-6
        if bw <= min(width, height * ratio) and bh <= min(height, width / ratio):
            # The bbox fits a crop of this ratio: the window stays inside the image and is
            # the largest such window.
            assert wx >= -1e-6
            assert wy >= -1e-6
            assert wx + ww <= width + 1e-6
            assert wy + wh <= height + 1e-6
            assert max(ww / width, wh / height) > 1 - 1e-6


@pytest.mark.parametrize(("w", "h"), [(400, 400), (360, 640), (400, 500), (600, 300)])
def test_cover_crop_keeps_the_whole_product(w, h):
    master = _scene()
    made = render(
        master,
        _slot(width_px=w, height_px=h, format="png"),
        product_bbox=(850, 80, 200, 440),
        digital_source_type=None,
    )
    img = _open(made.data)
    assert img.size == (w, h)
    red = _red_mask(img)
    ys, xs = np.nonzero(red)
    # The product is whole: its red area in the output matches its scaled area.
    wx, wy, ww, wh = _cover_window(master.size, w / h, (850, 80, 200, 440))
    scale = w / ww
    assert abs(red.sum() - 200 * 440 * scale * scale) <= 0.05 * 200 * 440 * scale * scale
    assert xs.min() >= 0
    assert xs.max() <= w - 1


def test_cover_pads_when_no_crop_can_hold_the_product():
    master = _scene(box=(100, 20, 1000, 560))
    made = render(
        master,
        _slot(width_px=300, height_px=600, format="png"),
        product_bbox=(100, 20, 1000, 560),
        digital_source_type=None,
    )
    assert any("padded with the edge colour" in note for note in made.notes)
    red = _red_mask(_open(made.data))
    scale = 300 / 1000  # the window is as wide as the product
    assert abs(red.sum() - 1000 * 560 * scale * scale) <= 0.03 * 1000 * 560 * scale * scale
    assert red[0].sum() == 0  # padding above and below, none of the product lost
    assert red[-1].sum() == 0


@pytest.mark.parametrize("fill", [0.85, 0.88, 0.6])
def test_pad_white_from_a_white_master(fill):
    slot = _slot(fit="pad_white", fill=fill, width_px=1000, height_px=1000, quality=92)
    made = render(_packshot(), slot, product_bbox=None, digital_source_type=None)
    img = _open(made.data)
    px = np.asarray(img)
    border = np.concatenate([px[:3].reshape(-1, 3), px[-3:].reshape(-1, 3)])
    assert (border == 255).all()  # RGB 255 even after JPEG
    assert abs(_fill(img) - fill) <= 0.01
    assert made.format == "jpeg"


def test_pad_white_cuts_out_a_grey_backdrop():
    slot = _slot(fit="pad_white", fill=0.85, width_px=600, height_px=600, format="png")
    made = render(_packshot((200, 196, 190)), slot, product_bbox=None, digital_source_type=None)
    img = _open(made.data)
    px = np.asarray(img.convert("RGB"))
    assert (px[0] == 255).all()
    assert (px[:, -1] == 255).all()
    assert abs(_fill(img) - 0.85) <= 0.01
    assert any("cut-out" in note for note in made.notes)


def test_pad_white_refuses_a_busy_scene():
    noise = np.random.default_rng(2).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    with pytest.raises(RenditionError, match="cannot put this image on white"):
        render(
            Image.fromarray(noise),
            _slot(fit="pad_white", fill=0.85),
            product_bbox=None,
            digital_source_type=None,
        )


def test_byte_limit_lowers_quality_or_refuses():
    noise = np.random.default_rng(1).integers(0, 255, (500, 500, 3), dtype=np.uint8)
    master = Image.fromarray(noise)
    free = render(master, _slot(quality=90), product_bbox=None, digital_source_type=None)
    limit = int(free.bytes * 0.8)
    slot = _slot(quality=90, min_quality=40, max_bytes=limit)
    made = render(master, slot, product_bbox=None, digital_source_type=None)
    assert made.bytes <= limit
    assert made.bytes == len(made.data)
    assert made.quality < 90
    assert any("quality lowered from 90" in note for note in made.notes)
    with pytest.raises(RenditionError, match="smallest JPEG reached at quality 80 is"):
        render(
            master,
            _slot(quality=90, min_quality=80, max_bytes=5_000),
            product_bbox=None,
            digital_source_type=None,
        )


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "tiff"])
def test_metadata_icc_xmp_and_dpi(fmt):
    slot = _slot(format=fmt, dpi=150 if fmt != "webp" else None)
    made = render(_scene(), slot, product_bbox=None, digital_source_type=COMPOSITE_SYNTHETIC)
    assert b"Iptc4xmpExt:DigitalSourceType" in made.data
    assert COMPOSITE_SYNTHETIC.encode() in made.data
    img = _open(made.data)
    assert img.info.get("icc_profile") == srgb_icc_bytes()
    assert img.format == {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "tiff": "TIFF"}[fmt]
    if fmt != "webp":
        assert round(img.info["dpi"][0]) == 150
    plain = render(_scene(), slot, product_bbox=None, digital_source_type=None)
    assert b"DigitalSourceType" not in plain.data


def test_rgba_master_flattens_for_cover_and_uses_alpha_for_white():
    master = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(master).ellipse((100, 100, 300, 300), fill=(20, 120, 40, 255))
    cover = render(master, _slot(), product_bbox=None, digital_source_type=None)
    assert "alpha flattened onto white" in cover.notes
    white = render(
        master,
        _slot(fit="pad_white", fill=0.8, format="png"),
        product_bbox=None,
        digital_source_type=None,
    )
    assert abs(_fill(_open(white.data)) - 0.8) <= 0.01


def test_render_all_decodes_once_with_jpeg_draft():
    out = io.BytesIO()
    _packshot().resize((4000, 4000)).save(out, "JPEG", quality=95)
    slots = [
        _slot(id="main", fit="pad_white", fill=0.85, width_px=800, height_px=800),
        _slot(id="feed", width_px=500, height_px=625),
        _slot(id="tiny", width_px=100, height_px=100, max_bytes=10, min_quality=85),
    ]
    made = render_all(
        out.getvalue(),
        slots,
        product_bbox=(1250, 750, 1500, 2750),
        digital_source_type=COMPOSITE_SYNTHETIC,
    )
    main, feed = made["main"], made["feed"]
    assert any("JPEG draft" in note for note in main.notes)
    assert abs(_fill(_open(main.data)) - 0.85) <= 0.01
    assert _open(feed.data).size == (500, 625)
    assert isinstance(made["tiny"], RenditionError)
