"""Feeds: a channel's published packages as the files and API bodies retailers take.

Each format is a pure function of its items (no Django here; ``signoff.feeds.items`` reads
the items from the database). A package whose content a format cannot express (a field over
the format's limit, a required attribute the product data lacks) is left out of the feed and
reported as a :class:`FeedProblem` naming its field; nothing is cut to fit. The formats, their
rules and sources: docs/formats.md ("Feeds").

    feed = build_feed("google_merchant_tsv", items, image_base_url="https://cdn.example.com/i")
    feed.content, feed.media_type, feed.problems
"""

from __future__ import annotations

from collections.abc import Sequence

from signoff.feeds import amazon, generic, google, meta, shopify
from signoff.feeds.base import Feed, FeedFormat, FeedItem, FeedProblem

_GOOGLE = "https://support.google.com/merchants/answer/7052112"
_ALL = (
    FeedFormat(
        "google_merchant_tsv",
        "Google Merchant Center (TSV)",
        "text/tab-separated-values; charset=utf-8",
        "tsv",
        google.build_tsv,
        ("google_merchant",),
        _GOOGLE,
    ),
    FeedFormat(
        "google_merchant_xml",
        "Google Merchant Center (RSS XML)",
        "application/rss+xml",
        "xml",
        google.build_xml,
        ("google_merchant",),
        _GOOGLE,
    ),
    FeedFormat(
        "meta_catalog_csv",
        "Meta catalog (CSV)",
        "text/csv; charset=utf-8",
        "csv",
        meta.build_csv,
        ("meta_*", "instagram_*"),
        "https://developers.facebook.com/docs/marketing-api/catalog/reference",
    ),
    FeedFormat(
        "amazon_listings_json",
        "Amazon listings (SP-API JSON)",
        "application/json",
        "json",
        amazon.build_json,
        ("amazon_*",),
        "https://developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference",
    ),
    FeedFormat(
        "shopify_jsonl",
        "Shopify productSet (JSONL)",
        "application/jsonl",
        "jsonl",
        shopify.build_jsonl,
        (),
        "https://shopify.dev/docs/api/admin-graphql/latest/mutations/productSet",
    ),
    FeedFormat("csv", "Signoff CSV", "text/csv; charset=utf-8", "csv", generic.build_csv),
    FeedFormat("json", "Signoff JSON", "application/json", "json", generic.build_json),
)
FORMATS: dict[str, FeedFormat] = {f.id: f for f in _ALL}


def build_feed(
    format_id: str, items: Sequence[FeedItem], *, image_base_url: str | None = None
) -> Feed:
    """Build one feed of ``items`` in ``format_id``; ValueError naming the known formats if
    there is no such format. Image URLs are the images' own, or ``image_base_url`` followed by
    their file names."""
    found = FORMATS.get(format_id)
    if found is None:
        raise ValueError(f"unknown feed format {format_id!r}; known formats: {', '.join(FORMATS)}")
    return found.build(list(items), image_base_url)


def formats_for(channel: str) -> list[FeedFormat]:
    """The formats made for ``channel`` first, then the ones that fit any channel."""
    return [f for f in _ALL if f.channels and f.suits(channel)] + [
        f for f in _ALL if not f.channels
    ]


__all__ = ["FORMATS", "Feed", "FeedFormat", "FeedItem", "FeedProblem", "build_feed", "formats_for"]
