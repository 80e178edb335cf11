"""A package's confidence score: what a reviewer sorts by. Pure: no Django.

``confidence(findings, evidence)`` returns 0-100, or None for a package with no draft (nothing
to be confident about: the board shows "—"). It answers "how safely could this be approved as
it stands?" from two things:

- **What the findings put at risk.** Each finding weighs by its severity and the family of its
  rule id (the part before the first dot, or any of its words): *trust* (claims, PII, facts
  that contradict the data, injected instructions, invented specifics, another product's facts,
  ignored feedback: what could hurt the brand or mislead a buyer), *channel* (spec and image
  rules: what the retailer would refuse) and *quality* (voice, repetition, markup remnants,
  missing substance, and any family not known here, so a rule added later still counts).
- **The strength of the evidence.** The share of the channel's required facts the product data
  has; the share of the claims the copy makes that are approved with evidence on file; the
  refits and schema retries the draft needed; and where it came from (the builtin composer and
  a person write only from the data; a model can state what no check knows to look for).

Any blocking finding puts the score in the lower band (0-49), below every package that can
pass its gate (50-100): a reviewer sorting by confidence reads what cannot pass first. Within a
band the weights order packages by risk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from signoff.agents.checks.claims import claim_mentions
from signoff.agents.context import BrandRules, ClaimStatus, Draft

# Points a finding takes off, by what it puts at risk and its severity.
WEIGHTS: dict[str, dict[str, float]] = {
    "trust": {"block": 40.0, "warn": 14.0, "info": 1.0},
    "channel": {"block": 30.0, "warn": 8.0, "info": 0.5},
    "quality": {"block": 30.0, "warn": 6.0, "info": 0.5},
}
# What each family of rule ids puts at risk (docs/checks.md lists the families).
FAMILIES = {
    "claims": "trust",  # an unapproved, forbidden or withdrawn claim
    "pii": "trust",  # personal data in copy
    "feedback": "trust",  # a rejection ignored, a person's edit in conflict
    "output": "trust",  # text addressed to a system, role tags, echoed input
    "input": "trust",  # the input guard's findings on the brief
    "identity": "trust",  # another product's name or facts
    "invented": "trust",  # numbers and claims not in the data
    "consistency": "trust",  # copy against the product data and the SKU's other packages
    "spec": "channel",
    "image": "channel",
    "voice": "quality",
    "degenerate": "quality",
    "markup": "quality",
    "substance": "quality",
}
# Words that make any rule a trust risk, whatever its family (a rule added later included):
# a script left in copy is an attack on the page, not a style problem.
TRUST_WORDS = (
    "claim",
    "pii",
    "inject",
    "instruction",
    "role_tag",
    "script",
    "identity",
    "sibling",
    "invent",
    "feedback",
)
# A blocking finding's weight over this divides the lower band once more.
BLOCK_UNIT = 30.0
UPPER_BAND = 50  # the lowest score of a package with no blocking finding
# Evidence: points off at most, each.
MISSING_FACTS_POINTS = 20.0  # all the channel's required facts missing
UNSUBSTANTIATED_POINTS = 15.0  # every claim made without approved evidence
REWORK_POINTS = 4.0  # per refit or schema retry, at most MAX_REWORK each
MAX_REWORK = 3
# Drafters that write only from the data; any other (a model) loses MODEL_POINTS.
FROM_DATA = ("builtin", "person")
MODEL_POINTS = 6.0
# The workspace's default threshold for "needs a careful read" (policies.careful_read_below).
CAREFUL_READ_BELOW = 60


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a draft rests on, besides its findings."""

    facts_needed: int = 0  # the channel's required facts
    facts_missing: int = 0  # of those, how many the product data lacks
    claims_made: int = 0  # distinct claims the copy makes
    claims_substantiated: int = 0  # of those, approved with evidence on file
    refits: int = 0  # re-prompts and rule trims after the draft broke the spec
    schema_retries: int = 0  # replies the provider had to ask again for
    provider: str = "builtin"  # builtin, person, or the model provider (openai, anthropic)


