"""Pixel QC (signoff.visuals.qc) on a labelled set made by code: every planted defect is found
by its family, no clean image is blocked, and odd inputs do not crash."""

from __future__ import annotations

import io

import numpy as np
import pytest
from imageqc_samples import (
    BRAND_PALETTE,
    packshot,
    real_packshot,
    real_samples,
    samples,
    set_members,
)
from PIL import Image

from signoff.channels.catalog import load_catalog
from signoff.channels.image_qc import ImageQCSpec
from signoff.channels.spec import PrintSpec
from signoff.visuals.qc import ImageFinding, check_image, check_set
from signoff.visuals.qc.signal import estimate_quality

SAMPLES = {sample.name: sample for sample in samples()}


def _run(sample) -> list[ImageFinding]:
    return check_image(
        sample.image,
        sample.spec,
        main=sample.main,
        packshot=sample.packshot,
        physical=sample.physical,
        jpeg_quantization=sample.quantization,
    )


@pytest.mark.parametrize("name", [n for n, s in SAMPLES.items() if s.expect])
def test_every_planted_defect_is_found_by_its_family(name):
    sample = SAMPLES[name]
    findings = _run(sample)

    found = {f.family for f in findings if f.severity != "info"}
    assert sample.expect <= found, [f.message for f in findings]
    assert found == sample.expect, f"other families fired: {[f.message for f in findings]}"
    for finding in findings:
        if finding.severity != "info":
            assert finding.measured is not None
            assert finding.limit is not None
            assert finding.suggested_fix


@pytest.mark.parametrize("name", [n for n, s in SAMPLES.items() if not s.expect])
def test_clean_images_get_no_blocking_finding(name):
    findings = _run(SAMPLES[name])

    assert [f for f in findings if f.severity == "block"] == []
    assert [f for f in findings if f.severity != "info"] == []


def test_messages_state_the_measured_value_and_the_limit():
    (fill,) = _run(SAMPLES["fill_low"])

    assert fill.rule_id == "image.fill.low"
    assert "product spans 60 % of the frame" in fill.message
    assert "at least 85 %" in fill.message
    assert fill.suggested_fix.startswith("pad on white to 88 % fill")
    assert fill.measured == pytest.approx(0.60, abs=0.01)
    assert fill.limit == 0.85


def test_boxes_point_at_the_planted_area_in_image_pixels():
    (background,) = _run(SAMPLES["bg_offwhite_patch"])
    x, y, w, h = background.bbox
    # The patch is drawn at (40, 1500)-(380, 1900) in the 2,000 px image; the proxy is 1/3.
    assert abs(x - 40) <= 9
    assert abs(y - 1500) <= 9
    assert abs(w - 341) <= 12
    assert abs(h - 401) <= 12

    (badge,) = _run(SAMPLES["badge_sale"])
    bx, by, bw, bh = badge.bbox
    assert 70 <= bx <= 390
    assert 70 <= by <= 390
    assert bx + bw <= 400


def test_colourway_and_label_changes_block():
    colour = [f for f in _run(SAMPLES["match_colourway"]) if f.family == "image.product_match"]
    label = [f for f in _run(SAMPLES["match_label"]) if f.family == "image.product_match"]

    assert {f.rule_id for f in colour} == {"image.product_match.colour"}
    assert {f.rule_id for f in label} == {"image.product_match.detail"}
    assert all(f.severity == "block" for f in colour + label)
    assert "CIEDE2000" in colour[0].message


def test_packaging_text_on_a_scene_is_not_an_overlay():
    findings = _run(SAMPLES["scene_clean"])

    assert not [f for f in findings if f.family == "image.text_overlay"]


def test_upscale_reports_the_true_resolution():
    (finding,) = _run(SAMPLES["upscaled_4x"])

    assert "500 x 500 px" in finding.message
    assert finding.suggested_fix == "re-render from the master instead of upscaling"


def test_jpeg_quality_is_read_from_the_quantization_tables():
    for quality in (10, 20, 50, 60, 75, 90, 95):
        buf = io.BytesIO()
        Image.new("RGB", (16, 16)).save(buf, "JPEG", quality=quality)
        assert estimate_quality(Image.open(buf).quantization) == (quality, 0.0)


def test_the_set_auditor_names_only_the_odd_image():
    members = set_members()
    findings = check_set({n: img for n, (img, _) in members.items()}, BRAND_PALETTE, ImageQCSpec())

    named = {f.message.split("'")[1] for f in findings}
    assert named == {"scene_cold"}
    kinds = {f.rule_id for f in findings}
    assert {"image.coherence.palette", "image.coherence.exposure"} <= kinds


def test_a_uniform_set_has_no_outlier():
    members = set_members()
    clean = {n: img for n, (img, odd) in members.items() if not odd}

    assert check_set(clean, BRAND_PALETTE, ImageQCSpec()) == []


def _spec_everything() -> ImageQCSpec:
    amazon = load_catalog()["amazon_us_pdp"].images.qc
    return amazon.model_copy(
        update={"text_overlay": amazon.text_overlay.model_copy(update={"applies": "all"})}
    )


