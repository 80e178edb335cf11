"""The image rules of a channel spec, on small images made in the test's own folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from signoff.agents.checks.images import check_images, effective_ppi, print_pixels_needed
from signoff.agents.context import Severity
from signoff.channels.catalog import load_catalog
from signoff.channels.spec import ChannelSpec, FieldSpec, ImageSpec, PrintSpec

REFERENCES = Path("/work/shared/examples/lumen-home/references")


def _packshot(
    folder: Path,
    name: str,
    size: tuple[int, int],
    *,
    background: tuple[int, ...] = (255, 255, 255),
    mode: str = "RGB",
    fmt: str | None = None,
) -> Path:
    """A product on a plain background: a dark box in the middle third."""
    image = Image.new(mode, size, background)
    width, height = size
    box = (width // 3, height // 3, 2 * width // 3, 2 * height // 3)
    ImageDraw.Draw(image).rectangle(box, fill=(47, 58, 52) + ((255,) if mode == "RGBA" else ()))
    path = folder / name
    image.save(path, format=fmt)
    return path


def _channel(**image_rules) -> ChannelSpec:
    return ChannelSpec(
        id="test_channel",
        name="Test shop",
        kind="marketplace",
        fields={"title": FieldSpec(label="Title", compose="title")},
        images=ImageSpec(source="https://example.test/images", **image_rules),
    )


def _rules(findings, field=None):
    return [f.rule_id for f in findings if field is None or f.field == field]


def test_large_white_square_passes_marketplace_shape_rules(tmp_path):
    main = _packshot(tmp_path, "main.png", (1200, 1200))
    jpeg = _packshot(tmp_path, "main.jpg", (1600, 1600))

    assert _rules(check_images(load_catalog()["amazon_us_pdp"], [main]), "images[0]") == []
    assert _rules(check_images(load_catalog()["walmart_us"], [jpeg]), "images[0]") == [
        "spec.image_recommended_size"  # 2200 px recommended, 1500 required
    ]


def test_reference_packshot_passes_amazon_main_image_rules():
    packshot = REFERENCES / "ember-packshot.png"
    if not packshot.exists():
        pytest.skip("shared example references are not available")

    assert _rules(check_images(load_catalog()["amazon_us_pdp"], [packshot]), "images[0]") == []


def test_too_small_image_is_blocked_with_its_size(tmp_path):
    small = _packshot(tmp_path, "small.png", (600, 600))

    (finding,) = [
        f for f in check_images(load_catalog()["amazon_us_pdp"], [small]) if f.field == "images[0]"
    ]

    assert finding.rule_id == "spec.image_min_size"
    assert finding.severity is Severity.BLOCK
    assert "600 x 600 px" in finding.message
    assert "1000 px on the longest side" in finding.message


def test_wrong_aspect_ratio_is_blocked(tmp_path):
    wide = _packshot(tmp_path, "wide.png", (2400, 1600))

    findings = check_images(load_catalog()["walmart_us"], [wide])

    assert "spec.image_aspect" in _rules(findings, "images[0]")
    assert "1:1" in next(f.message for f in findings if f.rule_id == "spec.image_aspect")


def test_aspect_tolerance_and_range(tmp_path):
    nearly_square = _packshot(tmp_path, "near.png", (1010, 1000))
    portrait = _packshot(tmp_path, "portrait.png", (1000, 1500))  # 2:3, taller than 4:5
    feed = _channel(min_aspect=0.8, max_aspect=1.91, aspect_tolerance=0.03)

    assert _rules(check_images(_channel(aspect_ratios=["1:1"]), [nearly_square])) == []
    assert _rules(check_images(feed, [portrait])) == ["spec.image_aspect"]


def test_non_white_main_image_is_blocked_but_lifestyle_images_are_not(tmp_path):
    grey_main = _packshot(tmp_path, "grey.png", (1200, 1200), background=(235, 235, 235))
    grey_second = _packshot(tmp_path, "grey2.png", (1200, 1200), background=(235, 235, 235))

    findings = check_images(load_catalog()["amazon_us_pdp"], [grey_main, grey_second])

    background = [f for f in findings if f.rule_id == "spec.image_background"]
    assert [f.field for f in background] == ["images[0]"]
    assert "235, 235, 235" in background[0].message


def test_transparent_background_is_not_white(tmp_path):
    cutout = _packshot(
        tmp_path, "cutout.png", (1200, 1200), background=(255, 255, 255, 0), mode="RGBA"
    )

    assert "spec.image_background" in _rules(
        check_images(load_catalog()["amazon_us_pdp"], [cutout])
    )


def test_wrong_format_and_misleading_extension(tmp_path):
    gif = _packshot(tmp_path, "main.gif", (1600, 1600))
    disguised = _packshot(tmp_path, "main.png", (1600, 1600), fmt="JPEG")

    gif_findings = check_images(load_catalog()["walmart_us"], [gif])
    disguised_findings = check_images(load_catalog()["walmart_us"], [disguised])

    (format_finding,) = [f for f in gif_findings if f.rule_id == "spec.image_format"]
    assert format_finding.severity is Severity.BLOCK
    assert "GIF" in format_finding.message
    (named,) = [f for f in disguised_findings if f.rule_id == "spec.image_format"]
    assert named.severity is Severity.WARN
    assert ".png" in named.message


def test_missing_and_unreadable_files_are_blocked(tmp_path):
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not pixels")

    findings = check_images(load_catalog()["amazon_us_pdp"], [tmp_path / "gone.png", not_an_image])

    assert [(f.rule_id, f.field) for f in findings if f.field != "images"] == [
        ("spec.image_missing", "images[0]"),
        ("spec.image_format", "images[1]"),
    ]


def test_image_counts(tmp_path):
    one = _packshot(tmp_path, "one.png", (1200, 1200))

    none = check_images(load_catalog()["amazon_us_pdp"], [])
    few = check_images(load_catalog()["amazon_us_pdp"], [one])
    many = check_images(_channel(max_count=2), [one, one, one])

    assert [(f.rule_id, f.severity) for f in none] == [("spec.image_count", Severity.BLOCK)]
    assert [(f.rule_id, f.severity) for f in few] == [
        ("spec.image_recommended_count", Severity.WARN)
    ]
    assert _rules(many, "images") == ["spec.image_count"]


def test_file_size_long_side_and_megapixels(tmp_path):
    noisy = tmp_path / "noisy.png"
    Image.effect_noise((800, 600), 80).convert("RGB").save(noisy)

    findings = check_images(
        _channel(max_file_mb=0.05, max_long_side_px=700, max_megapixels=0.4), [noisy]
    )

    assert sorted(_rules(findings)) == [
        "spec.image_file_size",
        "spec.image_max_size",
        "spec.image_max_size",
    ]


def test_print_ppi_is_computed_from_the_printed_size():
    a2 = PrintSpec(width_mm=420, height_mm=594, min_ppi=150)

    assert print_pixels_needed(a2) == (2481, 3508)
    assert effective_ppi(a2, 2481, 3508) == pytest.approx(150, abs=0.1)
    assert effective_ppi(a2, 1240, 3508) == pytest.approx(75, abs=0.1)  # the short side decides


def test_print_resolution_is_checked_and_states_the_effective_ppi(tmp_path):
    poster = load_catalog()["print_poster_a2"]
    sharp = _packshot(tmp_path, "sharp.png", (2481, 3508))
    soft = _packshot(tmp_path, "soft.png", (1240, 1754))

    assert check_images(poster, [sharp]) == []
    (finding,) = check_images(poster, [soft])
    assert finding.rule_id == "spec.image_print_ppi"
    assert finding.severity is Severity.BLOCK
    assert "75 ppi effective" in finding.message
    assert "2481 x 3508 px" in finding.message


def test_channel_without_image_rules_has_no_image_findings(tmp_path):
    assert check_images(load_catalog()["target_plus"], [tmp_path / "gone.png"]) == []
