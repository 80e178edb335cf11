"""The consistency auditor: one SKU's packages must state the same facts, and the true ones.

Sizes, burn times and prices are read from the copy and normalised ("8-ounce" is "8 oz",
"50 hrs" is "50 hours", "$32" is "32.00 USD"). A stated value that contradicts the product data
blocks that package. Where the product data is silent, packages that disagree with each other
are each warned, naming the others in plain words and linking them (``CheckFinding.related``).
A claim worded differently across packages is noted the same way.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TypeVar

from signoff.agents.checks._text import lowered, remember
from signoff.agents.checks.claims import ClaimMention, claim_mentions
from signoff.agents.context import (
    BrandRules,
    CheckFinding,
    Draft,
    RelatedPackage,
    Severity,
    field_texts,
)

AGENT = "consistency_auditor"

K = TypeVar("K", bound=Hashable)

SIZE = "size"
BURN_TIME = "burn_time"
PRICE = "price"
FACT_KINDS = (SIZE, BURN_TIME, PRICE)

_UNITS = {
    "oz": "oz",
    "ounce": "oz",
    "ounces": "oz",
    "lb": "lb",
    "lbs": "lb",
    "pound": "lb",
    "pounds": "lb",
    "g": "g",
    "gram": "g",
    "grams": "g",
    "kg": "kg",
    "ml": "ml",
    "l": "l",
    "liter": "l",
    "liters": "l",
    "litre": "l",
    "litres": "l",
}
_CURRENCY_SYMBOLS = {"$": "USD", "\u20ac": "EUR", "\u00a3": "GBP"}

_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"
_CURRENCY_CODES = ("usd", "eur", "gbp", "cad", "aud")
# Scanned over lower-cased text. The leading lookahead lets the regex engine jump from digit
# to digit instead of trying every branch at every position.
_NUMBER_FIRST = (
    r"(?=[\d$\u20ac\u00a3])(?:"
    # 8 oz, 8oz, 8-ounce, 8 fl. oz, 227 g
    r"(?<![\w.,])(?P<size>\d+(?:\.\d+)?)\s*-?\s*(?:fl\.?\s*)?"
    r"(?P<size_unit>oz|ounces?|lbs?|pounds?|g|grams?|kg|ml|l|lit(?:er|re)s?)\b"
    # 50 hours, 50-hour, 50 hrs, 50+ hours, 40-50 hours, 40 to 50 hours
    r"|(?<![\w.,])(?:\d+\s*(?:-|\u2013|to)\s*)?(?P<hours>\d+)\s*\+?\s*-?\s*(?:hours?|hrs?|h)\b"
    # $32, $32.00, us$32, €32
    r"|(?P<symbol>[$\u20ac\u00a3])\s?(?P<amount>" + _AMOUNT + r")(?!\d)"
    # 32 usd
    r"|(?<![\w.,])(?P<amount_before>"
    + _AMOUNT
    + r")\s?(?P<code_after>"
    + "|".join(_CURRENCY_CODES)
    + r")\b)"
)
# usd 32: letters first, so it gets its own scan, run only when a code appears at all.
_CODE_FIRST = (
    r"\b(?P<code_before>"
    + "|".join(_CURRENCY_CODES)
    + r")\s?(?P<amount_after>"
    + _AMOUNT
    + r")(?!\d)"
)
_FACTS_LOWER = (re.compile(_NUMBER_FIRST), re.compile(_CODE_FIRST))
_FACTS_ANY_CASE = (re.compile(_NUMBER_FIRST, re.IGNORECASE), re.compile(_CODE_FIRST, re.IGNORECASE))
# Hours that are about shipping or service, not burning.
_NOT_BURN_CONTEXT = re.compile(
    r"\b(?:ships?|shipping|shipped|deliver\w*|dispatch\w*|arriv\w*|within|returns?|reply|"
    r"respond\w*|support|service|order\w*)\b[^.!?\n]*$",
    re.IGNORECASE,
)
# Money that is a discount, threshold or gift, not the product's price.
_NOT_PRICE_BEFORE = re.compile(
    r"\b(?:save|saving|savings|over|under|above|spend|extra|worth|discount|credit|orders?|"
    r"shipping|gift\s+card)\W*$",
    re.IGNORECASE,
)
_NOT_PRICE_AFTER = re.compile(r"\s*(?:off|discount|credit|or more)\b", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_WORDING_SEPARATORS = re.compile(r"[\s\-\u2010\u2011]+")
_CONTEXT_CHARS = 40


@dataclass(frozen=True, slots=True)
class StatedFact:
    kind: str  # size | burn_time | price
    unit: str  # oz, g, hours, USD, ...: only values in the same unit are compared
    value: str  # normalised, e.g. "8 oz", "50 hours", "32.00 USD"
    span: tuple[int, int]


def _number(raw: str) -> str:
    text = raw.replace(",", "")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.lstrip("0") or "0"


def _money(raw: str, currency: str) -> str | None:
    try:
        amount = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return None
    return f"{amount:.2f} {currency.upper()}"


def _fact_matches(text: str) -> list[re.Match[str]]:
    if not _DIGIT.search(text):
        return []  # every fact has a number; most titles and many bullets stop here
    low = lowered(text)
    number_first, code_first = _FACTS_LOWER if low is not None else _FACTS_ANY_CASE
    scanned = low if low is not None else text
    matches = list(number_first.finditer(scanned))
    folded = low if low is not None else text.lower()
    if any(code in folded for code in _CURRENCY_CODES):
        matches += code_first.finditer(scanned)
        matches.sort(key=lambda match: match.start())
    return matches


def stated_facts(text: str) -> list[StatedFact]:
    """Return every size, burn time and price the text states, normalised, in order."""
    return list(_stated(text))


# By text: every package of a SKU states the same size and burn time in the same words.
_stated_memo: dict[str, tuple[StatedFact, ...]] = {}


def _stated(text: str) -> tuple[StatedFact, ...]:
    facts = _stated_memo.get(text)
    if facts is None:
        facts = remember(_stated_memo, text, tuple(_read_facts(text)))
    return facts


def _read_facts(text: str) -> list[StatedFact]:
    facts: list[StatedFact] = []
    for match in _fact_matches(text):
        span = match.span()
        groups = match.groupdict()
        if groups.get("size"):
            unit = _UNITS[groups["size_unit"].lower()]
            facts.append(StatedFact(SIZE, unit, f"{_number(groups['size'])} {unit}", span))
        elif groups.get("hours"):
            if _NOT_BURN_CONTEXT.search(text, max(0, span[0] - _CONTEXT_CHARS), span[0]):
                continue
            facts.append(StatedFact(BURN_TIME, "hours", f"{_number(groups['hours'])} hours", span))
        else:
            if _NOT_PRICE_BEFORE.search(text, max(0, span[0] - _CONTEXT_CHARS), span[0]):
                continue
            if _NOT_PRICE_AFTER.match(text, span[1], span[1] + _CONTEXT_CHARS):
                continue
            if groups.get("symbol"):
                currency = _CURRENCY_SYMBOLS[groups["symbol"]]
                amount = groups["amount"]
            else:
                currency = (groups.get("code_after") or groups["code_before"]).upper()
                amount = groups.get("amount_before") or groups["amount_after"]
            value = _money(amount, currency)
            if value is not None:
                facts.append(StatedFact(PRICE, currency, value, span))
    return facts


def extract_facts(text: str) -> dict[str, set[str]]:
    """Return the normalised values the text states, by kind: size, burn_time, price."""
    facts: dict[str, set[str]] = {kind: set() for kind in FACT_KINDS}
    for fact in _stated(text):
        facts[fact.kind].add(fact.value)
    return facts


def product_facts(draft: Draft) -> dict[tuple[str, str], str]:
    """Return the product data's values by (kind, unit), normalised like stated facts."""
    product = draft.product
    known: dict[tuple[str, str], str] = {}
    size = product.attributes.get("size")
    if size:
        for fact in stated_facts(str(size)):
            if fact.kind == SIZE:
                known.setdefault((SIZE, fact.unit), fact.value)
    hours = str(product.attributes.get("burn_time_hours") or "").strip()
    if hours:
        try:
            known[(BURN_TIME, "hours")] = f"{_number(str(Decimal(hours)))} hours"
        except InvalidOperation:
            pass
    if product.price is not None:
        currency = (product.currency or "USD").upper()
        value = _money(str(product.price), currency)
        if value is not None:
            known[(PRICE, currency)] = value
    return known


