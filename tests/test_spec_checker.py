"""The channel-spec check: each rule catches a planted violation, with rule id, severity, field,
span, a message that names the limit and its source, and a usable fix; clean copy passes."""

from __future__ import annotations

import pytest
from rules_fixture import make_draft

from signoff.agents.checks.spec import check_spec
from signoff.agents.checks.trimming import count_bytes, trim_to_chars
from signoff.agents.context import Severity
from signoff.channels.catalog import load_catalog, resolve_spec
from signoff.channels.spec import ChannelSpec, FieldSpec

AMAZON_TITLE = "Lumen Home Lavender Fields Soy Wax Candle, 8 oz"
AMAZON_CLEAN = {
    "title": AMAZON_TITLE,
    "bullet_points": [
        "Hand-poured in Vermont with soy wax and a cotton wick.",
        "Phthalate-free fragrance of lavender and cedar.",
        "About 50 hours of calm, even burn.",
        "Reusable stoneware vessel in sage.",
        "8 oz candle for the living room or bedroom.",
    ],
    "product_description": "A calm candle for slow evenings.<br>Hand-poured in Vermont.",
    "search_terms": "lavender candle soy wax cedar aromatherapy stoneware gift",
}


def _amazon(**changes):
    return make_draft({**AMAZON_CLEAN, **changes}, channel=load_catalog()["amazon_us_pdp"])


def _draft(channel_id: str, fields):
    return make_draft(fields, channel=load_catalog()[channel_id])


def _only(findings, rule_id):
    return [f for f in findings if f.rule_id == rule_id]


def _one(findings, rule_id):
    matching = _only(findings, rule_id)
    assert len(matching) == 1, findings
    return matching[0]


def _channel(allow_exclamation: bool = True, **field_options) -> ChannelSpec:
    return ChannelSpec(
        id="test_channel",
        name="Test shop",
        kind="marketplace",
        allow_exclamation=allow_exclamation,
        fields={
            "title": FieldSpec(
                label="Title", compose="title", source="https://example.test/rules", **field_options
            )
        },
    )


def test_clean_amazon_copy_has_no_findings():
    assert check_spec(_amazon()) == []


@pytest.mark.parametrize(
    "title",
    [
        AMAZON_TITLE,
        "Lumen Home Candle with Cedar and Lavender for the Living Room, 14 oz",
        "The Lumen Home Candle, 2 x 8 oz",
        "iPhone Stand in Walnut",
    ],
)
def test_title_case_accepts_practical_titles(title):
    assert _only(check_spec(_amazon(title=title)), "spec.casing") == []


def test_title_case_catches_a_lowercase_word():
    finding = _one(check_spec(_amazon(title="Lumen Home lavender Candle")), "spec.casing")

    assert finding.severity is Severity.BLOCK
    assert finding.field == "title"
    assert finding.span == (11, 19)
    assert finding.suggested_fix == "Lumen Home Lavender Candle"
    assert "title case" in finding.message


def test_title_case_wants_the_first_word_capitalised():
    finding = _one(check_spec(_amazon(title="the Lumen Home Candle")), "spec.casing")

    assert finding.span == (0, 3)


def test_all_caps_run_is_caught_but_a_single_acronym_passes():
    shouting = _one(check_spec(_amazon(title="Lumen Home SOY WAX CANDLE, 8 oz")), "spec.casing")

    assert shouting.span == (11, 25)
    assert "ALL CAPS" in shouting.message
    assert shouting.suggested_fix == "Lumen Home Soy Wax Candle, 8 oz"
    assert _only(check_spec(_amazon(title="Lumen Home USB Candle Warmer")), "spec.casing") == []


def test_sentence_case_for_bullets():
    bullets = [*AMAZON_CLEAN["bullet_points"][:4], "reusable stoneware vessel."]

    finding = _one(check_spec(_amazon(bullet_points=bullets)), "spec.casing")

    assert finding.field == "bullet_points[4]"
    assert finding.span == (0, 1)
    assert finding.suggested_fix == "Reusable stoneware vessel."


