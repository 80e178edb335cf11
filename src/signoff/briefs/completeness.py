"""Which product facts a channel needs, and which a SKU lacks. Pure: no Django.

A channel names the facts it needs (``required_facts``: name, gtin, price, images,
``attributes.X``). Product-detail channels also need the SKU's *family* attributes: those
that most SKUs of the brief carry (the rhubarb candle lacks the burn time its five siblings
state, so a detail page for it would be incomplete). A brief may add attributes every SKU needs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from signoff.agents.context import ProductFacts
from signoff.channels.spec import ChannelSpec


@dataclass(frozen=True, slots=True)
class Gap:
    field: str  # "gtin", "price", "attributes.burn_time_hours"
    message: str


def family_attributes(products: Sequence[ProductFacts]) -> frozenset[str]:
    """Return the attributes more than half of the SKUs carry (none for a single SKU)."""
    if len(products) < 2:
        return frozenset()
    counts = Counter(key for p in products for key in p.attributes)
    return frozenset(key for key, n in counts.items() if n * 2 > len(products))


def required_facts(
    channel: ChannelSpec, family: Iterable[str] = (), required_attributes: Iterable[str] = ()
) -> list[str]:
    needed = list(dict.fromkeys(channel.required_facts))
    extra = list(required_attributes)
    if channel.requires_family_attributes:
        extra += sorted(family)
    needed += [f"attributes.{a}" for a in extra if f"attributes.{a}" not in needed]
    return needed


def _has(product: ProductFacts, fact: str) -> bool:
    if fact.startswith("attributes."):
        value = product.attributes.get(fact.removeprefix("attributes."))
        return value is not None and str(value).strip() != ""
    value = getattr(product, fact, None)
    if isinstance(value, tuple | list):
        return bool(value)
    return value is not None and str(value).strip() != ""


def fact_label(fact: str) -> str:
    """Return a fact as people say it: "GTIN", "burn time hours"."""
    return "GTIN" if fact == "gtin" else fact.removeprefix("attributes.").replace("_", " ")


def find_gaps(
    product: ProductFacts,
    channel: ChannelSpec,
    family: Iterable[str] = (),
    required_attributes: Iterable[str] = (),
) -> tuple[list[str], list[Gap]]:
    """Return the facts the channel needs for this SKU and the gaps among them."""
    needed = required_facts(channel, family, required_attributes)
    gaps = [
        Gap(fact, f"{product.sku} has no {fact_label(fact)}; {channel.name} needs it")
        for fact in needed
        if not _has(product, fact)
    ]
    return needed, gaps
