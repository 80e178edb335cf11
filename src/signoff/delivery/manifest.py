"""The provenance manifest of one package: everything that led to the shipped version."""

from __future__ import annotations

from signoff.audit.models import Event
from signoff.audit.scope import positions
from signoff.packages.models import Approval, Package
from signoff.visuals.trail import images_trail


def package_manifest(package: Package) -> dict:
    """Return content and provenance: brief version, references, origin, edits, findings,
    the images with their whole trail, and every approval with its person, time and hash."""
    version = package.current_version
    brief_version = version.brief_version
    lineage = list(package.versions.filter(number__lte=version.number).order_by("number"))
    approvals = Approval.objects.filter(version=version, voided_at__isnull=True).order_by(
        "created_at"
    )
    events = list(
        Event.objects.filter(subject_type="package", subject_id=str(package.pk)).order_by("seq")
    )
    numbered = positions(package.brief.workspace.slug, [e.seq for e in events])
    return {
        "package": package.pk,
        "sku": package.sku,
        "channel": package.channel,
        "market": package.market,
        "variant": package.variant,
        "version": version.number,
        "content_hash": version.content_hash,
        "content": version.fields,
        "images": images_trail(version.images),
        "brief_version": {
            "number": brief_version.number,
            "content_hash": brief_version.content_hash,
            "references": brief_version.data.get("references", []),
        },
        "origin": version.origin,
        "edits": [
            {
                "version": v.number,
                "author": v.author,
                "content_hash": v.content_hash,
                "at": v.created_at.isoformat(),
                "note": v.origin.get("note", ""),
            }
            for v in lineage
        ],
        "findings": [
            {
                "agent": f.agent,
                "rule_id": f.rule_id,
                "severity": f.severity,
                "field": f.field,
                "message": f.message,
            }
            for f in version.findings.all()
        ],
        "approvals": [
            {
                "gate": a.gate,
                "person": a.person,
                "at": a.created_at.isoformat(),
                "content_hash": a.content_hash,
            }
            for a in approvals
        ],
        # Numbered within the workspace's own log: a manifest leaves the installation, and the
        # chain's global seqs would tell a receiver how busy other workspaces are.
        "audit": [
            {"position": numbered[e.seq], "action": e.action, "hash": e.hash} for e in events
        ],
    }
