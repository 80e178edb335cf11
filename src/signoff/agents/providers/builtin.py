"""The builtin provider: deterministic, spec-valid copy composed from the brief's facts.

The offline default, not a placeholder. No model, no randomness, no network: the same request
always gives the same fields. It says only what the data says: the product's attributes as
given, the wording of claims that are approved *and* claimed for this product, and key
messages whose every claim is usable and whose every number is in the product data. Every
field the channel declares is written; ``compose.py`` fits each one to its limits.

Variants differ on purpose: each letter takes a different lead (scent, ritual, benefit,
material), a different order of facts and different short lines. A rejected package's notes
move the lead on too, so a redraft never repeats the copy that was rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from signoff.agents.context import BrandRules, ClaimStatus, FieldValue, ProductFacts
from signoff.agents.providers.compose import (
    ClaimScreen,
    CopyGuard,
    PhraseIndex,
    Plan,
    Screen,
    char_budget,
    compile_any,
    fit_items,
    fit_text,
    group_sentences,
    normalized,
    phrase_pattern,
    scoped_pattern,
    sentence_case,
    squash_spaces,
    title_case,
    words,
)
from signoff.agents.providers.port import DraftRequest, DraftResult
from signoff.channels.spec import ChannelSpec, FieldSpec

MODEL = "composer-1"
TEMPLATE_VERSION = 1
LEADS = ("scent", "ritual", "benefit", "material")

# The order facts are told in, per lead: each variant reads differently from the first line.
_ORDER = {
    "scent": ("scent", "size", "material", "burn", "vessel", "wick", "color", "extra", "claim"),
    "ritual": ("burn", "vessel", "scent", "size", "material", "wick", "color", "claim", "extra"),
    "benefit": ("claim", "material", "scent", "size", "burn", "vessel", "wick", "color", "extra"),
    "material": ("material", "vessel", "wick", "scent", "size", "burn", "color", "extra", "claim"),
}
# Channel tones map onto the three ways the composer writes.
_TONE_STYLES = {"factual": "factual", "direct": "factual", "playful": "playful", "bold": "playful"}

# Attribute keys with a known meaning; any other key is quoted as "Label: value".
_TYPE_KEYS = ("product_type", "type", "category")
_MATERIAL_KEYS = ("wax", "material")
_TOPIC_KEYS = {
    "scent": ("scent", "fragrance"),
    "size": ("size", "net_weight", "volume"),
    "wick": ("wick",),
    "vessel": ("vessel", "container"),
    "color": ("color", "colour"),
}
_BURN_KEYS = ("burn_time_hours", "burn_time")
_TOPIC_LABELS = {
    "scent": "Scent",
    "size": "Size",
    "wick": "Wick",
    "vessel": "Vessel",
    "color": "Color",
}
# A numeric attribute whose key ends in a unit ("weight_g": "340") reads "340 g".
_UNIT_SUFFIXES = {
    "hours": "hours",
    "hrs": "hours",
    "minutes": "minutes",
    "days": "days",
    "g": "g",
    "kg": "kg",
    "ml": "ml",
    "oz": "oz",
    "lb": "lb",
    "cm": "cm",
    "mm": "mm",
    "count": "count",
}
_NUMERIC = re.compile(r"^\d+(?:\.\d+)?$")
# Number words state a quantity the product data may not hold ("Six spring scents").
_NUMBER_WORDS = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|dozen|half|single|double|"
    r"triple|twice|first)\b",
    re.IGNORECASE,
)
_LIST_SPLIT = re.compile(r"\s*(?:,|&|\band\b|\bwith\b)\s*", re.IGNORECASE)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
# Pictographs, markup and links never come through from product data.
_EMOJI_AND_MARKUP = re.compile(
    "[<>\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\u3030\u303d\U0001f000-\U0001faff"
    "\ufe0f\u200d]|https?://\\S+|www\\.\\S+"
)
# What the spec check reads as a link or an e-mail address (a domain-like word is enough).
_URLISH = re.compile(
    r"(?i)\b(?:https?://|www\.)"
    r"|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co|shop|store|us|uk|biz|info)\b"
)
_LIGHTABLE = frozenset({"candle", "votive", "tealight", "taper"})
# Wax describes the whole product only for these ("soy wax candle", not "soy wax set").
_WAX_BODIES = _LIGHTABLE | {"melt", "melts", "tart", "tarts", "pillar"}
# Too generic to search for or tag on their own.
_GENERIC_NOUNS = frozenset({"set", "kit", "pack", "bundle", "box", "product", "item"})
_STOP_WORDS = frozenset(
    "a an and are as at be by for from in into is it of on or so the to with".split()
)
_UNIT_WORDS = frozenset("oz fl ml l g kg lb lbs cm mm in hour hours count".split())

# How many items a list field gets when its spec leaves room for more.
_LIST_TARGETS = {"bullets": 5, "hashtags": 5, "headline": 10, "item_specifics": 12}


# ---------------------------------------------------------------- facts

_Entry = tuple[tuple[str, ...], re.Pattern[str]]


def _banned_entry(phrase: str) -> _Entry:
    return PhraseIndex.entry(phrase, phrase_pattern(phrase), re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Fact:
    topic: str  # scent, size, material, burn, wick, vessel, color, extra, claim
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class _Facts:
    """Everything true the composer may say about one product for one brand."""

    brand: str
    name: str
    noun: str  # "candle"
    plural: str  # "candles"
    by_topic: dict[str, _Fact]
    extras: tuple[_Fact, ...]
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

    def ordered(self, lead: str, skip: Iterable[str] = ()) -> list[_Fact]:
        skipped = set(skip)
        out: list[_Fact] = []
        for topic in _ORDER[lead]:
            if topic in skipped:
                continue
            if topic == "extra":
                out.extend(self.extras)
            elif topic == "claim":
                out.extend(_Fact("claim", "", text) for text in self.claims)
            elif topic in self.by_topic:
                out.append(self.by_topic[topic])
        return out

    @property
    def burn_phrase(self) -> str:
        """ "50-hour burn time" when the data gives hours as a number."""
        hours = self.value("burn").removesuffix(" hours")
        if _NUMERIC.match(hours):
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


@dataclass(frozen=True, slots=True)
class _RulesPlan:
    """What one brand's rules let the composer say, compiled once per rules object."""

    rewrite: Callable[[str], str]  # avoided terminology -> the brand's form
    refused: tuple[_Entry, ...]  # banned phrases and avoided terms
    claim_wording: dict[str, str]  # claim id -> regex for its id and registry text
    claim_patterns: dict[str, str]  # claim id -> its registry pattern, scoped for alternation
    any_claim: re.Pattern[str] | None
    approved: frozenset[str]
    claim_texts: dict[str, str]
    guard: CopyGuard  # the brand's own rules, for key messages


