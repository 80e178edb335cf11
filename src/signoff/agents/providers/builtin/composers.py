"""One composer per ``compose`` kind: what a field says, as a ``Plan`` for fitting.

Each takes the variant's context (facts, tone, lead, rank, channel kind) and the how-many-th
field of that kind this is, and returns its pieces best first; ``compose.py`` fits them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from signoff.agents.providers.builtin.facts import Facts
from signoff.agents.providers.builtin.memo import product_memo
from signoff.agents.providers.builtin.vocabulary import (
    GENERIC_NOUNS,
    LEADS,
    LIST_SPLIT,
    STOP_WORDS,
    UNIT_WORDS,
)
from signoff.agents.providers.builtin.wording import (
    a_or_an,
    cap,
    claims_sentence,
    filler_sentences,
    lead_line,
    prose,
    sentence,
    spec_line,
)
from signoff.agents.providers.compose import Plan, words


@dataclass(frozen=True, slots=True)
class Context:
    facts: Facts
    tone: str  # factual | calm | playful
    lead: str
    rank: int  # the variant's position after revisions
    channel_kind: str

    def rotate(self, items: list[str]) -> list[str]:
        shift = self.rank % len(items) if items else 0
        return items[shift:] + items[:shift]


def _compose_title(c: Context, occurrence: int) -> Plan:
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


def _compose_short_title(c: Context, occurrence: int) -> Plan:
    f = c.facts
    size = f.value("size")
    options = [f"{f.name}, {size}" if size else f.name, f.full_name]
    return Plan("pick", [*c.rotate(options), f.name])


def _compose_bullets(c: Context, occurrence: int) -> Plan:
    f = c.facts
    facts = f.ordered(c.lead, skip=("claim",))
    # The approved claims share one bullet, third, so five bullets keep size and burn time.
    claims = claims_sentence(f.claims).rstrip(".")
    if c.tone == "factual":
        pieces = [spec_line(fact) for fact in facts]
    else:
        pieces = [sentence(fact, c.tone) for fact in facts]
        claims += "." if claims else ""
    if claims:
        pieces.insert(min(2, len(pieces)), claims)
    pieces += f.messages
    # Spec lines restate the sentences above in other words (degenerate.near_duplicate), so
    # only factual bullets (which are spec lines already) fall back on them.
    filler = [spec_line(fact) for fact in facts] if c.tone == "factual" else []
    filler += [f"Brand: {f.brand}", f"Product: {f.name}", f"Product type: {f.noun}"]
    if f.gtin:
        filler.append(f"Barcode (GTIN): {f.gtin}")
    filler.append(f"Model number: {f.sku}")
    return Plan("prose", pieces, filler)


def _naming(f: Facts, pieces: list[str]) -> list[str]:
    """The pieces, with the product named second when none names it (a key message led)."""
    if any(f.name.lower() in piece.lower() for piece in pieces):
        return pieces
    return [*pieces[:1], f"The {f.name}, by {f.brand}.", *pieces[1:]]


def _compose_description(c: Context, occurrence: int) -> Plan:
    f = c.facts
    opening, told = lead_line(f, c.lead, c.tone)
    pieces = [opening, *prose(f, f.ordered(c.lead, skip=told), c.tone)]
    pieces += [m for m in f.messages if m != opening]
    if c.channel_kind == "print":
        pieces = _naming(f, pieces[:3])[:3]  # a poster is read from across a room
    elif c.channel_kind == "email" and f.price:
        pieces.append(f"Price: {f.price}.")
    return Plan("prose", pieces, filler_sentences(f, c.tone))


def _compose_primary_text(c: Context, occurrence: int) -> Plan:
    f = c.facts
    opening, told = lead_line(f, c.lead, c.tone)
    facts = prose(f, f.ordered(c.lead, skip=told), c.tone)
    return Plan("prose", _naming(f, [opening, *facts[:2]]), facts[2:])


def _compose_caption(c: Context, occurrence: int) -> Plan:
    f = c.facts
    opening, told = lead_line(f, c.lead, c.tone)
    pieces = [opening, *prose(f, f.ordered(c.lead, skip=told), c.tone)[:4]]
    if f.lightable:
        pieces.append("Light it, and let the evening slow down.")
    # Every package names its product: a caption led by a key message says it at the close.
    named = any(f.name.lower() in piece.lower() for piece in pieces)
    pieces.append(f"From {f.brand}." if named else f"The {f.name}, from {f.brand}.")
    return Plan("prose", pieces, filler_sentences(f, c.tone))


def _short_lines(c: Context) -> list[str]:
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
    return [cap(line) for line in lines if line and line != f.noun]


def _compose_headline(c: Context, occurrence: int) -> Plan:
    lines = _short_lines(c)
    return Plan("pick", lines[occurrence:] + lines[:occurrence])


def _compose_link_description(c: Context, occurrence: int) -> Plan:
    f = c.facts
    size, vessel = f.value("size"), f.value("vessel")
    options = {
        "scent": [f"{size} {f.thing}" if size else "", f"{f.thing} by {f.brand}"],
        "ritual": [f.burn_phrase, f"{f.thing} by {f.brand}"],
        "benefit": [*f.claims[:1], f"{f.thing} by {f.brand}"],
        "material": [f"In {a_or_an(vessel)} {vessel} vessel" if vessel else "", f.thing],
    }[c.lead]
    return Plan("pick", [cap(o) for o in (*options, f.name, f.brand) if o])


def _compose_keywords(c: Context, occurrence: int) -> Plan:
    f = c.facts
    # Search terms: no brand, no repeats, no units or numbers, singular only.
    skip = {w.lower() for w in words(f.brand)} | STOP_WORDS | UNIT_WORDS | {f.plural}
    phrases = [] if f.noun in GENERIC_NOUNS else [f.noun]
    phrases += [fact.value for fact in f.ordered(c.lead, skip=("claim", "size", "burn"))]
    phrases.append(f.name)
    terms: list[str] = []
    for phrase in phrases:
        for word in words(phrase.lower()):
            if word not in skip and not word.isdigit():
                skip.add(word)
                terms.append(word)
    return Plan("words", terms, max_words=None)


def _compose_hashtags(c: Context, occurrence: int) -> Plan:
    f = c.facts
    # One tag per thing named: "sea salt and sage" tags #seasalt and #sage.
    tags = [f.thing, f.noun] if f.noun not in GENERIC_NOUNS else []
    for fact in f.ordered(c.lead, skip=("claim", "size", "burn", "material", "wick")):
        tags += [part for part in LIST_SPLIT.split(fact.value) if part]
    tags += ["home fragrance" if f.lightable else "home", "slow living"]
    compact = ("".join(w for w in words(tag.lower()) if w not in STOP_WORDS) for tag in tags)
    return Plan("prose", [f"#{t}" for t in compact if t.isalpha() and len(t) <= 30])


def _compose_subject(c: Context, occurrence: int) -> Plan:
    f = c.facts
    scent, material = f.value("scent"), f.value("material")
    options = {
        "scent": [f"{cap(scent)}, by {f.brand}" if scent else "", f"Meet the {f.name}"],
        "ritual": [f"An evening with the {f.name}" if f.lightable else "", f"Meet the {f.name}"],
        "benefit": [f"{cap(f.claims[0])}, by {f.brand}" if f.claims else "", f.name],
        # "Made with soy wax: the Ember and Oak Candle" only when the material makes the whole
        # product; "the set, in set" or "in soy wax candle" after the name reads badly.
        "material": [
            f"Made with {material}: the {f.name}" if f.made_of_material and material else "",
            f.name,
        ],
    }[c.lead]
    return Plan("pick", [o for o in (*options, f"Meet the {f.name}", f.name) if o])


def _compose_preheader(c: Context, occurrence: int) -> Plan:
    f = c.facts
    return Plan("prose", prose(f, f.ordered(c.lead), c.tone), filler_sentences(f, c.tone))


def _compose_cta(c: Context, occurrence: int) -> Plan:
    f = c.facts
    options = [
        "Shop now",
        f"Shop the {f.noun}",
        "See the details",
        "Find your scent" if f.value("scent") else "Discover more",
    ]
    return Plan("pick", [*c.rotate(options), "Shop"])


def _compose_tagline(c: Context, occurrence: int) -> Plan:
    f = c.facts
    scent = f.value("scent")
    options = {
        "scent": [f"{cap(scent)}, at home" if scent else ""],
        "ritual": [f.messages[0].rstrip(".") if f.messages else ""],
        "benefit": [cap(f.claims[0]) if f.claims else ""],
        "material": [cap(f.thing)],
    }[c.lead]
    return Plan("pick", [o for o in (*options, f.name, f.brand) if o])


def _compose_path(c: Context, occurrence: int) -> Plan:
    f = c.facts
    # Display-URL segments read like a breadcrumb: the category, then the product's own words;
    # each variant starts one step further along.
    product = [w.lower() for w in words(f.name) if w.lower() not in {f.noun, *STOP_WORDS}]
    product += [w.lower() for w in words(f.value("scent")) if w.lower() not in STOP_WORDS]
    # A bare number ("5" of "Meadow Candle 5") says nothing as a path segment.
    options = [o for o in dict.fromkeys([f.plural, *product]) if o.isalnum() and not o.isdigit()]
    start = (c.rank + occurrence) % len(options) if options else 0
    return Plan("pick", [*options[start:], *options[:start], f.noun])


def _compose_item_specifics(c: Context, occurrence: int) -> Plan:
    f = c.facts
    items = [f"Brand: {f.brand}", f"Type: {cap(f.noun)}"]
    items += [spec_line(fact) for fact in f.ordered(c.lead, skip=("claim",))]
    if f.gtin:
        items.append(f"GTIN: {f.gtin}")
    items.append(f"Model: {f.sku}")
    return Plan("prose", items, [f"Product: {f.name}"])


_COMPOSERS: dict[str, Callable[[Context, int], Plan]] = {
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
SENTENCE_COMPOSERS = frozenset({"description", "body", "primary_text", "caption", "preheader"})


def plan_for(compose: str, context: Context, occurrence: int) -> Plan:
    key = (compose, context.tone, context.lead, context.rank, context.channel_kind, occurrence)
    return product_memo.get(
        "plan", (context.facts,), key, lambda: _interned(context, compose, occurrence)
    )


def _interned(context: Context, compose: str, occurrence: int) -> Plan:
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
    return product_memo.get("interned", (context.facts,), content, lambda: plan)
