"""Google Merchant Center product data: a tab-separated file and an RSS 2.0 XML file.

Rules from the product data specification (support.google.com/merchants/answer/7052112) and
its attribute pages: ``id`` at most 50 characters, ``title`` 150, ``description`` 5,000,
``link`` and ``image_link`` http(s) URLs of at most 2,000, at most 10
``additional_image_link``, ``brand`` and ``mpn`` 70, ``availability`` one of in_stock,
out_of_stock, preorder, backorder, ``price`` as ``32.00 USD``, and a ``gtin`` or else
``identifier_exists`` ``no`` (or a brand and ``mpn``). Text files: a header row of attribute
names, one product per line, values with a tab, a line break or a quote enclosed in double
quotes with inner quotes doubled (answer/14998273, "quoted fields", on by default). XML: RSS 2.0
with each attribute in the ``g:`` namespace ``http://base.google.com/ns/1.0``
(answer/160589).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from signoff.feeds import copy, facts
from signoff.feeds.base import Check, Feed, FeedItem

NS = "http://base.google.com/ns/1.0"
FMT = "Google Merchant Center"
COLUMNS = (
    "id",
    "title",
    "description",
    "link",
    "image_link",
    "additional_image_link",
    "availability",
    "price",
    "brand",
    "gtin",
    "mpn",
    "identifier_exists",
    "condition",
    "short_title",
)
LIMITS = {"id": 50, "title": 150, "short_title": 150, "description": 5000, "brand": 70, "mpn": 70}
MAX_ADDITIONAL_IMAGES = 10


def _entry(check: Check, offer_id: str, base: str | None) -> dict[str, str | list[str]]:
    """The item's attributes, in column order; problems go on ``check``."""
    item = check.item
    out: dict[str, str | list[str]] = dict(copy.offer_text(check, offer_id, LIMITS, FMT))
    out["link"] = facts.link(check, FMT) or ""
    out["image_link"], out["additional_image_link"] = facts.image_links(
        check, base, FMT, MAX_ADDITIONAL_IMAGES
    )
    out["availability"] = facts.availability(check, FMT) or ""
    price = facts.price(check, FMT)
    out["price"] = f"{price[0]} {price[1]}" if price else ""
    brand = str(item.product.get("brand") or "")
    if check.required("product.brand", brand, f"{FMT} needs the product's brand"):
        check.at_most("product.brand", brand, LIMITS["brand"], "a brand", FMT)
    out["brand"] = brand
    gtin = facts.gtin(check)
    mpn = str(item.product.get("mpn") or "")
    check.at_most("product.mpn", mpn, LIMITS["mpn"], "an mpn", FMT)
    out["gtin"], out["mpn"] = gtin or "", mpn
    out["identifier_exists"] = ""
    if not gtin and not mpn and "product.gtin" not in {p.field for p in check.problems}:
        if facts.has_no_identifier(item):
            out["identifier_exists"] = "no"
        else:
            check.fail(
                "product.gtin",
                f"{FMT} needs a gtin, or identifier_exists no for a product that has none; "
                "the product data gives neither (a `gtin` column, or `identifier_exists` no)",
            )
    out["condition"] = facts.condition(check) or ""
    short = copy.short_title(item)
    out["short_title"] = short.value if short else ""
    if short:
        check.at_most(short.source, short.value, LIMITS["short_title"], "a short title", FMT)
    return out


def _entries(items: Sequence[FeedItem], base: str | None, *, xml: bool) -> tuple[list[dict], list]:
    checks = {item.package_id: Check(item) for item in items}
    ids = facts.offer_ids(items, checks, FMT)
    kept = []
    for item in items:
        check = checks[item.package_id]
        entry = _entry(check, ids.get(item.package_id, item.sku), base) if check.ok else {}
        if xml and check.ok:
            for name, value in entry.items():
                for text in value if isinstance(value, list) else [value]:
                    facts.xml_safe(check, _field_of(item, name), text)
        if check.ok:
            kept.append(entry)
    return kept, [p for c in checks.values() for p in c.problems]


def _field_of(item: FeedItem, attribute: str) -> str:
    """The package field or product fact an attribute came from, to name in a problem."""
    found = {
        "title": copy.title,
        "description": copy.description,
        "short_title": copy.short_title,
    }.get(attribute)
    source = found(item) if found else None
    if source is not None:
        return source.source
    if attribute in ("link", "brand", "mpn"):
        return f"product.{attribute}"
    return "images" if "image" in attribute else attribute


