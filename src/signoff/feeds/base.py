"""What every feed format shares: the item a format reads, the problems it reports, the feed
it writes, and the small checks each format applies to one item.

Nothing here imports Django: the formats are pure functions of their items, so a connector, a
test or a folder export builds exactly the same bytes from the same packages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FeedItem:
    """One published package, as a feed reads it.

    ``fields`` is the package version's copy (``{field: text | [texts]}``, the channel's field
    names). ``product`` holds the brief version's product facts: ``name``, ``gtin``, ``mpn``,
    ``brand``, ``price`` (``{"amount": "32.00", "currency": "USD"}``), ``availability``,
    ``condition``, ``link``, ``identifier_exists`` (``False`` when the product data says it has
    no GTIN), ``amazon_product_type``, ``attributes`` (the rest); a fact that is not known is
    absent or ``None``. ``images`` are the version's renditions in the channel's slot order
    (the first is the main image), or the product's own image URLs when it has none: each
    ``{slot, file, sha256, url, width, height}``, ``url`` ``None`` until someone publishes it.
    """

    package_id: int
    brief: str
    sku: str
    channel: str
    market: str
    variant: str
    version: int
    content_hash: str
    fields: dict[str, Any]
    product: dict[str, Any]
    images: list[dict[str, Any]]


@dataclass
class FeedProblem:
    """Why one package is not in a feed: the field (a copy field, ``product.<fact>``,
    ``images``, ``market``, ``variant`` or the format's ``id``) and what is wrong with it."""

    package_id: int
    field: str
    message: str


@dataclass
class Feed:
    """A feed file, and the packages left out of it with why."""

    content: bytes
    media_type: str
    extension: str
    problems: list[FeedProblem]
    items: int  # packages in the feed


@dataclass(frozen=True)
class FeedFormat:
    id: str
    label: str
    media_type: str
    extension: str
    build: Callable[[Sequence[FeedItem], str | None], Feed]
    # Channels (ids or ``prefix_*``) the format is made for; empty = any channel. The CLI and
    # API export any format for any channel; the matrix offers these first.
    channels: tuple[str, ...] = ()
    source: str = ""  # where the format's rules are published

    def suits(self, channel: str) -> bool:
        if not self.channels:
            return True
        return any(
            channel.startswith(c[:-1]) if c.endswith("*") else channel == c for c in self.channels
        )


@dataclass
class Check:
    """The problems found in one item; an item with any is left out of the feed."""

    item: FeedItem
    problems: list[FeedProblem] = field(default_factory=list)

    def fail(self, where: str, message: str) -> None:
        self.problems.append(FeedProblem(self.item.package_id, where, message))

    @property
    def ok(self) -> bool:
        return not self.problems

    def at_most(self, where: str, value: str, limit: int, what: str, fmt: str) -> None:
        """Refuse (never cut) a text longer than the format takes, in characters."""
        if len(value) > limit:
            self.fail(
                where,
                f"{fmt} takes {what} of at most {limit:,} characters; this one has {len(value):,}",
            )

    def required(self, where: str, value: object, message: str) -> bool:
        if value in (None, "", [], {}):
            self.fail(where, message)
            return False
        return True
