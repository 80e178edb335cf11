"""The builtin provider: spec-valid, truthful, deterministic copy for every catalog channel.

Rules and products are read from the Lumen Home example with PyYAML (no Django), and a
hypothesis property drafts generated products for every channel and checks the drafts with
the same checks a run uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signoff.agents.checks.claims import scan_claims
from signoff.agents.checks.consistency import audit_consistency
from signoff.agents.checks.spec import check_spec
from signoff.agents.checks.voice import check_voice
from signoff.agents.context import (
    BannedTerm,
    BrandRules,
    BriefFacts,
    Claim,
    ClaimStatus,
    Draft,
    FieldValue,
    ProductFacts,
    Severity,
    Term,
    field_texts,
)
from signoff.agents.providers.builtin import BuiltinProvider
from signoff.agents.providers.compose import title_case, trim_words
from signoff.agents.providers.port import DraftRequest, DraftResult
from signoff.channels.catalog import load_catalog
from signoff.channels.spec import ChannelSpec, FieldSpec

_EXAMPLE_DIRS = (
    Path("/work/shared/examples/lumen-home"),
    Path(__file__).resolve().parents[1] / "src" / "signoff" / "demo" / "lumen-home",
)
EXAMPLE = next((path for path in _EXAMPLE_DIRS if path.exists()), _EXAMPLE_DIRS[-1])

CATALOG = load_catalog()
PROVIDER = BuiltinProvider()
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


# ---------------------------------------------------------------- example loading


def _rules_from_workspace(path: Path) -> BrandRules:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    brand = data["brand"]
    voice = brand["voice"]
    tones = dict(voice.get("tone", {}))
    default = tones.pop("default", "calm")
    return BrandRules(
        brand_name=data["name"],
        description=voice.get("description", ""),
        tone_default=default,
        tone_by_channel=tones,
        max_sentence_words=voice.get("max_sentence_words"),
        forbid_exclamation=bool(voice.get("forbid_exclamation")),
        terminology=tuple(
            Term(use=t["use"], avoid=tuple(t["avoid"])) for t in brand.get("terminology", [])
        ),
        banned=tuple(
            BannedTerm(phrase=b["phrase"], suggest=b.get("suggest"), reason=b.get("reason"))
            for b in brand.get("banned", [])
        ),
        claims=tuple(
            Claim(
                id=c["id"],
                status=ClaimStatus(c["status"]),
                text=c.get("text"),
                pattern=c.get("pattern"),
                evidence=c.get("evidence"),
                reason=c.get("reason"),
            )
            for c in data.get("claims", [])
        ),
    )


def _brief_from_file(path: Path) -> tuple[BriefFacts, list[ProductFacts]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    brief = BriefFacts(
        name=data["name"],
        audience=data.get("audience", ""),
        key_messages=tuple(data.get("key_messages", [])),
        acceptance_criteria=tuple(data.get("acceptance_criteria", [])),
        markets=tuple(data.get("markets", ["en-US"])),
    )
    products = []
    for item in data["products"]:
        price = item.get("price") or {}
        products.append(
            ProductFacts(
                sku=item["sku"],
                name=item["name"],
                gtin=item.get("gtin"),
                price=Decimal(str(price["amount"])) if price else None,
                currency=price.get("currency", "USD"),
                attributes={k: str(v) for k, v in (item.get("attributes") or {}).items()},
                claims=tuple(item.get("claims", [])),
            )
        )
    return brief, products


RULES = _rules_from_workspace(EXAMPLE / "workspace.yaml")
SPRING_BRIEF, SPRING_PRODUCTS = _brief_from_file(EXAMPLE / "briefs" / "spring-candles.yaml")
COZY_BRIEF, COZY_PRODUCTS = _brief_from_file(EXAMPLE / "briefs" / "cozy-season-campaign.yaml")
BY_SKU = {p.sku: p for p in (*SPRING_PRODUCTS, *COZY_PRODUCTS)}


# ---------------------------------------------------------------- helpers


def _draft(
    channel: ChannelSpec | str,
    product: ProductFacts,
    *,
    brief: BriefFacts = SPRING_BRIEF,
    rules: BrandRules = RULES,
    variant: str = "A",
) -> DraftResult:
    spec = CATALOG[channel] if isinstance(channel, str) else channel
    index = ord(variant) - ord("A")
    request = DraftRequest(
        channel=spec,
        product=product,
        brief=brief,
        rules=rules,
        variant=variant,
        variant_index=index,
    )
    return PROVIDER.draft(request)


def _texts(fields: Mapping[str, FieldValue]) -> Iterator[str]:
    for _, text in field_texts(fields):
        yield text


def _all_copy(fields: Mapping[str, FieldValue]) -> str:
    return "\n".join(_texts(fields))


def _data_numbers(product: ProductFacts) -> set[str]:
    """Every number the product data holds, as written and without trailing zeros."""
    sources = [
        product.sku,
        product.name,
        product.gtin or "",
        *map(str, product.attributes.values()),
    ]
    if product.price is not None:
        sources += [str(product.price), f"{product.price:.2f}"]
    numbers = {n for source in sources for n in _NUMBER.findall(source)}
    return numbers | {n.rstrip("0").rstrip(".") for n in numbers if "." in n}


def _blocking_or_warning(findings: list[Any]) -> list[Any]:
    return [f for f in findings if f.severity in (Severity.BLOCK, Severity.WARN)]


def _squashed(text: str) -> str:
    return re.sub(r"[\s\-]+", " ", text.lower())


# Imported plainly: a check that fails to import must fail these tests, not drop out of them.
CHECKS = (scan_claims, check_voice)


# ---------------------------------------------------------------- (a) property over products


_NAME_WORDS = [
    "Meadow", "Harbor", "Orchard", "Linen", "Ember", "Willow", "Juniper", "Quiet", "Morning",
    "Garden", "Harvest", "Coast", "Valley", "River", "Fern", "Green", "Saffron", "Crème",
]  # fmt: skip
_TYPES = ["Candle", "Diffuser", "Room Spray", "Votive", "Wax Melt", "Hand Soap"]
_SCENTS = [
    "lavender and cedar", "green fig and vetiver", "sea salt and sage", "orange blossom",
    "black tea and plum", "smoked oak and amber", "rhubarb and rose", "white tea",
]  # fmt: skip
_SIZES = ["8 oz", "14 oz", "250 ml", "100 ml", "1.5 lb", "3 x 4 in", "200 g"]
_EXTRA_KEYS = ["finish", "origin", "collection", "pattern", "weight_g", "height_cm", "notes"]
_EXTRA_VALUES = [
    "matte", "natural linen", "Portugal", "spring edition", "speckled glaze", "sustainable oak",
    "hand poured", "soya wax blend", "cheap thrills", "clean burning", "340", "12",
]  # fmt: skip
_MESSAGES = [
    "Hand-poured soy wax candles with phthalate-free fragrance.",
    "A long, even burn for slow evenings.",
    "Six spring scents in reusable stoneware vessels.",
    "Make the long evenings yours.",
    "Gift sets ship free over $60 until December 18.",
    "Clean burning and non-toxic, the best candle ever!",
    "Eco-friendly glass you can reuse.",
    "Recyclable vessels for every room.",
]

# The Lumen registry plus claims of other statuses, so every path of the rules is exercised.
PROPERTY_RULES = BrandRules(
    brand_name=RULES.brand_name,
    description=RULES.description,
    tone_default=RULES.tone_default,
    tone_by_channel=RULES.tone_by_channel,
    max_sentence_words=RULES.max_sentence_words,
    forbid_exclamation=True,
    terminology=RULES.terminology,
    banned=RULES.banned,
    claims=(
        *RULES.claims,
        Claim(id="recyclable", text="recyclable vessel", status=ClaimStatus.APPROVED),
        Claim(id="long-lasting", text="long-lasting fragrance", status=ClaimStatus.WITHDRAWN),
        Claim(id="natural", pattern=r"(?i)\bnatural\b", status=ClaimStatus.PENDING),
    ),
)
_CLAIM_IDS = [c.id for c in PROPERTY_RULES.claims] + ["not-in-registry"]


def _gtin(body: str) -> str:
    """A GTIN with a valid GS1 check digit, so it reads as a barcode and not a card number."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


