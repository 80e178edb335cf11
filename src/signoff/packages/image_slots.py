"""Which of a channel's required images a package version leaves empty.

Copy is often reviewed before the creative exists, so only the last gate and launch ask.
A channel needs its required slots filled and, when its spec asks for more images than its
required slots give (``images.min_count``, e.g. a workspace override that made every slot
optional), that many slots filled in all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from signoff.channels.catalog import resolve_spec
from signoff.channels.spec import ChannelSpec
from signoff.packages.models import Package, Version


def required_slots(spec: ChannelSpec) -> tuple[str, ...]:
    """The ids of the slots ``spec`` requires, in catalog order."""
    if spec.images is None:
        return ()
    return tuple(slot.id for slot in spec.images.slots if slot.required)


def missing_slots(required: Iterable[str], images: Mapping[str, Any] | None) -> tuple[str, ...]:
    filled = set(images or {})
    return tuple(slot for slot in required if slot not in filled)


def image_shortfall(spec: ChannelSpec, images: Mapping[str, Any] | None) -> tuple[str, ...]:
    """What ``images`` lacks for ``spec``: each empty required slot by id, then, if fewer
    slots are filled than the channel's minimum count, "N more image(s) (any of a, b)"."""
    empty = missing_slots(required_slots(spec), images)
    if spec.images is None:
        return empty
    filled = len(set(images or {}))
    # Empty required slots will count towards the minimum once filled.
    short = spec.images.min_count - filled - len(empty)
    if short <= 0:
        return empty
    optional = [s.id for s in spec.images.slots if not s.required and s.id not in (images or {})]
    where = f" (any of {', '.join(optional)})" if optional else " (the channel declares no slot)"
    return (*empty, f"{short} more image(s){where}")


def empty_image_slots(package: Package, version: Version | None) -> tuple[str, ...]:
    """The channel's required image slots (and minimum count) that ``version`` leaves empty."""
    overrides = package.brief.workspace.channel_overrides.get(package.channel)
    return image_shortfall(
        resolve_spec(package.channel, overrides), version.images if version is not None else None
    )
