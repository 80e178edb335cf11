"""What the last gate and launch ask of a package's current version: what its channel needs.

Earlier gates review copy before the creative exists. The last gate and launch do not pass a
version whose channel's required copy fields or image slots are empty, or that carries a
blocking finding, and each refusal names the package and the field or rule. The channel's
spec is read as it is now (with the workspace's overrides), so an approval given before a
field or slot became required does not ship an incomplete package: launch asks again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from signoff.channels.catalog import resolve_spec
from signoff.channels.spec import ChannelSpec
from signoff.packages.image_slots import image_shortfall
from signoff.packages.models import Finding, Package, Version


@dataclass(frozen=True, slots=True)
class Unmet:
    """What one version lacks for its channel; empty (false) when it has everything."""

    blocking: tuple[str, ...] = ()  # each blocking finding, as "field: rule_id"
    fields: tuple[str, ...] = ()  # required copy fields left empty
    images: tuple[str, ...] = ()  # required image slots left empty (see ``image_shortfall``)

    def __bool__(self) -> bool:
        return bool(self.blocking or self.fields or self.images)


def is_empty(value: Any) -> bool:
    """A field counts as empty when it holds no text: None, blanks, or a list of blanks."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not any(isinstance(item, str) and item.strip() for item in value)
    return False


def empty_required_fields(spec: ChannelSpec, fields: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The fields ``spec`` requires that ``fields`` leaves empty, in the spec's order."""
    fields = fields or {}
    return tuple(name for name in spec.required_fields if is_empty(fields.get(name)))


def finding_label(field: str, rule_id: str) -> str:
    """How a refusal names one finding: "headline: spec.max_chars", or the rule alone."""
    return f"{field}: {rule_id}" if field else rule_id


def blocking_rules(version: Version | None) -> tuple[str, ...]:
    """Each blocking finding on ``version``, named by field and rule."""
    if version is None:
        return ()
    rows = Finding.objects.filter(version=version, severity=Finding.Severity.BLOCK).order_by("id")
    return tuple(finding_label(f, r) for f, r in rows.values_list("field", "rule_id"))


def channel_spec(package: Package) -> ChannelSpec:
    overrides = package.brief.workspace.channel_overrides.get(package.channel)
    return resolve_spec(package.channel, overrides)


def empty_fields(package: Package, version: Version | None) -> tuple[str, ...]:
    """The channel's required copy fields that ``version`` leaves empty."""
    return empty_required_fields(channel_spec(package), version.fields if version else None)


def unmet_needs(packages: Sequence[Package]) -> dict[int, Unmet]:
    """Per package id, what its current version lacks (only packages that lack something).

    One query for every version's blocking findings, one spec per channel: a launch asks this
    of every package of a channel at once.
    """
    versions = [p.current_version_id for p in packages if p.current_version_id]
    blocking: dict[int, list[str]] = {}
    rows = (
        Finding.objects.filter(version_id__in=versions, severity=Finding.Severity.BLOCK)
        .order_by("version_id", "id")
        .values_list("version_id", "field", "rule_id")
    )
    for version_id, field, rule_id in rows:
        blocking.setdefault(version_id, []).append(finding_label(field, rule_id))
    specs: dict[str, ChannelSpec] = {}
    out: dict[int, Unmet] = {}
    for package in packages:
        if package.channel not in specs:
            specs[package.channel] = channel_spec(package)
        spec, version = specs[package.channel], package.current_version
        unmet = Unmet(
            blocking=tuple(blocking.get(package.current_version_id, ())),
            fields=empty_required_fields(spec, version.fields if version else None),
            images=image_shortfall(spec, version.images if version else None),
        )
        if unmet:
            out[package.pk] = unmet
    return out
