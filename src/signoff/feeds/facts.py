"""Product facts as feeds write them: prices, GTINs, availability, links, image URLs, offer ids.

Each reader returns the value a format writes, or records on the item's ``Check`` why it cannot
be written. Nothing is guessed: a fact the product data does not give is reported as missing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlsplit

from signoff.feeds.base import Check, FeedItem

# Google's values (support.google.com/merchants/answer/6324448); Meta's are the same words with
# spaces, and "available for order" for a backorder.
AVAILABILITY = ("in_stock", "out_of_stock", "preorder", "backorder")
_AVAILABILITY_ALIASES = {"available_for_order": "backorder"}
CONDITIONS = ("new", "refurbished", "used")

# Characters XML 1.0 cannot carry at all, even escaped (www.w3.org/TR/xml/#charsets).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def availability(check: Check, fmt: str) -> str | None:
    """The product's availability as Google spells it (``in_stock``), or None (reported)."""
    raw = check.item.product.get("availability")
    if not check.required(
        "product.availability",
        raw,
        f"{fmt} needs the product's availability ({', '.join(AVAILABILITY)}); the product "
        "data gives none (an `availability` column in the products CSV)",
    ):
        return None
    key = re.sub(r"[\s-]+", "_", str(raw).strip().lower())
    key = _AVAILABILITY_ALIASES.get(key, key)
    if key not in AVAILABILITY:
        check.fail(
            "product.availability",
            f"{raw!r} is not an availability {fmt} knows; expected one of "
            f"{', '.join(AVAILABILITY)}",
        )
        return None
    return key


def condition(check: Check) -> str | None:
    """The product's condition if the product data gives one (``new`` otherwise is the
    caller's choice); an unknown value is reported."""
    raw = check.item.product.get("condition")
    if raw in (None, ""):
        return None
    key = str(raw).strip().lower()
    if key not in CONDITIONS:
        check.fail(
            "product.condition",
            f"{raw!r} is not a condition; expected one of {', '.join(CONDITIONS)}",
        )
        return None
    return key


def price(check: Check, fmt: str) -> tuple[str, str] | None:
    """``("32.00", "USD")``, or None (reported)."""
    raw = check.item.product.get("price")
    if not check.required(
        "product.price", raw, f"{fmt} needs the product's price; the product data gives none"
    ):
        return None
    amount, currency = str(raw.get("amount", "")), str(raw.get("currency", ""))
    try:
        value = Decimal(amount)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        check.fail("product.price", f"expected an amount of 0 or more, got {amount!r}")
        return None
    if not re.fullmatch(r"[A-Z]{3}", currency):
        check.fail("product.price", f"expected an ISO 4217 currency like USD, got {currency!r}")
        return None
    return f"{value:.2f}", currency


def gtin_is_valid(digits: str) -> bool:
    """GS1 check digit: weights 3 and 1 from the right, excluding the check digit."""
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        return False
    body = [int(d) for d in reversed(digits[:-1])]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return (10 - total % 10) % 10 == int(digits[-1])


def gtin(check: Check) -> str | None:
    """The product's GTIN if it has one and its check digit is right; a wrong one is reported
    (retailers refuse it: support.google.com/merchants/answer/6324461)."""
    raw = check.item.product.get("gtin")
    if raw in (None, ""):
        return None
    value = str(raw).strip()
    if not gtin_is_valid(value):
        check.fail(
            "product.gtin",
            f"{value!r} is not a valid GTIN: it needs 8, 12, 13 or 14 digits with a correct "
            "GS1 check digit",
        )
        return None
    return value


def has_no_identifier(item: FeedItem) -> bool:
    """The product data says the product has no GTIN (``identifier_exists: no``)."""
    value = item.product.get("identifier_exists")
    return value is False or str(value).strip().lower() in ("no", "false", "0")


def http_url(check: Check, where: str, value: object, fmt: str, limit: int = 2000) -> str | None:
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        check.fail(where, f"{fmt} needs an http(s) URL, got {text!r}")
        return None
    if len(text) > limit:
        check.fail(where, f"{fmt} takes URLs of at most {limit:,} characters; this has {len(text)}")
        return None
    return text


def link(check: Check, fmt: str) -> str | None:
    raw = check.item.product.get("link")
    if not check.required(
        "product.link",
        raw,
        f"{fmt} needs the product page's URL; the product data gives none (a `link` column "
        "in the products CSV)",
    ):
        return None
    return http_url(check, "product.link", raw, fmt)


def image_url(image: dict, base: str | None) -> str | None:
    """An image's public URL: its own, or ``base`` + its file name (percent-encoded)."""
    if image.get("url"):
        return str(image["url"])
    if base and image.get("file"):
        return f"{base.rstrip('/')}/{quote(str(image['file']))}"
    return None


def images(check: Check, base: str | None, fmt: str) -> list[str]:
    """The item's image URLs, main first; none at all is reported."""
    urls = [u for u in (image_url(i, base) for i in check.item.images) if u]
    if not urls:
        held = ", ".join(str(i.get("file") or i.get("slot")) for i in check.item.images)
        check.fail(
            "images",
            f"{fmt} needs an image URL; "
            + (
                f"the package's images ({held}) have none: pass the image base URL where "
                "they are published (--image-base-url)"
                if held
                else "the package has no images and the product data no image_link"
            ),
        )
        return []
    return [u for u in (http_url(check, "images", u, fmt) for u in urls) if u]


def xml_safe(check: Check, where: str, value: str) -> bool:
    bad = _NOT_XML.search(value)
    if bad:
        check.fail(
            where,
            f"contains U+{ord(bad.group()):04X}, a control character XML cannot carry",
        )
        return False
    return True


def country(market: str) -> str | None:
    """``en-US`` -> ``US``; None when the market names no country."""
    parts = re.split(r"[-_]", market)
    return parts[-1].upper() if len(parts) > 1 and len(parts[-1]) == 2 else None


def offer_ids(
    items: Sequence[FeedItem], checks: dict[int, Check], fmt: str, *, by_market: bool = True
) -> dict[int, str]:
    """One offer id per SKU and market: the SKU, or ``SKU-market`` when the feed holds the SKU
    in several markets. A second variant of one SKU and market (a copy test, not another
    product) is reported: a catalog holds one offer per product."""
    markets: dict[str, set[str]] = defaultdict(set)
    for item in items:
        markets[item.sku].add(item.market)
    first: dict[tuple[str, str], FeedItem] = {}
    ids: dict[int, str] = {}
    for item in sorted(items, key=lambda i: (i.sku, i.market, i.variant, i.package_id)):
        taken = first.setdefault((item.sku, item.market), item)
        if taken is not item:
            checks[item.package_id].fail(
                "variant",
                f"{fmt} holds one offer per SKU and market: variant {taken.variant} "
                f"(package {taken.package_id}) is {item.sku}'s offer in {item.market}",
            )
            continue
        several = by_market and len(markets[item.sku]) > 1
        ids[item.package_id] = f"{item.sku}-{item.market}" if several else item.sku
    return ids


def image_links(
    check: Check, base: str | None, fmt: str, max_additional: int
) -> tuple[str, list[str]]:
    """The main image URL and the additional ones, each over-limit or comma problem reported."""
    urls = images(check, base, fmt)
    extra = urls[1:]
    if len(extra) > max_additional:
        check.fail(
            "images",
            f"{fmt} takes at most {max_additional} additional images; this package has "
            f"{len(extra)}",
        )
    if any("," in u for u in extra):
        # Repeated values are comma-separated in a text file.
        check.fail("images", "an additional image URL contains a comma, which separates them")
    return (urls[0] if urls else ""), extra
