"""The claims scanner: find registry claims in a draft and grade them for its product.

A claim is detected three ways: its id appearing as a phrase ("clean-burning"), its registry
wording ("clean burning"; case-insensitive, hyphens and spaces interchangeable) and its
registry pattern (a regular expression). Words that only quote the product's own name or one
of its attribute values are product facts, not claims: "Green Fig Candle" is not a green claim.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from signoff.agents.checks._text import (
    IdentityCache,
    PhraseIndex,
    lowered,
    remember,
    remove_phrase,
)
from signoff.agents.context import (
    BrandRules,
    CheckFinding,
    Claim,
    ClaimStatus,
    Draft,
    FieldValue,
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


@dataclass(frozen=True, slots=True, eq=False)
class _Detectors:
    phrases: PhraseIndex[str]  # every id and registry wording -> claim id
    # Registry patterns run one by one: they may carry their own global flags and groups.
    patterns: tuple[tuple[str, re.Pattern[str]], ...]
    by_id: dict[str, Claim]
    # Results for this registry, by text and by (field, text, product facts): the same copy
    # is scanned for every channel and variant, and again by the consistency auditor.
    # Built from the registry's content, so workspaces with equal registries share them.
    found: dict[str, tuple[tuple[str, int, int], ...]] = field(default_factory=dict)
    mentions: dict[tuple[str, str, tuple[str, ...]], tuple[ClaimMention, ...]] = field(
        default_factory=dict
    )


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
    return _Detectors(
        phrases=PhraseIndex(phrases),
        patterns=tuple(patterns),
        by_id={claim.id: claim for claim in claims},
    )


_detectors = IdentityCache(_compile)


def claims_in_text(text: str, rules: BrandRules) -> list[tuple[str, int, int]]:
    """Return (claim id, start, end) for every claim the text makes, in order of position.

    Overlapping matches of the same claim collapse into the longest one. Product facts are not
    excluded here; ``claim_mentions`` does that for a draft.
    """
    detectors = _detectors.get(rules.claims)
    found = detectors.found.get(text)
    if found is None:
        found = remember(detectors.found, text, tuple(_scan(text, detectors)))
    return list(found)


def _scan(text: str, detectors: _Detectors) -> list[tuple[str, int, int]]:
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
    # Keyed on the values as text (what is quoted; 1 and True would collide as keys): every
    # package of a SKU asks, twice.
    return _fact_phrases(product.name, tuple(str(value) for value in product.attributes.values()))


@lru_cache(maxsize=4096)
def _fact_phrases(name: str, values: tuple[str, ...]) -> tuple[str, ...]:
    phrases = [name, *values]
    name_words = name.split()
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
    return mentions_in_fields(draft.fields, rules, draft.product)


def mentions_in_fields(
    fields: Mapping[str, FieldValue], rules: BrandRules, product: ProductFacts | None = None
) -> list[ClaimMention]:
    """Return every claim the fields make; with ``product``, not the words that quote it.

    For what has no whole draft: the diff reporter compares two versions' fields.
    """
    detectors = _detectors.get(rules.claims)
    found_memo, mentions_memo = detectors.found, detectors.mentions
    mentions: list[ClaimMention] = []
    fact_phrases: tuple[str, ...] | None = None
    for field_path, text in field_texts(fields):
        found = found_memo.get(text)
        if found is None:
            found = remember(found_memo, text, tuple(_scan(text, detectors)))
        if not found:
            continue
        if fact_phrases is None:
            fact_phrases = product_fact_phrases(product) if product is not None else ()
        key = (field_path, text, fact_phrases)
        in_field = mentions_memo.get(key)
        if in_field is None:
            in_field = remember(
                mentions_memo, key, _mentions(field_path, text, found, fact_phrases)
            )
        mentions += in_field
    return mentions


def _mentions(
    field_path: str,
    text: str,
    found: tuple[tuple[str, int, int], ...],
    fact_phrases: tuple[str, ...],
) -> tuple[ClaimMention, ...]:
    facts = _fact_spans(text, fact_phrases)
    return tuple(
        ClaimMention(claim_id, field_path, start, end, text[start:end])
        for claim_id, start, end in found
        if not any(f_start <= start and end <= f_end for f_start, f_end in facts)
    )


def _grade(
    mention: ClaimMention, claim: Claim, text: str, draft: Draft, rules: BrandRules
) -> CheckFinding | None:
    if claim.status == ClaimStatus.APPROVED and claim.id in draft.product.claims:
        return None
    # None when cutting the claim would leave a broken or reversed sentence: no fix then.
    fix = remove_phrase(text, mention.start, mention.end)
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
    claims = _detectors.get(rules.claims).by_id
    texts: dict[str, str] | None = None
    findings: list[CheckFinding] = []
    for mention in mentions:
        claim = claims[mention.claim_id]
        if claim.status == ClaimStatus.APPROVED and claim.id in draft.product.claims:
            continue  # the product's own approved claim: the common case, no text needed
        if texts is None:
            texts = dict(field_texts(draft.fields))
        finding = _grade(mention, claim, texts[mention.field], draft, rules)
        if finding is not None:
            findings.append(finding)
    return findings
