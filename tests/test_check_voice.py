"""The brand-voice check against Lumen Home's voice, terminology and banned phrases."""

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
)

from signoff.agents.checks.voice import check_voice, sentences
from signoff.agents.context import Severity


def _only(findings, rule_id):
    return [f for f in findings if f.rule_id == rule_id]


@pytest.mark.parametrize("channel_id", ["test_channel", "amazon_us_pdp", "instagram_post"])
def test_clean_copy_has_no_findings_in_any_tone(channel_id):
    draft = make_draft(
        {"title": CLEAN_TITLE, "bullets": [CLEAN_COPY, "Reusable stoneware vessel"]},
        channel=marketplace_channel(channel_id),
    )

    assert check_voice(draft, lumen_rules()) == []


@pytest.mark.parametrize(
    ("text", "found", "fixed"),
    [
        ("Made with soya wax.", "soya wax", "Made with soy wax."),
        ("Soy-wax blend.", "Soy-wax", "Soy wax blend."),
        ("Hand poured in Vermont.", "Hand poured", "Hand-poured in Vermont."),
        ("Each one handpoured.", "handpoured", "Each one hand-poured."),
        ("From Lumen home.", "Lumen home", "From Lumen Home."),
        ("From lumen home.", "lumen home", "From Lumen Home."),
        ("From LUMENHOME.", "LUMENHOME", "From Lumen Home."),
    ],
)
def test_avoided_term_warns_with_the_approved_term_as_fix(text, found, fixed):
    [finding] = _only(check_voice(make_draft({"title": text}), lumen_rules()), "voice.terminology")

    assert finding.agent == "brand_voice"
    assert finding.severity == Severity.WARN
    assert finding.field == "title"
    assert text[slice(*finding.span)] == found
    assert finding.suggested_fix == fixed


@pytest.mark.parametrize(
    "text", ["Lumen Home candles.", "Hand-poured soy wax.", "Soybean wax is different."]
)
def test_approved_forms_are_not_terminology_findings(text):
    findings = check_voice(make_draft({"title": text}), lumen_rules())

    assert _only(findings, "voice.terminology") == []


def test_banned_phrase_blocks_and_uses_the_suggestion():
    text = "Candles that are cheap to run."

    [finding] = check_voice(make_draft({"bullets": ["Calm", text]}), lumen_rules())

    assert finding.rule_id == "voice.banned_phrase"
    assert finding.severity == Severity.BLOCK
    assert finding.field == "bullets[1]"
    assert finding.span == (17, 22)
    assert finding.suggested_fix == "Candles that are affordable to run."


def test_banned_phrase_without_suggestion_is_removed_and_reason_given():
    text = "Calm evenings, best candle ever, poured slowly."

    [finding] = check_voice(make_draft({"title": text}), lumen_rules())

    assert finding.rule_id == "voice.banned_phrase"
    assert "superlative without proof" in finding.message
    assert finding.suggested_fix == "Calm evenings, poured slowly."


def test_a_cut_that_would_break_the_sentence_offers_no_fix():
    # "Our best candle ever, poured slowly." cut would read "Our, poured slowly.": no fix.
    text = "Our best candle ever, poured slowly."

    [finding] = check_voice(make_draft({"title": text}), lumen_rules())

    assert finding.suggested_fix is None
    assert "no automatic fix" in finding.message


def test_banned_phrase_matches_any_case_and_hyphenation_but_whole_words():
    findings = check_voice(
        make_draft({"bullets": ["Toxic free wax", "TOXIC-FREE wax", "Cheaper than most"]}),
        lumen_rules(),
    )

    assert [(f.rule_id, f.field) for f in findings] == [
        ("voice.banned_phrase", "bullets[0]"),
        ("voice.banned_phrase", "bullets[1]"),
    ]


def test_long_sentence_warns_with_its_span():
    long_sentence = (
        "This candle was poured by hand in small batches in our Vermont studio using soy wax "
        "and cotton wicks so that it burns slowly and evenly all through the evening."
    )
    text = f"Short opener. {long_sentence} Short closer."

    [finding] = check_voice(make_draft({"description": text}), lumen_rules())

    assert finding.rule_id == "voice.sentence_length"
    assert finding.severity == Severity.WARN
    assert text[slice(*finding.span)] == long_sentence
    assert "30 words" in finding.message


def test_list_items_are_separate_texts_for_sentence_length():
    items = ["Hand-poured in Vermont from soy wax and cotton wicks"] * 4  # 36 words together

    findings = check_voice(make_draft({"bullets": items}), lumen_rules())

    assert _only(findings, "voice.sentence_length") == []


