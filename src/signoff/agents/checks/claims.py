"""The claims scanner: find registry claims in a draft and grade them for its product.

A claim is detected three ways: its id appearing as a phrase ("clean-burning"), its registry
wording ("clean burning"; case-insensitive, hyphens and spaces interchangeable) and its
registry pattern (a regular expression). Words that only quote the product's own name or one
of its attribute values are product facts, not claims: "Green Fig Candle" is not a green claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from signoff.agents.checks._text import IdentityCache, PhraseIndex, lowered, remove_span
from signoff.agents.context import (
    BrandRules,
    CheckFinding,
    Claim,
    ClaimStatus,
    Draft,
    ProductFacts,
    Severity,
    field_texts,
)

AGENT = "claims_scanner"

# A product's name minus its last word is often quoted on its own ("Green Fig, 8 oz"), but a
# single remaining word ("Green") would hide real claims, so the stem needs two words.
_MIN_STEM_WORDS = 2

_STATUS_WORDS = {
    ClaimStatus.PENDING: "is pending legal review",
    ClaimStatus.NEEDS_SUBSTANTIATION: "needs substantiation",
    ClaimStatus.FORBIDDEN: "is forbidden",
    ClaimStatus.WITHDRAWN: "has been withdrawn",
}


@dataclass(frozen=True, slots=True)
class ClaimMention:
    """One claim found in one field of a draft."""

    claim_id: str
    field: str
    start: int
    end: int
    wording: str  # the words as written


@dataclass(frozen=True, slots=True)
class _Detectors:
    phrases: PhraseIndex[str]  # every id and registry wording -> claim id
    # Registry patterns run one by one: they may carry their own global flags and groups.
    patterns: tuple[tuple[str, re.Pattern[str]], ...]


def _compile(claims: tuple[Claim, ...]) -> _Detectors:
    phrases: list[tuple[str, str]] = []  # (phrase, claim id)
    patterns: list[tuple[str, re.Pattern[str]]] = []
    for claim in claims:
        phrases.append((claim.id, claim.id))
        if claim.text:
            phrases.append((claim.text, claim.id))
        if claim.pattern:
            try:
                patterns.append((claim.id, re.compile(claim.pattern)))
            except re.error as exc:
                # Skipping it would silently let a forbidden claim through.
                raise ValueError(f"claim {claim.id!r} has an invalid pattern: {exc}") from exc
    return _Detectors(phrases=PhraseIndex(phrases), patterns=tuple(patterns))


_detectors = IdentityCache(_compile)


def claims_in_text(text: str, rules: BrandRules) -> list[tuple[str, int, int]]:
    """Return (claim id, start, end) for every claim the text makes, in order of position.

    Overlapping matches of the same claim collapse into the longest one. Product facts are not
    excluded here; ``claim_mentions`` does that for a draft.
    """
    detectors = _detectors.get(rules.claims)
    found = [(claim_id, start, end) for start, end, claim_id in detectors.phrases.find(text)]
    for claim_id, pattern in detectors.patterns:
        for match in pattern.finditer(text):
            if match.end() > match.start():
                found.append((claim_id, *match.span()))
    if len(found) < 2:
        return found
    found.sort(key=lambda item: (item[1], -item[2]))
    merged: list[tuple[str, int, int]] = []
    kept_until: dict[str, int] = {}
    for claim_id, start, end in found:
        # Sorted by start, longest first: an overlap with a kept mention of the same claim is
        # a shorter or trailing duplicate of it.
        if start < kept_until.get(claim_id, -1):
            continue
        merged.append((claim_id, start, end))
        kept_until[claim_id] = end
    return merged


def product_fact_phrases(product: ProductFacts) -> tuple[str, ...]:
    """Return the product's own words that copy may quote without making a claim."""
    phrases = [product.name, *product.attributes.values()]
    name_words = product.name.split()
    if len(name_words) > _MIN_STEM_WORDS:
        phrases.append(" ".join(name_words[:-1]))
    return tuple(p for p in (str(p).strip() for p in phrases) if any(ch.isalpha() for ch in p))


def _fact_spans(text: str, phrases: tuple[str, ...]) -> list[tuple[int, int]]:
    low = lowered(text)
    haystack, case_blind = (low, True) if low is not None else (text, False)
    spans: list[tuple[int, int]] = []
    for phrase in phrases:
        needle = phrase.lower() if case_blind else phrase
        at = haystack.find(needle)
        while at != -1:
            spans.append((at, at + len(needle)))
            at = haystack.find(needle, at + 1)
    return spans


def claim_mentions(draft: Draft, rules: BrandRules) -> list[ClaimMention]:
    """Return every claim the draft makes, leaving out words that quote product facts."""
    mentions: list[ClaimMention] = []
    fact_phrases: tuple[str, ...] | None = None
    for field_path, text in field_texts(draft.fields):
        found = claims_in_text(text, rules)
        if not found:
            continue
        if fact_phrases is None:
            fact_phrases = product_fact_phrases(draft.product)
        facts = _fact_spans(text, fact_phrases)
        for claim_id, start, end in found:
            if any(f_start <= start and end <= f_end for f_start, f_end in facts):
                continue
            mentions.append(ClaimMention(claim_id, field_path, start, end, text[start:end]))
    return mentions


def _grade(
    mention: ClaimMention, claim: Claim, text: str, draft: Draft, rules: BrandRules
) -> CheckFinding | None:
    if claim.status == ClaimStatus.APPROVED and claim.id in draft.product.claims:
        return None
    fix = remove_span(text, mention.start, mention.end)
    if claim.status == ClaimStatus.APPROVED:
        return CheckFinding(
            agent=AGENT,
            rule_id="claims.not_for_product",
            severity=Severity.WARN,
            message=(
                f"Claim '{claim.id}' (\"{mention.wording}\") is approved but not claimed "
                f"for SKU {draft.product.sku}."
            ),
            field=mention.field,
            span=(mention.start, mention.end),
            suggested_fix=fix,
        )
    status = ClaimStatus(claim.status)
    basis = claim.reason or (f"evidence: {claim.evidence}" if claim.evidence else None)
    message = f"Claim '{claim.id}' (\"{mention.wording}\") {_STATUS_WORDS[status]}"
    message += f": {basis}." if basis else "."
    return CheckFinding(
        agent=AGENT,
        rule_id=f"claims.{status.value}",
        severity=rules.claim_severity.get(status, Severity.BLOCK),
        message=message,
        field=mention.field,
        span=(mention.start, mention.end),
        suggested_fix=fix,
    )


def scan_claims(draft: Draft, rules: BrandRules) -> list[CheckFinding]:
    """Return a finding for every claim in the draft the product may not make as written."""
    if not rules.claims:
        return []
    mentions = claim_mentions(draft, rules)
    if not mentions:
        return []
    texts = dict(field_texts(draft.fields))
    claims = {claim.id: claim for claim in rules.claims}
    findings: list[CheckFinding] = []
    for mention in mentions:
        finding = _grade(mention, claims[mention.claim_id], texts[mention.field], draft, rules)
        if finding is not None:
            findings.append(finding)
    return findings