@st.composite
def products(draw: st.DrawFn) -> ProductFacts:
    first, second = draw(
        st.lists(st.sampled_from(_NAME_WORDS), min_size=2, max_size=2, unique=True)
    )
    name = f"{first} {second} {draw(st.sampled_from(_TYPES))}"
    attributes: dict[str, str] = {}
    optional = {
        "scent": st.sampled_from(_SCENTS),
        "size": st.sampled_from(_SIZES),
        "burn_time_hours": st.integers(min_value=8, max_value=120).map(str),
        "wax": st.sampled_from(["soy wax", "coconut wax", "soya wax", "beeswax"]),
        "wick": st.sampled_from(["cotton", "wood", "double cotton"]),
        "vessel": st.sampled_from(["reusable stoneware", "amber glass", "tin"]),
        "color": st.sampled_from(["sage", "cream", "olive", "rose"]),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            attributes[key] = draw(strategy)
    for key in draw(st.lists(st.sampled_from(_EXTRA_KEYS), max_size=3, unique=True)):
        attributes[key] = draw(st.sampled_from(_EXTRA_VALUES))
    gtin = draw(st.one_of(st.none(), st.from_regex(r"\A00850\d{8}\Z").map(_gtin)))
    price = draw(
        st.one_of(st.none(), st.decimals(min_value=1, max_value=500, places=2).map(Decimal))
    )
    claims = draw(st.lists(st.sampled_from(_CLAIM_IDS), max_size=4, unique=True))
    return ProductFacts(
        sku=draw(st.from_regex(r"\A[A-Z]{3}-[0-9]{3}\Z")),
        name=name,
        gtin=gtin,
        price=price,
        attributes=attributes,
        claims=tuple(claims),
    )


def _assert_clean(result: DraftResult, channel: ChannelSpec, product: ProductFacts) -> None:
    draft = Draft(channel=channel, fields=result.fields, product=product)
    assert set(result.fields) == set(channel.fields)
    for name in channel.required_fields:
        assert result.fields[name], f"{channel.id}.{name} is empty"
    problems = _blocking_or_warning(check_spec(draft))
    for check in CHECKS:
        problems += _blocking_or_warning(check(draft, PROPERTY_RULES))
    assert not problems, (channel.id, result.fields, [(f.rule_id, f.message) for f in problems])
    copy = _squashed(_all_copy(result.fields))
    for claim in PROPERTY_RULES.claims:
        usable = claim.status == ClaimStatus.APPROVED and claim.id in product.claims
        if usable:
            continue
        # Attribute values may carry claim wording ("clean burning"); it stays out anyway.
        for wording in (claim.id, claim.text or claim.id):
            assert not re.search(rf"\b{re.escape(_squashed(wording))}\b", copy), claim.id
    numbers = {n for text in _texts(result.fields) for n in _NUMBER.findall(text)}
    assert numbers <= _data_numbers(product), (channel.id, numbers - _data_numbers(product))
    assert "!" not in _all_copy(result.fields)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    product=products(),
    messages=st.lists(st.sampled_from(_MESSAGES), max_size=4, unique=True),
)
def test_every_channel_gets_clean_copy_for_any_product(
    product: ProductFacts, messages: list[str]
) -> None:
    brief = BriefFacts(name="Generated", key_messages=tuple(messages))
    for channel in CATALOG.values():
        for variant in ("A", "B"):
            result = _draft(channel, product, brief=brief, rules=PROPERTY_RULES, variant=variant)
            _assert_clean(result, channel, product)


