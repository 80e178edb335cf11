"""`signoff images check` and `signoff images proof` on plain files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

PACKSHOT = Path(__file__).resolve().parents[1] / "src/signoff/demo/lumen-home/references"


def _main_image(
    path: Path, *, background: tuple[int, int, int] = (255, 255, 255), fill: float = 0.9
) -> Path:
    """A product (a dark jar with a light label) on a plain background at ``fill``."""
    side = 1600
    image = Image.new("RGB", (side, side), background)
    draw = ImageDraw.Draw(image)
    w, h = int(side * fill * 0.7), int(side * fill)
    x, y = (side - w) // 2, (side - h) // 2
    draw.rounded_rectangle((x, y, x + w, y + h), radius=40, fill=(58, 58, 60))
    draw.rectangle((x + w // 4, y + h // 3, x + 3 * w // 4, y + h // 2), fill=(240, 236, 228))
    image.save(path, quality=95)
    return path


@pytest.mark.django_db
def test_a_clean_main_image_passes_and_a_grey_one_blocks(cli, tmp_path):
    clean = _main_image(tmp_path / "clean.jpg")
    result = cli("images", "check", str(clean), "--channel", "amazon_us_pdp", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.stdout
    assert report["blocking"] is False
    grey = _main_image(tmp_path / "grey.jpg", background=(236, 236, 236))
    result = cli("images", "check", str(grey), "--channel", "amazon_us_pdp", "--json")
    assert result.exit_code == 1
    rules = {f["rule_id"] for f in json.loads(result.stdout)["files"][0]["findings"]}
    assert any(rule.startswith("image.background") for rule in rules)


@pytest.mark.django_db
def test_small_product_on_a_main_image_is_a_fill_finding_with_a_fix(cli, tmp_path):
    small = _main_image(tmp_path / "small.jpg", fill=0.5)
    result = cli("images", "check", str(small), "--channel", "amazon_us_pdp", "--json")
    findings = json.loads(result.stdout)["files"][0]["findings"]
    fill = [f for f in findings if f["rule_id"].startswith("image.fill")]
    assert fill
    assert "85" in fill[0]["message"]
    assert fill[0]["suggested_fix"]
    assert fill[0]["bbox"]


@pytest.mark.django_db
def test_bad_files_and_unknown_channels_exit_2_naming_them(cli, tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("hello")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    result = cli("images", "check", str(text), str(empty), "--channel", "amazon_us_pdp")
    assert result.exit_code == 2
    assert "notes.jpg" in result.output
    assert "empty.png" in result.output
    clean = _main_image(tmp_path / "clean.jpg")
    result = cli("images", "check", str(clean), "--channel", "nope")
    assert result.exit_code == 2
    assert "unknown channel 'nope'" in result.output
    assert "amazon_us_pdp" in result.output


@pytest.mark.django_db
def test_the_proof_sheet_is_a_two_page_pdf(cli, tmp_path):
    poster = tmp_path / "poster.png"
    Image.open(PACKSHOT / "winter-hero.png").convert("RGB").resize((1240, 1754)).save(poster)
    out = tmp_path / "proof.pdf"
    result = cli("images", "proof", str(poster), "--channel", "print_poster_a2", "-o", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"/Count 2" in data  # the overview and the 100 % crops
    # 1,240 px over 420 mm is far below the poster's 150 ppi: the proof lists it.
    assert "(0 findings)" not in result.output
