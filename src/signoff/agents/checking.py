"""Run every per-draft check on one draft. Pure: the checks only return findings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from signoff.agents.checks.claims import scan_claims
from signoff.agents.checks.images import check_images
from signoff.agents.checks.pii import check_pii
from signoff.agents.checks.spec import check_spec
from signoff.agents.checks.voice import check_voice
from signoff.agents.context import BrandRules, CheckFinding, Draft
from signoff.channels.spec import ChannelSpec


def check_draft(draft: Draft, rules: BrandRules) -> list[CheckFinding]:
    """Return the spec, claims, voice and PII findings on a draft's text."""
    return (
        check_spec(draft) + scan_claims(draft, rules) + check_voice(draft, rules) + check_pii(draft)
    )


def check_product_images(channel: ChannelSpec, images: Sequence[Path]) -> list[CheckFinding]:
    """Return image findings; images are the product's, so callers check once per channel."""
    if not images or channel.images is None:
        return []
    return check_images(channel, images)
