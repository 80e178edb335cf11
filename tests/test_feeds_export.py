"""Feeds of a launched channel from the command, the API and the approval matrix.

The Lumen Home products here carry what a retailer needs and the demo file leaves out: valid
GTINs, a product page, availability, an Amazon product type and an image URL.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from api_helpers import api_error
from image_helpers import give_images

from signoff.briefs.models import Product
from signoff.feeds import FORMATS
from signoff.feeds.generic import read_json
from signoff.feeds.items import feed_items
from signoff.packages.decisions import approve_package
from signoff.packages.models import Package

DEMO_EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "signoff" / "demo" / "lumen-home"
BRIEF = "spring-candles-2027"
BASE = "https://cdn.lumen.example/renditions"
G = "{http://base.google.com/ns/1.0}"
# GS1-valid GTINs (the demo's have wrong check digits, which every retailer refuses).
GTINS = {
    "LUM-SPR-LAV-08": "00850012345015",
    "LUM-SPR-NER-08": "00850012345022",
    "LUM-SPR-FIG-08": "00850012345039",
    "LUM-SPR-PEO-14": "00850012345046",
    "LUM-SPR-RAI-14": "00850012345053",
    "LUM-SPR-RHB-08": "00850012345060",
}


@pytest.fixture
def example_dir(tmp_path: Path) -> Path:
    """The Lumen Home files, with the facts feeds need added to the products CSV."""
    target = tmp_path / "lumen-home"
    shutil.copytree(DEMO_EXAMPLE, target)
    path = target / "products.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    extra = ["link", "availability", "amazon_product_type", "image_link"]
    out = io.StringIO()
    writer = csv.DictWriter(out, [*rows[0], *extra])
    writer.writeheader()
    for row in rows:
        slug = row["sku"].lower()
        row |= {
            "gtin": GTINS[row["sku"]],
            "burn_time_hours": row["burn_time_hours"] or "50",
            "link": f"https://lumen.example/products/{slug}",
            "availability": "in_stock",
            "amazon_product_type": "HOME",
            "image_link": f"https://lumen.example/img/{slug}.jpg",
        }
        writer.writerow(row)
    path.write_text(out.getvalue(), encoding="utf-8")
    return target


def _launch(brief, channel: str, person, out: Path):
    from signoff.delivery.services import launch_channel

    packages = list(Package.objects.filter(brief=brief, channel=channel).order_by("id"))
    assert packages
    assert not [p for p in packages if p.state == "blocked"]
    give_images(packages)
    for package in packages:
        for name in ("maya", "omar", "lena"):
            result = approve_package(package_id=package.pk, person=person(name))
            assert result.ok, result.message
    return launch_channel(brief=brief, channel=channel, person=person("lena"), out_dir=out)


@pytest.fixture
def launched(spring_run, spring_brief, person, settings, tmp_path):
    """The spring brief's meta_feed_ad channel launched (its packages published)."""
    settings.SIGNOFF_HOME = tmp_path
    return _launch(spring_brief, "meta_feed_ad", person, tmp_path / "exports")


def _packages(channel: str) -> list[Package]:
    return list(
        Package.objects.filter(channel=channel).select_related("current_version").order_by("id")
    )


# ---- the items ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_feed_items_are_the_published_versions_with_facts_and_renditions(
    launched, spring_brief
) -> None:
    items = feed_items(spring_brief, "meta_feed_ad")

    packages = _packages("meta_feed_ad")
    assert [i.package_id for i in items] == [p.pk for p in packages]
    first, package = items[0], packages[0]
    assert (first.version, first.content_hash) == (
        package.current_version.number,
        package.current_version.content_hash,
    )
    assert first.fields == package.current_version.fields
    assert first.product["gtin"] == GTINS[first.sku]
    assert first.product["price"] == {"amount": "32.00", "currency": "USD"}
    assert first.product["brand"] == "Lumen Home"  # the workspace is the brand
    assert first.product["link"] == f"https://lumen.example/products/{first.sku.lower()}"
    assert "link" not in first.product["attributes"]
    assert first.product["attributes"]["scent"]
    # The channel's slots in its order (feed_1x1 is Meta's first), each rendition's file.
    images = package.current_version.images
    assert [i["slot"] for i in first.images] == ["feed_1x1", "feed_4x5"]
    assert first.images[0]["file"] == images["feed_1x1"]["file"]
    assert first.images[0]["sha256"] == images["feed_1x1"]["sha256"]
    assert first.images[0]["url"] is None
    # Only published packages: the unlaunched channels give none.
    assert feed_items(spring_brief, "google_merchant") == []