@dataclass(frozen=True, slots=True)
class _Located:
    fact: StatedFact
    field: str


def _label(kind: str) -> str:
    return kind.replace("_", " ")


# A message names at most this many packages per value; ``related`` always holds them all.
_NAMED_AT_MOST = 5


def _names(group: list[tuple[K, Draft]]) -> dict[K, str]:
    """Name each package as a reviewer knows it: by channel, then market and variant.

    Market and variant are said only when the SKU has packages in several, so a brief with
    one market and one variant reads "the walmart_us package". Keys that would still read the
    same (only possible outside a run, where keys are arbitrary) are told apart by the key.
    """
    markets = {draft.market for _, draft in group}
    variants = {draft.variant for _, draft in group}
    names: dict[K, str] = {}
    for key, draft in group:
        qualifiers = []
        if len(markets) > 1:
            qualifiers.append(f"market {draft.market}")
        if len(variants) > 1:
            qualifiers.append(f"variant {draft.variant}")
        names[key] = draft.channel.id + (f" ({', '.join(qualifiers)})" if qualifiers else "")
    counts = Counter(names.values())
    return {key: f"{name} [{key}]" if counts[name] > 1 else name for key, name in names.items()}


def _related(draft: Draft, says: str) -> RelatedPackage:
    return RelatedPackage(draft.product.sku, draft.channel.id, draft.market, draft.variant, says)


