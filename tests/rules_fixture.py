"""Lumen Home's brand rules, products and a small channel, built in code for pure check tests.

Mirrors /work/shared/examples/lumen-home/workspace.yaml and briefs/spring-candles.yaml so the
checks are tested against the example a user would load, without YAML or a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from signoff.agents.context import (
    BannedTerm,
    BrandRules,
    Claim,
    ClaimStatus,
    Draft,
    FieldValue,
    ProductFacts,
    Term,
)
from signoff.channels.spec import ChannelSpec, FieldSpec

CLEAN_TITLE = "Lumen Home Lavender Fields Candle, 8 oz"
CLEAN_COPY = (
    "Lumen Home Lavender Fields Candle, 8 oz. Hand-poured in Vermont with phthalate-free "
    "fragrance. About 50 hours of calm, even burn."
)


def lumen_rules() -> BrandRules:
    return BrandRules(
        brand_name="Lumen Home",
        description="Calm, warm and editorial. Plain words, no hype, no exclamation marks.",
        tone_default="calm",
        tone_by_channel={"instagram_post": "playful", "amazon_us_pdp": "factual"},
        max_sentence_words=24,
        forbid_exclamation=True,
        terminology=(
            Term(use="soy wax", avoid=("soya wax", "soy-wax")),
            Term(use="hand-poured", avoid=("handpoured", "hand poured")),
            Term(use="Lumen Home", avoid=("LumenHome", "lumen home", "Lumen home")),
        ),
        banned=(
            BannedTerm(phrase="cheap", suggest="affordable"),
            BannedTerm(phrase="best candle ever", reason="superlative without proof"),
            BannedTerm(phrase="toxic-free", reason="meaningless claim"),
        ),
        claims=(
            Claim(
                id="phthalate-free",
                text="phthalate-free fragrance",
                status=ClaimStatus.APPROVED,
                evidence="Supplier certificate SC-2026-014",
            ),
            Claim(
                id="hand-poured",
                text="hand-poured in Vermont",
                status=ClaimStatus.APPROVED,
                evidence="Production site audit 2026-02",
            ),
            Claim(id="clean-burning", text="clean burning", status=ClaimStatus.PENDING),
            Claim(
                id="non-toxic",
                pattern=r"(?i)\bnon-?toxic\b",
                status=ClaimStatus.FORBIDDEN,
                reason="Health claim the brand cannot substantiate",
            ),
            Claim(
                id="eco",
                pattern=r"(?i)\b(eco-friendly|sustainable|green)\b",
                status=ClaimStatus.NEEDS_SUBSTANTIATION,
                reason="Environmental claims need a cited basis (FTC Green Guides)",
            ),
        ),
    )


def marketplace_channel(channel_id: str = "test_channel", tone: str = "calm") -> ChannelSpec:
    return ChannelSpec(
        id=channel_id,
        name="Test",
        kind="marketplace",
        tone=tone,
        fields={
            "title": FieldSpec(label="Title", compose="title"),
            "bullets": FieldSpec(label="Bullets", compose="bullets", kind="list"),
            "description": FieldSpec(label="Description", compose="description", required=False),
        },
    )


def _candle(
    sku: str,
    name: str,
    gtin: str | None,
    price: str,
    scent: str,
    size: str,
    burn_time_hours: str | None,
    claims: tuple[str, ...] = ("phthalate-free", "hand-poured"),
) -> ProductFacts:
    attributes = {"scent": scent, "size": size, "wax": "soy wax", "wick": "cotton"}
    attributes |= {"vessel": "reusable stoneware"}
    if burn_time_hours is not None:
        attributes["burn_time_hours"] = burn_time_hours
    return ProductFacts(
        sku=sku,
        name=name,
        gtin=gtin,
        price=Decimal(price),
        currency="USD",
        attributes=attributes,
        claims=claims,
    )


def lavender() -> ProductFacts:
    return _candle(
        "LUM-SPR-LAV-08",
        "Lavender Fields Candle",
        "00850012345018",
        "32.00",
        "lavender and cedar",
        "8 oz",
        "50",
    )


def green_fig() -> ProductFacts:
    return _candle(
        "LUM-SPR-FIG-08",
        "Green Fig Candle",
        "00850012345032",
        "32.00",
        "green fig and vetiver",
        "8 oz",
        "50",
    )


def peony() -> ProductFacts:
    return _candle(
        "LUM-SPR-PEO-14",
        "Peony Blush Candle",
        "00850012345049",
        "48.00",
        "peony and pink pepper",
        "14 oz",
        "80",
    )


def rhubarb() -> ProductFacts:
    """Incomplete on purpose, like the example: no GTIN, no burn time, lists a pending claim."""
    return _candle(
        "LUM-SPR-RHB-08",
        "Rhubarb Garden Candle",
        None,
        "32.00",
        "rhubarb and rose",
        "8 oz",
        None,
        claims=("phthalate-free", "hand-poured", "clean-burning"),
    )


EXAMPLE_GTINS = (
    "00850012345018",
    "00850012345025",
    "00850012345032",
    "00850012345049",
    "00850012345056",
)


def make_draft(
    fields: Mapping[str, FieldValue],
    product: ProductFacts | None = None,
    channel: ChannelSpec | None = None,
) -> Draft:
    return Draft(
        channel=channel or marketplace_channel(),
        fields=dict(fields),
        product=product or lavender(),
    )
