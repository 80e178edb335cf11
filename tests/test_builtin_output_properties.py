"""The builtin composer against the output-side checks (issue 14, section 2), over generated
products and every catalog channel: no phrase repeated beyond the spec, always the product's
name, no number the data does not hold, no fragment ("Shop 5s", "30 ml 5"), nothing the
integrity or substance checks block. Products here include names that end in a number or a
code, which is where the composer used to make "5s" of a product type.
"""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_builtin_provider import CATALOG, PROVIDER, RULES, SPRING_PRODUCTS

from signoff.agents.checks.integrity import check_integrity
from signoff.agents.checks.substance import check_substance, data_numbers
from signoff.agents.context import (
    BriefFacts,
    Draft,
    InputSignals,
    ProductFacts,
    Severity,
    field_texts,
)
from signoff.agents.providers.port import DraftRequest

_WORDS = ["Meadow", "Harbor", "Ember", "Willow", "Juniper", "Fern", "Saffron", "Cedar"]
_TYPES = ["Candle", "Diffuser", "Room Spray", "Wax Melt", "Hand Soap", "Serum", "Tote"]
_SIZES = ["8 oz", "30 ml", "250 ml", "1.5 lb", "200 g", "5 oz", "50 ml"]
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
_FRAGMENT = re.compile(r"\b\d+\s?(?:ml|oz|g|lb)\s+\d+\b(?!\s?[a-z%-])|(?<![\w'])\d+s\b", re.I)


@st.composite
def products(draw: st.DrawFn) -> ProductFacts:
    first = draw(st.sampled_from(_WORDS))
    kind = draw(st.sampled_from(_TYPES))
    tail = draw(st.sampled_from(["", " 5", " 30", " No. 2", " XL", " 2-Pack"]))
    name = draw(st.sampled_from([f"{first} {kind}{tail}", f"{first}{tail}", f"{kind}{tail}"]))
    attributes: dict[str, str] = {}
    if draw(st.booleans()):
        attributes["size"] = draw(st.sampled_from(_SIZES))
    if draw(st.booleans()):
        attributes["scent"] = draw(st.sampled_from(["fig and vetiver", "sea salt", "oud"]))
    if draw(st.booleans()):
        attributes["burn_time_hours"] = str(draw(st.integers(min_value=5, max_value=90)))
    if draw(st.booleans()):
        attributes["color"] = draw(st.sampled_from(["sage", "cream", "olive"]))
    price = draw(st.one_of(st.none(), st.decimals(min_value=1, max_value=99, places=2)))
    return ProductFacts(
        sku=draw(st.from_regex(r"\A[A-Z]{3}-[0-9]{2}\Z")),
        name=name.strip(),
        price=Decimal(price) if price is not None else None,
        attributes=attributes,
        claims=tuple(draw(st.lists(st.sampled_from(["soy", "clean-burn"]), unique=True))),
    )


def _blocks(draft: Draft) -> list:
    found = check_integrity(draft) + check_substance(draft, RULES)
    return [(f.rule_id, f.field, f.message) for f in found if f.severity is Severity.BLOCK]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(product=products(), variant=st.sampled_from("ABCD"))
def test_builtin_copy_passes_the_output_checks_on_every_channel(
    product: ProductFacts, variant: str
) -> None:
    brief = BriefFacts(name="Generated", key_messages=("Made for slow evenings.",))
    inputs = InputSignals(brief_texts=brief.key_messages)
    siblings = (product, SPRING_PRODUCTS[0])
    allowed = data_numbers(product, RULES)
    name_words = set(re.findall(r"[a-z0-9]+", product.name.lower()))
    for channel in CATALOG.values():
        request = DraftRequest(
            channel=channel,
            product=product,
            brief=brief,
            rules=RULES,
            variant=variant,
            variant_index=ord(variant) - ord("A"),
        )
        fields = PROVIDER.draft(request).fields
        draft = Draft(channel, fields, product, siblings=siblings, inputs=inputs)
        assert not _blocks(draft), (channel.id, fields, _blocks(draft))
        texts = [text for _, text in field_texts(fields)]
        copy = " ".join(texts).lower()
        # Always the product's name, somewhere in every package.
        assert name_words <= set(re.findall(r"[a-z0-9]+", copy)), (channel.id, fields)
        for text in texts:
            assert not _FRAGMENT.search(text), (channel.id, text)
            numbers = set(_NUMBER.findall(text))
            assert numbers <= allowed | {n.rstrip("0").rstrip(".") for n in allowed}, (
                channel.id,
                text,
            )


def test_a_name_ending_in_a_number_gives_no_bare_plural_or_glued_fragment() -> None:
    product = ProductFacts(sku="ABC-05", name="Ember 5", attributes={"size": "30 ml"})
    for channel_id in ("meta_feed_ad", "google_ads_rsa", "email_promo"):
        for variant in "ABCD":
            request = DraftRequest(
                channel=CATALOG[channel_id],
                product=product,
                brief=BriefFacts(name="b"),
                rules=RULES,
                variant=variant,
                variant_index=ord(variant) - ord("A"),
            )
            fields = PROVIDER.draft(request).fields
            for _, text in field_texts(fields):
                assert "5s" not in text.split(), text
                assert not re.search(r"30 ml 5\b", text), text
