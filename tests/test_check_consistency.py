"""The consistency auditor across one SKU's packages."""

from __future__ import annotations

import dataclasses

import pytest
from rules_fixture import (
    CLEAN_COPY,
    CLEAN_TITLE,
    lavender,
    lumen_rules,
    make_draft,
    marketplace_channel,
    peony,
    rhubarb,
)

from signoff.agents.checks.consistency import audit_consistency, extract_facts, stated_facts
from signoff.agents.context import Severity
from signoff.packages.matrix import Cell


def on(channel_id, fields, product=None, *, market="en-US", variant="A"):
    """A rhubarb draft (no burn time in its data) on a channel named ``channel_id``."""
    draft = make_draft(fields, product or rhubarb(), marketplace_channel(channel_id))
    return dataclasses.replace(draft, market=market, variant=variant)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Candle, 8 oz", "size", "8 oz"),
        ("An 8-ounce candle", "size", "8 oz"),
        ("8oz jar", "size", "8 oz"),
        ("8.0 ounces of soy wax", "size", "8 oz"),
        ("8 fl. oz vessel", "size", "8 oz"),
        ("227 g of wax", "size", "227 g"),
        ("About 50 hours of burn", "burn_time", "50 hours"),
        ("A 50-hour burn", "burn_time", "50 hours"),
        ("Up to 50 hrs", "burn_time", "50 hours"),
        ("50+ hours", "burn_time", "50 hours"),
        ("40-50 hours of calm", "burn_time", "50 hours"),
        ("$32", "price", "32.00 USD"),
        ("Only $32.00", "price", "32.00 USD"),
        ("32 USD", "price", "32.00 USD"),
        ("USD 1,299.5", "price", "1299.50 USD"),
        ("€29,", "price", "29.00 EUR"),
    ],
)
def test_facts_are_read_and_normalised(text, kind, value):
    facts = extract_facts(text)

    assert facts[kind] == {value}
    assert all(not found for other, found in facts.items() if other != kind)


@pytest.mark.parametrize(
    "text",
    [
        "Ships within 48 hours.",
        "Orders dispatched in 24 hours",
        "Save $5 today",
        "$10 off your first order",
        "Free shipping on orders over $50",
        "Spring 2027 launch",
        "GTIN 00850012345018",
        "SKU LUM-SPR-PEO-14",
    ],
)
def test_numbers_that_are_not_product_facts_are_ignored(text):
    assert stated_facts(text) == []


def test_clean_copy_states_the_product_facts():
    assert extract_facts(CLEAN_COPY) == {
        "size": {"8 oz"},
        "burn_time": {"50 hours"},
        "price": set(),
    }


def test_consistent_packages_have_no_findings():
    drafts = [
        ("amazon", make_draft({"title": CLEAN_TITLE, "bullets": [CLEAN_COPY]})),
        ("walmart", make_draft({"title": "Lavender Fields, 8-ounce", "bullets": ["50-hour burn"]})),
        ("feed", make_draft({"title": "Lavender Fields Candle 8oz", "description": "Just $32."})),
    ]

    assert audit_consistency(drafts, lumen_rules()) == []


def test_fact_contradicting_product_data_blocks_only_that_package():
    wrong = "Hand-poured in Vermont. About 60 hours of calm, even burn."
    drafts = [
        ("amazon", make_draft({"title": CLEAN_TITLE, "bullets": [CLEAN_COPY]})),
        ("walmart", make_draft({"title": CLEAN_TITLE, "bullets": ["Soy wax", wrong]})),
        ("target", make_draft({"title": CLEAN_TITLE, "bullets": [CLEAN_COPY]})),
    ]

    [(key, finding)] = audit_consistency(drafts, lumen_rules())

    assert key == "walmart"
    assert finding.agent == "consistency_auditor"
    assert finding.rule_id == "consistency.product_fact"
    assert finding.severity == Severity.BLOCK
    assert finding.field == "bullets[1]"
    assert wrong[slice(*finding.span)] == "60 hours"
    assert "States 60 hours" in finding.message
    assert "says 50 hours" in finding.message


