"""Run every per-draft check on one draft. Pure: the checks only return findings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from signoff.agents.checks.claims import scan_claims
from signoff.agents.checks.images import check_images
from signoff.agents.checks.integrity import check_integrity
from signoff.agents.checks.pii import check_pii
from signoff.agents.checks.spec import check_spec
from signoff.agents.checks.substance import check_substance
from signoff.agents.checks.voice import check_voice
from signoff.agents.context import BrandRules, CheckFinding, Draft, Severity
from signoff.channels.spec import ChannelSpec


def check_draft(draft: Draft, rules: BrandRules) -> list[CheckFinding]:
    """Return the spec, claims, voice, PII, integrity and substance findings on a draft's text."""
    return (
        check_spec(draft)
        + scan_claims(draft, rules)
        + check_voice(draft, rules)
        + check_pii(draft)
        + check_integrity(draft)
        + check_substance(draft, rules)
    )


def check_product_images(channel: ChannelSpec, images: Sequence[Path]) -> list[CheckFinding]:
    """Return image findings; images are the product's, so callers check once per channel.

    Copy is often reviewed before the creative exists, so a product with no images yet gets
    one info finding rather than a block; the images are checked in full once attached.
    """
    if channel.images is None:
        return []
    if not images:
        if channel.images.min_count == 0:
            return []
        return [
            CheckFinding(
                agent="spec_checker",
                rule_id="spec.images_pending",
                severity=Severity.INFO,
                field="images",
                message=f"no product images attached yet; {channel.name} needs at least "
                f"{channel.images.min_count} before launch",
            )
        ]
    return check_images(channel, images)
