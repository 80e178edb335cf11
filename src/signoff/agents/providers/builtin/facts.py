"""What the composer may say about one product: its attributes, usable claims and messages.

Only the data as given: attributes are cleaned and rewritten in the brand's terminology, claims
are the approved ones this product makes, and a key message is kept only if every number in it
is in the product data and every claim in it is usable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from signoff.agents.context import ProductFacts
from signoff.agents.providers.builtin.memo import product_memo
from signoff.agents.providers.builtin.rules import rules_plan, unusable_claims
from signoff.agents.providers.builtin.vocabulary import (
    BURN_KEYS,
    DIGITS,
    EMOJI_AND_MARKUP,
    LIGHTABLE,
    MATERIAL_KEYS,
    NUMBER_WORDS,
    NUMERIC,
    ORDER,
    STOP_WORDS,
    TOPIC_KEYS,
    TOPIC_LABELS,
    TYPE_KEYS,
    UNIT_SUFFIXES,
    UNIT_WORDS,
    WAX_BODIES,
)
from signoff.agents.providers.compose import (
    ClaimScreen,
    normalized,
    sentence_case,
    squash_spaces,
    title_case,
    words,
)
from signoff.agents.providers.port import DraftRequest


@dataclass(frozen=True, slots=True)
class Fact:
    topic: str  # scent, size, material, burn, wick, vessel, color, extra, claim
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything true the composer may say about one product for one brand."""

    brand: str
    name: str
    noun: str  # "candle"
    plural: str  # "candles"
    by_topic: dict[str, Fact]
    extras: tuple[Fact, ...]
    claims: tuple[str, ...]  # wording of claims approved and claimed for this product
    messages: tuple[str, ...]  # key messages without claim wording
    claim_messages: tuple[str, ...]  # key messages whose claims this product may make
    price: str | None
    gtin: str | None
    sku: str
    claim_screen: ClaimScreen
    lightable: bool
    made_of_material: bool  # the material names the whole product ("soy wax candle")

    def value(self, topic: str) -> str:
        fact = self.by_topic.get(topic)
        return fact.value if fact else ""

    def ordered(self, lead: str, skip: Iterable[str] = ()) -> list[Fact]:
        skipped = set(skip)
        out: list[Fact] = []
        for topic in ORDER[lead]:
            if topic in skipped:
                continue
            if topic == "extra":
                out.extend(self.extras)
            elif topic == "claim":
                out.extend(Fact("claim", "", text) for text in self.claims)
            elif topic in self.by_topic:
                out.append(self.by_topic[topic])
        return out

    @property
    def burn_phrase(self) -> str:
        """ "50-hour burn time" when the data gives hours as a number."""
        hours = self.value("burn").removesuffix(" hours")
        if NUMERIC.match(hours):
            return f"{hours}-hour burn time"
        return f"{hours} burn time" if hours else ""

    @property
    def thing(self) -> str:
        """ "soy wax candle", or "candle" when the material is unknown."""
        material = self.value("material")
        if self.made_of_material and normalized(material) != normalized(self.noun):
            return f"{material} {self.noun}"
        return self.noun

    @property
    def full_name(self) -> str:
        if normalized(self.name).startswith(normalized(self.brand)):
            return self.name
        return f"{self.brand} {self.name}"

    @property
    def name_with_material(self) -> str:
        """ "Lavender Fields Candle" with soy wax reads "Lavender Fields Soy Wax Candle"."""
        material = self.value("material")
        name_words = self.name.split(" ")
        if (
            not self.made_of_material
            or len(name_words) < 2
            or name_words[-1].lower() != self.noun
            or set(normalized(material).split()) & set(normalized(self.name).split())
        ):
            return self.name
        return " ".join([*name_words[:-1], title_case(material), name_words[-1]])


def _clean(value: object, rewrite: Callable[[str], str]) -> str:
    text = squash_spaces(EMOJI_AND_MARKUP.sub(" ", str(value)).replace("!", ""))
    return rewrite(text).strip(" ,;:.")


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _numbers_in(text: str) -> set[str]:
    return {n.replace(",", ".") for n in DIGITS.findall(text)}


def _plural(noun: str) -> str:
    if noun.endswith("s"):
        return noun
    return noun + ("es" if noun.endswith(("sh", "ch", "x")) else "s")


def _noun_of(name_words: list[str]) -> str:
    """The product type a name ends with: its last word that is a word, not a number, a code
    or a unit ("Meadow Candle 5" is a candle; "5" would make "Shop 5s" and "30 ml 5")."""
    for word in reversed(name_words):
        if word.isalpha() and len(word) >= 3 and word.lower() not in UNIT_WORDS | STOP_WORDS:
            return word
    return "product"


