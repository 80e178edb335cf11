"""The claims scanner against the Lumen Home claims registry."""

from __future__ import annotations

import dataclasses

import pytest
from rules_fixture import CLEAN_COPY, green_fig, lavender, lumen_rules, make_draft, rhubarb

from signoff.agents.checks.claims import claim_mentions, claims_in_text, scan_claims
from signoff.agents.context import Claim, ClaimStatus, Severity


def test_clean_copy_has_no_findings():
    draft = make_draft(
        {"title": "Lumen Home Lavender Fields Candle, 8 oz", "bullets": [CLEAN_COPY]}
    )

    assert scan_claims(draft, lumen_rules()) == []


@pytest.mark.parametrize(
    "wording",
    ["clean burning", "clean-burning", "Clean Burning", "CLEAN  BURNING", "clean\u2011burning"],
)
def test_claim_wording_is_found_whatever_the_case_and_hyphenation(wording):
    text = f"A {wording} candle."

    assert claims_in_text(text, lumen_rules()) == [("clean-burning", 2, 2 + len(wording))]


def test_claim_found_by_id_by_text_and_by_pattern():
    text = "Phthalate-free. Non-toxic and sustainable."

    assert claims_in_text(text, lumen_rules()) == [
        ("phthalate-free", 0, 14),
        ("non-toxic", 16, 25),
        ("eco", 30, 41),
    ]


def test_overlapping_id_and_text_matches_collapse_into_the_longest():
    text = "Hand-poured in Vermont."

    assert claims_in_text(text, lumen_rules()) == [("hand-poured", 0, 22)]


def test_claim_inside_a_longer_word_is_not_a_claim():
    assert claims_in_text("Evergreen notes, greenhouse grown, ecosystem.", lumen_rules()) == []


def test_pending_claim_blocks_with_the_phrase_removed_as_fix():
    text = "Hand-poured in Vermont, clean burning and calm."
    draft = make_draft({"title": "Lavender Fields Candle", "bullets": ["Soy wax", text]})

    [finding] = scan_claims(draft, lumen_rules())

    assert finding.agent == "claims_scanner"
    assert finding.rule_id == "claims.pending"
    assert finding.severity == Severity.BLOCK
    assert finding.field == "bullets[1]"
    assert finding.span == (24, 37)
    assert text[slice(*finding.span)] == "clean burning"
    assert "clean-burning" in finding.message
    assert "pending" in finding.message
    assert finding.suggested_fix == "Hand-poured in Vermont, and calm."


def test_pending_claim_blocks_even_when_the_product_lists_it():
    draft = make_draft({"title": "A clean-burning candle"}, product=rhubarb())

    [finding] = scan_claims(draft, lumen_rules())

    assert finding.rule_id == "claims.pending"
    assert finding.suggested_fix == "A candle"


def test_forbidden_claim_blocks_and_gives_the_reason():
    draft = make_draft({"description": "Non-toxic soy wax candle."})

    [finding] = scan_claims(draft, lumen_rules())

    assert finding.rule_id == "claims.forbidden"
    assert finding.severity == Severity.BLOCK
    assert finding.span == (0, 9)
    assert "Health claim the brand cannot substantiate" in finding.message
    assert finding.suggested_fix == "Soy wax candle."


def test_needs_substantiation_is_graded_by_the_rules():
    draft = make_draft({"description": "A green choice for your home."})

    [finding] = scan_claims(draft, lumen_rules())

    assert finding.rule_id == "claims.needs_substantiation"
    assert finding.severity == Severity.WARN
    assert finding.span == (2, 7)
    assert "FTC Green Guides" in finding.message
    assert finding.suggested_fix == "A choice for your home."


def test_claim_severity_comes_from_the_rules():
    strict = dataclasses.replace(
        lumen_rules(), claim_severity={ClaimStatus.NEEDS_SUBSTANTIATION: Severity.BLOCK}
    )
    draft = make_draft({"description": "A sustainable candle."})

    [finding] = scan_claims(draft, strict)

    assert finding.severity == Severity.BLOCK


def test_withdrawn_claim_blocks():
    rules = lumen_rules()
    withdrawn = tuple(
        dataclasses.replace(c, status=ClaimStatus.WITHDRAWN) if c.id == "phthalate-free" else c
        for c in rules.claims
    )
    rules = dataclasses.replace(rules, claims=withdrawn)
    draft = make_draft({"description": CLEAN_COPY})

    [finding] = scan_claims(draft, rules)

    assert finding.rule_id == "claims.withdrawn"
    assert finding.severity == Severity.BLOCK
    assert "withdrawn" in finding.message
    assert "SC-2026-014" in finding.message  # no reason given, so the evidence is named


