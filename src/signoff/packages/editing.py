"""Checking a person's changes to a package's copy before (or without) saving them.

One function, ``check_edit``, is what both paths run: ``authoring.edit_package`` (the CLI's
`signoff edit`, the API's edit and the web's save) checks the new fields with it before it
stores a version, and the web editor's live check calls it on every pause in typing and stores
nothing. So what the editor shows as you type is exactly what the saved version will carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from signoff.agents.checking import check_draft
from signoff.agents.context import (
    BrandRules,
    CheckFinding,
    Draft,
    FieldValue,
    ProductFacts,
    Severity,
)
from signoff.channels.catalog import resolve_spec
from signoff.channels.spec import ChannelSpec
from signoff.packages.fields import apply_changes
from signoff.packages.models import Package, Version, version_digest
from signoff.workspaces.rules import brand_rules


@dataclass(frozen=True)
class CheckedEdit:
    """The fields a change would make, their findings, and whether anything changed."""

    spec: ChannelSpec
    fields: dict[str, FieldValue]
    findings: list[CheckFinding]
    digest: str
    changed: bool
    product: ProductFacts
    rules: BrandRules


def channel_spec(package: Package) -> ChannelSpec:
    """The package's channel spec with the workspace's overrides."""
    workspace = package.brief.workspace
    return resolve_spec(package.channel, workspace.channel_overrides.get(package.channel))


def check_edit(
    package: Package, previous: Version, changes: Mapping[str, FieldValue]
) -> CheckedEdit:
    """Apply ``changes`` to ``previous``'s fields and run the copy checks on the result.

    Reads the spec, the product and the brand rules; writes nothing. Raises ``InputError`` for
    an unknown field or list item, naming it.
    """
    spec = channel_spec(package)
    fields = apply_changes(previous.fields, changes, spec.fields)
    digest = version_digest(fields, previous.images or {})
    brief_version = previous.brief_version
    siblings = tuple(p.facts() for p in brief_version.products.all())
    product = next(p for p in siblings if p.sku == package.sku)
    rules = brand_rules(package.brief.workspace)
    draft = Draft(
        spec,
        fields,
        product,
        package.market,
        package.variant,
        siblings=siblings,
        inputs=brief_version.screen().signals,
    )
    findings = [_as_person(f) for f in check_draft(draft, rules)]
    return CheckedEdit(
        spec=spec,
        fields=fields,
        findings=findings,
        digest=digest,
        changed=digest != previous.content_hash,
        product=product,
        rules=rules,
    )


# A person who states a number the product data does not hold answers for it: the next
# reviewer is warned (maker-checker means one always looks). A model's number blocks.
PERSON_WARNS = frozenset({"invented.number", "invented.numbered_claim"})


def _as_person(finding: CheckFinding) -> CheckFinding:
    if finding.rule_id in PERSON_WARNS and finding.severity is Severity.BLOCK:
        return replace(finding, severity=Severity.WARN)
    return finding


def field_counts(spec: ChannelSpec, fields: Mapping[str, FieldValue]) -> list[dict]:
    """Each field's (or list item's) length in characters, as the checks count them, beside
    its limits (for a list field the limits are per item). Spec fields come in spec order."""
    counts = []
    for name, field_spec in spec.fields.items():
        value = fields.get(name)
        items = (
            [(f"{name}[{i}]", item) for i, item in enumerate(value)]
            if isinstance(value, list)
            else [(name, "" if value is None else str(value))]
        )
        for path, text in items:
            counts.append(
                {
                    "path": path,
                    "name": name,
                    "length": len(text),
                    "min_chars": field_spec.min_chars,
                    "max_chars": field_spec.max_chars,
                    "recommended_max_chars": field_spec.recommended_max_chars,
                }
            )
    return counts