def test_wrong_size_and_price_are_blocked_against_product_data():
    drafts = [
        ("pdp", make_draft({"title": "Peony Blush Candle, 8 oz", "description": "$32"}, peony()))
    ]

    findings = audit_consistency(drafts, lumen_rules())

    assert [(f.rule_id, f.field, f.message) for _, f in findings] == [
        (
            "consistency.product_fact",
            "title",
            "States 8 oz; product data for LUM-SPR-PEO-14 says 14 oz.",
        ),
        (
            "consistency.product_fact",
            "description",
            "States 32.00 USD; product data for LUM-SPR-PEO-14 says 48.00 USD.",
        ),
    ]


def test_packages_disagreeing_where_product_data_is_silent_warn_each_other():
    # The rhubarb candle has no burn time in its product data.
    drafts = [
        ("pkg-1", on("amazon_us_pdp", {"bullets": ["About 40 hours of burn"]})),
        ("pkg-2", on("walmart_us", {"bullets": ["Soy wax", "A 45-hour burn"]})),
        ("pkg-3", on("target_plus", {"bullets": ["About 40 hours of burn"]})),
    ]

    findings = audit_consistency(drafts, lumen_rules())

    assert [(key, f.rule_id, f.severity, f.field) for key, f in findings] == [
        ("pkg-1", "consistency.cross_package", Severity.WARN, "bullets[0]"),
        ("pkg-2", "consistency.cross_package", Severity.WARN, "bullets[1]"),
        ("pkg-3", "consistency.cross_package", Severity.WARN, "bullets[0]"),
    ]
    by_key = dict(findings)
    assert by_key["pkg-1"].message == (
        "This package says burn time 40 hours; the walmart_us package says 45 hours. "
        "The product data for LUM-SPR-RHB-08 has no burn time to settle it."
    )
    assert "target_plus" not in by_key["pkg-1"].message  # target_plus agrees with amazon
    assert by_key["pkg-2"].message.startswith(
        "This package says burn time 45 hours; the amazon_us_pdp and target_plus packages say "
        "40 hours."
    )
    assert by_key["pkg-2"].span == (2, 9)  # "45-hour"


def test_the_packages_involved_are_linked_by_cell():
    drafts = [
        ("pkg-1", on("amazon_us_pdp", {"bullets": ["About 40 hours of burn"]})),
        ("pkg-2", on("walmart_us", {"bullets": ["A 45-hour burn"]})),
        ("pkg-3", on("target_plus", {"bullets": ["About 40 hours of burn"]})),
    ]

    by_key = dict(audit_consistency(drafts, lumen_rules()))

    assert [r.as_dict() for r in by_key["pkg-2"].related] == [
        {
            "sku": "LUM-SPR-RHB-08",
            "channel": channel,
            "market": "en-US",
            "variant": "A",
            "says": "40 hours",
        }
        for channel in ("amazon_us_pdp", "target_plus")
    ]
    assert [(r.channel, r.says) for r in by_key["pkg-1"].related] == [("walmart_us", "45 hours")]


def test_run_cells_as_keys_never_reach_the_message():
    # The run keys drafts by their matrix cell; the message must read as words, not a repr.
    cells = [
        Cell("LUM-SPR-RHB-08", c, "en-US", v) for c in ("walmart_us", "amazon_us_pdp") for v in "AB"
    ]
    texts = {"walmart_us": "About 50 hours of burn", "amazon_us_pdp": "About 45 hours of burn"}
    drafts = [
        (cell, on(cell.channel, {"bullets": [texts[cell.channel]]}, variant=cell.variant))
        for cell in cells
    ]

    findings = audit_consistency(drafts, lumen_rules())

    first = dict(findings)[cells[0]]
    assert "Cell(" not in first.message
    assert first.message == (
        "This package says burn time 50 hours; the amazon_us_pdp (variant A) and "
        "amazon_us_pdp (variant B) packages say 45 hours. The product data for LUM-SPR-RHB-08 "
        "has no burn time to settle it."
    )
    assert [(r.channel, r.variant) for r in first.related] == [
        ("amazon_us_pdp", "A"),
        ("amazon_us_pdp", "B"),
    ]


def test_markets_are_named_only_when_a_sku_has_several():
    drafts = [
        ("us", on("walmart_us", {"title": "40 hours"}, market="en-US")),
        ("gb", on("walmart_us", {"title": "45 hours"}, market="en-GB")),
    ]

    by_key = dict(audit_consistency(drafts, lumen_rules()))

    assert "the walmart_us (market en-GB) package says 45 hours" in by_key["us"].message
    assert by_key["us"].related[0].market == "en-GB"


