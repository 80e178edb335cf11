"""Amazon Selling Partner API, Listings Items 2021-08-01: the bodies of put-listings-item calls.

``PUT /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=...`` takes
``{productType, requirements, attributes}`` (developer-docs.amazon.com/sp-api/docs/
listings-items-api-v2021-08-01-reference). Each attribute is a list of values that carry their
``marketplace_id`` and, for text, a ``language_tag`` (``en_US``): ``item_name``,
``bullet_point`` (one entry per bullet), ``product_description``, ``brand``,
``generic_keyword``, ``externally_assigned_product_identifier`` (``{type, value}``; or the
supplier's GTIN exemption), ``main_product_image_locator`` and ``other_product_image_locator_1``
to ``_8`` (``{media_location}``). The product type's own JSON schema (Product Type Definitions
API) decides the rest, and Amazon's ``VALIDATION_PREVIEW`` mode checks a body against it before
anything is saved. Marketplace ids: developer-docs.amazon.com/sp-api/docs/marketplace-ids.

The file is one JSON document: ``{"format", "api", "listings": [{package_id, sku,
marketplace_id, path, query, body}]}``, each listing one call.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import quote

from signoff.feeds import copy, facts
from signoff.feeds.base import Check, Feed, FeedItem

FMT = "Amazon's listings API"
API = "listings/2021-08-01"
# Seller Central title requirements (sellercentral.amazon.com/help/hub/reference/external/
# 200390640): 200 characters in every category unless its style guide says less.
MAX_ITEM_NAME = 200
MAX_OTHER_IMAGES = 8
# developer-docs.amazon.com/sp-api/docs/marketplace-ids, by the market's country.
MARKETPLACES = {
    "CA": "A2EUQ1WTGCTBG2",
    "US": "ATVPDKIKX0DER",
    "MX": "A1AM78C64UM0Y8",
    "BR": "A2Q3Y263D00KWC",
    "IE": "A28R8C7NBKEWEA",
    "ES": "A1RKKUPIHCS9HS",
    "GB": "A1F83G8C2ARO7P",
    "UK": "A1F83G8C2ARO7P",
    "FR": "A13V1IB3VIYZZH",
    "BE": "AMEN7PMS3EDWL",
    "NL": "A1805IZSGTT6HS",
    "DE": "A1PA6795UKMFR9",
    "IT": "APJ6JRA9NG5V4",
    "SE": "A2NODRKZP88ZB9",
    "ZA": "AE08WJ6YKNBMC",
    "PL": "A1C3SOZRARQ6R3",
    "EG": "ARBP9OOSHTCHU",
    "TR": "A33AVAJ2PDY3EV",
    "SA": "A17E79C6D8DWNP",
    "AE": "A2VIGQ35RCS4UG",
    "IN": "A21TJRUUN4KGV",
    "SG": "A19VAU5U5O7RUS",
    "AU": "A39IBJ37TRP1C6",
    "JP": "A1VC38T7YXB528",
}


def identifier_type(gtin: str) -> tuple[str, str]:
    """A GTIN as Amazon names it: leading zeros a shorter code was padded with are dropped,
    then 12 digits is a UPC, 8 or 13 an EAN and 14 a GTIN."""
    value = gtin
    while len(value) in (13, 14) and value.startswith("0"):
        value = value[1:]
    return {12: "upc", 13: "ean", 14: "gtin", 8: "ean"}[len(value)], value


def listing(check: Check, base: str | None) -> dict | None:
    """One call for one item, or None (its problems on ``check``)."""
    item = check.item
    market = facts.country(item.market) or ""
    marketplace = MARKETPLACES.get(market)
    if marketplace is None:
        check.fail(
            "market",
            f"{item.market!r} names no Amazon marketplace; known countries: "
            f"{', '.join(sorted(MARKETPLACES))}",
        )
        return None
    language = item.market.replace("-", "_")

    def text(value: str) -> dict:
        return {"value": value, "language_tag": language, "marketplace_id": marketplace}

    attributes: dict[str, list[dict]] = {}
    title = copy.title(item)
    if check.required("title", title, f"{FMT} needs an item_name; the package has no title"):
        check.at_most(title.source, title.value, MAX_ITEM_NAME, "an item_name", FMT)
        attributes["item_name"] = [text(title.value)]
    brand = str(item.product.get("brand") or "")
    if check.required("product.brand", brand, f"{FMT} needs the product's brand"):
        attributes["brand"] = [text(brand)]
    bullets = copy.bullets(item)
    if check.required(
        "bullet_points",
        bullets and bullets.values,
        f"{FMT} needs bullet_point; the package has no bullet field "
        f"({', '.join(copy.CANDIDATES['bullets'])})",
    ):
        attributes["bullet_point"] = [text(b) for b in bullets.values]
    description = copy.description(item)
    if check.required(
        "description", description, f"{FMT} needs a product_description; the package has none"
    ):
        attributes["product_description"] = [text(description.value)]
    keywords = copy.keywords(item)
    if keywords and keywords.value.strip():
        attributes["generic_keyword"] = [text(keywords.value)]
    gtin = facts.gtin(check)
    if gtin:
        kind, value = identifier_type(gtin)
        attributes["externally_assigned_product_identifier"] = [
            {"type": kind, "value": value, "marketplace_id": marketplace}
        ]
    elif facts.has_no_identifier(item):
        attributes["supplier_declared_has_product_identifier_exemption"] = [
            {"value": True, "marketplace_id": marketplace}
        ]
    elif "product.gtin" not in {p.field for p in check.problems}:
        check.fail(
            "product.gtin",
            f"{FMT} needs the product's GTIN (UPC or EAN), or identifier_exists no for a "
            "product exempt from one; the product data gives neither",
        )
    urls = facts.images(check, base, FMT)
    if urls:
        attributes["main_product_image_locator"] = [
            {"media_location": urls[0], "marketplace_id": marketplace}
        ]
        if len(urls) - 1 > MAX_OTHER_IMAGES:
            check.fail(
                "images",
                f"{FMT} takes at most {MAX_OTHER_IMAGES} other images; this package has "
                f"{len(urls) - 1}",
            )
        for n, url in enumerate(urls[1:], start=1):
            attributes[f"other_product_image_locator_{n}"] = [
                {"media_location": url, "marketplace_id": marketplace}
            ]
    product_type = str(item.product.get("amazon_product_type") or "")
    check.required(
        "product.amazon_product_type",
        product_type,
        f"{FMT} needs the product's Amazon product type, as the Product Type Definitions API "
        "names it; the product data gives none (an `amazon_product_type` column)",
    )
    if not check.ok:
        return None
    return {
        "package_id": item.package_id,
        "sku": item.sku,
        "marketplace_id": marketplace,
        "path": f"/{API}/items/{{sellerId}}/{quote(item.sku, safe='')}",
        "query": {"marketplaceIds": marketplace, "issueLocale": language},
        "body": {
            "productType": product_type,
            # Product facts only: price and stock (sales terms) are the shop's, not content.
            "requirements": "LISTING_PRODUCT_ONLY",
            "attributes": attributes,
        },
    }


def build_json(items: Sequence[FeedItem], image_base_url: str | None = None) -> Feed:
    checks = {item.package_id: Check(item) for item in items}
    facts.offer_ids(items, checks, FMT, by_market=False)
    listings = []
    for item in items:
        check = checks[item.package_id]
        found = listing(check, image_base_url) if check.ok else None
        if found is not None:
            listings.append(found)
    document = {"format": "amazon_listings_json", "api": API, "listings": listings}
    content = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    problems = [p for c in checks.values() for p in c.problems]
    return Feed(content.encode("utf-8"), "application/json", "json", problems, len(listings))