def test_max_chars_blocks_with_span_message_source_and_trimmed_fix():
    title = AMAZON_TITLE + ", " + " ".join(["Calm Evening Glow"] * 11)
    assert len(title) == 246

    finding = _one(check_spec(_amazon(title=title)), "spec.max_chars")

    assert finding.severity is Severity.BLOCK
    assert finding.field == "title"
    assert finding.span == (200, 246)
    assert "246 characters" in finding.message
    assert "at most 200" in finding.message
    assert "source: https://sellercentral.amazon.com/" in finding.message
    fix = finding.suggested_fix
    assert fix is not None
    assert len(fix) <= 200
    assert title.startswith(fix)
    assert title[len(fix)] == " "
    # Past the hard limit only the hard finding is reported, not the recommendation too.
    assert _only(check_spec(_amazon(title=title)), "spec.recommended_max_chars") == []


def test_recommended_max_chars_warns():
    title = AMAZON_TITLE + " for Calm Evenings in the Living Room and the Reading Nook"
    assert 80 < len(title) <= 200

    finding = _one(check_spec(_amazon(title=title)), "spec.recommended_max_chars")

    assert finding.severity is Severity.WARN
    assert finding.span == (80, len(title))
    assert "recommends at most 80" in finding.message
    assert finding.suggested_fix is not None
    assert len(finding.suggested_fix) <= 80
    assert not finding.suggested_fix.endswith((" the", " and", ","))


def test_min_chars_blocks():
    draft = make_draft({"title": "Hi"}, channel=_channel(min_chars=5))

    finding = _one(check_spec(draft), "spec.min_chars")

    assert finding.severity is Severity.BLOCK
    assert "at least 5" in finding.message


def test_search_terms_bytes_ignore_spaces_and_punctuation():
    assert count_bytes("soy, wax - candle!", ignore_spaces_punctuation=True) == 12
    assert count_bytes("soy, wax - candle!") == 18
    assert count_bytes("bär", ignore_spaces_punctuation=True) == 4  # ä is two bytes

    words = "a" * 9
    fits = " ".join([words] * 27) + ", ok"  # 243 + 2 letters; spaces and comma not counted
    assert len(fits.encode()) > 249
    assert _only(check_spec(_amazon(search_terms=fits)), "spec.max_bytes") == []

    too_long = " ".join([words] * 28)  # 252 letters
    finding = _one(check_spec(_amazon(search_terms=too_long)), "spec.max_bytes")
    assert finding.severity is Severity.BLOCK
    assert finding.field == "search_terms"
    assert "252 bytes" in finding.message
    assert "at most 249" in finding.message
    # The 250th counted letter is the 250th "a": 27 words and their spaces come before it.
    assert finding.span == (27 * 10 + 249 - 27 * 9, len(too_long))
    fix = finding.suggested_fix
    assert fix is not None
    assert count_bytes(fix, ignore_spaces_punctuation=True) <= 249


def test_item_counts():
    six = [*AMAZON_CLEAN["bullet_points"], "Gift-ready box."]
    too_many = _one(check_spec(_amazon(bullet_points=six)), "spec.max_items")
    assert too_many.field == "bullet_points"
    assert too_many.severity is Severity.BLOCK
    assert "6 items" in too_many.message
    assert "at most 5" in too_many.message

    ad = _draft(
        "google_ads_rsa",
        {"headlines": ["Calm Soy Candles", "Hand-Poured"], "descriptions": ["a", "b"]},
    )
    too_few = _one(check_spec(ad), "spec.min_items")
    assert too_few.field == "headlines"
    assert "at least 3" in too_few.message


def test_list_item_limits_apply_per_item_with_indexed_path():
    ad = _draft(
        "google_ads_rsa",
        {
            "headlines": ["Calm Soy Candles", "Hand-Poured in Vermont", "x" * 31],
            "descriptions": ["Soy wax candles.", "Fifty hours of calm."],
        },
    )

    finding = _one(check_spec(ad), "spec.max_chars")

    assert finding.field == "headlines[2]"
    assert finding.span == (30, 31)


