"""Turn a stored workspace into the plain BrandRules the agents use."""

from __future__ import annotations

from signoff.agents.context import BannedTerm, BrandRules, Claim, ClaimStatus, Severity, Term
from signoff.workspaces.models import Workspace


def brand_rules(workspace: Workspace) -> BrandRules:
    brand = workspace.brand or {}
    voice = brand.get("voice", {})
    tones = dict(voice.get("tone", {}))
    default_tone = tones.pop("default", "calm")
    defaults = BrandRules(brand_name=workspace.name).claim_severity
    severities = {**defaults, **{k: Severity(v) for k, v in workspace.claim_policy.items()}}
    return BrandRules(
        brand_name=workspace.name,
        description=voice.get("description", ""),
        tone_default=default_tone,
        tone_by_channel=tones,
        max_sentence_words=voice.get("max_sentence_words"),
        forbid_exclamation=bool(voice.get("forbid_exclamation")),
        terminology=tuple(
            Term(use=t["use"], avoid=tuple(t["avoid"])) for t in brand.get("terminology", [])
        ),
        banned=tuple(
            BannedTerm(phrase=b["phrase"], suggest=b.get("suggest"), reason=b.get("reason"))
            for b in [*brand.get("banned", []), *workspace.learned_rules.get("banned", [])]
        ),
        claims=tuple(
            Claim(
                id=c.claim_id,
                status=ClaimStatus(c.status),
                text=c.text or None,
                pattern=c.pattern or None,
                evidence=c.evidence or None,
                reason=c.reason or None,
            )
            for c in workspace.claims.all()
        ),
        claim_severity=severities,
    )
