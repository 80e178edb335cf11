"""A package's copy as people read it: field labels from its channel spec, headline snippets."""

from __future__ import annotations

from signoff.agents.context import field_texts
from signoff.channels.catalog import resolve_spec
from signoff.packages.models import Package, Version


def field_names(package: Package) -> dict[str, str]:
    """The channel spec's label of each field ("Bullet points"), for ``labels.field_label``."""
    workspace = package.brief.workspace
    spec = resolve_spec(package.channel, workspace.channel_overrides.get(package.channel))
    return {name: f.label for name, f in spec.fields.items() if f.label}


def copy_snippets(packages: list[Package]) -> dict[int, str]:
    """Return each package's headline copy (its first text field), by id (one query)."""
    ids = [p.current_version_id for p in packages if p.current_version_id]
    stored = dict(Version.objects.filter(pk__in=ids).values_list("pk", "fields"))
    out = {}
    for package in packages:
        texts = field_texts(stored.get(package.current_version_id) or {})
        first = next((text for _, text in texts if text.strip()), "")
        if first:
            out[package.pk] = first
    return out