# ---------------------------------------------------------------- (b) the Lumen Home example


def test_amazon_title_leads_with_brand_then_type_scent_and_size() -> None:
    lavender = BY_SKU["LUM-SPR-LAV-08"]
    for variant in "ABCD":
        title = _draft("amazon_us_pdp", lavender, variant=variant).fields["title"]
        assert isinstance(title, str)
        assert title.startswith("Lumen Home Lavender Fields")
        candle = title.index("Candle")
        scent = title.lower().index("lavender and cedar")
        assert candle < scent < title.index("8 oz"), title
        assert len(title) <= 80  # the recommended length, not only the 200 cap


def test_every_number_in_the_copy_is_in_the_product_data() -> None:
    for brief, items in ((SPRING_BRIEF, SPRING_PRODUCTS), (COZY_BRIEF, COZY_PRODUCTS)):
        for product in items:
            allowed = _data_numbers(product)
            for channel_id in CATALOG:
                for variant in "ABCD":
                    fields = _draft(channel_id, product, brief=brief, variant=variant).fields
                    numbers = set(_NUMBER.findall(_all_copy(fields)))
                    assert numbers <= allowed, (product.sku, channel_id, numbers - allowed)


def test_burn_time_is_stated_as_the_data_gives_it() -> None:
    lavender = BY_SKU["LUM-SPR-LAV-08"]
    peony = BY_SKU["LUM-SPR-PEO-14"]
    for channel_id in ("amazon_us_pdp", "walmart_us", "target_plus", "google_merchant"):
        assert "50 hours" in _all_copy(_draft(channel_id, lavender).fields)
        peony_copy = _all_copy(_draft(channel_id, peony).fields)
        assert "80 hours" in peony_copy
        assert "50" not in peony_copy
        assert "60" not in peony_copy