@pytest.mark.parametrize(
    "img",
    [
        Image.new("RGB", (1, 1), "white"),
        Image.new("RGB", (2, 3), "black"),
        Image.new("RGB", (17, 17), "white"),
        Image.new("RGB", (800, 600), "white"),
        Image.new("RGB", (800, 600), "black"),
        Image.new("RGBA", (300, 300), (0, 0, 0, 0)),
        Image.new("L", (300, 200), 128),
        Image.new("P", (64, 64)),
        Image.new("I;16", (64, 64), 4000),
        Image.fromarray(np.random.default_rng(1).integers(0, 255, (257, 129, 3), np.uint8)),
    ],
    ids=["1x1", "2x3", "17-white", "white", "black", "rgba", "L", "P", "I16", "noise"],
)
def test_odd_inputs_do_not_crash(img):
    a2 = PrintSpec(width_mm=420, height_mm=594, min_ppi=150)
    spec = _spec_everything()

    for pack in (None, packshot(), Image.new("RGB", (5, 5), "white")):
        findings = check_image(img, spec, main=True, packshot=pack, physical=a2)
        assert all(isinstance(f, ImageFinding) for f in findings)
    check_set({"a": img, "b": img, "c": Image.new("RGB", (40, 40), "red")}, ["#FFFFFF"], spec)


def test_a_main_image_that_is_all_white_or_all_black_is_refused():
    spec = _spec_everything()
    white = check_image(Image.new("RGB", (800, 800), "white"), spec, main=True)
    black = check_image(Image.new("RGB", (800, 800), "black"), spec, main=True)

    assert "image.fill" in {f.family for f in white}
    assert "image.background" in {f.family for f in black}


# --- Real composites: the builtin compositor's scenes and their catalog renditions ----------

REAL = {sample.name: sample for sample in real_samples(full=False)}


def _run_real(sample, with_box: bool = True) -> list[ImageFinding]:
    return check_image(
        sample.image,
        ImageQCSpec(),
        main=False,
        packshot=real_packshot(),
        product_bbox=sample.product_bbox if with_box else None,
    )


@pytest.mark.parametrize("name", [n for n, s in REAL.items() if not s.expect])
def test_real_composites_and_renditions_are_not_blocked(name):
    findings = _run_real(REAL[name])

    assert [f.message for f in findings if f.severity == "block"] == []
    assert not [f for f in findings if f.family in ("image.product_match", "image.compression")
                and f.severity != "info"]  # fmt: skip


@pytest.mark.parametrize("name", [n for n, s in REAL.items() if s.expect])
def test_defects_planted_on_real_composites_are_blocked(name):
    findings = _run_real(REAL[name])

    blocked = {f.family for f in findings if f.severity == "block"}
    assert "image.product_match" in blocked, [f.message for f in findings]


@pytest.mark.parametrize("name", ["real_1024_s1", "real_2048_s2/jpeg85",
                                  "real_1024_s1/instagram_post.feed_4x5"])  # fmt: skip
def test_real_composites_pass_without_the_box_too(name):
    findings = _run_real(REAL[name], with_box=False)

    assert [f.message for f in findings if f.family == "image.product_match"] == []


def test_a_flat_png_packshot_is_not_called_jpeg_blocking():
    findings = check_image(real_packshot(), ImageQCSpec(), main=False, packshot=real_packshot())

    assert not [f for f in findings if f.family == "image.compression"]
    assert not [f for f in findings if f.severity != "info"]


def test_a_product_cut_by_the_frame_is_compared_on_its_visible_part():
    sample = REAL["real_2048_s1"]
    x, y, w, h = sample.product_bbox
    # Crop so a quarter of the product's width falls off the left edge.
    left = x + w // 4
    cut = sample.image.crop((left, 0, sample.image.width, sample.image.height))
    box = (x - left, y, w, h)
    findings = check_image(cut, ImageQCSpec(), main=False, packshot=real_packshot(),
                           product_bbox=box)  # fmt: skip

    assert [f.message for f in findings if f.family == "image.product_match"] == []
    # Mostly outside the frame: not compared, said so.
    gone = sample.image.crop((x + w * 3 // 4, 0, sample.image.width, sample.image.height))
    findings = check_image(gone, ImageQCSpec(), main=False, packshot=real_packshot(),
                           product_bbox=(-w * 3 // 4, y, w, h))  # fmt: skip
    assert [f.rule_id for f in findings if f.family == "image.product_match"] == [
        "image.product_match.skipped"
    ]


def test_the_box_of_a_mismatch_points_at_the_product():
    sample = REAL["real_label_text_2048"]
    (detail,) = [f for f in _run_real(sample) if f.rule_id == "image.product_match.detail"]
    x, y, w, h = sample.product_bbox
    bx, by, bw, bh = detail.bbox
    assert x <= bx
    assert bx + bw <= x + w + 2
    assert y <= by
    assert by + bh <= y + h + 2
