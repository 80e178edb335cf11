"""The shipped channel catalog: every spec loads and cites its limits; overrides merge and fail
with the line a user has to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from signoff.channels.catalog import (
    catalog_ids,
    load_catalog,
    merge_overrides,
    read_catalog_folder,
    resolve_spec,
    validate_overrides,
)
from signoff.channels.spec import FieldSpec, ImageSpec
from signoff.core.errors import InputError, NotFound
from signoff.core.sourcemap import parse_yaml

REQUIRED_IDS = {
    "amazon_us_pdp",
    "walmart_us",
    "target_plus",
    "google_merchant",
    "meta_feed_ad",
    "instagram_post",
    "email_promo",
    "print_poster_a2",
    "google_ads_rsa",
    "ebay_listing",
}
FIELD_LIMITS = (
    "min_chars",
    "max_chars",
    "recommended_max_chars",
    "max_bytes",
    "min_items",
    "max_items",
    "banned_chars",
    "casing",
    "max_word_repeats",
    "allow_emoji",
    "allow_html",
    "html_tags",
    "requires",
)
IMAGE_LIMITS = (
    "formats",
    "min_count",
    "max_count",
    "recommended_min_count",
    "min_width_px",
    "min_height_px",
    "min_long_side_px",
    "max_long_side_px",
    "recommended_min_long_side_px",
    "max_megapixels",
    "aspect_ratios",
    "min_aspect",
    "max_aspect",
    "background",
    "max_file_mb",
    "print",
)
DEFAULT_FIELD = FieldSpec(label="x", compose="title")
DEFAULT_IMAGES = ImageSpec()


def _is_url(text: str | None) -> bool:
    return bool(text) and text.startswith(("http://", "https://"))


def test_catalog_ships_every_required_channel():
    assert REQUIRED_IDS <= set(catalog_ids())
    assert catalog_ids() == sorted(load_catalog())


@pytest.mark.parametrize("channel_id", sorted(REQUIRED_IDS))
def test_every_set_limit_cites_a_source_url_and_confidence(channel_id):
    spec = load_catalog()[channel_id]
    assert spec.sources
    assert all(_is_url(url) for url in spec.sources)
    for name, field in spec.fields.items():
        for limit in FIELD_LIMITS:
            if getattr(field, limit) == getattr(DEFAULT_FIELD, limit):
                continue
            cited = field.cite(limit)
            assert cited is not None, f"{name}.{limit} has no source"
            assert _is_url(cited.source), f"{name}.{limit} source is not a URL"
            assert cited.confidence, f"{name}.{limit} has no confidence"
    for banned in spec.banned_phrases:
        assert _is_url(banned.source), banned.phrase
        assert banned.confidence, banned.phrase
    if spec.banned_chars:
        assert _is_url(spec.cite("banned_chars").source)
    if spec.images is not None:
        for limit in IMAGE_LIMITS:
            if getattr(spec.images, limit) == getattr(DEFAULT_IMAGES, limit):
                continue
            cited = spec.images.cite(limit)
            assert cited is not None, f"images.{limit} has no source"
            assert _is_url(cited.source), f"images.{limit} source is not a URL"


def test_values_follow_the_research():
    catalog = load_catalog()
    amazon = catalog["amazon_us_pdp"]
    assert amazon.fields["title"].max_chars == 200
    assert amazon.fields["title"].max_word_repeats == 2
    assert amazon.fields["search_terms"].max_bytes == 249
    assert amazon.fields["search_terms"].bytes_ignore_spaces_punctuation
    # Unconfirmed numbers warn rather than block.
    assert amazon.fields["bullet_points"].max_chars is None
    assert amazon.fields["bullet_points"].recommended_max_chars == 250
    assert amazon.requires_family_attributes
    assert {"gtin", "price"} <= set(amazon.required_facts)
    # Conflicting research: the stricter value is the hard limit.
    assert catalog["meta_feed_ad"].fields["headline"].max_chars == 27
    assert catalog["instagram_post"].fields["hashtags"].max_items == 5
    poster = catalog["print_poster_a2"].images
    assert poster is not None
    assert poster.print is not None
    assert (poster.print.width_mm, poster.print.height_mm) == (420, 594)
    ads = catalog["google_ads_rsa"].fields
    assert (ads["headlines"].min_items, ads["headlines"].max_items) == (3, 15)
    assert ads["path2"].requires == "path1"


def test_every_catalog_id_matches_its_file_name():
    folder = Path(__file__).resolve().parents[1] / "src" / "signoff" / "channels" / "catalog"
    assert {path.stem for path in folder.glob("*.yaml")} == set(catalog_ids())


def test_a_bad_shipped_file_names_its_file_and_line(tmp_path):
    (tmp_path / "broken.yaml").write_text(
        "id: broken\nname: Broken\nkind: marketplace\nfields:\n"
        "  title:\n    label: Title\n    compose: title\n    max_chars: -5\n"
    )

    with pytest.raises(InputError) as caught:
        read_catalog_folder(tmp_path)

    (problem,) = caught.value.problems
    assert problem.file.endswith("broken.yaml")
    assert problem.line == 8
    assert problem.field == "fields.title.max_chars"


def test_a_shipped_file_whose_id_differs_from_its_name_is_refused(tmp_path):
    (tmp_path / "one.yaml").write_text(
        "id: two\nname: Two\nkind: feed\nfields:\n  t: {label: T, compose: title}\n"
    )

    with pytest.raises(InputError, match="does not match file name"):
        read_catalog_folder(tmp_path)


def test_override_merges_into_the_shipped_spec_and_keeps_the_rest():
    shipped = load_catalog()["amazon_us_pdp"]

    resolved = resolve_spec("amazon_us_pdp", {"fields": {"title": {"max_chars": 150}}})

    assert resolved.fields["title"].max_chars == 150
    assert resolved.fields["title"].banned_chars == shipped.fields["title"].banned_chars
    assert resolved.fields["bullet_points"] == shipped.fields["bullet_points"]
    assert resolved.banned_phrases == shipped.banned_phrases
    # The shipped spec is untouched.
    assert load_catalog()["amazon_us_pdp"].fields["title"].max_chars == 200


def test_override_lists_replace_and_null_drops_a_field():
    resolved = resolve_spec(
        "ebay_listing",
        {"banned_phrases": [{"phrase": "bargain"}], "fields": {"subtitle": None}},
    )

    assert [b.phrase for b in resolved.banned_phrases] == ["bargain"]
    assert "subtitle" not in resolved.fields
    assert "title" in resolved.fields


def test_merge_does_not_change_its_inputs():
    base = {"fields": {"title": {"max_chars": 10, "banned_chars": ["!"]}}}
    merged = merge_overrides(base, {"fields": {"title": {"banned_chars": ["?"]}}})

    merged["fields"]["title"]["banned_chars"].append("$")
    assert base == {"fields": {"title": {"max_chars": 10, "banned_chars": ["!"]}}}


def test_an_invalid_override_fails_validation_again():
    with pytest.raises(ValidationError):
        resolve_spec("amazon_us_pdp", {"fields": {"title": {"max_chars": 0}}})
    with pytest.raises(ValidationError):
        resolve_spec("amazon_us_pdp", {"fields": {"title": {"maximum": 10}}})


WORKSPACE_WITH_OVERRIDES = """\
workspace: lumen-home
channel_overrides:
  amazon_us_pdp:
    fields:
      title:
        max_chars: 150
  walmart_us:
    fields:
      product_name:
        max_chars: 0
  meta_feed_ad:
    fields:
      headline:
        max_chars: 40