def _compile_rules(rules: BrandRules) -> _RulesPlan:
    replacements: dict[str, str] = {}
    exact: list[str] = []
    loose: list[str] = []
    refused: list[_Entry] = []
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

    refused.extend(_banned_entry(b.phrase) for b in rules.banned)
    # Claims are detected the way the claims scanner does: by id, by wording, by pattern.
    wording: dict[str, str] = {}
    patterns: dict[str, str] = {}
    for claim in rules.claims:
        phrases = [claim.id, *([claim.text] if claim.text else [])]
        wording[claim.id] = "|".join(f"(?i:{phrase_pattern(p)})" for p in phrases)
        if claim.pattern:
            patterns[claim.id] = scoped_pattern(claim.pattern)
    return _RulesPlan(
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


class _Memo:
    """Memoise by the identity of the objects a value was built from, keeping them alive.

    Specs and rules are frozen but hold lists and mappings, so hashing them is slow or
    impossible; a run drafts thousands of packages against the same few objects.
    """

    def __init__(self, max_size: int = 512) -> None:
        self._entries: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}
        self._max_size = max_size

    def get(self, kind: str, objects: tuple[Any, ...], extra: Any, build: Callable[[], Any]) -> Any:
        key = (kind, *map(id, objects), extra)
        hit = self._entries.get(key)
        if hit is not None:
            # A plain loop: this runs several times per field drafted, and a generator in
            # all() costs more than the lookup itself.
            for kept, given in zip(hit[0], objects, strict=True):
                if kept is not given:
                    break
            else:
                return hit[1]
        value = build()
        if len(self._entries) >= self._max_size:
            self._entries.clear()
        self._entries[key] = (objects, value)
        return value


# Compiled rules and guards live long; facts and plans come and go with the products of a run,
# so they get their own, larger memo and never push the compiled ones out.
_memo = _Memo(max_size=256)
_product_memo = _Memo(max_size=4096)
# Filled fields, by plan, guard, claim screen and spec content; a run drafts SKU by SKU, so
# entries are needed only while one SKU's channels are drafted.
_fill_memo = _Memo(max_size=4096)