def test_sentences_split_at_unit_abbreviations_before_a_capital_only():
    assert [CLEAN_COPY[s:e] for s, e in sentences(CLEAN_COPY)] == [
        "Lumen Home Lavender Fields Candle, 8 oz.",
        "Hand-poured in Vermont with phthalate-free fragrance.",
        "About 50 hours of calm, even burn.",
    ]
    text = "An 8 oz. candle, e.g. Lavender. Approx. 50 hours! No. 5 is next\nsecond line"
    assert [text[s:e] for s, e in sentences(text)] == [
        "An 8 oz. candle, e.g. Lavender.",
        "Approx. 50 hours!",
        "No. 5 is next",
        "second line",
    ]


def test_exclamation_warns_and_becomes_a_full_stop():
    text = "Light it tonight! Calm follows!!"

    findings = check_voice(make_draft({"title": text}), lumen_rules())

    assert [(f.rule_id, f.severity, f.span) for f in findings] == [
        ("voice.exclamation", Severity.WARN, (16, 17)),
        ("voice.exclamation", Severity.WARN, (30, 32)),
    ]
    assert findings[0].suggested_fix == "Light it tonight. Calm follows!!"
    assert findings[1].suggested_fix == "Light it tonight! Calm follows."


def test_exclamation_allowed_when_the_brand_allows_it():
    rules = dataclasses.replace(lumen_rules(), forbid_exclamation=False)

    assert check_voice(make_draft({"title": "Light it tonight!"}), rules) == []


def test_hype_word_clashes_with_a_calm_tone():
    text = "An amazing, must-have candle."

    findings = check_voice(make_draft({"title": text}), lumen_rules())

    assert [(f.rule_id, text[slice(*f.span)]) for f in findings] == [
        ("voice.tone", "amazing"),
        ("voice.tone", "must-have"),
    ]
    assert "calm" in findings[0].message


def test_playful_channel_tolerates_mild_words_but_not_hype():
    playful = marketplace_channel("instagram_post")
    text = "A fun little ritual. Game changer, OMG."

    findings = check_voice(make_draft({"caption": text}, channel=playful), lumen_rules())

    assert [text[slice(*f.span)] for f in _only(findings, "voice.tone")] == ["Game changer", "OMG"]
    assert "playful" in findings[0].message


def test_mild_word_is_flagged_in_a_factual_tone():
    factual = marketplace_channel("amazon_us_pdp")

    [finding] = check_voice(make_draft({"title": "A fun candle"}, channel=factual), lumen_rules())

    assert finding.rule_id == "voice.tone"
    assert "factual" in finding.message


def test_shouting_is_info_with_normal_case_as_fix():
    text = "Spring SALE on soy candles. FREE gift"

    findings = check_voice(make_draft({"title": text}), lumen_rules())

    assert [(f.rule_id, f.severity, text[slice(*f.span)]) for f in findings] == [
        ("voice.shouting", Severity.INFO, "SALE"),
        ("voice.shouting", Severity.INFO, "FREE"),
    ]
    assert findings[0].suggested_fix == "Spring sale on soy candles. FREE gift"
    assert findings[1].suggested_fix == "Spring SALE on soy candles. Free gift"


def test_acronyms_codes_and_the_products_own_capitals_are_not_shouting():
    product = dataclasses.replace(lavender(), name="NOIR Lavender Candle")
    text = "NOIR Lavender, GTIN 00850012345018, SKU LUM-SPR-LAV-08, 32 USD, ASIN pending"

    assert check_voice(make_draft({"title": text}, product=product), lumen_rules()) == []


def test_findings_in_a_field_come_in_reading_order():
    text = "Cheap AMAZING soya wax!"

    findings = check_voice(make_draft({"title": text}), lumen_rules())

    starts = [f.span[0] for f in findings]
    assert starts == sorted(starts)
    assert {f.rule_id for f in findings} == {
        "voice.banned_phrase",
        "voice.tone",
        "voice.shouting",
        "voice.terminology",
        "voice.exclamation",
    }


def test_keyword_fields_are_not_graded_as_sentences():
    from signoff.agents.context import Draft, ProductFacts
    from signoff.channels.catalog import load_catalog

    amazon = load_catalog()["amazon_us_pdp"]
    words = " ".join(f"word{i}" for i in range(40))
    product = ProductFacts(sku="X-1", name="Test Candle")
    keywords = Draft(amazon, {"search_terms": words}, product)
    prose = Draft(amazon, {"product_description": words}, product)
    assert not _only(check_voice(keywords, lumen_rules()), "voice.sentence_length")
    assert _only(check_voice(prose, lumen_rules()), "voice.sentence_length")