def _format_price(product: ProductFacts) -> str | None:
    if product.price is None:
        return None
    try:
        amount = Decimal(product.price)
    except (InvalidOperation, TypeError, ValueError):
        return None
    if product.currency == "USD":
        return f"${amount:.2f}"
    return f"{amount:.2f} {product.currency}"


def _product_key(request: DraftRequest) -> tuple[Any, ...]:
    product = request.product
    return (
        product.sku,
        product.name,
        product.gtin,
        product.price,
        product.currency,
        tuple((str(k), str(v)) for k, v in product.attributes.items()),
        tuple(product.claims),
        tuple(request.brief.key_messages),
    )


def facts_for(request: DraftRequest) -> Facts:
    rules = request.rules
    key = _product_key(request)
    return product_memo.get("facts", (rules,), key, lambda: _build_facts(request))


def _build_facts(request: DraftRequest) -> Facts:
    product = request.product
    plan = rules_plan(request.rules)
    attributes = {str(k).lower(): v for k, v in product.attributes.items() if str(v).strip()}
    used: set[str] = set()

    def take(keys: Iterable[str]) -> str:
        for key in keys:
            if key in attributes and key not in used:
                used.add(key)
                return _clean(attributes[key], plan.rewrite)
        return ""

    name = _clean(product.name, plan.rewrite) or product.sku
    name_words = words(name)
    noun = (take(TYPE_KEYS) or _noun_of(name_words)).lower()

    by_topic: dict[str, Fact] = {}
    material = take(MATERIAL_KEYS)
    material_is_wax = "wax" in material.lower()
    if material:
        by_topic["material"] = Fact("material", "Wax" if material_is_wax else "Material", material)
    for topic, keys in TOPIC_KEYS.items():
        value = take(keys)
        if value:
            by_topic[topic] = Fact(topic, TOPIC_LABELS[topic], value)
    burn = take(BURN_KEYS)
    if burn:
        by_topic["burn"] = Fact(
            "burn", "Burn time", f"{burn} hours" if NUMERIC.match(burn) else burn
        )

    extras: list[Fact] = []
    for key, raw in attributes.items():
        value = "" if key in used else _clean(raw, plan.rewrite)
        if not value:
            continue
        head, _, suffix = key.rpartition("_")
        if head and suffix in UNIT_SUFFIXES and NUMERIC.match(value):
            extras.append(Fact("extra", _label(head), f"{value} {UNIT_SUFFIXES[suffix]}"))
        else:
            extras.append(Fact("extra", _label(key), value))

    usable = plan.approved.intersection(product.claims)
    claims = tuple(
        plan.rewrite(plan.claim_texts[claim_id].strip())
        for claim_id in dict.fromkeys(product.claims)  # the product's order, once each
        if claim_id in usable and claim_id in plan.claim_texts
    )

    # Only the data as given: a value the brand's terminology rewrote ("hand poured" to
    # "hand-poured") may have become claim wording the product does not make.
    # The name as written by the brand's terminology counts as the name too, or a name with
    # an avoided spelling could not be written at all.
    raw_name = product.name.strip().lower()
    name_phrases = list(dict.fromkeys([raw_name, name.lower()]))
    if len(raw_name.split()) > 2:
        name_phrases.append(" ".join(raw_name.split()[:-1]))
    values = [str(v).strip().lower() for v in product.attributes.values()]
    wording, patterns = unusable_claims(request.rules, tuple(product.claims))
    claim_screen = ClaimScreen(
        wording=wording,
        patterns=patterns,
        name_phrases=tuple(name_phrases),
        fact_phrases=tuple(sorted({*name_phrases, *values} - {""}, key=len, reverse=True)),
    )

    known_numbers = set(_numbers_in(name))
    for fact in (*by_topic.values(), *extras):
        known_numbers |= _numbers_in(fact.value)
    messages: list[str] = []
    claim_messages: list[str] = []
    for raw in request.brief.key_messages:
        text = _clean(raw, plan.rewrite)
        if not text:
            continue
        message = sentence_case(text) + "."
        if NUMBER_WORDS.search(message) or not _numbers_in(message) <= known_numbers:
            continue
        if not (plan.guard.allows(message) and claim_screen.allows(message)):
            continue
        has_claim = plan.any_claim is not None and plan.any_claim.search(message)
        (claim_messages if has_claim else messages).append(message)

    return Facts(
        brand=squash_spaces(request.rules.brand_name),
        name=name,
        noun=noun,
        plural=_plural(noun),
        by_topic=by_topic,
        extras=tuple(extras),
        claims=claims,
        messages=tuple(messages),
        claim_messages=tuple(claim_messages),
        price=_format_price(product),
        gtin=product.gtin or None,
        sku=product.sku,
        claim_screen=claim_screen,
        lightable=noun in LIGHTABLE or "wick" in by_topic,
        made_of_material=bool(material)
        and (not material_is_wax or noun in WAX_BODIES or "wick" in by_topic),
    )