def _who_says(others: list[tuple[str, str]], verb: tuple[str, str]) -> str:
    """ "the a and b packages say 40 hours; the c package says 45 hours", from (name, value)."""
    by_value: dict[str, list[str]] = defaultdict(list)
    for name, value in others:
        by_value[value].append(name)
    parts = []
    for value, names in by_value.items():
        shown = names[:_NAMED_AT_MOST]
        if len(names) > len(shown):
            listed = f"{', '.join(shown)} and {len(names) - len(shown)} more"
        elif len(shown) > 1:
            listed = f"{', '.join(shown[:-1])} and {shown[-1]}"
        else:
            listed = shown[0]
        one, many = verb
        if len(names) == 1:
            parts.append(f"the {listed} package {one} {value}")
        else:
            parts.append(f"the {listed} packages {many} {value}")
    return "; ".join(parts)


def _facts_by_package(
    group: list[tuple[K, Draft]],
) -> dict[K, list[_Located]]:
    located: dict[K, list[_Located]] = {}
    for key, draft in group:
        located[key] = [
            _Located(fact, field)
            for field, text in field_texts(draft.fields)
            for fact in _stated(text)
        ]
    return located


def _audit_sku(group: list[tuple[K, Draft]], rules: BrandRules) -> list[tuple[K, CheckFinding]]:
    findings: list[tuple[K, CheckFinding]] = []
    product_values = product_facts(group[0][1])
    sku = group[0][1].product.sku
    located = _facts_by_package(group)
    drafts = dict(group)
    names = _names(group)

    # Against the product data: it is the arbiter, so only the packages that are wrong hear.
    for key, _draft in group:
        for item in located[key]:
            expected = product_values.get((item.fact.kind, item.fact.unit))
            if expected is not None and item.fact.value != expected:
                findings.append(
                    (
                        key,
                        CheckFinding(
                            agent=AGENT,
                            rule_id="consistency.product_fact",
                            severity=Severity.BLOCK,
                            message=(
                                f"States {item.fact.value}; product data for {sku} says {expected}."
                            ),
                            field=item.field,
                            span=item.fact.span,
                        ),
                    )
                )

    # Across packages, where the product data cannot settle it.
    stated: dict[tuple[str, str], dict[K, list[_Located]]] = defaultdict(dict)
    for key, items in located.items():
        for item in items:
            group_key = (item.fact.kind, item.fact.unit)
            if group_key not in product_values:
                stated[group_key].setdefault(key, []).append(item)
    for (kind, _unit), by_package in stated.items():
        values = {key: {item.fact.value for item in items} for key, items in by_package.items()}
        if len(set().union(*values.values())) < 2:
            continue
        for key, items in by_package.items():
            others = [q for q in by_package if q != key and len(values[key] | values[q]) > 1]
            if not others:
                continue
            shared = set.intersection(*(values[q] for q in others))
            at = next((i for i in items if i.fact.value not in shared), items[0])
            said = {q: ", ".join(sorted(values[q])) for q in others}
            findings.append(
                (
                    key,
                    CheckFinding(
                        agent=AGENT,
                        rule_id="consistency.cross_package",
                        severity=Severity.WARN,
                        message=(
                            f"This package says {_label(kind)} "
                            f"{', '.join(sorted(values[key]))}; "
                            + _who_says([(names[q], said[q]) for q in others], ("says", "say"))
                            + f". The product data for {sku} has no {_label(kind)} to settle it."
                        ),
                        field=at.field,
                        span=at.fact.span,
                        related=tuple(_related(drafts[q], said[q]) for q in others),
                    ),
                )
            )

    findings += _claim_wording(group, rules, names)
    return findings


