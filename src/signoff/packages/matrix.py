"""Expand a brief into its package cells: SKU x channel x market x variant. Pure."""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Cell:
    sku: str
    channel: str
    market: str
    variant: str


def variant_labels(count: int) -> list[str]:
    """Return ``A``, ``B``, ... for a brief that asks for ``count`` variants."""
    if not 1 <= count <= len(string.ascii_uppercase):
        raise ValueError(f"variants must be between 1 and 26, got {count}")
    return list(string.ascii_uppercase[:count])


def expand(
    skus: Sequence[str], channels: Sequence[str], markets: Sequence[str], variants: int
) -> list[Cell]:
    """Return every cell in brief order: by SKU, then channel, market and variant."""
    labels = variant_labels(variants)
    return [
        Cell(sku, channel, market, label)
        for sku in skus
        for channel in channels
        for market in markets
        for label in labels
    ]