def test_pending_claim_never_appears_even_when_the_product_lists_it() -> None:
    rhubarb = BY_SKU["LUM-SPR-RHB-08"]
    assert "clean-burning" in rhubarb.claims
    for channel_id in CATALOG:
        for variant in "ABCD":
            copy = _squashed(_all_copy(_draft(channel_id, rhubarb, variant=variant).fields))
            assert "clean burn" not in copy
            assert "non toxic" not in copy


def test_approved_claims_appear_only_in_their_registry_wording() -> None:
    lavender = BY_SKU["LUM-SPR-LAV-08"]
    copy = _all_copy(_draft("amazon_us_pdp", lavender).fields)
    assert "Phthalate-free fragrance" in copy
    assert "hand-poured in Vermont" in copy


def test_no_avoided_terms_banned_phrases_or_exclamations() -> None:
    avoided = [avoid for term in RULES.terminology for avoid in term.avoid]
    for product in (*SPRING_PRODUCTS, *COZY_PRODUCTS):
        for channel_id in CATALOG:
            for variant in "AB":
                for text in _texts(_draft(channel_id, product, variant=variant).fields):
                    for avoid in avoided:
                        # "lumen home" differs from "Lumen Home" only by case: compare exactly.
                        assert not re.search(rf"(?<!\w){re.escape(avoid)}(?!\w)", text), text
                    assert "cheap" not in text.lower()
                    assert "best candle ever" not in text.lower()
                    assert "!" not in text


def test_key_messages_with_unbacked_numbers_or_claims_are_left_out() -> None:
    for channel_id in CATALOG:
        spring = _all_copy(_draft(channel_id, BY_SKU["LUM-SPR-LAV-08"], variant="B").fields)
        assert "Six spring scents" not in spring
        ember = BY_SKU["LUM-WIN-EMB-14"]
        cozy = _all_copy(_draft(channel_id, ember, brief=COZY_BRIEF, variant="B").fields)
        assert "ship free" not in cozy
        assert "December" not in cozy


def test_green_in_a_product_name_is_a_name_not_a_claim() -> None:
    fig = BY_SKU["LUM-SPR-FIG-08"]
    for channel_id, channel in CATALOG.items():
        result = _draft(channel_id, fig)
        draft = Draft(channel=channel, fields=result.fields, product=fig)
        assert not _blocking_or_warning(scan_claims(draft, RULES))
    assert "Green Fig" in _draft("amazon_us_pdp", fig).fields["title"]