def test_banned_char_is_located_and_removed_in_the_fix():
    finding = _one(check_spec(_amazon(title="Lumen Home Lavender Candle!")), "spec.banned_char")

    assert finding.severity is Severity.BLOCK
    assert finding.span == (26, 27)
    assert finding.suggested_fix == "Lumen Home Lavender Candle"
    assert "'!'" in finding.message


def test_channel_wide_banned_char_applies_to_every_field():
    draft = _draft(
        "walmart_us",
        {
            "product_name": "Lumen Home Lavender Candle, 8 oz",
            "key_features": ["Soy wax."],
            "description": "Write to hello@lumen or ask in store.",
        },
    )

    finding = _one(check_spec(draft), "spec.banned_char")

    assert finding.field == "description"
    assert finding.span == (14, 15)
    assert "kb.sellerchamp.com" in finding.message


def test_banned_phrase_any_case_and_spacing():
    draft = _draft(
        "walmart_us",
        {
            "product_name": "Lumen Home Candle, Free-Shipping",
            "key_features": ["Soy wax."],
            "description": "A calm candle.",
        },
    )

    finding = _one(check_spec(draft), "spec.banned_phrase")

    assert finding.severity is Severity.BLOCK
    assert finding.field == "product_name"
    assert finding.span == (19, 32)
    assert finding.suggested_fix == "Lumen Home Candle"
    assert "'free shipping'" in finding.message


def test_banned_phrase_scoped_to_a_field_only_fires_there():
    bullets = [*AMAZON_CLEAN["bullet_points"][:4], "Scent notes TBD."]

    findings = _only(
        check_spec(_amazon(bullet_points=bullets, title="Lumen Home TBD Candle")),
        "spec.banned_phrase",
    )

    assert [f.field for f in findings] == ["bullet_points[4]"]


def test_guidance_phrase_warns_and_ignores_compound_words():
    fields = {"subject": "Free candle with your order", "body": "Hi.", "cta": "Shop"}
    warn = _one(check_spec(_draft("email_promo", fields)), "spec.banned_phrase")
    assert warn.severity is Severity.WARN
    assert warn.span == (0, 4)

    fields["subject"] = "Our phthalate-free candles are back"
    assert _only(check_spec(_draft("email_promo", fields)), "spec.banned_phrase") == []


def test_word_repeats_exempts_small_words_and_numbers():
    repeated = "Candle Lavender Candle, Soy Candle"
    finding = _one(check_spec(_amazon(title=repeated)), "spec.word_repeats")

    assert finding.severity is Severity.BLOCK
    assert finding.span == (28, 34)  # the third "Candle"
    assert "'candle' 3 times" in finding.message
    assert finding.suggested_fix == "Candle Lavender Candle, Soy"

    fine = "Candle with Cedar and Fig and Rose and Oud, 2 Pack 2 Wicks 2 Colors"
    assert _only(check_spec(_amazon(title=fine)), "spec.word_repeats") == []


def test_emoji_blocked_where_the_channel_forbids_it():
    bullets = [*AMAZON_CLEAN["bullet_points"][:4], "Reusable vessel ✨ in sage."]

    finding = _one(check_spec(_amazon(bullet_points=bullets)), "spec.emoji")

    assert finding.field == "bullet_points[4]"
    assert finding.span == (16, 17)
    assert finding.suggested_fix == "Reusable vessel in sage."
    instagram = _draft("instagram_post", {"caption": "Soft light ✨", "hashtags": ["#candles"]})
    assert _only(check_spec(instagram), "spec.emoji") == []


def test_html_only_where_allowed_and_only_allowed_tags():
    described = _amazon(product_description="A calm candle.<br><b>Soy wax.</b>")
    finding = _one(check_spec(described), "spec.html")
    assert finding.field == "product_description"
    assert finding.span == (18, 21)
    assert "<br>" in finding.suggested_fix
    assert "<b>" not in finding.suggested_fix

    in_title = _one(check_spec(_amazon(title="Lumen Home <br>Candle")), "spec.html")
    assert "plain text" in in_title.message


