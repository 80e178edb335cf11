"""The diff reporter: what changed between two versions, in words, for re-approval."""

from __future__ import annotations

import dataclasses

from rules_fixture import green_fig, lavender, lumen_rules

from signoff.agents.context import BrandRules
from signoff.packages.diffing import describe_changes

BEFORE = {
    "title": "Lumen Home Lavender Fields Candle, 8 oz",
    "bullets": ["Hand-poured in Vermont", "About 50 hours of calm, even burn"],
    "description": "Soy wax with phthalate-free fragrance.",
}


def changed(**fields):
    return {**BEFORE, **fields}


# ---------------------------------------------------------------- fields


def test_the_same_fields_have_no_changes():
    assert describe_changes(BEFORE, dict(BEFORE), rules=lumen_rules()) == []


def test_a_changed_field_says_which_words_changed():
    after = changed(description="Soy candle with phthalate-free fragrance, poured slowly.")

    assert describe_changes(BEFORE, after) == [
        "description: 'wax' became 'candle'; 'fragrance.' became 'fragrance, poured slowly.'"
    ]


def test_list_items_are_compared_by_position_and_added_or_removed():
    after = changed(bullets=["Hand-poured in Vermont"])
    assert describe_changes(BEFORE, after) == [
        "bullets[1]: removed",
        "fact burn time: 50 hours -> not stated",
    ]

    longer = changed(bullets=[*BEFORE["bullets"], "Reusable stoneware jar"])
    assert describe_changes(BEFORE, longer) == ["bullets[2]: added 'Reusable stoneware jar'"]


def test_a_field_added_or_removed_is_said():
    after = {k: v for k, v in BEFORE.items() if k != "description"} | {"subtitle": "For spring"}

    assert describe_changes(BEFORE, after) == [
        "description: removed",
        "subtitle: added 'For spring'",
    ]


def test_punctuation_only_changes_are_named_as_such():
    after = changed(title="Lumen Home Lavender Fields Candle,  8 oz")

    assert describe_changes(BEFORE, after) == ["title: whitespace or punctuation only"]


# ---------------------------------------------------------------- facts


def test_changed_facts_are_reported_after_the_fields():
    after = changed(
        title="Lumen Home Lavender Fields Candle, 10 oz",
        bullets=["Hand-poured in Vermont", "About 60 hours of burn"],
        description="Soy wax with phthalate-free fragrance. Only $32.",
    )

    lines = describe_changes(BEFORE, after)

    assert lines[-3:] == [
        "fact size: 8 oz -> 10 oz",
        "fact burn time: 50 hours -> 60 hours",
        "fact price: not stated -> 32.00 USD",
    ]


def test_the_same_fact_worded_differently_is_no_fact_change():
    after = changed(bullets=["Hand-poured in Vermont", "A 50-hour burn"])

    lines = describe_changes(BEFORE, after)

    assert lines == ["bullets[1]: 'About 50 hours of calm, even' became 'A 50-hour'"]


# ---------------------------------------------------------------- claims


def test_claims_added_and_removed_are_reported():
    after = changed(
        bullets=["Poured in small batches", "About 50 hours of calm, even burn"],
        description="Soy wax with phthalate-free fragrance. A sustainable, clean burning candle.",
    )

    lines = describe_changes(BEFORE, after, rules=lumen_rules(), product=lavender())

    # After the field lines, in the order the claims appear in the copy.
    assert lines[-3:] == [
        "claim removed: 'hand-poured' (\"Hand-poured in Vermont\")",
        "claim added: 'eco' (\"sustainable\")",
        "claim added: 'clean-burning' (\"clean burning\")",
    ]
    assert [line for line in lines if line.startswith("claim")] == lines[-3:]


def test_a_claim_reworded_is_reported_but_case_and_hyphens_are_not():
    before = changed(description="A sustainable soy candle.")
    reworded = changed(description="A green soy candle.")
    recased = changed(description="A Sustainable soy candle.")

    assert describe_changes(before, reworded, rules=lumen_rules())[-1] == (
        'claim \'eco\' reworded: "sustainable" -> "green"'
    )
    assert not any(
        line.startswith("claim") for line in describe_changes(before, recased, rules=lumen_rules())
    )


def test_words_that_quote_the_product_are_not_claims():
    before = changed(title="Green Fig Candle, 8 oz")
    after = changed(title="Green Fig Candle, 8 oz, sustainable")

    lines = describe_changes(before, after, rules=lumen_rules(), product=green_fig())

    assert lines[-1] == "claim added: 'eco' (\"sustainable\")"
    assert len([line for line in lines if line.startswith("claim")]) == 1


def test_claims_need_the_registry():
    after = changed(description="A sustainable soy candle.")

    assert not any(line.startswith("claim") for line in describe_changes(BEFORE, after))
    no_claims = dataclasses.replace(lumen_rules(), claims=())
    assert isinstance(no_claims, BrandRules)
    assert not any(
        line.startswith("claim") for line in describe_changes(BEFORE, after, rules=no_claims)
    )
