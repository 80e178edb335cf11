"""The Django side of feeds: a channel's published packages as ``FeedItem``s, and the feed of a
launched channel as the CLI, the API and the screens ask for it.

A package's item is its current version (a published package cannot change): the copy, the
product facts of the brief version it was drafted from, and its renditions in the channel's
slot order. A product without renditions offers its own image URLs, the products CSV's
``image_link`` and ``additional_image_link`` columns (``;``-separated).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse

from signoff.briefs.models import Brief, Product
from signoff.channels.catalog import resolve_spec
from signoff.core.errors import InputError, NotFound
from signoff.delivery.models import Launch
from signoff.feeds import FORMATS, Feed, FeedItem, build_feed
from signoff.packages.models import Package

# Products CSV columns (attributes) a feed reads as facts rather than as attributes.
FACT_COLUMNS = (
    "brand",
    "mpn",
    "availability",
    "condition",
    "link",
    "identifier_exists",
    "amazon_product_type",
    "image_link",
    "additional_image_link",
)


def feed_items(brief: Brief, channel: str) -> list[FeedItem]:
    """The channel's published packages of ``brief``, oldest first, in three queries."""
    packages = list(
        Package.objects.filter(brief=brief, channel=channel, state=Package.State.PUBLISHED)
        .select_related("current_version", "brief__workspace")
        .order_by("id")
    )
    versions = {p.current_version.brief_version_id for p in packages}
    products = {
        (p.brief_version_id, p.sku): p for p in Product.objects.filter(brief_version__in=versions)
    }
    workspace = brief.workspace
    spec = resolve_spec(channel, workspace.channel_overrides.get(channel))
    slots = [s.id for s in (spec.images.slots if spec.images else [])]
    items = []
    for package in packages:
        version = package.current_version
        product = products.get((version.brief_version_id, package.sku))
        facts = product_facts(product, brand=workspace.name)
        images = version_images(version.images, slots) or product_images(facts)
        items.append(
            FeedItem(
                package_id=package.pk,
                brief=brief.slug,
                sku=package.sku,
                channel=channel,
                market=package.market,
                variant=package.variant,
                version=version.number,
                content_hash=version.content_hash,
                fields=dict(version.fields),
                product=facts,
                images=images,
            )
        )
    return items


def product_facts(product: Product | None, *, brand: str) -> dict[str, Any]:
    """A product's facts as plain JSON values; the brand is the workspace's (one workspace is
    one brand) unless the product data names another."""
    if product is None:
        return {"brand": brand}
    attributes = dict(product.attributes)
    given = {k: attributes.pop(k) for k in FACT_COLUMNS if k in attributes}
    price = product.price
    return {
        "name": product.name,
        "gtin": product.gtin or None,
        "mpn": given.get("mpn"),
        "brand": str(given.get("brand") or brand),
        "price": (
            {"amount": f"{Decimal(price):.2f}", "currency": product.currency}
            if price is not None
            else None
        ),
        "availability": given.get("availability"),
        "condition": given.get("condition"),
        "link": given.get("link"),
        "identifier_exists": _yes_no(given.get("identifier_exists")),
        "amazon_product_type": given.get("amazon_product_type"),
        "image_link": given.get("image_link"),
        "additional_image_link": given.get("additional_image_link"),
        "attributes": attributes,
    }


def _yes_no(value: object) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("no", "false", "0", "n")


def version_images(images: dict | None, slots: list[str]) -> list[dict[str, Any]]:
    """A version's renditions, the channel's slots in its order (the first is the main image),
    then any other slot by name."""
    images = images or {}
    order = [s for s in slots if s in images] + sorted(s for s in images if s not in slots)
    return [
        {
            "slot": slot,
            "file": images[slot].get("file"),
            "sha256": images[slot].get("sha256"),
            "url": None,
            "width": images[slot].get("width"),
            "height": images[slot].get("height"),
        }
        for slot in order
    ]


def product_images(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """The product's own image URLs from the products CSV, main first."""
    urls = [str(facts.get("image_link") or "").strip()]
    urls += [u.strip() for u in str(facts.get("additional_image_link") or "").split(";")]
    return [
        {
            "slot": "image_link" if n == 0 else f"additional_image_link_{n}",
            "file": PurePosixPath(urlsplit(url).path).name,
            "sha256": None,
            "url": url,
            "width": None,
            "height": None,
        }
        for n, url in enumerate(u for u in urls if u)
    ]


def image_base_url(given: str | None = None, *, where: str = "image_base_url") -> str | None:
    """The base URL images are published under: ``given``, else the setting; an http(s) URL
    or an ``InputError`` at ``where``."""
    value = (given or getattr(settings, "SIGNOFF_FEED_IMAGE_BASE_URL", None) or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        file = {"file": "<command line>"} if where.startswith("--") else {}
        raise InputError.single(
            f"the image base URL must be an http(s) URL, got {value!r}", field=where, **file
        )
    return value


def launched_channel_feed(
    brief: Brief, channel: str, format_id: str, *, base_url: str | None = None
) -> Feed:
    """The feed of one launched channel of ``brief`` in ``format_id``.

    ``InputError`` at ``format`` for an unknown format (naming the known ones) and at
    ``image_base_url`` for a URL that is not http(s); ``NotFound`` when the channel is not
    one of the brief's or has not launched (its packages are not published).
    """
    if format_id not in FORMATS:
        raise InputError.single(
            f"unknown feed format {format_id!r}; known formats: {', '.join(FORMATS)}",
            field="format",
        )
    base = image_base_url(base_url)
    channels = list(brief.latest_version().data.get("channels", []))
    if channel not in channels:
        raise NotFound(
            f"{channel!r} is not a channel of brief {brief.slug!r}; its channels: "
            f"{', '.join(channels)}"
        )
    if not Launch.objects.filter(brief=brief, channel=channel).exists():
        raise NotFound(
            f"{channel} of {brief.slug} has not launched, so none of its packages is "
            "published; a feed exports a launched channel (`signoff launch`)"
        )
    return build_feed(format_id, feed_items(brief, channel), image_base_url=base)


def feed_response(brief: Brief, channel: str, feed: Feed) -> HttpResponse:
    """The feed as a download for the API and the screens; ``Signoff-Feed-Problems`` counts
    the packages left out of it."""
    response = HttpResponse(feed.content, content_type=feed.media_type)
    name = f"{brief.slug}-{channel}.{feed.extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Signoff-Feed-Problems"] = str(len({p.package_id for p in feed.problems}))
    return response