def test_lumen_example_passes_every_check_on_every_channel() -> None:
    for brief, items in ((SPRING_BRIEF, SPRING_PRODUCTS), (COZY_BRIEF, COZY_PRODUCTS)):
        for product in items:
            for channel_id, channel in CATALOG.items():
                for variant in "ABCD":
                    result = _draft(channel_id, product, brief=brief, variant=variant)
                    draft = Draft(channel=channel, fields=result.fields, product=product)
                    findings = check_spec(draft)
                    findings += [f for check in CHECKS for f in check(draft, RULES)]
                    problems = [(f.rule_id, f.field) for f in _blocking_or_warning(findings)]
                    assert not problems, (channel_id, product.sku, variant, problems)


def test_the_same_request_gives_the_same_draft() -> None:
    lavender = BY_SKU["LUM-SPR-LAV-08"]
    for channel_id in CATALOG:
        first = _draft(channel_id, lavender, variant="B")
        again = BuiltinProvider().draft(
            DraftRequest(
                channel=CATALOG[channel_id],
                product=ProductFacts(**{s: getattr(lavender, s) for s in lavender.__slots__}),
                brief=SPRING_BRIEF,
                rules=RULES,
                variant="B",
                variant_index=1,
            )
        )
        assert first == again


def test_variants_differ_in_most_fields() -> None:
    lavender = BY_SKU["LUM-SPR-LAV-08"]
    for channel_id, channel in CATALOG.items():
        if len(channel.fields) < 2:
            continue
        a = _draft(channel_id, lavender, variant="A").fields
        b = _draft(channel_id, lavender, variant="B").fields
        differing = [name for name in channel.fields if a[name] != b[name]]
        assert len(differing) * 2 > len(channel.fields), (channel_id, a, b)


def test_each_variant_opens_differently() -> None:
    lavender = BY_SKU["LUM-SPR-LAV-08"]
    openings = {
        str(_draft("walmart_us", lavender, variant=v).fields["description"]).split(". ")[0]
        for v in "ABCD"
    }
    assert len(openings) == 4


def test_every_email_subject_reads_as_a_phrase_and_names_the_product_or_its_scent() -> None:
    for product in SPRING_PRODUCTS:
        for variant in "ABCD":
            subject = str(_draft("email_promo", product, variant=variant).fields["subject"])
            # Not "The Lavender Candle, in soy wax candle": a noun phrase tacked on after the name.
            assert ", in " not in subject, (product.sku, variant, subject)
            scent = str(product.attributes.get("scent", "")).lower()
            assert product.name in subject or (scent and scent in subject.lower()), subject


def test_reviewer_notes_move_a_redraft_off_the_rejected_copy() -> None:
    lavender = BY_SKU["LUM-SPR-LAV-08"]
    rejected = _draft("email_promo", lavender)
    noted = BriefFacts(
        name=SPRING_BRIEF.name,
        key_messages=SPRING_BRIEF.key_messages,
        notes=("Lead with the ritual, not the scent.",),
    )
    redraft = _draft("email_promo", lavender, brief=noted)
    assert redraft.fields != rejected.fields
    assert redraft.parameters["revision"] == 1


def test_provenance_names_the_composer_template_and_tone() -> None:
    lavender = BY_SKU["LUM-SPR-LAV-08"]
    amazon = _draft("amazon_us_pdp", lavender, variant="B")
    assert amazon.provider == "builtin"
    assert amazon.model == "composer-1"
    assert amazon.prompt == "builtin/amazon_us_pdp/variant-B@1"
    assert amazon.parameters["variant"] == "B"
    assert amazon.parameters["tone"] == "factual"
    assert _draft("instagram_post", lavender).parameters["tone"] == "playful"
    assert _draft("walmart_us", lavender).parameters["tone"] == "calm"


def test_amazon_gets_exactly_five_distinct_bullets_and_search_terms_without_brand() -> None:
    for product in SPRING_PRODUCTS:
        fields = _draft("amazon_us_pdp", product).fields
        bullets = fields["bullet_points"]
        assert isinstance(bullets, list)
        assert len(bullets) == 5
        assert len({b.lower() for b in bullets}) == 5
        terms = str(fields["search_terms"]).split()
        assert "lumen" not in terms
        assert "home" not in terms
        assert len(terms) == len(set(terms))


# ---------------------------------------------------------------- (c) missing product data


