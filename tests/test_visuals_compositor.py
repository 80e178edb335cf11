"""Cut-out, the builtin compositor provider and pure edits: offline, deterministic, no DB."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from signoff.visuals import edits
from signoff.visuals.cutout import CutoutRefused, cut_out
from signoff.visuals.imaging import sha256_of
from signoff.visuals.providers.builtin import BuiltinImageProvider
from signoff.visuals.providers.port import (
    COMPOSITE_SYNTHETIC,
    Direction,
    ImageEditRequest,
    ImageInput,
    ImageRefused,
    ImageRequest,
)

PALETTE = ("#2B2A28", "#C9A27E", "#EFE6DA", "#8A5A3B")
EMBER = Path(__file__).resolve().parents[2] / "shared/examples/lumen-home/references"


def _jar(background=(255, 255, 255), size=(480, 480)) -> Image.Image:
    """A small packshot: a dark jar with a light label on a plain backdrop."""
    img = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((140, 90, 340, 400), radius=30, fill=(58, 58, 60))
    draw.rectangle((175, 200, 305, 290), fill=(242, 238, 230))
    draw.rectangle((190, 230, 290, 240), fill=(40, 48, 44))
    return img


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def packshot() -> ImageInput:
    data = _png(_jar())
    return ImageInput(sha256=sha256_of(data), kind="packshot", data=data)


def _request(packshot: ImageInput, **overrides) -> ImageRequest:
    values = {
        "sku": "EMB-14",
        "product_name": "Ember & Oak candle",
        "prompt": "warm evening scene",
        "direction": Direction(palette=PALETTE),
        "packshots": (packshot,),
        "n": 3,
        "size": (320, 400),
        "seed": 11,
    }
    return ImageRequest(**(values | overrides))


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


# --- cut-out ---------------------------------------------------------------------------------


def test_cut_out_plain_background():
    cut = cut_out(_jar())
    x, y, w, h = cut.bbox
    assert abs(x - 140) <= 1
    assert abs(y - 90) <= 1
    assert abs(w - 201) <= 2
    assert abs(h - 311) <= 2
    alpha = np.asarray(cut.rgba.getchannel("A"))
    assert alpha[0].max() == 0
    assert alpha[:, 0].max() == 0
    assert alpha[245, 240] == 255  # the light label inside the jar stays product
    assert cut.background == (255, 255, 255)


def test_cut_out_soft_edge_has_intermediate_alpha():
    img = Image.new("RGB", (400, 400), "white")
    ImageDraw.Draw(img).ellipse((100, 100, 300, 300), fill=(30, 30, 30))
    big = img.resize((200, 200), Image.Resampling.LANCZOS)  # anti-aliased edge
    alpha = np.asarray(cut_out(big).rgba.getchannel("A"))
    partial = ((alpha > 0) & (alpha < 255)).sum()
    assert partial > 50  # no hard stair-step edge


def test_cut_out_uses_real_alpha():
    img = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(img).rectangle((10, 20, 49, 79), fill=(200, 10, 10, 255))
    cut = cut_out(img)
    assert cut.bbox == (10, 20, 40, 60)
    assert cut.background is None


def test_cut_out_refuses_a_busy_photo():
    noise = np.random.default_rng(3).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    with pytest.raises(CutoutRefused, match="not plain"):
        cut_out(Image.fromarray(noise))


def test_cut_out_refuses_a_cropped_product():
    img = Image.new("RGB", (200, 200), "white")
    ImageDraw.Draw(img).rectangle((0, 0, 120, 120), fill=(20, 20, 20))  # touches top and left
    with pytest.raises(CutoutRefused, match="touches the top and left edges"):
        cut_out(img)


def test_cut_out_refuses_a_ragged_mask():
    img = Image.new("RGB", (300, 300), "white")
    draw = ImageDraw.Draw(img)
    for i in range(30):  # a comb: the outline is many times its hull
        draw.rectangle((60 + i * 6, 60, 62 + i * 6, 240), fill=(20, 20, 20))
    with pytest.raises(CutoutRefused, match="ragged"):
        cut_out(img)


# --- provider --------------------------------------------------------------------------------


def test_no_packshot_refused(packshot):
    with pytest.raises(ImageRefused, match="no packshot"):
        BuiltinImageProvider().generate(_request(packshot, packshots=()))


def test_uncuttable_packshot_refused():
    noise = np.random.default_rng(4).integers(0, 255, (120, 120, 3), dtype=np.uint8)
    data = _png(Image.fromarray(noise))
    busy = ImageInput(sha256=sha256_of(data), kind="packshot", data=data)
    with pytest.raises(ImageRefused, match="cannot be cut out cleanly"):
        BuiltinImageProvider().generate(_request(busy))


def test_edit_by_prompt_refused():
    with pytest.raises(ImageRefused, match="use background, upscale or crop"):
        BuiltinImageProvider().edit(ImageEditRequest(image=b"", prompt="make it blue"))


def test_scene_result_is_recorded(packshot):
    result = BuiltinImageProvider().generate(_request(packshot))
    assert (result.provider, result.model, result.cost) == ("builtin", "compositor-1", 0.0)
    assert result.prompt.startswith(f"builtin compositor: packshot {packshot.sha256[:12]} cut out")
    assert "#2B2A28" in result.prompt
    assert [image.seed for image in result.images] == [11, 12, 13]
    for image in result.images:
        assert image.digital_source_type == COMPOSITE_SYNTHETIC
        assert image.data.startswith(b"\x89PNG")
        assert b"compositeSynthetic" in image.data  # XMP travels with the file
        assert Image.open(io.BytesIO(image.data)).size == (320, 400)
        assert {"position", "scale", "light", "pairing", "palette"} <= set(image.parameters)


def test_same_seed_same_bytes_and_options_differ(packshot):
    provider = BuiltinImageProvider()
    first = provider.generate(_request(packshot))
    again = provider.generate(_request(packshot))
    assert [i.data for i in first.images] == [i.data for i in again.images]
    assert len({i.data for i in first.images}) == 3
    framings = {
        (i.parameters["position"], i.parameters["pairing"], i.parameters["light"])
        for i in first.images
    }
    assert len(framings) == 3
    other = provider.generate(_request(packshot, seed=12, n=1))
    assert other.images[0].data == first.images[1].data  # option i is seed + i
    assert provider.generate(_request(packshot, seed=99, n=1)).images[0].data not in {
        i.data for i in first.images
    }


def test_product_pixels_are_the_packshot_unchanged(packshot):
    result = BuiltinImageProvider().generate(_request(packshot, n=2))
    cut = cut_out(_jar())
    bx, by, bw, bh = cut.bbox
    for image in result.images:
        x, y, w, h = image.parameters["product_box"]
        expected = cut.rgba.crop((bx, by, bx + bw, by + bh)).resize(
            (w, h), Image.Resampling.LANCZOS
        )
        exp = np.asarray(expected).astype(int)
        opaque = exp[..., 3] == 255
        got = _pixels(image.data)[y : y + h, x : x + w]
        assert opaque.sum() > 0.8 * w * h * 0.5
        assert np.abs(got[opaque] - exp[..., :3][opaque]).max() <= 1


def test_product_sits_on_the_surface_with_a_shadow(packshot):
    image = BuiltinImageProvider().generate(_request(packshot, n=1)).images[0]
    x, y, w, h = image.parameters["product_box"]
    px = _pixels(image.data).sum(axis=2)
    below = px[y + h + 2 : y + h + 6, x + w // 4 : x + 3 * w // 4].mean()
    far = px[y + h + 2 : y + h + 6, 2:8].mean()
    assert below < far  # darker right under the product: it is not floating


def test_negative_space_keeps_the_top_third_clear(packshot):
    direction = Direction(palette=PALETTE, negative_space=True)
    result = BuiltinImageProvider().generate(_request(packshot, direction=direction, n=4))
    for image in result.images:
        _, y, _, _ = image.parameters["product_box"]
        assert y >= 400 / 3
    assert "top third kept clear" in result.prompt


def test_brand_example_tints_the_scene(packshot):
    data = _png(Image.new("RGB", (200, 120), (40, 90, 160)))
    example = ImageInput(sha256=sha256_of(data), kind="brand_example", data=data)
    plain = BuiltinImageProvider().generate(_request(packshot, n=1))
    tinted = BuiltinImageProvider().generate(_request(packshot, n=1, references=(example,)))
    assert tinted.images[0].parameters["tinted_by"] == example.sha256

    def blueness(data: bytes) -> int:
        r, _, b = _pixels(data)[5:20, 5:20].reshape(-1, 3).mean(axis=0)
        return b - r

    assert blueness(tinted.images[0].data) > blueness(plain.images[0].data) + 5


@pytest.mark.parametrize("fill", [0.85, 0.6])
def test_main_white_is_pure_white_at_the_requested_fill(packshot, fill):
    request = _request(packshot, purpose="main_white", fill=fill, size=(500, 500), n=1)
    image = BuiltinImageProvider().generate(request).images[0]
    px = _pixels(image.data)
    border = np.concatenate([px[0], px[-1], px[:, 0], px[:, -1]])
    assert (border == 255).all()
    non_white = np.argwhere((px < 255).any(axis=2))
    (y0, x0), (y1, x1) = non_white.min(axis=0), non_white.max(axis=0)
    measured = max(x1 - x0 + 1, y1 - y0 + 1) / 500
    assert abs(measured - fill) <= 0.01
    # No shadow: everything beyond one pixel of the product box is exact white.
    x, y, w, h = image.parameters["product_box"]
    outside = np.ones(px.shape[:2], bool)
    outside[max(y - 1, 0) : y + h + 1, max(x - 1, 0) : x + w + 1] = False
    assert (px[outside] == 255).all()
    assert image.digital_source_type == COMPOSITE_SYNTHETIC


@pytest.mark.skipif(not (EMBER / "ember-packshot.png").exists(), reason="shared examples absent")
def test_real_packshot_composites():
    data = (EMBER / "ember-packshot.png").read_bytes()
    shot = ImageInput(sha256=sha256_of(data), kind="packshot", data=data)
    result = BuiltinImageProvider().generate(_request(shot, n=2, size=(256, 256)))
    assert len(result.images) == 2
    assert result.parameters["cutout_bbox"][2] > 1000


# --- edits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "corner"),
    [("white", (255, 255, 255, 255)), ("#112233", (17, 34, 51, 255)), ("transparent", 0)],
)
def test_replace_background(target, corner):
    img = _jar(background=(236, 232, 226))
    result, parameters, note = edits.replace_background(img, target)
    pixel = result.getpixel((2, 2))
    if target == "transparent":
        assert result.mode == "RGBA"
        assert pixel[3] == 0
    else:
        assert pixel == corner[:3]
    assert parameters["method"] == "cutout"
    assert "background replaced" in note


def test_replace_background_refusals():
    with pytest.raises(edits.EditRefused, match="white, transparent or #RRGGBB"):
        edits.replace_background(_jar(), "sky blue")
    noise = np.random.default_rng(5).integers(0, 255, (100, 100, 3), dtype=np.uint8)
    with pytest.raises(edits.EditRefused, match="cannot be cut out cleanly"):
        edits.replace_background(Image.fromarray(noise), "white")


def test_upscale():
    result, parameters, note = edits.upscale(Image.new("RGB", (30, 20)), 2)
    assert result.size == (60, 40)
    assert parameters["upscaled"] is True
    assert parameters["method"] == "lanczos"
    assert "Lanczos" in note
    with pytest.raises(edits.EditRefused, match="use 2 or 4"):
        edits.upscale(Image.new("RGB", (30, 20)), 3)


def test_crop():
    result, parameters, _ = edits.crop(Image.new("RGB", (100, 80)), 10, 20, 30, 40)
    assert result.size == (30, 40)
    assert parameters["x"] == 10
    with pytest.raises(edits.EditRefused, match="outside the 100 x 80 image"):
        edits.crop(Image.new("RGB", (100, 80)), 90, 0, 20, 10)
    with pytest.raises(edits.EditRefused, match="empty"):
        edits.crop(Image.new("RGB", (100, 80)), 0, 0, 0, 10)