def test_links_and_email_addresses_are_caught():
    finding = _one(
        check_spec(_amazon(product_description="Visit lumenhome.com/candles. Hand-poured.")),
        "spec.url",
    )
    assert finding.span == (6, 27)
    assert finding.suggested_fix == "Visit. Hand-poured."

    email = _one(check_spec(_amazon(product_description="Ask hi@lumen.example today.")), "spec.url")
    assert email.span == (4, 20)

    assert _only(check_spec(_amazon(product_description="Burns 50 hours. 8 oz.")), "spec.url") == []


def test_exclamation_where_the_channel_forbids_it():
    draft = make_draft(
        {"title": "Calm Candle! Soft light"}, channel=_channel(allow_exclamation=False)
    )

    finding = _one(check_spec(draft), "spec.exclamation")

    assert finding.span == (11, 12)
    assert finding.suggested_fix == "Calm Candle. Soft light"
    banned_too = _channel(allow_exclamation=False, banned_chars=["!"])
    findings = check_spec(make_draft({"title": "Calm Candle!"}, channel=banned_too))
    assert [f.rule_id for f in findings] == ["spec.banned_char"]  # reported once


def test_required_optional_and_dependent_fields():
    missing = _one(check_spec(_amazon(title="  ")), "spec.required")
    assert missing.field == "title"
    assert missing.severity is Severity.BLOCK

    without_terms = {k: v for k, v in AMAZON_CLEAN.items() if k != "search_terms"}
    assert check_spec(make_draft(without_terms, channel=load_catalog()["amazon_us_pdp"])) == []

    ad = _draft(
        "google_ads_rsa",
        {
            "headlines": ["Calm Soy Candles", "Hand-Poured", "Fifty Hours"],
            "descriptions": ["Soy wax candles.", "Fifty hours of calm."],
            "path2": "lavender",
        },
    )
    dependent = _one(check_spec(ad), "spec.required")
    assert dependent.field == "path1"
    assert "path2" in dependent.message


def test_unknown_field_is_info_and_wrong_kind_blocks():
    findings = check_spec(_amazon(brand_story="Since 2019.", title=["Lumen Home Candle"]))

    unknown = _one(findings, "spec.unknown_field")
    assert unknown.severity is Severity.INFO
    assert unknown.field == "brand_story"
    kind = _one(findings, "spec.kind")
    assert kind.field == "title"
    assert kind.severity is Severity.BLOCK


def test_overridden_spec_is_checked_by_its_own_limits_not_the_cached_shipped_ones():
    title = AMAZON_TITLE + " for Calm Evenings"  # 66 characters
    tighter = resolve_spec("amazon_us_pdp", {"fields": {"title": {"max_chars": 60}}})

    shipped_findings = check_spec(_amazon(title=title))
    tight_findings = check_spec(make_draft({**AMAZON_CLEAN, "title": title}, channel=tighter))

    assert _only(shipped_findings, "spec.max_chars") == []
    assert _one(tight_findings, "spec.max_chars").span == (60, len(title))


@pytest.mark.parametrize("channel_id", sorted(load_catalog()))
def test_every_catalog_spec_reports_its_required_fields_on_an_empty_draft(channel_id):
    spec = load_catalog()[channel_id]

    findings = check_spec(_draft(channel_id, {}))

    assert {f.field for f in findings} == set(spec.required_fields)
    assert {f.rule_id for f in findings} == {"spec.required"}


def test_trim_to_chars_cuts_at_a_word_boundary_and_drops_dangling_words():
    assert trim_to_chars("Calm candle with cedar", 16) == "Calm candle"
    assert trim_to_chars("Short", 10) == "Short"
    assert trim_to_chars("Supercalifragilistic", 5) == "Super"
