"""Sentences from facts: the opening line per lead, fact sentences per tone, and filler."""

from __future__ import annotations

from collections.abc import Iterable

from signoff.agents.providers.builtin.facts import Fact, Facts


def a_or_an(phrase: str) -> str:
    """The indefinite article: "an 8 oz", "a soy wax", "an amber"."""
    head = phrase.lower()
    if head[:1] in "aeiou" or head.startswith(("8", "11", "18")):
        return "an"
    return "a"


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def claims_sentence(claims: Iterable[str]) -> str:
    listed = list(claims)
    if not listed:
        return ""
    # Listed, not joined with "and": "phthalate-free fragrance and hand-poured in Vermont"
    # would read as if the fragrance were hand-poured.
    return f"{cap(', '.join(listed))}."


def sentence(fact: Fact, tone: str) -> str:
    value = fact.value
    if fact.topic == "claim":
        return f"{cap(value)}."
    if tone == "factual" or fact.topic == "extra":
        return f"{fact.label}: {value}."
    playful = tone == "playful"
    article = a_or_an(value)
    if fact.topic == "scent":
        return f"{cap(value)}, front and center." if playful else f"Scented with {value}."
    if fact.topic == "size":
        return f"All {value} of it." if playful else f"Sized at {value}."
    if fact.topic == "material":
        return f"Made with {value}."
    if fact.topic == "burn":
        return f"{cap(value)} of burn time." if playful else f"The burn time is {value}."
    if fact.topic == "wick":
        return f"It burns on {article} {value} wick."
    if fact.topic == "vessel":
        verb = "lives" if playful else "comes"
        return f"It {verb} in {article} {value} vessel."
    if fact.topic == "color":
        return f"Dressed in {value}." if playful else f"The color is {value}."
    return f"{fact.label}: {value}."


def spec_line(fact: Fact) -> str:
    return cap(fact.value) if fact.topic == "claim" else f"{fact.label}: {fact.value}"


def prose(f: Facts, facts: Iterable[Fact], tone: str) -> list[str]:
    """Fact sentences, with the product's claims told together in one sentence."""
    out: list[str] = []
    told_claims = False
    for fact in facts:
        if fact.topic != "claim":
            out.append(sentence(fact, tone))
        elif not told_claims:
            out.append(claims_sentence(f.claims))
            told_claims = True
    return out


def lead_line(f: Facts, lead: str, tone: str) -> tuple[str, tuple[str, ...]]:
    """The opening line for ``lead`` and the topics it already told."""
    scent, vessel = f.value("scent"), f.value("vessel")
    # "a soy wax candle" says something; "a set" after "Gift Set" does not.
    described = f.thing != f.noun
    a_thing = f"{a_or_an(f.thing)} {f.thing}"
    material = ("material",) if described else ()
    if lead == "benefit" and f.claims:
        if f.claim_messages and tone != "factual":
            return f.claim_messages[0], ("claim",)
        return f"{claims_sentence(f.claims)[:-1]}: the {f.name} by {f.brand}.", ("claim",)
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
        in_vessel = f" in {a_or_an(vessel)} {vessel} vessel" if vessel else ""
        told = (*material, "vessel")
        if tone == "factual":
            return f"{f.full_name}: {a_thing if described else f.noun}{in_vessel}.", told
        if described:
            return f"{cap(a_thing)}{in_vessel}, by {f.brand}.", told
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
        return f"{cap(scent)}, in {a_thing} by {f.brand}.", told
    if scent:
        return f"{cap(scent)}, from the {f.name} by {f.brand}.", told
    return f"The {f.name}{', ' + a_thing if described else ''} by {f.brand}.", told


def filler_sentences(f: Facts, tone: str) -> list[str]:
    """More true sentences for fields with a minimum length: the facts said the other way."""
    other = "calm" if tone == "factual" else "factual"
    out = prose(f, f.ordered("scent"), other)
    out += [*f.messages, *f.claim_messages]
    out += [f"The {f.name} is made by {f.brand}.", f"Product type: {f.noun}."]
    if f.gtin:
        out.append(f"Barcode (GTIN): {f.gtin}.")
    out.append(f"Model: {f.sku}.")
    return out
