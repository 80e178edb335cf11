"""ImageQCSpec: thresholds as data, channel differences in the catalog with their sources."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from signoff.channels.catalog import load_catalog, resolve_spec
from signoff.channels.image_qc import ImageQCSpec
from signoff.channels.spec import ImageSpec

DEFAULT = ImageQCSpec()
PROVENANCE = {"source", "confidence", "rule_sources"}


def _is_url(text: str | None) -> bool:
    return bool(text) and text.startswith(("http://", "https://"))


def test_image_spec_carries_default_qc():
    assert ImageSpec().qc == DEFAULT
    assert DEFAULT.background.applies == "never"
    assert DEFAULT.text_overlay.applies == "never"


@pytest.mark.parametrize("channel_id", sorted(load_catalog()))
def test_every_threshold_a_channel_changes_cites_a_source(channel_id):
    images = load_catalog()[channel_id].images
    if images is None:
        return
    for name, family in images.qc.families().items():
        default = getattr(DEFAULT, name)
        for field in type(family).model_fields:
            if field in PROVENANCE or getattr(family, field) == getattr(default, field):
                continue
            cited = family.cite(field)
            assert cited is not None, f"{channel_id}: qc.{name}.{field} has no source"
            assert _is_url(cited.source), f"{channel_id}: qc.{name}.{field}"
            assert cited.confidence


def test_marketplace_rules_follow_the_research():
    catalog = load_catalog()
    amazon = catalog["amazon_us_pdp"].images.qc
    assert amazon.fill.min_fill == 0.85
    assert amazon.fill.applies == "main"
    assert amazon.background.applies == "main"
    assert amazon.text_overlay.applies == "main"
    assert catalog["walmart_us"].images.qc.background.applies == "main"
    google = catalog["google_merchant"].images.qc
    assert google.text_overlay.applies == "all"
    assert google.upscaled.severity == "block"
    assert catalog["print_poster_a2"].images.qc.print.bleed_mm == 3
    assert catalog["ebay_listing"].images.qc.compression.min_quality == 90


def test_a_workspace_override_changes_one_threshold():
    spec = resolve_spec("amazon_us_pdp", {"images": {"qc": {"fill": {"min_fill": 0.9}}}})

    assert spec.images.qc.fill.min_fill == 0.9
    assert spec.images.qc.background.applies == "main"


def test_bad_thresholds_are_refused():
    with pytest.raises(ValidationError):
        ImageQCSpec(fill={"min_fill": 1.5})
    with pytest.raises(ValidationError):
        ImageQCSpec(background={"rule_sources": {"nonsense": {"source": "https://x"}}})
    with pytest.raises(ValidationError):
        ImageQCSpec(sharpness={"severity": "fatal"})
