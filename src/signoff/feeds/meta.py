"""Meta (Facebook and Instagram) catalog feed as CSV.

Rules from Meta's catalog reference (developers.facebook.com/docs/marketing-api/catalog/
reference): a header row of field names, values enclosed in double quotes (required for any
with whitespace or a comma) with inner quotes doubled; required ``id`` (at most 100 characters),
``title`` (200), ``description`` (9,999, plain text), ``availability`` (``in stock``,
``out of stock``, ``preorder``, ``available for order``: spaces, unlike Google), ``condition``
(``new``, ``refurbished``, ``used``), ``price`` (``32.00 USD``), ``link``, ``image_link`` and
``brand`` (100); ``additional_image_link`` up to 20 comma-separated URLs; ``gtin`` optional.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from signoff.feeds import copy, facts
from signoff.feeds.base import Check, Feed, FeedItem

FMT = "Meta's catalog"
COLUMNS = (
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "link",
    "image_link",
    "additional_image_link",
    "brand",
    "gtin",
    "mpn",
)
LIMITS = {"id": 100, "title": 200, "description": 9999, "brand": 100}
MAX_ADDITIONAL_IMAGES = 20
# Google's spelling (facts.AVAILABILITY) -> Meta's.
AVAILABILITY = {
    "in_stock": "in stock",
    "out_of_stock": "out of stock",
    "preorder": "preorder",
    "backorder": "available for order",
}


def _row(check: Check, offer_id: str, base: str | None) -> dict[str, str]:
    item = check.item
    row = copy.offer_text(check, offer_id, LIMITS, FMT)
    available = facts.availability(check, FMT)
    row["availability"] = AVAILABILITY[available] if available else ""
    # Meta requires a condition; Signoff's products are a brand's own new goods unless the
    # product data says otherwise (docs/formats.md).
    row["condition"] = facts.condition(check) or "new"
    price = facts.price(check, FMT)
    row["price"] = f"{price[0]} {price[1]}" if price else ""
    row["link"] = facts.link(check, FMT) or ""
    row["image_link"], extra = facts.image_links(check, base, FMT, MAX_ADDITIONAL_IMAGES)
    row["additional_image_link"] = ",".join(extra)
    brand = str(item.product.get("brand") or "")
    if check.required("product.brand", brand, f"{FMT} needs the product's brand"):
        check.at_most("product.brand", brand, LIMITS["brand"], "a brand", FMT)
    row["brand"] = brand
    row["gtin"] = facts.gtin(check) or ""
    row["mpn"] = str(item.product.get("mpn") or "")
    return row


def build_csv(items: Sequence[FeedItem], image_base_url: str | None = None) -> Feed:
    checks = {item.package_id: Check(item) for item in items}
    ids = facts.offer_ids(items, checks, FMT)
    rows = []
    for item in items:
        check = checks[item.package_id]
        row = _row(check, ids[item.package_id], image_base_url) if check.ok else {}
        if check.ok:
            rows.append(row)
    buffer = io.StringIO()
    # Meta: "fields containing whitespace or commas should be enclosed in double quotes";
    # quoting every field keeps that true of any value.
    writer = csv.DictWriter(
        buffer, COLUMNS, lineterminator="\r\n", restval="", quoting=csv.QUOTE_ALL
    )
    writer.writeheader()
    writer.writerows(rows)
    problems = [p for c in checks.values() for p in c.problems]
    return Feed(
        buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8", "csv", problems, len(rows)
    )