def test_approved_claim_not_listed_for_the_product_warns():
    product = dataclasses.replace(lavender(), claims=("hand-poured",))
    draft = make_draft({"description": CLEAN_COPY}, product=product)

    [finding] = scan_claims(draft, lumen_rules())

    assert finding.rule_id == "claims.not_for_product"
    assert finding.severity == Severity.WARN
    assert "phthalate-free" in finding.message
    assert "LUM-SPR-LAV-08" in finding.message
    assert CLEAN_COPY[slice(*finding.span)] == "phthalate-free fragrance"
    assert finding.suggested_fix == (
        "Lumen Home Lavender Fields Candle, 8 oz. Hand-poured in Vermont. "
        "About 50 hours of calm, even burn."
    )


def test_green_fig_product_facts_are_not_green_claims():
    draft = make_draft(
        {
            "title": "Lumen Home Green Fig Candle, 8 oz",
            "bullets": ["Scent: green fig and vetiver", "Green Fig, 8 oz, in stoneware"],
        },
        product=green_fig(),
    )

    assert scan_claims(draft, lumen_rules()) == []


def test_green_claim_next_to_the_green_fig_name_still_fires():
    text = "Green Fig Candle: a green choice for your home."
    draft = make_draft({"title": text}, product=green_fig())

    [finding] = scan_claims(draft, lumen_rules())

    assert finding.rule_id == "claims.needs_substantiation"
    assert finding.span == (20, 25)


def test_product_fact_guard_is_per_product():
    draft = make_draft({"bullets": ["Notes of green fig and vetiver"]}, product=lavender())

    [finding] = scan_claims(draft, lumen_rules())

    assert finding.rule_id == "claims.needs_substantiation"


def test_claim_mentions_report_field_and_wording():
    draft = make_draft({"title": "Calm", "bullets": ["Clean-Burning soy wax"]})

    [mention] = claim_mentions(draft, lumen_rules())

    assert (mention.claim_id, mention.field, mention.wording) == (
        "clean-burning",
        "bullets[0]",
        "Clean-Burning",
    )


def test_every_planted_claim_is_reported_once_in_order():
    text = "Clean burning, non-toxic and eco-friendly."
    draft = make_draft({"description": text})

    findings = scan_claims(draft, lumen_rules())

    assert [f.rule_id for f in findings] == [
        "claims.pending",
        "claims.forbidden",
        "claims.needs_substantiation",
    ]
    assert [text[slice(*f.span)] for f in findings] == [
        "Clean burning",
        "non-toxic",
        "eco-friendly",
    ]


def test_changed_registry_is_not_served_from_the_cache():
    rules = lumen_rules()
    assert claims_in_text("A lovely candle", rules) == []

    extended = dataclasses.replace(
        rules, claims=(*rules.claims, Claim(id="lovely", status=ClaimStatus.PENDING))
    )

    assert claims_in_text("A lovely candle", extended) == [("lovely", 2, 8)]
    assert claims_in_text("A lovely candle", rules) == []


def test_empty_registry_finds_nothing():
    rules = dataclasses.replace(lumen_rules(), claims=())

    assert scan_claims(make_draft({"title": "Non-toxic"}), rules) == []


def test_invalid_registry_pattern_is_an_error_not_a_silent_pass():
    rules = dataclasses.replace(
        lumen_rules(), claims=(Claim(id="broken", status=ClaimStatus.FORBIDDEN, pattern="(oops"),)
    )

    with pytest.raises(ValueError, match="broken"):
        claims_in_text("anything", rules)


def test_fix_only_tidies_around_the_removed_claim():
    # Two spaces far from the claim are the writer's; the fix must not touch them.
    text = "Lumen Home  Lavender Fields Candle, a calm companion for long evenings. A green choice."
    draft = make_draft({"description": text})

    [finding] = scan_claims(draft, lumen_rules())

    assert finding.suggested_fix == (
        "Lumen Home  Lavender Fields Candle, a calm companion for long evenings. A choice."
    )


def test_no_fix_when_nothing_would_be_left():
    [finding] = scan_claims(make_draft({"title": "Non-toxic!"}), lumen_rules())

    assert finding.rule_id == "claims.forbidden"
    assert finding.suggested_fix is None