def _rules_plan(rules: BrandRules) -> _RulesPlan:
    return _memo.get("rules", (rules,), None, lambda: _compile_rules(rules))


def _unusable_claims(
    rules: BrandRules, product_claims: tuple[str, ...]
) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """Wording and patterns of every claim this product may not make: unapproved, or not its own."""

    def build() -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        plan = _rules_plan(rules)
        usable = plan.approved.intersection(product_claims)
        wording = compile_any(p for cid, p in plan.claim_wording.items() if cid not in usable)
        patterns = compile_any(p for cid, p in plan.claim_patterns.items() if cid not in usable)
        return wording, patterns

    return _memo.get("claims", (rules,), product_claims, build)


class _ContentKey:
    """A hashable content key that hashes once: nested tuples are rehashed on every lookup."""

    __slots__ = ("_content", "_hash")

    def __init__(self, content: Hashable) -> None:
        self._content = content
        self._hash = hash(content)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, _ContentKey)
            and self._hash == other._hash
            and self._content == other._content
        )


def _freeze(value: Any) -> Hashable:
    if isinstance(value, dict):
        return tuple((key, _freeze(item)) for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return (type(value).__name__, *map(_freeze, value))
    return (type(value).__name__, value)  # 1, 1.0 and True are equal keys, not equal specs


def _field_setup(channel: ChannelSpec, rules: BrandRules) -> dict[str, tuple[CopyGuard, Hashable]]:
    """Each field's guard and a hashable form of its whole spec, once per channel and rules.

    Channels often declare fields with the same spec (a second storefront, the same feed
    format): the spec's content, not its identity, says whether a field's copy can be reused.
    """

    def build() -> dict[str, tuple[CopyGuard, Hashable]]:
        guards = _guards(channel, rules)
        return {
            name: (guards[name], _ContentKey(_freeze(spec.model_dump(mode="python"))))
            for name, spec in channel.fields.items()
        }

    return _memo.get("setup", (channel, rules), None, build)


def _guards(channel: ChannelSpec, rules: BrandRules) -> dict[str, CopyGuard]:
    """One guard per field; fields with the same rules share one, and so its memo."""
    plan = _rules_plan(rules)
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
        guards[name] = _memo.get("guard", (rules,), config, lambda c=config: _guard(plan, c))
    return guards


def _guard(plan: _RulesPlan, config: tuple[tuple[str, ...], frozenset[str], bool]) -> CopyGuard:
    phrases, banned_chars, allow_urls = config
    entries = [*plan.refused, *(_banned_entry(phrase) for phrase in phrases)]
    if not allow_urls:
        entries.append(((), _URLISH))
    return CopyGuard(
        refused=PhraseIndex(entries),
        banned_chars=banned_chars,
        max_sentence_words=plan.guard.max_sentence_words,
    )


def _clean(value: object, rewrite: Callable[[str], str]) -> str:
    text = squash_spaces(_EMOJI_AND_MARKUP.sub(" ", str(value)).replace("!", ""))
    return rewrite(text).strip(" ,;:.")


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _numbers_in(text: str) -> set[str]:
    return {n.replace(",", ".") for n in _DIGITS.findall(text)}


def _plural(noun: str) -> str:
    if noun.endswith("s"):
        return noun
    return noun + ("es" if noun.endswith(("sh", "ch", "x")) else "s")


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


def _facts_for(request: DraftRequest) -> _Facts:
    rules = request.rules
    key = _product_key(request)
    return _product_memo.get("facts", (rules,), key, lambda: _build_facts(request))


def _build_facts(request: DraftRequest) -> _Facts:
    product = request.product
    plan = _rules_plan(request.rules)
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
    noun = (take(_TYPE_KEYS) or (name_words[-1] if name_words else "product")).lower()

    by_topic: dict[str, _Fact] = {}
    material = take(_MATERIAL_KEYS)
    material_is_wax = "wax" in material.lower()
    if material:
        by_topic["material"] = _Fact("material", "Wax" if material_is_wax else "Material", material)
    for topic, keys in _TOPIC_KEYS.items():
        value = take(keys)
        if value:
            by_topic[topic] = _Fact(topic, _TOPIC_LABELS[topic], value)
    burn = take(_BURN_KEYS)
    if burn:
        by_topic["burn"] = _Fact(
            "burn", "Burn time", f"{burn} hours" if _NUMERIC.match(burn) else burn
        )

    extras: list[_Fact] = []
    for key, raw in attributes.items():
        value = "" if key in used else _clean(raw, plan.rewrite)
        if not value:
            continue
        head, _, suffix = key.rpartition("_")
        if head and suffix in _UNIT_SUFFIXES and _NUMERIC.match(value):
            extras.append(_Fact("extra", _label(head), f"{value} {_UNIT_SUFFIXES[suffix]}"))
        else:
            extras.append(_Fact("extra", _label(key), value))

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
    wording, patterns = _unusable_claims(request.rules, tuple(product.claims))
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
        if _NUMBER_WORDS.search(message) or not _numbers_in(message) <= known_numbers:
            continue
        if not (plan.guard.allows(message) and claim_screen.allows(message)):
            continue
        has_claim = plan.any_claim is not None and plan.any_claim.search(message)
        (claim_messages if has_claim else messages).append(message)

    return _Facts(
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
        lightable=noun in _LIGHTABLE or "wick" in by_topic,
        made_of_material=bool(material)
        and (not material_is_wax or noun in _WAX_BODIES or "wick" in by_topic),
    )


# ---------------------------------------------------------------- wording


def _a(phrase: str) -> str:
    """The indefinite article: "an 8 oz", "a soy wax", "an amber"."""
    head = phrase.lower()
    if head[:1] in "aeiou" or head.startswith(("8", "11", "18")):
        return "an"
    return "a"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _claims_sentence(claims: Iterable[str]) -> str:
    listed = list(claims)
    if not listed:
        return ""
    # Listed, not joined with "and": "phthalate-free fragrance and hand-poured in Vermont"
    # would read as if the fragrance were hand-poured.
    return f"{_cap(', '.join(listed))}."


def _sentence(fact: _Fact, tone: str) -> str:
    value = fact.value
    if fact.topic == "claim":
        return f"{_cap(value)}."
    if tone == "factual" or fact.topic == "extra":
        return f"{fact.label}: {value}."
    playful = tone == "playful"
    article = _a(value)
    if fact.topic == "scent":
        return f"{_cap(value)}, front and center." if playful else f"Scented with {value}."
    if fact.topic == "size":
        return f"All {value} of it." if playful else f"Sized at {value}."
    if fact.topic == "material":
        return f"Made with {value}."
    if fact.topic == "burn":
        return f"{_cap(value)} of burn time." if playful else f"The burn time is {value}."
    if fact.topic == "wick":
        return f"It burns on {article} {value} wick."
    if fact.topic == "vessel":
        verb = "lives" if playful else "comes"
        return f"It {verb} in {article} {value} vessel."
    if fact.topic == "color":
        return f"Dressed in {value}." if playful else f"The color is {value}."
    return f"{fact.label}: {value}."


def _spec_line(fact: _Fact) -> str:
    return _cap(fact.value) if fact.topic == "claim" else f"{fact.label}: {fact.value}"


def _prose(f: _Facts, facts: Iterable[_Fact], tone: str) -> list[str]:
    """Fact sentences, with the product's claims told together in one sentence."""
    out: list[str] = []
    told_claims = False
    for fact in facts:
        if fact.topic != "claim":
            out.append(_sentence(fact, tone))
        elif not told_claims:
            out.append(_claims_sentence(f.claims))
            told_claims = True
    return out


def _lead(f: _Facts, lead: str, tone: str) -> tuple[str, tuple[str, ...]]:
    """The opening line for ``lead`` and the topics it already told."""
    scent, vessel = f.value("scent"), f.value("vessel")
    # "a soy wax candle" says something; "a set" after "Gift Set" does not.
    described = f.thing != f.noun
    a_thing = f"{_a(f.thing)} {f.thing}"
    material = ("material",) if described else ()
    if lead == "benefit" and f.claims:
        if f.claim_messages and tone != "factual":
            return f.claim_messages[0], ("claim",)
        return f"{_claims_sentence(f.claims)[:-1]}: the {f.name} by {f.brand}.", ("claim",)
    if lead == "ritual":
        if f.messages:
            return f.messages[0], ()
        if tone == "factual":
            return f"{f.full_name}: {a_thing if described else f.noun} for the home.", material
        if tone == "playful":
            return (f"Evening plans: the {f.name}." if f.lightable else f"Meet the {f.name}."), ()
        if f.lightable:
            return f"A quiet end to the day, with the {f.name}.", ()
        return f"The {f.name}, for every day at home.", ()
    if lead in ("material", "benefit"):
        in_vessel = f" in {_a(vessel)} {vessel} vessel" if vessel else ""
        told = (*material, "vessel")
        if tone == "factual":
            return f"{f.full_name}: {a_thing if described else f.noun}{in_vessel}.", told
        if described:
            return f"{_cap(a_thing)}{in_vessel}, by {f.brand}.", told
        return f"The {f.name}{in_vessel}, by {f.brand}.", told
    told = (*material, "scent") if scent else material
    with_scent = f" with {scent} scent" if scent else ""
    if tone == "factual":
        if described:
            return f"The {f.full_name} is {a_thing}{with_scent}.", told
        return f"The {f.full_name}{',' if scent else ''}{with_scent}.", told
    if tone == "playful":
        if scent and described:
            return f"Meet the {f.name}: {scent} in {a_thing}.", told
        if scent:
            return f"Meet the {f.name}: {scent}.", told
        return f"Meet the {f.name}{', ' + a_thing if described else ''}.", told
    if scent and described:
        return f"{_cap(scent)}, in {a_thing} by {f.brand}.", told
    if scent:
        return f"{_cap(scent)}, from the {f.name} by {f.brand}.", told
    return f"The {f.name}{', ' + a_thing if described else ''} by {f.brand}.", told


def _filler(f: _Facts, tone: str) -> list[str]:
    """More true sentences for fields with a minimum length: the facts said the other way."""
    other = "calm" if tone == "factual" else "factual"
    out = _prose(f, f.ordered("scent"), other)
    out += [*f.messages, *f.claim_messages]
    out += [f"The {f.name} is made by {f.brand}.", f"Product type: {f.noun}."]
    if f.gtin:
        out.append(f"Barcode (GTIN): {f.gtin}.")
    out.append(f"Model: {f.sku}.")
    return out


# ---------------------------------------------------------------- composers


@dataclass(frozen=True, slots=True)
class _Context:
    facts: _Facts
    tone: str  # factual | calm | playful
    lead: str
    rank: int  # the variant's position after revisions
    channel_kind: str

    def rotate(self, items: list[str]) -> list[str]:
        shift = self.rank % len(items) if items else 0
        return items[shift:] + items[:shift]


def _compose_title(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    # Brand, product type, scent, size: the order the brief's acceptance criteria ask for.
    head = f.name_with_material
    if f.full_name != f.name:
        head = f"{f.brand} {head}"
    tails: list[str] = []
    scent = f.value("scent")
    if scent:
        forms = {"scent": scent, "ritual": f"{scent} scent", "benefit": f"{scent} fragrance"}
        tails.append(forms.get(c.lead, f"scented with {scent}"))
    if f.value("size"):
        tails.append(f.value("size"))
    extra = {
        "scent": ("burn", "vessel", "wick", "color"),
        "ritual": ("vessel", "burn", "color", "wick"),
        "benefit": ("claim", "burn", "vessel", "color"),
        "material": ("vessel", "wick", "color", "burn"),
    }[c.lead]
    for topic in extra:
        if topic == "claim":
            tails.extend(f.claims[:1])
        elif topic == "burn":
            tails.append(f.burn_phrase)
        elif topic in f.by_topic:
            tails.append(f"{f.value(topic)} {f.by_topic[topic].label.lower()}")
    return Plan("segments", [head, *(t for t in tails if t)], filler=[f.name], separator=", ")


def _compose_short_title(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    size = f.value("size")
    options = [f"{f.name}, {size}" if size else f.name, f.full_name]
    return Plan("pick", [*c.rotate(options), f.name])


def _compose_bullets(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    facts = f.ordered(c.lead, skip=("claim",))
    # The approved claims share one bullet, third, so five bullets keep size and burn time.
    claims = _claims_sentence(f.claims).rstrip(".")
    if c.tone == "factual":
        pieces = [_spec_line(fact) for fact in facts]
    else:
        pieces = [_sentence(fact, c.tone) for fact in facts]
        claims += "." if claims else ""
    if claims:
        pieces.insert(min(2, len(pieces)), claims)
    pieces += f.messages
    filler = [_spec_line(fact) for fact in facts]
    filler += [f"Brand: {f.brand}", f"Product: {f.name}", f"Product type: {f.noun}"]
    if f.gtin:
        filler.append(f"Barcode (GTIN): {f.gtin}")
    filler.append(f"Model number: {f.sku}")
    return Plan("prose", pieces, filler)


def _compose_description(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    opening, told = _lead(f, c.lead, c.tone)
    pieces = [opening, *_prose(f, f.ordered(c.lead, skip=told), c.tone)]
    pieces += [m for m in f.messages if m != opening]
    if c.channel_kind == "print":
        pieces = pieces[:3]  # a poster is read from across a room
    elif c.channel_kind == "email" and f.price:
        pieces.append(f"Price: {f.price}.")
    return Plan("prose", pieces, _filler(f, c.tone))


def _compose_primary_text(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    opening, told = _lead(f, c.lead, c.tone)
    facts = _prose(f, f.ordered(c.lead, skip=told), c.tone)
    return Plan("prose", [opening, *facts[:2]], facts[2:])


def _compose_caption(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    opening, told = _lead(f, c.lead, c.tone)
    pieces = [opening, *_prose(f, f.ordered(c.lead, skip=told), c.tone)[:4]]
    if f.lightable:
        pieces.append("Light it, and let the evening slow down.")
    pieces.append(f"From {f.brand}.")
    return Plan("prose", pieces, _filler(f, c.tone))


def _short_lines(c: _Context) -> list[str]:
    """Headline-length lines, the variant's lead first."""
    f = c.facts
    size, scent, vessel = f.value("size"), f.value("scent"), f.value("vessel")
    by_lead = {
        "scent": [f.name, f"{scent} scent" if scent else "", f"{size} {f.thing}" if size else ""],
        "ritual": [f"{f.name} by {f.brand}", f.burn_phrase, f.name],
        "benefit": [*f.claims[:2], f.name, f"{f.brand} {f.plural}"],
        "material": [f.thing, f"{vessel} vessel" if vessel else "", f.name],
    }
    lines = list(by_lead[c.lead])
    for lead in LEADS:
        if lead != c.lead:
            lines += by_lead[lead]
    lines += [f.brand, f"{f.brand} {f.plural}", f"Shop {f.brand}", f"Shop {f.plural}"]
    lines += [f"{fact.value} {fact.label.lower()}" for fact in f.extras]
    return [_cap(line) for line in lines if line and line != f.noun]


def _compose_headline(c: _Context, occurrence: int) -> Plan:
    lines = _short_lines(c)
    return Plan("pick", lines[occurrence:] + lines[:occurrence])


def _compose_link_description(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    size, vessel = f.value("size"), f.value("vessel")
    options = {
        "scent": [f"{size} {f.thing}" if size else "", f"{f.thing} by {f.brand}"],
        "ritual": [f.burn_phrase, f"{f.thing} by {f.brand}"],
        "benefit": [*f.claims[:1], f"{f.thing} by {f.brand}"],
        "material": [f"In {_a(vessel)} {vessel} vessel" if vessel else "", f.thing],
    }[c.lead]
    return Plan("pick", [_cap(o) for o in (*options, f.name, f.brand) if o])


def _compose_keywords(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    # Search terms: no brand, no repeats, no units or numbers, singular only.
    skip = {w.lower() for w in words(f.brand)} | _STOP_WORDS | _UNIT_WORDS | {f.plural}
    phrases = [] if f.noun in _GENERIC_NOUNS else [f.noun]
    phrases += [fact.value for fact in f.ordered(c.lead, skip=("claim", "size", "burn"))]
    phrases.append(f.name)
    terms: list[str] = []
    for phrase in phrases:
        for word in words(phrase.lower()):
            if word not in skip and not word.isdigit():
                skip.add(word)
                terms.append(word)
    return Plan("words", terms, max_words=None)


def _compose_hashtags(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    # One tag per thing named: "sea salt and sage" tags #seasalt and #sage.
    tags = [f.thing, f.noun] if f.noun not in _GENERIC_NOUNS else []
    for fact in f.ordered(c.lead, skip=("claim", "size", "burn", "material", "wick")):
        tags += [part for part in _LIST_SPLIT.split(fact.value) if part]
    tags += ["home fragrance" if f.lightable else "home", "slow living"]
    compact = ("".join(w for w in words(tag.lower()) if w not in _STOP_WORDS) for tag in tags)
    return Plan("prose", [f"#{t}" for t in compact if t.isalpha() and len(t) <= 30])


def _compose_subject(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    scent = f.value("scent")
    options = {
        "scent": [f"{_cap(scent)}, by {f.brand}" if scent else "", f"Meet the {f.name}"],
        "ritual": [f"An evening with the {f.name}" if f.lightable else "", f"Meet the {f.name}"],
        "benefit": [f"{_cap(f.claims[0])}, by {f.brand}" if f.claims else "", f.name],
        "material": [f"The {f.name}, in {f.thing}", f.name],
    }[c.lead]
    return Plan("pick", [o for o in (*options, f"Meet the {f.name}", f.name) if o])


def _compose_preheader(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    return Plan("prose", _prose(f, f.ordered(c.lead), c.tone), _filler(f, c.tone))


def _compose_cta(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    options = [
        "Shop now",
        f"Shop the {f.noun}",
        "See the details",
        "Find your scent" if f.value("scent") else "Discover more",
    ]
    return Plan("pick", [*c.rotate(options), "Shop"])


def _compose_tagline(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    scent = f.value("scent")
    options = {
        "scent": [f"{_cap(scent)}, at home" if scent else ""],
        "ritual": [f.messages[0].rstrip(".") if f.messages else ""],
        "benefit": [_cap(f.claims[0]) if f.claims else ""],
        "material": [_cap(f.thing)],
    }[c.lead]
    return Plan("pick", [o for o in (*options, f.name, f.brand) if o])


def _compose_path(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    # Display-URL segments read like a breadcrumb: the category, then the product's own words;
    # each variant starts one step further along.
    product = [w.lower() for w in words(f.name) if w.lower() not in {f.noun, *_STOP_WORDS}]
    product += [w.lower() for w in words(f.value("scent")) if w.lower() not in _STOP_WORDS]
    options = [o for o in dict.fromkeys([f.plural, *product]) if o.isalnum()]
    start = (c.rank + occurrence) % len(options) if options else 0
    return Plan("pick", [*options[start:], *options[:start], f.noun])


def _compose_item_specifics(c: _Context, occurrence: int) -> Plan:
    f = c.facts
    items = [f"Brand: {f.brand}", f"Type: {_cap(f.noun)}"]
    items += [_spec_line(fact) for fact in f.ordered(c.lead, skip=("claim",))]
    if f.gtin:
        items.append(f"GTIN: {f.gtin}")
    items.append(f"Model: {f.sku}")
    return Plan("prose", items, [f"Product: {f.name}"])


_COMPOSERS: dict[str, Callable[[_Context, int], Plan]] = {
    "title": _compose_title,
    "short_title": _compose_short_title,
    "bullets": _compose_bullets,
    "description": _compose_description,
    "body": _compose_description,
    "keywords": _compose_keywords,
    "headline": _compose_headline,
    "primary_text": _compose_primary_text,
    "link_description": _compose_link_description,
    "caption": _compose_caption,
    "hashtags": _compose_hashtags,
    "subject": _compose_subject,
    "preheader": _compose_preheader,
    "cta": _compose_cta,
    "tagline": _compose_tagline,
    "path": _compose_path,
    "item_specifics": _compose_item_specifics,
}
# Composers whose pieces are sentences: as a list field, sentences are grouped into items.
_SENTENCE_COMPOSERS = frozenset({"description", "body", "primary_text", "caption", "preheader"})


def _list_target(compose: str, spec: FieldSpec, available: int) -> int:
    want = _LIST_TARGETS.get(compose, available or 1)
    want = max(want, spec.min_items or 0)
    return min(want, spec.max_items) if spec.max_items else want


# Product titles read as titles wherever the channel leaves casing open, and stay short
# enough to scan where it sets no recommended length.
_TITLE_CASINGS = frozenset({"any", "no_all_caps", "title"})
_TITLE_SOFT_MAX = 100


def _fill_field(
    plan: Plan, spec: FieldSpec, screen: Screen, max_words: int | None, taken: set[str]
) -> FieldValue:
    if spec.kind == "list":
        if spec.compose in _SENTENCE_COMPOSERS:
            allowed = [p for p in plan.pieces if screen.allows(p)]
            plan = Plan("prose", group_sentences(allowed, spec), group_sentences(plan.filler, spec))
        target = _list_target(spec.compose, spec, len(plan.pieces))
        return fit_items(plan, spec, screen, target)
    if plan.mode == "words" and max_words:
        plan = replace(plan, max_words=max_words)
    casing, budget = None, None
    if spec.compose == "title" and spec.casing in _TITLE_CASINGS:
        casing = "title"
        limit = char_budget(spec)
        budget = _TITLE_SOFT_MAX if limit is None else min(limit, _TITLE_SOFT_MAX)
    return fit_text(plan, spec, screen, casing=casing, budget=budget, taken=taken)


def _filled(
    plan: Plan,
    spec: FieldSpec,
    spec_key: Hashable,
    guard: CopyGuard,
    facts: _Facts,
    max_words: int | None,
    taken: set[str],
) -> FieldValue:
    """Return ``_fill_field``'s value, memoised across the channels of a product.

    A field's copy depends only on the plan, the spec's content, the guard, the product's claim
    screen and (where a text field picks one alternative) the texts already taken; a SKU's
    channels often share all of them.
    """
    picks = plan.mode == "pick" and spec.kind != "list"

    def build() -> str | tuple[str, ...]:
        value = _fill_field(plan, spec, _screen(guard, facts), max_words, taken)
        return value if isinstance(value, str) else tuple(value)

    value = _fill_memo.get(
        "fill",
        (plan, guard, facts.claim_screen),
        (spec_key, max_words, frozenset(taken) if picks else None),
        build,
    )
    return list(value) if isinstance(value, tuple) else value  # each draft gets its own list


def _screen(guard: CopyGuard, facts: _Facts) -> Screen:
    # One per guard and product, so its verdicts serve every channel of the product.
    return _product_memo.get(
        "screen", (guard, facts.claim_screen), None, lambda: Screen(guard, facts.claim_screen)
    )


def _plan_for(compose: str, context: _Context, occurrence: int) -> Plan:
    key = (compose, context.tone, context.lead, context.rank, context.channel_kind, occurrence)
    return _product_memo.get(
        "plan", (context.facts,), key, lambda: _interned(context, compose, occurrence)
    )


def _interned(context: _Context, compose: str, occurrence: int) -> Plan:
    """Build the plan, returning an earlier one with the same content if there is one.

    Most composers read only some of the context (a title ignores the tone), so different
    contexts often give equal plans; one object for them lets filled fields be reused.
    """
    plan = _COMPOSERS[compose](context, occurrence)
    content = (
        plan.mode,
        tuple(plan.pieces),
        tuple(plan.filler),
        plan.separator,
        plan.max_words,
    )
    return _product_memo.get("interned", (context.facts,), content, lambda: plan)


# ---------------------------------------------------------------- provider


def _variant_rank(request: DraftRequest) -> int:
    index = request.variant_index
    letter = (request.variant or "A")[:1].upper()
    if not index and "A" < letter <= "Z":
        index = ord(letter) - ord("A")
    return index + len(request.brief.notes)


class BuiltinProvider:
    """Deterministic composer: every declared field, from the brief's facts, within spec."""

    name = "builtin"
    model = MODEL
    spec_valid = True  # composes within every limit by construction: nothing to refit
    computes_locally = True  # pure CPU work in this process: a run may spread it over cores

    def draft(self, request: DraftRequest) -> DraftResult:
        channel, rules = request.channel, request.rules
        facts = _facts_for(request)
        setup = _field_setup(channel, rules)
        max_words = rules.max_sentence_words
        rank = _variant_rank(request)
        tone = rules.tone_for(channel.id, channel.tone)
        context = _Context(
            facts=facts,
            tone=_TONE_STYLES.get(tone, "calm"),
            lead=LEADS[rank % len(LEADS)],
            rank=rank,
            channel_kind=channel.kind,
        )
        fields: dict[str, FieldValue] = {}
        occurrences: dict[str, int] = {}
        taken: set[str] = set()
        for field_name, spec in channel.fields.items():
            occurrence = occurrences.get(spec.compose, 0)
            occurrences[spec.compose] = occurrence + 1
            plan = _plan_for(spec.compose, context, occurrence)
            guard, spec_key = setup[field_name]
            value = _filled(plan, spec, spec_key, guard, facts, max_words, taken)
            fields[field_name] = value
            if isinstance(value, str):
                taken.add(value)
        return DraftResult(
            fields=fields,
            provider=self.name,
            model=MODEL,
            prompt=f"builtin/{channel.id}/variant-{request.variant}@{TEMPLATE_VERSION}",
            parameters={
                "variant": request.variant,
                "variant_index": request.variant_index,
                "tone": tone,
                "lead": context.lead,
                "revision": len(request.brief.notes),
                "market": request.market,
            },
        )
