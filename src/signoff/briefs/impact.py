"""Why a change to a product's facts touches a package, or leaves it alone. Pure: no Django.

A package is touched by a fact that changed only when its channel uses that fact or its
current copy states the old value; a GTIN that changed does not reset an ad that neither
needs nor mentions it. What a channel uses comes from the catalog:

- ``name`` and ``claims``: every channel (every draft names the product and may make its
  claims);
- ``gtin``, ``price`` (and its ``currency``) and ``attributes.X``: the channel's required facts
  (``required_facts``, its family attributes, the brief's ``required_attributes``);
- ``images``: channels with an image spec (their renditions come from the product's images).

Anything else a draft happens to say is caught by its text: the old value in any field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from signoff.briefs.completeness import fact_label, required_facts
from signoff.channels.spec import ChannelSpec

# Facts every channel's copy is drafted from, whatever its required facts say.
EVERY_CHANNEL = {
    "name": "every channel's copy names the product",
    "claims": "every channel's copy may make the product's claims",
}


@dataclass(frozen=True, slots=True)
class FactChange:
    """One product fact that differs between two brief versions."""

    fact: str  # "gtin", "price", "attributes.scent", ...
    old: Any
    new: Any

    def describe(self, sku: str) -> str:
        return f"{sku} {self.fact}: {self.old!r} -> {self.new!r}"


def fact_changes(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[FactChange] | None]:
    """Per SKU, the facts that changed; None for a SKU the new version dropped.

    ``before`` and ``after`` map each SKU to its facts (``name``, ``gtin``, ``attributes.X``).
    A SKU only in ``after`` adds packages and changes none.
    """
    changes: dict[str, list[FactChange] | None] = {}
    for sku in sorted(before.keys() | after.keys()):
        if sku not in after:
            changes[sku] = None
            continue
        if sku not in before:
            continue
        was, now = before[sku], after[sku]
        changed = sorted(k for k in was.keys() | now.keys() if was.get(k) != now.get(k))
        if changed:
            changes[sku] = [FactChange(k, was.get(k), now.get(k)) for k in changed]
    return changes


def channel_uses(
    channel: ChannelSpec,
    fact: str,
    family: Iterable[str] = (),
    required_attributes: Iterable[str] = (),
) -> str | None:
    """Say why ``channel`` uses ``fact``, or None when it does not."""
    if fact in EVERY_CHANNEL:
        return EVERY_CHANNEL[fact]
    if fact == "images":
        return f"{channel.id} renders the product's images" if channel.images else None
    needed = required_facts(channel, family, required_attributes)
    wanted = "price" if fact == "currency" else fact
    if wanted in needed:
        return f"{channel.id} needs the {fact_label(wanted)}"
    return None


def stated_in(fields: Mapping[str, Any], value: Any) -> str | None:
    """Return the first field whose text states ``value`` (whole words, any case), or None."""
    text = "" if value is None else str(value).strip()
    if not text or isinstance(value, list | tuple | dict | bool):
        return None
    pattern = re.compile(rf"(?<!\w){re.escape(text)}(?!\w)", re.IGNORECASE)
    for name, content in fields.items():
        items = content if isinstance(content, list | tuple) else [content]
        if any(isinstance(item, str) and pattern.search(item) for item in items):
            return name
    return None


def why_touched(
    sku: str,
    channel: ChannelSpec,
    changes: list[FactChange] | None,
    copy: Mapping[str, Any] | None,
    family: Iterable[str] = (),
    required_attributes: Iterable[str] = (),
) -> tuple[list[str], list[str]]:
    """Return (why the package is touched, why each other change leaves it alone).

    ``changes`` is the SKU's from :func:`fact_changes` (None: the SKU was removed); ``copy``
    is the package's current fields (None before its first draft).
    """
    if changes is None:
        return [f"SKU {sku} removed from the brief"], []
    family = tuple(family)
    required_attributes = tuple(required_attributes)
    touched: list[str] = []
    spared: list[str] = []
    for change in changes:
        uses = channel_uses(channel, change.fact, family, required_attributes)
        if uses:
            touched.append(f"{change.describe(sku)} ({uses})")
            continue
        field = stated_in(copy or {}, change.old)
        if field:
            touched.append(f"{change.describe(sku)} (its {field} states {str(change.old)!r})")
        else:
            spared.append(
                f"{change.describe(sku)}: {channel.id} does not use the "
                f"{fact_label(change.fact)} and its copy does not state it"
            )
    return touched, spared


def _spellings(value: Any) -> list[Any]:
    """A value and the other ways copy writes it: "24.00" is also "24", "24.50" also "24.5"."""
    text = str(value).strip()
    out: list[Any] = [value]
    if re.fullmatch(r"\d+\.\d+", text):
        short = text.rstrip("0").rstrip(".")
        if short != text:
            out.append(short)
    return out


def edit_conflicts(edited: Mapping[str, Any], changed: Iterable[tuple[str, Any]]) -> list[str]:
    """Say why a person's edit cannot be carried onto a redraft after a brief change.

    ``edited`` holds the fields the person changed, with their values; ``changed`` is each
    changed fact or brief text as (what changed, its old value). An edited field that states
    an old value would carry a stale fact onto the new version; every other edit carries.
    Returns one line per such field and value ([] when the whole edit carries).
    """
    reasons = []
    for what, old in changed:
        for spelling in _spellings(old):
            field = stated_in(edited, spelling)
            if field:
                reasons.append(f"the edited {field} states {str(spelling)!r}, and {what} changed")
                break
    return reasons
