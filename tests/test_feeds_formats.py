"""The feed formats, pure: each format's published rules, limits and escaping.

Every feed written here is read back with the standard library (csv, json, ElementTree), so a
test proves what a retailer's parser would see, not what the string looks like.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import subprocess
import sys
from xml.etree import ElementTree as ET

import pytest

from signoff.channels.catalog import _shipped
from signoff.feeds import FORMATS, FeedItem, build_feed, formats_for
from signoff.feeds import copy as feed_copy
from signoff.feeds.amazon import identifier_type
from signoff.feeds.facts import gtin_is_valid
from signoff.feeds.generic import read_json

G = "{http://base.google.com/ns/1.0}"
BASE = "https://cdn.example.com/img"
TRICKY = 'Soy "wax" & <cedar>, tab\there\nline two\r\nthree\rfour; café 蜡烛 🕯'
GTIN_13 = "4006381333931"  # a real EAN-13 with a correct check digit
UPC_PADDED = "00036000291452"  # the UPC-A 036000291452 padded to 14 digits


def item(package_id: int = 1, **changes: object) -> FeedItem:
    """A complete google_merchant package; keyword arguments replace its attributes, and
    ``fields``/``product`` given as dicts are merged over the defaults."""
    fields = {"title": "Lumen Home Lavender Candle, 8 oz", "description": "Hand-poured soy wax."}
    product = {
        "name": "Lavender Fields Candle",
        "gtin": GTIN_13,
        "brand": "Lumen Home",
        "price": {"amount": "32.00", "currency": "USD"},
        "availability": "in_stock",
        "link": f"https://lumen.example/p/{package_id}",
        "amazon_product_type": "HOME",
    }
    base = FeedItem(
        package_id=package_id,
        brief="spring",
        sku=f"LUM-{package_id:03d}",
        channel="google_merchant",
        market="en-US",
        variant="A",
        version=3,
        content_hash="c" * 64,
        fields={**fields, **changes.pop("fields", {})},  # type: ignore[dict-item]
        product={**product, **changes.pop("product", {})},  # type: ignore[dict-item]
        images=[
            {
                "slot": "main",
                "file": f"m{package_id}.jpg",
                "sha256": "a" * 64,
                "url": None,
                "width": 1500,
                "height": 1500,
            },
            {
                "slot": "lifestyle",
                "file": f"l {package_id}.jpg",
                "sha256": "b" * 64,
                "url": None,
                "width": 1500,
                "height": 1500,
            },
        ],
    )
    return dataclasses.replace(base, **changes)


def tsv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8")), delimiter="\t"))


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def problems(feed) -> set[tuple[int, str]]:
    return {(p.package_id, p.field) for p in feed.problems}


# ---- the registry ---------------------------------------------------------------------------


def test_the_seven_formats_are_registered_and_an_unknown_one_names_them() -> None:
    assert list(FORMATS) == [
        "google_merchant_tsv",
        "google_merchant_xml",
        "meta_catalog_csv",
        "amazon_listings_json",
        "shopify_jsonl",
        "csv",
        "json",
    ]
    with pytest.raises(ValueError, match="unknown feed format 'rss'") as raised:
        build_feed("rss", [item()])
    assert all(name in str(raised.value) for name in FORMATS)


def test_a_channel_is_offered_its_own_formats_first() -> None:
    ids = [f.id for f in formats_for("google_merchant")]
    assert ids[:2] == ["google_merchant_tsv", "google_merchant_xml"]
    assert "meta_catalog_csv" not in ids
    assert [f.id for f in formats_for("instagram_post")][0] == "meta_catalog_csv"
    assert [f.id for f in formats_for("amazon_us_pdp")][0] == "amazon_listings_json"
    assert {"shopify_jsonl", "csv", "json"} <= {f.id for f in formats_for("email_promo")}


def test_the_formats_import_no_django() -> None:
    code = "import sys, signoff.feeds; print(sorted(m for m in sys.modules if 'django' in m))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("format_id", list(FORMATS))
def test_every_format_writes_an_empty_feed(format_id: str) -> None:
    feed = build_feed(format_id, [])
    assert (feed.items, feed.problems) == (0, [])
    assert feed.media_type == FORMATS[format_id].media_type


# ---- Google Merchant Center -----------------------------------------------------------------


def test_google_tsv_has_the_required_attributes_and_reads_back() -> None:
    feed = build_feed("google_merchant_tsv", [item(1), item(2)], image_base_url=BASE)

    assert feed.problems == []
    rows = tsv_rows(feed.content)
    assert [r["id"] for r in rows] == ["LUM-001", "LUM-002"]
    row = rows[0]
    for attribute in ("title", "description", "link", "image_link", "availability", "price"):
        assert row[attribute], attribute
    assert (row["brand"], row["gtin"], row["availability"]) == ("Lumen Home", GTIN_13, "in_stock")
    assert row["price"] == "32.00 USD"
    assert row["image_link"] == f"{BASE}/m1.jpg"
    assert row["additional_image_link"] == f"{BASE}/l%201.jpg"  # the space percent-encoded
    assert feed.media_type.startswith("text/tab-separated-values")


def test_google_tsv_quotes_tabs_line_breaks_and_quotes_and_keeps_unicode() -> None:
    feed = build_feed(
        "google_merchant_tsv", [item(fields={"description": TRICKY})], image_base_url=BASE
    )

    text = feed.content.decode("utf-8")
    assert len(text.splitlines()) > 2  # the line break is inside a quoted value
    (row,) = tsv_rows(feed.content)
    assert row["description"] == TRICKY
    assert '"Soy ""wax""' in text  # inner quotes doubled (Merchant Center "quoted fields")


@pytest.mark.parametrize("format_id", ["google_merchant_tsv", "google_merchant_xml"])
def test_google_title_and_description_limits_leave_the_package_out_never_cut(
    format_id: str,
) -> None:
    fits = item(1, fields={"title": "t" * 150, "description": "d" * 5000})
    long_title = item(2, fields={"title": "t" * 151})
    long_description = item(3, fields={"description": "d" * 5001})

    feed = build_feed(format_id, [fits, long_title, long_description], image_base_url=BASE)

    assert problems(feed) == {(2, "title"), (3, "description")}
    assert feed.items == 1
    title = next(p for p in feed.problems if p.package_id == 2)
    assert "at most 150 characters" in title.message
    assert "151" in title.message
    assert b"t" * 151 not in feed.content
    assert b"d" * 5001 not in feed.content
    assert b"t" * 150 in feed.content  # the one that fits is whole


def test_google_reports_each_missing_required_attribute_by_field() -> None:
    bare = item(
        1,
        product={"link": None, "availability": None, "price": None, "brand": "", "gtin": None},
    )
    no_images = dataclasses.replace(item(2), images=[])
    feed = build_feed("google_merchant_tsv", [bare, no_images, item(3)], image_base_url=BASE)

    assert problems(feed) == {
        (1, "product.link"),
        (1, "product.availability"),
        (1, "product.price"),
        (1, "product.brand"),
        (1, "product.gtin"),
        (2, "images"),
    }
    assert [r["id"] for r in tsv_rows(feed.content)] == ["LUM-003"]


def test_google_needs_an_image_url_and_says_how_to_give_one() -> None:
    feed = build_feed("google_merchant_tsv", [item()])  # renditions, but no published URL

    (problem,) = feed.problems
    assert problem.field == "images"
    assert "--image-base-url" in problem.message
    assert "m1.jpg" in problem.message


def test_google_identifier_exists_no_only_when_the_product_data_says_so() -> None:
    declared = item(1, product={"gtin": None, "identifier_exists": False})
    with_mpn = item(2, product={"gtin": None, "mpn": "LAV-08"})
    silent = item(3, product={"gtin": None})

    feed = build_feed("google_merchant_tsv", [declared, with_mpn, silent], image_base_url=BASE)

    rows = {r["id"]: r for r in tsv_rows(feed.content)}
    assert rows["LUM-001"]["identifier_exists"] == "no"
    assert (rows["LUM-002"]["mpn"], rows["LUM-002"]["identifier_exists"]) == ("LAV-08", "")
    assert problems(feed) == {(3, "product.gtin")}


@pytest.mark.parametrize(
    ("gtin", "valid"),
    [
        (GTIN_13, True),
        ("036000291452", True),
        (UPC_PADDED, True),
        ("96385074", True),
        ("4006381333932", False),
        ("00850012345018", False),
        ("12345", False),
        ("4006381333a31", False),
    ],
)
def test_gs1_check_digits(gtin: str, valid: bool) -> None:
    assert gtin_is_valid(gtin) is valid


def test_a_gtin_with_a_wrong_check_digit_is_reported() -> None:
    feed = build_feed(
        "google_merchant_tsv", [item(product={"gtin": "4006381333932"})], image_base_url=BASE
    )
    (problem,) = feed.problems
    assert problem.field == "product.gtin"
    assert "check digit" in problem.message


def test_google_availability_accepts_its_values_and_refuses_others() -> None:
    spaced = item(1, product={"availability": "out of stock"})
    unknown = item(2, product={"availability": "plenty"})
    feed = build_feed("google_merchant_tsv", [spaced, unknown], image_base_url=BASE)

    assert [r["availability"] for r in tsv_rows(feed.content)] == ["out_of_stock"]
    (problem,) = feed.problems
    assert problem.field == "product.availability"
    assert "in_stock" in problem.message


def test_google_takes_at_most_ten_additional_images() -> None:
    images = [
        {"slot": f"s{n}", "file": f"{n}.jpg", "sha256": None, "url": None, "width": 1, "height": 1}
        for n in range(12)
    ]
    feed = build_feed(
        "google_merchant_tsv", [dataclasses.replace(item(), images=images)], image_base_url=BASE
    )
    (problem,) = feed.problems
    assert problem.field == "images"
    assert "at most 10" in problem.message


def test_google_id_is_the_sku_qualified_by_market_and_one_variant_per_market() -> None:
    us = item(1, sku="LUM-1", market="en-US")
    gb = item(2, sku="LUM-1", market="en-GB")
    us_b = item(3, sku="LUM-1", market="en-US", variant="B")
    other = item(4, sku="LUM-2")
    too_long = item(5, sku="X" * 51)

    feed = build_feed("google_merchant_tsv", [us, gb, us_b, other, too_long], image_base_url=BASE)

    assert [r["id"] for r in tsv_rows(feed.content)] == ["LUM-1-en-US", "LUM-1-en-GB", "LUM-2"]
    assert problems(feed) == {(3, "variant"), (5, "id")}
    variant = next(p for p in feed.problems if p.field == "variant")
    assert "variant A (package 1)" in variant.message


def test_google_xml_is_well_formed_rss_with_the_g_namespace() -> None:
    items = [item(1, fields={"title": TRICKY[:60], "description": TRICKY}), item(2)]
    feed = build_feed("google_merchant_xml", items, image_base_url=BASE)

    root = ET.fromstring(feed.content)
    assert (root.tag, root.get("version")) == ("rss", "2.0")
    assert b'xmlns:g="http://base.google.com/ns/1.0"' in feed.content
    channel = root.find("channel")
    assert channel.findtext("link") == "https://lumen.example/"
    entries = channel.findall("item")
    assert [e.findtext(f"{G}id") for e in entries] == ["LUM-001", "LUM-002"]
    first = entries[0]
    assert first.findtext(f"{G}title") == TRICKY[:60]
    assert first.findtext(f"{G}description") == TRICKY  # &, <, quotes, unicode round-trip
    assert first.findtext(f"{G}price") == "32.00 USD"
    assert [e.text for e in first.findall(f"{G}additional_image_link")] == [f"{BASE}/l%201.jpg"]
    assert first.find(f"{G}identifier_exists") is None  # empty attributes are left out
    assert b"&amp;" in feed.content
    assert b"&lt;cedar&gt;" in feed.content


def test_google_xml_refuses_a_character_xml_cannot_carry() -> None:
    bad = item(1, fields={"description": "before\x0bafter"})
    feed = build_feed("google_merchant_xml", [bad, item(2)], image_base_url=BASE)

    (problem,) = feed.problems
    assert (problem.package_id, problem.field) == (1, "description")
    assert "U+000B" in problem.message
    assert len(ET.fromstring(feed.content).find("channel").findall("item")) == 1


# ---- copy fields per channel ----------------------------------------------------------------


def test_a_channel_without_a_title_field_falls_back_to_its_headline() -> None:
    ad = item(
        1,
        channel="meta_feed_ad",
        fields={
            "title": None,
            "description": None,
            "headline": "Calm evenings",
            "primary_text": "Soy wax.",
        },
    )
    feed = build_feed("google_merchant_tsv", [ad], image_base_url=BASE)
    (row,) = tsv_rows(feed.content)
    assert (row["title"], row["description"]) == ("Calm evenings", "Soy wax.")

    long_headline = dataclasses.replace(ad, fields={**ad.fields, "headline": "h" * 151})
    (problem,) = build_feed("google_merchant_tsv", [long_headline], image_base_url=BASE).problems
    assert problem.field == "headline"  # the field a person edits


def test_with_no_title_like_field_the_title_is_the_product_name() -> None:
    post = item(
        1,
        channel="instagram_post",
        fields={"title": None, "description": None, "caption": "Spring, lit.", "hashtags": ["#a"]},
    )
    assert feed_copy.title(post).source == "product.name"
    assert feed_copy.description(post).value == "Spring, lit."
    assert feed_copy.keywords(post).value == "#a"


# Which role each catalog field's meaning fills; the rest (email subject, CTA, Ads paths,
# item specifics) has no product-feed equivalent.
ROLE_OF_COMPOSE = {
    "title": "title",
    "headline": "title",
    "short_title": "short_title",
    "description": "description",
    "primary_text": "description",
    "body": "description",
    "caption": "description",
    "link_description": "description",
    "bullets": "bullets",
    "keywords": "keywords",
    "hashtags": "keywords",
}


def test_every_catalog_field_with_a_feed_meaning_is_read() -> None:
    missing = [
        f"{channel}.{name} ({spec.compose})"
        for channel, (_, channel_spec) in _shipped().items()
        for name, spec in channel_spec.fields.items()
        if spec.compose in ROLE_OF_COMPOSE
        and name not in feed_copy.CANDIDATES[ROLE_OF_COMPOSE[spec.compose]]
        and not (spec.compose == "headline" and name in feed_copy.CANDIDATES["title"])
    ]
    assert missing == []


# ---- Meta catalog ---------------------------------------------------------------------------


def test_meta_csv_quotes_every_value_and_spells_availability_with_spaces() -> None:
    items = [
        item(1, fields={"description": TRICKY}),
        item(2, product={"availability": "backorder"}),
    ]
    feed = build_feed("meta_catalog_csv", items, image_base_url=BASE)

    assert feed.problems == []
    text = feed.content.decode("utf-8")
    assert text.startswith('"id","title","description","availability","condition","price"')
    rows = csv_rows(feed.content)
    assert rows[0]["description"] == TRICKY
    assert [r["availability"] for r in rows] == ["in stock", "available for order"]
    assert rows[0]["condition"] == "new"
    assert rows[0]["price"] == "32.00 USD"
    assert rows[0]["brand"] == "Lumen Home"
    assert rows[0]["additional_image_link"] == f"{BASE}/l%201.jpg"


def test_meta_limits_title_200_and_description_9999() -> None:
    fits = item(1, fields={"title": "t" * 200, "description": "d" * 9999})
    over = item(2, fields={"title": "t" * 201, "description": "d" * 10000})
    feed = build_feed("meta_catalog_csv", [fits, over], image_base_url=BASE)

    assert problems(feed) == {(2, "title"), (2, "description")}
    assert [r["id"] for r in csv_rows(feed.content)] == ["LUM-001"]


def test_meta_takes_the_condition_the_product_data_gives() -> None:
    used = item(1, product={"condition": "Used"})
    odd = item(2, product={"condition": "vintage"})
    feed = build_feed("meta_catalog_csv", [used, odd], image_base_url=BASE)
    assert [r["condition"] for r in csv_rows(feed.content)] == ["used"]
    assert problems(feed) == {(2, "product.condition")}


# ---- Amazon listings ------------------------------------------------------------------------


def amazon_item(package_id: int = 1, **changes: object) -> FeedItem:
    fields = {
        "description": None,
        "title": "Lumen Home Lavender Candle",
        "bullet_points": ["Hand-poured soy wax", "About 50 hours"],
        "product_description": "A calm candle.",
        "search_terms": "soy candle lavender",
        **changes.pop("fields", {}),  # type: ignore[dict-item]
    }
    return item(package_id, channel="amazon_us_pdp", fields=fields, **changes)


def test_amazon_listing_body_has_product_type_requirements_and_tagged_attributes() -> None:
    feed = build_feed("amazon_listings_json", [amazon_item()], image_base_url=BASE)

    assert feed.problems == []
    document = json.loads(feed.content)
    (listing,) = document["listings"]
    assert listing["sku"] == "LUM-001"
    assert listing["path"] == "/listings/2021-08-01/items/{sellerId}/LUM-001"
    assert listing["query"] == {"marketplaceIds": "ATVPDKIKX0DER", "issueLocale": "en_US"}
    body = listing["body"]
    assert (body["productType"], body["requirements"]) == ("HOME", "LISTING_PRODUCT_ONLY")
    attributes = body["attributes"]
    for name in ("item_name", "bullet_point", "product_description", "brand", "generic_keyword"):
        for value in attributes[name]:
            assert value["marketplace_id"] == "ATVPDKIKX0DER"
            assert value["language_tag"] == "en_US"
    assert [b["value"] for b in attributes["bullet_point"]] == [
        "Hand-poured soy wax",
        "About 50 hours",
    ]
    assert attributes["externally_assigned_product_identifier"] == [
        {"type": "ean", "value": GTIN_13, "marketplace_id": "ATVPDKIKX0DER"}
    ]
    assert attributes["main_product_image_locator"] == [
        {"media_location": f"{BASE}/m1.jpg", "marketplace_id": "ATVPDKIKX0DER"}
    ]
    assert attributes["other_product_image_locator_1"][0]["media_location"] == f"{BASE}/l%201.jpg"


@pytest.mark.parametrize(
    ("gtin", "expected"),
    [
        (UPC_PADDED, ("upc", "036000291452")),
        ("036000291452", ("upc", "036000291452")),
        (GTIN_13, ("ean", GTIN_13)),
        ("10036000291459", ("gtin", "10036000291459")),
        ("96385074", ("ean", "96385074")),
    ],
)
def test_amazon_names_the_identifier_by_its_length(gtin: str, expected: tuple) -> None:
    assert identifier_type(gtin) == expected


def test_amazon_market_item_name_limit_and_bullets_are_checked() -> None:
    unknown_market = amazon_item(1, market="xx-ZZ")
    long_name = amazon_item(2, fields={"title": "n" * 201})
    no_bullets = amazon_item(3, fields={"bullet_points": []})
    no_type = amazon_item(4, product={"amazon_product_type": None})
    german = amazon_item(5, market="de-DE")

    feed = build_feed(
        "amazon_listings_json",
        [unknown_market, long_name, no_bullets, no_type, german],
        image_base_url=BASE,
    )

    assert problems(feed) == {
        (1, "market"),
        (2, "title"),
        (3, "bullet_points"),
        (4, "product.amazon_product_type"),
    }
    (listing,) = json.loads(feed.content)["listings"]
    assert listing["marketplace_id"] == "A1PA6795UKMFR9"
    assert listing["body"]["attributes"]["item_name"][0]["language_tag"] == "de_DE"


def test_amazon_exemption_only_when_the_product_data_declares_no_gtin() -> None:
    exempt = amazon_item(1, product={"gtin": None, "identifier_exists": "no"})
    silent = amazon_item(2, product={"gtin": None})
    feed = build_feed("amazon_listings_json", [exempt, silent], image_base_url=BASE)

    (listing,) = json.loads(feed.content)["listings"]
    attributes = listing["body"]["attributes"]
    assert attributes["supplier_declared_has_product_identifier_exemption"][0]["value"] is True
    assert "externally_assigned_product_identifier" not in attributes
    assert problems(feed) == {(2, "product.gtin")}


# ---- Shopify --------------------------------------------------------------------------------


def test_shopify_jsonl_is_one_product_set_input_per_line() -> None:
    bulleted = amazon_item(1, fields={"product_description": "Calm & <bright>.\n\nSecond para."})
    feed = build_feed("shopify_jsonl", [bulleted, item(2)], image_base_url=BASE)

    assert feed.problems == []
    lines = feed.content.decode("utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["identifier"] == {"handle": "lum-001"}
    product = first["input"]
    assert product["handle"] == "lum-001"
    assert product["title"] == "Lumen Home Lavender Candle"
    assert product["descriptionHtml"] == (
        "<p>Calm &amp; &lt;bright&gt;.</p><p>Second para.</p>"
        "<ul><li>Hand-poured soy wax</li><li>About 50 hours</li></ul>"
    )
    assert product["vendor"] == "Lumen Home"
    (variant,) = product["variants"]
    assert variant == {
        "optionValues": [{"optionName": "Title", "name": "Default Title"}],
        "sku": "LUM-001",
        "price": "32.00",
        "barcode": GTIN_13,
    }
    assert product["productOptions"] == [{"name": "Title", "values": [{"name": "Default Title"}]}]
    assert [f["originalSource"] for f in product["files"]] == [
        f"{BASE}/m1.jpg",
        f"{BASE}/l%201.jpg",
    ]
    assert all(f["contentType"] == "IMAGE" for f in product["files"])


def test_shopify_leaves_out_no_price_and_a_clashing_handle_and_keeps_images_optional() -> None:
    no_price = item(1, product={"price": None})
    clash_a = item(2, sku="Lum_7")
    clash_b = item(3, sku="LUM-7")
    no_images = dataclasses.replace(item(4), images=[])

    feed = build_feed("shopify_jsonl", [no_price, clash_a, clash_b, no_images], image_base_url=BASE)

    assert problems(feed) == {(1, "product.price"), (3, "sku")}
    handles = [json.loads(line)["identifier"]["handle"] for line in feed.content.splitlines()]
    assert handles == ["lum-7", "lum-004"]
    assert "files" not in json.loads(feed.content.splitlines()[1])["input"]


# ---- generic CSV and JSON -------------------------------------------------------------------


def test_generic_json_round_trips_every_item() -> None:
    items = [
        item(1, fields={"description": TRICKY}),
        amazon_item(2, product={"attributes": {"scent": "lavender", "burn_time_hours": 50}}),
    ]
    feed = build_feed("json", items)

    assert read_json(feed.content) == items
    with_urls = read_json(build_feed("json", items, image_base_url=BASE).content)
    assert [i["url"] for i in with_urls[0].images] == [f"{BASE}/m1.jpg", f"{BASE}/l%201.jpg"]
    with pytest.raises(ValueError, match="not a signoff.feed"):
        read_json(b'{"format": "other"}')


def test_generic_csv_has_a_column_per_field_fact_and_image() -> None:
    items = [amazon_item(1, fields={"product_description": TRICKY}), item(2)]
    feed = build_feed("csv", items, image_base_url=BASE)

    rows = csv_rows(feed.content)
    assert rows[0]["field.product_description"] == TRICKY
    assert rows[0]["field.bullet_points"] == "Hand-poured soy wax\nAbout 50 hours"
    assert rows[0]["product.price.amount"] == "32.00"
    assert rows[0]["image.main.url"] == f"{BASE}/m1.jpg"
    assert rows[1]["field.bullet_points"] == ""  # not on this channel
    assert rows[1]["field.title"] == "Lumen Home Lavender Candle, 8 oz"
    assert list(rows[0])[:8] == [
        "package_id",
        "brief",
        "sku",
        "channel",
        "market",
        "variant",
        "version",
        "content_hash",
    ]