def build_tsv(items: Sequence[FeedItem], image_base_url: str | None = None) -> Feed:
    entries, problems = _entries(items, image_base_url, xml=False)
    buffer = io.StringIO()
    # With CRLF as the line end, a value holding either CR or LF is quoted (csv quotes any
    # character of the terminator); with LF alone a bare CR would go out unquoted.
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow(
            [",".join(v) if isinstance(v := entry.get(c, ""), list) else v for c in COLUMNS]
        )
    return Feed(
        buffer.getvalue().encode("utf-8"),
        "text/tab-separated-values; charset=utf-8",
        "tsv",
        problems,
        len(entries),
    )


def build_xml(items: Sequence[FeedItem], image_base_url: str | None = None) -> Feed:
    entries, problems = _entries(items, image_base_url, xml=True)
    ET.register_namespace("g", NS)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    first = items[0] if items else None
    ET.SubElement(channel, "title").text = (
        f"{first.brief} {first.channel}" if first else "Signoff product data"
    )
    site = urlsplit(str(entries[0]["link"])) if entries else None
    ET.SubElement(channel, "link").text = f"{site.scheme}://{site.netloc}/" if site else ""
    ET.SubElement(channel, "description").text = "Product data exported by Signoff"
    for entry in entries:
        element = ET.SubElement(channel, "item")
        for name in COLUMNS:
            value = entry.get(name, "")
            for text in value if isinstance(value, list) else [value]:
                if text:
                    ET.SubElement(element, f"{{{NS}}}{name}").text = text
    ET.indent(rss)
    content = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    # A parser turns a raw CR into LF (XML end-of-line handling); only a character reference
    # keeps it, and ElementTree writes text CRs raw. It writes no other CR, so this is exact.
    content = content.replace(b"\r", b"&#13;")
    return Feed(content + b"\n", "application/rss+xml", "xml", problems, len(entries))


def product_inputs(
    items: Sequence[FeedItem], image_base_url: str | None = None
) -> tuple[dict[int, dict], list]:
    """Each item as a Merchant API ``ProductInput`` (products v1,
    developers.google.com/merchant/api/reference/rest/products_v1/accounts.productInputs):
    ``offerId``, ``contentLanguage`` and ``feedLabel`` (the market's language and country),
    and ``productAttributes`` holding the same values, under the same rules, as a feed row.
    Return ``({package id: input}, problems)``."""
    checks = {item.package_id: Check(item) for item in items}
    ids = facts.offer_ids(items, checks, FMT)
    inputs: dict[int, dict] = {}
    for item in items:
        check = checks[item.package_id]
        if not check.ok:
            continue
        entry = _entry(check, ids.get(item.package_id, item.sku), image_base_url)
        country = facts.country(item.market)
        language = item.market.split("-")[0].lower()
        if not country or not language:
            check.fail("market", f"{FMT} needs a market with a language and a country (en-US)")
        if not check.ok:
            continue
        amount, _, currency = str(entry["price"]).partition(" ")
        attributes: dict[str, object] = {
            "title": entry["title"],
            "description": entry["description"],
            "link": entry["link"],
            "imageLink": entry["image_link"],
            "availability": str(entry["availability"]).upper(),
            "price": {
                "amountMicros": str(int(Decimal(amount) * 1_000_000)),
                "currencyCode": currency,
            },
            "brand": entry["brand"],
        }
        if entry["additional_image_link"]:
            attributes["additionalImageLinks"] = list(entry["additional_image_link"])
        if entry["gtin"]:
            attributes["gtins"] = [entry["gtin"]]
        if entry["mpn"]:
            attributes["mpn"] = entry["mpn"]
        if entry["identifier_exists"] == "no":
            attributes["identifierExists"] = False
        if entry["condition"]:
            attributes["condition"] = str(entry["condition"]).upper()
        inputs[item.package_id] = {
            "offerId": entry["id"],
            "contentLanguage": language,
            "feedLabel": country,
            "productAttributes": attributes,
        }
    return inputs, [p for c in checks.values() for p in c.problems]