def test_long_lists_of_packages_are_cut_in_the_message_but_all_linked():
    channels = [f"channel_{i}" for i in range(8)]
    drafts = [("odd", on("odd_one", {"title": "45 hours"}))]
    drafts += [(c, on(c, {"title": "40 hours"})) for c in channels]

    by_key = dict(audit_consistency(drafts, lumen_rules()))

    assert "channel_0, channel_1, channel_2, channel_3, channel_4 and 3 more packages say" in (
        by_key["odd"].message
    )
    assert len(by_key["odd"].related) == 8


def test_product_data_settles_disagreements_so_correct_packages_hear_nothing():
    drafts = [
        ("a", make_draft({"title": "Candle, 8 oz"})),
        ("b", make_draft({"title": "Candle, 10 oz"})),
    ]

    findings = audit_consistency(drafts, lumen_rules())

    assert [(key, f.rule_id) for key, f in findings] == [("b", "consistency.product_fact")]


def test_units_without_product_data_are_compared_only_with_the_same_unit():
    drafts = [
        ("a", make_draft({"title": "Candle, 8 oz (227 g)"})),
        ("b", make_draft({"title": "Candle, 8 oz"})),
        ("c", make_draft({"title": "Candle, 230 g"})),
    ]

    findings = audit_consistency(drafts, lumen_rules())

    assert [(key, f.rule_id) for key, f in findings] == [
        ("a", "consistency.cross_package"),
        ("c", "consistency.cross_package"),
    ]


def test_packages_of_different_skus_are_audited_separately():
    drafts = [
        ("lavender", make_draft({"title": "Lavender, 8 oz, 50 hours"}, lavender())),
        ("peony", make_draft({"title": "Peony, 14 oz, 80 hours"}, peony())),
        ("rhubarb-1", make_draft({"title": "Rhubarb, 40 hours"}, rhubarb())),
        ("lavender-2", make_draft({"title": "Lavender, 8 oz"}, lavender())),
    ]

    assert audit_consistency(drafts, lumen_rules()) == []


def test_claim_worded_differently_across_packages_is_noted():
    drafts = [
        (1, on("amazon_us_pdp", {"bullets": ["A clean burning candle"]})),
        (2, on("walmart_us", {"bullets": ["Clean-Burning soy wax"]})),  # same wording
        (3, on("target_plus", {"bullets": ["A sustainable candle"]})),
        (4, on("meta_feed_ad", {"bullets": ["A green choice"]})),
    ]

    findings = audit_consistency(drafts, lumen_rules())

    assert [(key, f.rule_id, f.severity) for key, f in findings] == [
        (3, "consistency.claim_wording", Severity.INFO),
        (4, "consistency.claim_wording", Severity.INFO),
    ]
    assert findings[0][1].message == (
        'Claim \'eco\' is worded "sustainable" here; the meta_feed_ad package words it "green".'
    )
    assert [(r.channel, r.says) for r in findings[0][1].related] == [("meta_feed_ad", '"green"')]


def test_product_name_words_are_not_claim_wording():
    product = dataclasses.replace(rhubarb(), name="Green Rhubarb Candle")
    drafts = [
        ("a", make_draft({"title": "Green Rhubarb Candle, a sustainable choice"}, product)),
        ("b", make_draft({"title": "Green Rhubarb Candle, sustainable"}, product)),
    ]

    assert audit_consistency(drafts, lumen_rules()) == []


def test_keys_can_be_any_hashable_and_tell_apart_packages_that_read_the_same():
    key_a, key_b = ("amazon", 1), ("walmart", 2)
    drafts = [
        (key_a, make_draft({"title": "40 hours"}, rhubarb())),
        (key_b, make_draft({"title": "45 hours"}, rhubarb())),
    ]

    findings = audit_consistency(drafts, lumen_rules())

    assert [key for key, _ in findings] == [key_a, key_b]
    # Both are on the same channel, market and variant: only the key tells them apart.
    assert f"the test_channel [{key_b}] package says 45 hours" in findings[0][1].message


def test_empty_input_has_no_findings():
    assert audit_consistency([], lumen_rules()) == []
