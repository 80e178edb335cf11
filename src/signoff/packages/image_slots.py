"""Which of a channel's required image slots a package version leaves empty.

Copy is often reviewed before the creative exists, so only the last gate and launch ask.
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


def empty_image_slots(package: Package, version: Version | None) -> tuple[str, ...]:
    """The channel's required image slots that ``version`` leaves empty."""
    overrides = package.brief.workspace.channel_overrides.get(package.channel)
    required = required_slots(resolve_spec(package.channel, overrides))
    return missing_slots(required, version.images if version is not None else None)