"""


def test_validate_overrides_locates_a_bad_value_in_the_workspace_file():
    doc = parse_yaml(WORKSPACE_WITH_OVERRIDES, "workspace.yaml")

    good = validate_overrides(doc, ("channel_overrides", "amazon_us_pdp"))
    bad = validate_overrides(doc, ("channel_overrides", "walmart_us"))

    assert good == []
    (problem,) = bad
    assert problem.file == "workspace.yaml"
    assert problem.line == 10
    assert problem.field == "channel_overrides.walmart_us.fields.product_name.max_chars"
    assert "greater than or equal to 1" in problem.message


def test_validate_overrides_reports_an_unknown_channel_with_the_known_ids():
    doc = parse_yaml("channel_overrides:\n  amazon_usa:\n    fields: {}\n", "ws.yaml")

    (problem,) = validate_overrides(doc, ("channel_overrides", "amazon_usa"))

    assert problem.line == 2
    assert "amazon_us_pdp" in problem.message
    assert "walmart_us" in problem.message


def test_unknown_channel_without_a_full_spec_lists_the_known_ids():
    with pytest.raises(NotFound) as caught:
        resolve_spec("amazon_usa")
    for channel_id in REQUIRED_IDS:
        assert channel_id in str(caught.value)

    with pytest.raises(NotFound, match="lacks kind, name"):
        resolve_spec("amazon_usa", {"fields": {"title": {"label": "T", "compose": "title"}}})


def test_a_complete_spec_under_a_new_id_is_a_custom_channel():
    spec = resolve_spec(
        "shop_newsletter",
        {
            "name": "Shop newsletter",
            "kind": "email",
            "fields": {"subject": {"label": "Subject", "compose": "subject", "max_chars": 60}},
        },
    )

    assert spec.id == "shop_newsletter"
    assert spec.fields["subject"].max_chars == 60


def test_resolve_without_overrides_returns_the_cached_spec():
    assert resolve_spec("google_merchant") is load_catalog()["google_merchant"]
