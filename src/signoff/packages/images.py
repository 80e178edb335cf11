"""Attaching renditions to a package: a new version that binds the copy and the images.

An approval is of one exact combination of copy and images (the version's content hash covers
both), so new images are a new version, checked again, and the approvals it no longer matches
are voided, as for an edit of the copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from django.db import transaction

from signoff.agents.checking import check_draft
from signoff.agents.context import CheckFinding, Draft, Severity
from signoff.channels.catalog import resolve_spec
from signoff.packages.authoring import save_version
from signoff.packages.decisions import ItemResult, _decide, _record
from signoff.packages.editing import PERSON_WARNS
from signoff.packages.models import version_digest
from signoff.packages.refusals import records_refusals
from signoff.workflow import Action, ErrorCode, StateError
from signoff.workspaces.models import Person
from signoff.workspaces.rules import brand_rules


@records_refusals("package", "edit")
def attach_images(
    *,
    package_id: int,
    person: Person,
    images: Mapping[str, dict[str, Any]],
    image_findings: Sequence[CheckFinding] = (),
    note: str = "",
) -> ItemResult:
    """Make a version of the package with ``images`` in its slots (the copy unchanged).

    ``image_findings`` are the renditions' checks, kept on the new version with the copy's.
    Nothing happens when the package already carries exactly these images.
    """
    with transaction.atomic():
        package, person, decision = _decide(package_id, person, Action.EDIT, note=note)
        previous = package.current_version
        if previous is None:
            raise StateError(
                ErrorCode.INVALID_STATE,
                f"package {package.pk} has no draft yet; images attach to a drafted package",
            )
        images = dict(images)
        digest = version_digest(previous.fields, images)
        if digest == previous.content_hash:
            return ItemResult(
                package.pk,
                True,
                "unchanged",
                "already carries these images",
                position=package.position,
            )
        workspace = package.brief.workspace
        spec = resolve_spec(package.channel, workspace.channel_overrides.get(package.channel))
        product = previous.brief_version.products.get(sku=package.sku).facts()
        findings = [
            f
            for f in check_draft(
                Draft(spec, previous.fields, product, package.market, package.variant),
                brand_rules(workspace),
            )
            # The copy's "no image yet" note is answered by the images themselves.
            if f.rule_id != "spec.images_pending"
        ]
        # The copy is unchanged: a number its author (a person) stated stays a warning.
        warned = set(
            previous.findings.filter(rule_id__in=PERSON_WARNS, severity="warn").values_list(
                "rule_id", "field"
            )
        )
        findings = [
            replace(f, severity=Severity.WARN) if (f.rule_id, f.field or "") in warned else f
            for f in findings
        ]
        findings += list(image_findings)
        version, voided, before = save_version(
            package,
            person,
            decision,
            previous,
            fields=previous.fields,
            images=images,
            digest=digest,
            findings=findings,
            origin={
                "kind": "person",
                "person": person.email,
                "note": note,
                "changed": [f"images.{slot}" for slot in sorted(images)],
            },
        )
        _record(
            package,
            person,
            decision,
            before,
            version=version,
            note=note,
            data={
                "version": version.number,
                "parent": previous.number,
                "parent_hash": previous.content_hash,
                "voided": voided,
                "images": {slot: entry["sha256"] for slot, entry in images.items()},
                "image_findings": sum(1 for f in image_findings if f.severity == Severity.BLOCK),
            },
        )
    return ItemResult(
        package.pk,
        True,
        "attached",
        f"version {version.number} with {', '.join(sorted(images))}"
        + (f"; voided {', '.join(voided)}" if voided else ""),
        position=package.position,
    )