@pytest.mark.django_db
def test_a_channel_without_renditions_offers_the_products_image_urls(
    spring_run, spring_brief, person, settings, tmp_path
) -> None:
    settings.SIGNOFF_HOME = tmp_path
    _launch(spring_brief, "target_plus", person, tmp_path / "exports")  # no image slots

    items = feed_items(spring_brief, "target_plus")

    assert items
    for item in items:
        assert [i["url"] for i in item.images] == [
            f"https://lumen.example/img/{item.sku.lower()}.jpg"
        ]
    feed = json.loads(
        FORMATS["amazon_listings_json"].build(items, None).content  # target copy as Amazon
    )
    assert len(feed["listings"]) == len(items)


# ---- the command ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_writes_the_meta_catalog_to_stdout(cli, launched) -> None:
    result = cli(
        "export", BRIEF, "--channel", "meta_feed_ad", "--format", "meta_catalog_csv",
        "--image-base-url", BASE,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    packages = _packages("meta_feed_ad")
    assert [r["id"] for r in rows] == [p.sku for p in packages]
    for row, package in zip(rows, packages, strict=True):
        version = package.current_version
        assert row["title"] == version.fields["headline"]  # Meta's ad has no title: headline
        assert row["description"] == version.fields["primary_text"]
        assert row["image_link"] == f"{BASE}/{version.images['feed_1x1']['file']}"
        assert row["gtin"] == GTINS[package.sku]
        assert (row["availability"], row["condition"]) == ("in stock", "new")
    assert "6 packages exported as meta_catalog_csv; 0 left out" in result.stderr


@pytest.mark.django_db
def test_export_to_a_file_and_a_left_out_package_exits_1(cli, launched, tmp_path) -> None:
    first = _packages("meta_feed_ad")[0]
    product = Product.objects.get(brief_version=first.current_version.brief_version, sku=first.sku)
    Product.objects.filter(pk=product.pk).update(
        attributes={k: v for k, v in product.attributes.items() if k != "link"}
    )
    target = tmp_path / "meta.csv"

    result = cli(
        "export", BRIEF, "--channel", "meta_feed_ad", "--format", "meta_catalog_csv",
        "-o", str(target), "--image-base-url", BASE,
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert f"package {first.pk} ({first.sku}): product.link: " in result.stderr
    assert "5 packages exported as meta_catalog_csv to" in result.stderr
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert first.sku not in [r["id"] for r in rows]
    assert len(rows) == 5


@pytest.mark.django_db
def test_export_without_image_urls_reports_every_package(cli, launched) -> None:
    result = cli("export", BRIEF, "--channel", "meta_feed_ad", "--format", "google_merchant_tsv")

    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("package ")]
    assert len(lines) == 6
    assert all(": images: " in line and "--image-base-url" in line for line in lines)
    assert result.stdout.splitlines() == [result.stdout.splitlines()[0]]  # the header only


@pytest.mark.django_db
def test_export_generic_json_round_trips_the_items(cli, launched, spring_brief) -> None:
    result = cli("export", BRIEF, "--channel", "meta_feed_ad", "--format", "json")

    assert result.exit_code == 0, result.output
    assert read_json(result.stdout_bytes) == feed_items(spring_brief, "meta_feed_ad")


@pytest.mark.django_db
def test_export_bad_input_exits_2_and_says_what(cli, launched) -> None:
    unknown = cli("export", BRIEF, "--channel", "meta_feed_ad", "--format", "rss")
    assert unknown.exit_code == 2
    assert "unknown feed format 'rss'" in unknown.stderr
    assert all(name in unknown.stderr for name in FORMATS)

    waiting = cli("export", BRIEF, "--channel", "google_merchant", "--format", "json")
    assert waiting.exit_code == 2
    assert "google_merchant of spring-candles-2027 has not launched" in waiting.stderr

    stranger = cli("export", BRIEF, "--channel", "walmart", "--format", "json")
    assert stranger.exit_code == 2
    assert "'walmart' is not a channel of brief" in stranger.stderr

    bad_url = cli(
        "export", BRIEF, "--channel", "meta_feed_ad", "--format", "json",
        "--image-base-url", "ftp://x",
    )  # fmt: skip
    assert bad_url.exit_code == 2
    assert "--image-base-url: the image base URL must be an http(s) URL" in bad_url.stderr

    no_brief = cli("export", "nope", "--channel", "meta_feed_ad", "--format", "json")
    assert no_brief.exit_code == 2
    assert "no brief 'nope'" in no_brief.stderr


# ---- the API --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_downloads_a_feed_with_its_media_type_and_problem_count(api, launched) -> None:
    url = f"/api/briefs/{BRIEF}/feeds/meta_feed_ad"

    response = api("omar").get(url, format="meta_catalog_csv", image_base_url=BASE)

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Signoff-Feed-Problems"] == "0"
    assert response["Content-Disposition"] == (f'attachment; filename="{BRIEF}-meta_feed_ad.csv"')
    assert len(list(csv.DictReader(io.StringIO(response.content.decode())))) == 6
    unpublished = api("omar").get(url, format="meta_catalog_csv")  # no image URLs
    assert unpublished["Signoff-Feed-Problems"] == "6"


@pytest.mark.django_db
def test_api_google_xml_of_a_launched_google_channel(
    api, spring_run, spring_brief, person, settings, tmp_path
) -> None:
    settings.SIGNOFF_HOME = tmp_path
    settings.SIGNOFF_FEED_IMAGE_BASE_URL = BASE
    _launch(spring_brief, "google_merchant", person, tmp_path / "exports")

    response = api("maya").get(
        f"/api/briefs/{BRIEF}/feeds/google_merchant", format="google_merchant_xml"
    )

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/rss+xml"
    root = ET.fromstring(response.content)
    entries = root.find("channel").findall("item")
    packages = _packages("google_merchant")
    assert [e.findtext(f"{G}id") for e in entries] == [p.sku for p in packages]
    for entry, package in zip(entries, packages, strict=True):
        fields = package.current_version.fields
        assert entry.findtext(f"{G}title") == fields["title"]
        assert entry.findtext(f"{G}description") == fields["description"]
        assert entry.findtext(f"{G}gtin") == GTINS[package.sku]
        main = package.current_version.images["main"]["file"]
        assert entry.findtext(f"{G}image_link") == f"{BASE}/{main}"


@pytest.mark.django_db
def test_api_refuses_an_unknown_format_and_an_unlaunched_channel(api, launched) -> None:
    error = api_error(
        api("maya").get(f"/api/briefs/{BRIEF}/feeds/meta_feed_ad", format="rss"),
        422,
        "invalid_input",
    )
    assert [p["field"] for p in error["problems"]] == ["format"]
    assert all(name in error["message"] for name in FORMATS)
    missing = api_error(
        api("maya").get(f"/api/briefs/{BRIEF}/feeds/meta_feed_ad"), 422, "invalid_input"
    )
    assert [p["field"] for p in missing["problems"]] == ["format"]
    not_launched = api_error(
        api("maya").get(f"/api/briefs/{BRIEF}/feeds/google_merchant", format="json"),
        404,
        "not_found",
    )
    assert "has not launched" in not_launched["message"]
    bad_url = api_error(
        api("maya").get(
            f"/api/briefs/{BRIEF}/feeds/meta_feed_ad", format="json", image_base_url="x"
        ),
        422,
        "invalid_input",
    )
    assert [p["field"] for p in bad_url["problems"]] == ["image_base_url"]


@pytest.mark.django_db
def test_api_feed_of_another_workspace_does_not_exist(api, launched, other_workspace) -> None:
    api_error(
        api("maya", "other-brand").get(f"/api/briefs/{BRIEF}/feeds/meta_feed_ad", format="json"),
        404,
        "not_found",
    )


# ---- the approval matrix --------------------------------------------------------------------


@pytest.mark.django_db
def test_matrix_offers_a_launched_channels_feeds(as_person, launched) -> None:
    client = as_person("maya")

    page = client.get(f"/briefs/{BRIEF}/matrix/").content.decode()

    link = f"/briefs/{BRIEF}/feeds/meta_feed_ad/?format="
    assert f'{link}meta_catalog_csv"' in page
    assert f'{link}json"' in page
    assert f'{link}google_merchant_tsv"' not in page  # not Meta's format
    assert "/feeds/google_merchant/" not in page  # not launched

    response = client.get(f"{link}meta_catalog_csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Signoff-Feed-Problems"] == "6"  # no image base URL configured
    assert response.content.decode().startswith('"id","title"')
    assert client.get(f"{link}rss").status_code == 400
    assert client.get(f"/briefs/{BRIEF}/feeds/google_merchant/?format=json").status_code == 404