def _claim_wording(
    group: list[tuple[K, Draft]], rules: BrandRules, names: dict[K, str]
) -> list[tuple[K, CheckFinding]]:
    if not rules.claims:
        return []
    drafts = dict(group)
    # claim id -> package -> [(normalised wording, mention)]
    wordings: dict[str, dict[K, list[tuple[str, ClaimMention]]]] = defaultdict(dict)
    as_written: dict[str, str] = {}  # normalised wording -> how it was first written
    for key, draft in group:
        for mention in claim_mentions(draft, rules):
            normal = _normal_wording(mention.wording)
            as_written.setdefault(normal, mention.wording)
            wordings[mention.claim_id].setdefault(key, []).append((normal, mention))
    findings: list[tuple[K, CheckFinding]] = []
    for claim_id, by_package in wordings.items():
        if len(by_package) < 2:
            continue
        sets = {key: {normal for normal, _ in items} for key, items in by_package.items()}
        if len(set().union(*sets.values())) < 2:
            continue
        for key, items in by_package.items():
            others = [q for q in by_package if q != key and sets[q] != sets[key]]
            if not others:
                continue
            elsewhere = set().union(*(sets[q] for q in others))
            _, mention = next((i for i in items if i[0] not in elsewhere), items[0])
            said = {q: ", ".join(f'"{as_written[w]}"' for w in sorted(sets[q])) for q in others}
            findings.append(
                (
                    key,
                    CheckFinding(
                        agent=AGENT,
                        rule_id="consistency.claim_wording",
                        severity=Severity.INFO,
                        message=(
                            f"Claim '{claim_id}' is worded \"{mention.wording}\" here; "
                            + _who_says(
                                [(names[q], said[q]) for q in others], ("words it", "word it")
                            )
                            + "."
                        ),
                        field=mention.field,
                        span=(mention.start, mention.end),
                        related=tuple(_related(drafts[q], said[q]) for q in others),
                    ),
                )
            )
    return findings


@lru_cache(maxsize=4096)
def _normal_wording(wording: str) -> str:
    # Case and hyphenation are not wording: "Clean-burning" says "clean burning".
    return _WORDING_SEPARATORS.sub(" ", wording.lower()).strip()


def audit_consistency(
    drafts: Sequence[tuple[K, Draft]], rules: BrandRules
) -> list[tuple[K, CheckFinding]]:
    """Return (package key, finding) pairs for facts and claims that disagree.

    ``drafts`` are one SKU's packages keyed by anything hashable (package cells or ids); drafts
    of several SKUs are audited per SKU. Messages name packages as reviewers know them (the
    channel, with market and variant where the SKU has several); a finding about a
    disagreement links the other packages in ``related`` (cell and what each says).
    """
    by_sku: dict[str, list[tuple[K, Draft]]] = defaultdict(list)
    for key, draft in drafts:
        by_sku[draft.product.sku].append((key, draft))
    findings: list[tuple[K, CheckFinding]] = []
    for group in by_sku.values():
        findings += _audit_sku(group, rules)
    return findings
