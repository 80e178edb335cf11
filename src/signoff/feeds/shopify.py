"""Shopify Admin GraphQL ``productSet`` inputs, one JSON document per line, for a bulk operation.

``bulkOperationRunMutation`` runs a mutation once per line of an uploaded JSONL file, each line
being that call's variables (shopify.dev/docs/api/usage/bulk-operations/imports). Each line here
is ``{"identifier": {"handle"}, "input": ProductSetInput}`` for

    mutation call($identifier: ProductSetIdentifiers, $input: ProductSetInput!) {
      productSet(identifier: $identifier, input: $input, synchronous: true) {
        product { id handle } userErrors { field message code } } }

``productSet`` is an upsert keyed here by the product's handle; list fields it is given
(variants, files) replace what the product had, and fields it is not given stay as they are
(shopify.dev/docs/api/admin-graphql/latest/mutations/productSet). The input: ``handle``,
``title``, ``descriptionHtml``, ``vendor``, one ``productOptions`` entry and one variant
(``optionValues``, ``sku``, ``price``, ``barcode``; ProductVariantSetInput, API 2026-01), and
``files`` (``originalSource``, ``contentType: IMAGE``, ``alt``) when the images have URLs.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence

from signoff.feeds import copy, facts
from signoff.feeds.base import Check, Feed, FeedItem

FMT = "Shopify's productSet"
OPTION, VALUE = "Title", "Default Title"  # Shopify's names for a product without options


def handle(key: str) -> str:
    """A handle from an offer id: lowercase letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


def description_html(item: FeedItem) -> str:
    """The copy as HTML: the description's paragraphs (a blank line between), its line
    breaks, and the bullets as a list. Copy is plain text, so every character is escaped."""
    parts = []
    description = copy.description(item)
    bullets = copy.bullets(item)
    if description is not None and not (bullets and description.source == bullets.source):
        for paragraph in re.split(r"\n\s*\n", description.value.strip()):
            lines = [html.escape(line) for line in paragraph.splitlines()]
            parts.append(f"<p>{'<br>'.join(lines)}</p>")
    if bullets and bullets.values:
        items = "".join(f"<li>{html.escape(b)}</li>" for b in bullets.values)
        parts.append(f"<ul>{items}</ul>")
    return "".join(parts)


def _line(check: Check, key: str, base: str | None) -> dict | None:
    item = check.item
    title = copy.title(item)
    check.required("title", title, f"{FMT} needs a title; the package has no title field")
    body = description_html(item)
    check.required("description", body, f"{FMT} needs a description; the package has none")
    price = facts.price(check, FMT)
    gtin = facts.gtin(check)
    urls = [u for u in (facts.image_url(i, base) for i in item.images) if u]
    urls = [u for u in (facts.http_url(check, "images", u, FMT) for u in urls) if u]
    if not check.ok:
        return None
    variant = {
        "optionValues": [{"optionName": OPTION, "name": VALUE}],
        "sku": item.sku,
        "price": price[0],
    }
    if gtin:
        variant["barcode"] = gtin
    product = {
        "handle": key,
        "title": title.value,
        "descriptionHtml": body,
        "productOptions": [{"name": OPTION, "values": [{"name": VALUE}]}],
        "variants": [variant],
    }
    if item.product.get("brand"):
        product["vendor"] = str(item.product["brand"])
    if urls:
        product["files"] = [
            {"originalSource": url, "contentType": "IMAGE", "alt": title.value} for url in urls
        ]
    return {"identifier": {"handle": key}, "input": product}


def build_jsonl(items: Sequence[FeedItem], image_base_url: str | None = None) -> Feed:
    checks = {item.package_id: Check(item) for item in items}
    ids = facts.offer_ids(items, checks, FMT)
    owners: dict[str, int] = {}
    lines = []
    for item in items:
        check = checks[item.package_id]
        if not check.ok:
            continue
        key = handle(ids[item.package_id])
        owner = owners.setdefault(key, item.package_id)
        if owner != item.package_id or not key:
            check.fail(
                "sku",
                f"{item.sku!r} makes the handle {key!r}, "
                + (f"which package {owner} has already" if key else "which is empty"),
            )
            continue
        line = _line(check, key, image_base_url)
        if line is not None:
            lines.append(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
    content = "".join(f"{line}\n" for line in lines)
    problems = [p for c in checks.values() for p in c.problems]
    return Feed(content.encode("utf-8"), "application/jsonl", "jsonl", problems, len(lines))
