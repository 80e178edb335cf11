"""Which copy field of a package fills a feed's title, description, bullets and keywords.

Channels name their fields differently (Amazon ``product_description``, Walmart
``product_name``, Meta ``headline`` and ``primary_text``). A feed attribute takes the first of
its candidates the package has; a channel with none of them falls back as listed in
docs/formats.md (title <- headline <- the product's name; description <- the bullets). The
value says which field it came from, so a problem names the field a person edits.
"""

from __future__ import annotations

from dataclasses import dataclass

from signoff.feeds.base import Check, FeedItem

# The package fields each role reads, best first. Every text field of the shipped catalog
# with one of these meanings is listed (tests/test_feeds_formats.py keeps them in step).
CANDIDATES: dict[str, tuple[str, ...]] = {
    "title": ("title", "product_name", "headline", "short_title", "subtitle", "headlines"),
    "short_title": ("short_title", "subtitle"),
    "description": (
        "description",
        "product_description",
        "primary_text",
        "body",
        "caption",
        "link_description",
        "descriptions",
    ),
    "bullets": ("bullet_points", "key_features", "highlights"),
    "keywords": ("search_terms", "hashtags"),
}


@dataclass(frozen=True)
class Copy:
    value: str
    source: str  # the package field it came from ("headline"), or "product.name"


@dataclass(frozen=True)
class ListCopy:
    values: list[str]
    source: str


def _filled(value: object) -> bool:
    if isinstance(value, list):
        return any(str(v).strip() for v in value)
    return value is not None and str(value).strip() != ""


def _source(item: FeedItem, role: str) -> str | None:
    return next((f for f in CANDIDATES[role] if _filled(item.fields.get(f))), None)


def title(item: FeedItem) -> Copy | None:
    """The title: a title-like field, the first of a list (Google Ads headlines), else the
    product's name."""
    name = _source(item, "title")
    if name is not None:
        value = item.fields[name]
        return Copy(str(value[0] if isinstance(value, list) else value), name)
    if _filled(item.product.get("name")):
        return Copy(str(item.product["name"]), "product.name")
    return None


def short_title(item: FeedItem) -> Copy | None:
    name = _source(item, "short_title")
    return Copy(str(item.fields[name]), name) if name else None


def description(item: FeedItem) -> Copy | None:
    """The description: a description-like field (list items one per line), else the bullets
    one per line."""
    name = _source(item, "description")
    if name is not None:
        value = item.fields[name]
        text = "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
        return Copy(text, name)
    found = bullets(item)
    if found is not None:
        return Copy("\n".join(found.values), found.source)
    return None


def bullets(item: FeedItem) -> ListCopy | None:
    name = _source(item, "bullets")
    if name is None:
        return None
    value = item.fields[name]
    values = value if isinstance(value, list) else [value]
    return ListCopy([str(v) for v in values if str(v).strip()], name)


def keywords(item: FeedItem) -> Copy | None:
    """Search terms as one space-separated text (hashtags joined by spaces)."""
    name = _source(item, "keywords")
    if name is None:
        return None
    value = item.fields[name]
    return Copy(" ".join(str(v) for v in value) if isinstance(value, list) else str(value), name)


def offer_text(check: Check, offer_id: str, limits: dict[str, int], fmt: str) -> dict[str, str]:
    """The offer's ``id``, ``title`` and ``description`` as a merchant feed row holds them,
    each checked against ``limits``; a missing or over-long one goes on ``check``."""
    item = check.item
    out = {"id": offer_id}
    check.at_most("id", offer_id, limits["id"], "an id", fmt)
    found = title(item)
    if check.required("title", found, f"{fmt} needs a title; the package has no title field"):
        check.at_most(found.source, found.value, limits["title"], "a title", fmt)
        out["title"] = found.value
    found = description(item)
    if check.required("description", found, f"{fmt} needs a description; the package has none"):
        check.at_most(found.source, found.value, limits["description"], "a description", fmt)
        out["description"] = found.value
    return out