def risk_family(rule_id: str) -> str:
    """Return ``trust``, ``channel`` or ``quality`` for a rule id, known or not."""
    words = rule_id.lower().replace("-", "_")
    family = words.split(".", 1)[0]
    if any(word in words for word in TRUST_WORDS):
        return "trust"
    if family in FAMILIES:
        return FAMILIES[family]
    if family.startswith(("spec", "image")):
        return "channel"
    return "quality"


def finding_weight(rule_id: str, severity: str) -> float:
    """Points one finding takes off (an unknown severity counts as a warning)."""
    weights = WEIGHTS[risk_family(rule_id)]
    return weights.get(severity, weights["warn"])


def evidence_points(evidence: Evidence) -> float:
    """Points the evidence takes off, 0 for a complete, substantiated, first-time draft."""
    points = 0.0
    if evidence.facts_needed:
        missing = min(evidence.facts_missing, evidence.facts_needed)
        points += MISSING_FACTS_POINTS * missing / evidence.facts_needed
    if evidence.claims_made:
        backed = min(evidence.claims_substantiated, evidence.claims_made)
        points += UNSUBSTANTIATED_POINTS * (1 - backed / evidence.claims_made)
    points += REWORK_POINTS * min(evidence.refits, MAX_REWORK)
    points += REWORK_POINTS * min(evidence.schema_retries, MAX_REWORK)
    if evidence.provider not in FROM_DATA:
        points += MODEL_POINTS
    return points


def confidence(findings: Iterable[tuple[str, str]], evidence: Evidence | None) -> int | None:
    """Score a draft from its findings, as ``(rule_id, severity)`` pairs, and its evidence.

    None when there is no draft (``evidence`` is None). Without a blocking finding the score
    is ``50 + (100 - points) / 2`` (50-100), points being the warnings', infos' and the
    evidence's; with blocking findings it is ``49 * (100 - points) / 100 / (1 + load)`` where
    ``load`` is the blocking findings' weights over 30 (one spec block halves it, a trust block
    more).
    """
    if evidence is None:
        return None
    points = evidence_points(evidence)
    load = 0.0
    for rule_id, severity in findings:
        weight = finding_weight(rule_id, severity)
        if severity == "block":
            load += weight / BLOCK_UNIT
        else:
            points += weight
    clean = max(0.0, 100.0 - points)
    if load == 0:
        return UPPER_BAND + round(clean / 2)
    return round((UPPER_BAND - 1) * clean / 100 / (1 + load))


def origin_rework(origin: Mapping[str, Any] | None) -> tuple[int, int, str]:
    """Return (refits, schema retries, provider) from a version's origin record."""
    origin = origin or {}
    if origin.get("kind") in ("person", "suggestion"):  # a person wrote or accepted it
        return 0, 0, "person"
    refit = origin.get("refit") or {}
    refits = (1 if refit.get("reprompted_with") else 0) + (1 if refit.get("trimmed") else 0)
    attempts = (origin.get("parameters") or {}).get("attempts") or 1
    try:
        retries = max(0, int(attempts) - 1)
    except (TypeError, ValueError):
        retries = 0
    return refits, retries, str(origin.get("provider") or "builtin")


def careful_read(score: int | None, below: int | None) -> str:
    """The board's reason to read a package slowly, or "" (no score, no threshold, above it)."""
    if score is None or below is None or score >= below:
        return ""
    return f"needs a careful read: confidence {score} is under {below}"


def draft_evidence(
    draft: Draft,
    rules: BrandRules,
    origin: Mapping[str, Any] | None,
    needed: int,
    missing: int,
) -> Evidence:
    """Gather a draft's evidence: its facts, the claims it makes, its rework and provider."""
    made = {m.claim_id for m in claim_mentions(draft, rules)}
    backed = 0
    for claim_id in made:
        claim = rules.claim(claim_id)
        if claim is not None and claim.status == ClaimStatus.APPROVED and claim.evidence:
            backed += 1
    refits, retries, provider = origin_rework(origin)
    return Evidence(
        facts_needed=needed,
        facts_missing=missing,
        claims_made=len(made),
        claims_substantiated=backed,
        refits=refits,
        schema_retries=retries,
        provider=provider,
    )