def test_missing_gtin_and_burn_time_are_not_invented() -> None:
    rhubarb = BY_SKU["LUM-SPR-RHB-08"]
    assert rhubarb.gtin is None
    assert "burn_time_hours" not in rhubarb.attributes
    for channel_id, channel in CATALOG.items():
        for variant in "AB":
            result = _draft(channel_id, rhubarb, variant=variant)
            copy = _all_copy(result.fields)
            assert "GTIN" not in copy
            assert "hour" not in copy.lower()
            assert "burn time" not in copy.lower()
            for name in channel.required_fields:
                assert result.fields[name]


def test_a_product_with_only_a_name_still_fills_every_required_field() -> None:
    bare = ProductFacts(sku="BAR-001", name="Quiet Harbor Candle")
    for channel_id, channel in CATALOG.items():
        result = _draft(channel_id, bare, brief=BriefFacts(name="Bare"))
        for name in channel.required_fields:
            assert result.fields[name], (channel_id, name)
        assert set(_NUMBER.findall(_all_copy(result.fields))) <= {"001"}


# ---------------------------------------------------------------- fitting tight specs


def _tight_channel() -> ChannelSpec:
    return ChannelSpec(
        id="tight_test",
        name="Tight test channel",
        kind="marketplace",
        tone="factual",
        fields={
            "title": FieldSpec(label="Title", compose="title", max_chars=38, casing="title"),
            "bullets": FieldSpec(
                label="Bullets", compose="bullets", kind="list", min_items=8, max_items=8
            ),
            "headlines": FieldSpec(
                label="Headlines", compose="headline", kind="list", min_items=6, max_chars=18
            ),
            "blurb": FieldSpec(label="Blurb", compose="description", min_chars=60, max_chars=90),
        },
    )


def test_tight_limits_are_met_without_cutting_words_or_repeating_items() -> None:
    channel = _tight_channel()
    lavender = BY_SKU["LUM-SPR-LAV-08"]
    for variant in "AB":
        fields = _draft(channel, lavender, rules=RULES, variant=variant).fields
        title = str(fields["title"])
        assert len(title) <= 38
        assert not title.rstrip().endswith((",", " and", " with", " in"))
        source_words = set(re.findall(r"[\w-]+", "Lumen Home Lavender Fields Soy Wax Candle"))
        assert set(re.findall(r"[\w-]+", title)) <= source_words  # whole words only
        bullets = fields["bullets"]
        assert len(bullets) == 8
        assert len({b.lower() for b in bullets}) == 8
        headlines = fields["headlines"]
        assert len(headlines) >= 6
        assert all(len(h) <= 18 for h in headlines)
        assert len({h.lower() for h in headlines}) == len(headlines)
        assert 60 <= len(str(fields["blurb"])) <= 90


def test_title_case_keeps_units_and_small_words_lowercase() -> None:
    assert title_case("lumen home soy wax candle, lavender and cedar, 8 oz") == (
        "Lumen Home Soy Wax Candle, Lavender and Cedar, 8 oz"
    )
    assert title_case("the candle in a hand-poured jar") == "The Candle in a Hand-Poured Jar"


def test_trimming_stops_at_a_word_and_drops_dangling_connectives() -> None:
    spec = FieldSpec(label="t", compose="headline", max_chars=24)
    trimmed = trim_words("Lavender and cedar with amber notes", spec, 24, period=False)
    assert trimmed == "Lavender and cedar"


def test_a_skus_packages_agree_with_each_other_and_the_data() -> None:
    drafts = []
    for brief, items in ((SPRING_BRIEF, SPRING_PRODUCTS), (COZY_BRIEF, COZY_PRODUCTS)):
        for product in items:
            for channel_id, channel in CATALOG.items():
                for variant in "AB":
                    fields = _draft(channel_id, product, brief=brief, variant=variant).fields
                    key = f"{product.sku}/{channel_id}/{variant}"
                    drafts.append((key, Draft(channel=channel, fields=fields, product=product)))
    findings = audit_consistency(drafts, RULES)
    assert not [(key, f.rule_id) for key, f in findings if f.severity != Severity.INFO]
