"""A brand's rules and a channel's fields, compiled once into what the composer may say."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from signoff.agents.context import BrandRules, ClaimStatus
from signoff.agents.providers.builtin.memo import ContentKey, freeze, rules_memo
from signoff.agents.providers.builtin.vocabulary import URLISH
from signoff.agents.providers.compose import (
    CopyGuard,
    PhraseIndex,
    compile_any,
    phrase_pattern,
    scoped_pattern,
)
from signoff.channels.spec import ChannelSpec

Entry = tuple[tuple[str, ...], re.Pattern[str]]


def banned_entry(phrase: str) -> Entry:
    return PhraseIndex.entry(phrase, phrase_pattern(phrase), re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RulesPlan:
    """What one brand's rules let the composer say, compiled once per rules object."""

    rewrite: Callable[[str], str]  # avoided terminology -> the brand's form
    refused: tuple[Entry, ...]  # banned phrases and avoided terms
    claim_wording: dict[str, str]  # claim id -> regex for its id and registry text
    claim_patterns: dict[str, str]  # claim id -> its registry pattern, scoped for alternation
    any_claim: re.Pattern[str] | None
    approved: frozenset[str]
    claim_texts: dict[str, str]
    guard: CopyGuard  # the brand's own rules, for key messages


def _compile_rules(rules: BrandRules) -> RulesPlan:
    replacements: dict[str, str] = {}
    exact: list[str] = []
    loose: list[str] = []
    refused: list[Entry] = []
    for term in rules.terminology:
        for avoid in term.avoid:
            if avoid == term.use:
                continue
            pattern = r"(?<!\w)" + r"\s+".join(re.escape(p) for p in avoid.split()) + r"(?!\w)"
            # A form that differs from the brand's only by case must match exactly, or the
            # brand's own spelling would count as the avoided one.
            case_only = avoid.lower() == term.use.lower()
            (exact if case_only else loose).append(pattern)
            refused.append(PhraseIndex.entry(avoid, pattern, 0 if case_only else re.IGNORECASE))
            replacements[avoid if case_only else avoid.lower()] = term.use
    exact_rx = compile_any(exact)
    loose_rx = compile_any(loose, re.IGNORECASE)

    def rewrite(text: str) -> str:
        if exact_rx is not None:
            text = exact_rx.sub(lambda m: replacements.get(m.group(0), m.group(0)), text)
        if loose_rx is not None:
            text = loose_rx.sub(lambda m: replacements.get(m.group(0).lower(), m.group(0)), text)
        return text

    refused.extend(banned_entry(b.phrase) for b in rules.banned)
    # Claims are detected the way the claims scanner does: by id, by wording, by pattern.
    wording: dict[str, str] = {}
    patterns: dict[str, str] = {}
    for claim in rules.claims:
        phrases = [claim.id, *([claim.text] if claim.text else [])]
        wording[claim.id] = "|".join(f"(?i:{phrase_pattern(p)})" for p in phrases)
        if claim.pattern:
            patterns[claim.id] = scoped_pattern(claim.pattern)
    return RulesPlan(
        rewrite=rewrite,
        refused=tuple(refused),
        claim_wording=wording,
        claim_patterns=patterns,
        any_claim=compile_any([*wording.values(), *patterns.values()]),
        approved=frozenset(c.id for c in rules.claims if c.status == ClaimStatus.APPROVED),
        claim_texts={c.id: c.text for c in rules.claims if c.text},
        guard=CopyGuard(
            refused=PhraseIndex(refused),
            banned_chars=frozenset("!<>"),
            max_sentence_words=rules.max_sentence_words,
        ),
    )


def rules_plan(rules: BrandRules) -> RulesPlan:
    return rules_memo.get("rules", (rules,), None, lambda: _compile_rules(rules))


def unusable_claims(
    rules: BrandRules, product_claims: tuple[str, ...]
) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """Wording and patterns of every claim this product may not make: unapproved, or not its own."""

    def build() -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        plan = rules_plan(rules)
        usable = plan.approved.intersection(product_claims)
        wording = compile_any(p for cid, p in plan.claim_wording.items() if cid not in usable)
        patterns = compile_any(p for cid, p in plan.claim_patterns.items() if cid not in usable)
        return wording, patterns

    return rules_memo.get("claims", (rules,), product_claims, build)


def field_setup(channel: ChannelSpec, rules: BrandRules) -> dict[str, tuple[CopyGuard, Hashable]]:
    """Each field's guard and a hashable form of its whole spec, once per channel and rules.

    Channels often declare fields with the same spec (a second storefront, the same feed
    format): the spec's content, not its identity, says whether a field's copy can be reused.
    """

    def build() -> dict[str, tuple[CopyGuard, Hashable]]:
        guards = _guards(channel, rules)
        return {
            name: (guards[name], ContentKey(freeze(spec.model_dump(mode="python"))))
            for name, spec in channel.fields.items()
        }

    return rules_memo.get("setup", (channel, rules), None, build)


def _guards(channel: ChannelSpec, rules: BrandRules) -> dict[str, CopyGuard]:
    """One guard per field; fields with the same rules share one, and so its memo."""
    plan = rules_plan(rules)
    guards = {}
    for name, spec in channel.fields.items():
        phrases = tuple(
            b.phrase for b in channel.banned_phrases if b.fields is None or name in b.fields
        )
        banned = set(channel.banned_chars) | set(spec.banned_chars)
        if rules.forbid_exclamation or not channel.allow_exclamation:
            banned.add("!")
        if not spec.allow_html:
            banned.update("<>")
        config = (phrases, frozenset(banned), spec.allow_urls)
        guards[name] = rules_memo.get("guard", (rules,), config, lambda c=config: _guard(plan, c))
    return guards


def _guard(plan: RulesPlan, config: tuple[tuple[str, ...], frozenset[str], bool]) -> CopyGuard:
    phrases, banned_chars, allow_urls = config
    entries = [*plan.refused, *(banned_entry(phrase) for phrase in phrases)]
    if not allow_urls:
        entries.append(((), URLISH))
    return CopyGuard(
        refused=PhraseIndex(entries),
        banned_chars=banned_chars,
        max_sentence_words=plan.guard.max_sentence_words,
    )
