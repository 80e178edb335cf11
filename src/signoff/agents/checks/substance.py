"""Substance and truth: copy names its own product, says something, and invents nothing. Pure.

Every rule blocks (docs/checks.md lists them):

- ``identity.title_name``: a title field that does not name this product;
- ``identity.sibling_name``: copy that names another product of the brief;
- ``identity.sibling_fact``: a fact of another product of the brief (its GTIN, SKU, or an
  attribute value this product does not have: "sea salt and sage" on the fig candle);
- ``substance.placeholder``: "[Product name]", "{{scent}}", "TBD", "Lorem", a redaction mark;
- ``substance.near_empty``: a field or item with almost nothing in it;
- ``substance.fragment``: words that are not a phrase: a number glued to a unit glued to a
  number ("30 ml 5"), a bare pluralised number ("Shop 5s");
- ``invented.number``: a number (with its unit or %) the product data and the claims registry
  do not hold, naming the fact it contradicts when there is one;
- ``invented.numbered_claim``: a claim that carries a number (SPF, burn time) that does not
  match the product's attribute;
- ``invented.claim``: a claim-like phrase ("clinically proven", "best-selling",
  "hypoallergenic") that neither the claims registry nor the product data holds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from signoff.agents.checks._text import remember
from signoff.agents.context import (
    BrandRules,
    CheckFinding,
    Draft,
    ProductFacts,
    Severity,
    field_texts,
)

AGENT = "substance_checker"
TITLE_COMPOSERS = frozenset({"title", "short_title"})
NOT_PROSE = frozenset({"keywords", "hashtags", "path"})
_ALNUM = re.compile(r"[a-z0-9]+")
_HAS_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*)(?:\s?(%|[a-zA-Z]+))?")
STOP = frozenset("a an and the of for with in on by to".split())
NOT_FACTS = frozenset({"true", "false", "yes", "none", "n/a"})
UNIT_WORDS = frozenset(
    "oz ounce ounces fl ml l cl g kg mg lb lbs cm mm m in inch inches ft hour hours hr hrs "
    "minute minutes min day days count ct pack pcs pieces wicks wick".split()
)
PLACEHOLDER = re.compile(
    r"\[[^\]\n]{1,40}\]|\{\{[^}\n]*\}\}|\{[a-z_]{2,30}\}|<[A-Z][A-Z _]{2,30}>|%s\b"
    r"|\b(?:TBD|TBC|TODO|FIXME|XXX+|PLACEHOLDER|N/A)\b|\blorem\b"
    r"|\binsert [\w ]{1,30} here\b|\byour (?:product|brand) name\b",
    re.IGNORECASE,
)
_UNITS_RE = r"(?:oz|fl\.? ?oz|ml|cl|l|g|kg|mg|lb|lbs|cm|mm|in|hours?|hrs?)"
# "N in M" is a phrase ("2 in 1 shampoo"), not inches; an upper-case S after a number is a
# size or model code ("Fenix 7S"), not a plural.
FRAGMENT = re.compile(
    rf"\b\d+(?:[.,]\d+)?(?! in \d)\s?{_UNITS_RE}\s+\d+(?:[.,]\d+)?(?=\s*(?:$|[.,;:!?)]))"
    rf"|\b\d+(?:[.,]\d+)?{_UNITS_RE}\d+\b"
    r"|(?<![\w'])(?!\d*0s\b)\d+(?-i:s)\b",
    re.IGNORECASE,
)
# "1,299" is one thousand two hundred and ninety-nine; "8,5" is eight and a half.
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
CLAIM_LIKE = re.compile(
    r"\bclinically (?:proven|tested)\b|\bdermatologist[- ](?:tested|recommended|approved)\b"
    r"|\bhypoallergenic\b|(?:#|\bnumber )1\b|\bbest[- ]?sell(?:ing|er)\b|\baward[- ]winning\b"
    r"|\bguaranteed\b|\b100% natural\b|\ball[- ]natural\b|\borganic\b|\bnon[- ]?toxic\b"
    r"|\btoxin[- ]free\b|\bchemical[- ]free\b|\bparaben[- ]free\b|\bcruelty[- ]free\b"
    r"|\beco[- ]friendly\b|\bcarbon[- ]neutral\b|\bbiodegradable\b|\bfda[- ]approved\b"
    r"|\bscientifically proven\b|\bdoctor[- ]recommended\b|\blab[- ]tested\b|\bpatented\b"
    r"|\bsafe for (?:kids|children|babies|pets)\b|\bmedical[- ]grade\b|\bkills \d+\s?% \b"
    r"|\b(?:cures?|heals?|treats?) (?:anxiety|insomnia|stress|headaches?|depression)\b"
    r"|\btherapeutic\b|\bzero waste\b|\bnever (?:fades|melts|smokes)\b",
    re.IGNORECASE,
)
# A word of every CLAIM_LIKE branch, lower-case.
CLAIM_STEMS = (
    "clinical", "dermatolog", "hypoallergenic", "#1", "number 1", "best", "award", "guarantee",
    "natural", "organic", "toxi", "chemical", "paraben", "cruelty", "friendly", "neutral",
    "biodegrad", "fda", "proven", "recommended", "tested", "patented", "safe for", "grade", "kills",
    "cure", "heal", "treat", "therapeutic", "zero waste", "never",
)  # fmt: skip
_CLAIM_STEM = re.compile("|".join(map(re.escape, CLAIM_STEMS)))
NUMBERED_CLAIMS = (
    # (what, pattern with the number as group 1, attribute keys that hold it)
    ("SPF", re.compile(r"\bSPF\s*(\d+)", re.IGNORECASE), ("spf",)),
    (
        "burn time",
        re.compile(
            r"\b(\d+)[\s-]?(?:hours?|hrs?)\b(?=[^.]{0,20}\bburn)"
            r"|\bburns?(?: time)?(?: of| for| up to)?\s+(?:about |around |over )?"
            r"(\d+)[\s-]?(?:hours?|hrs?)\b",
            re.IGNORECASE,
        ),
        ("burn_time_hours", "burn_time", "burn"),
    ),
)


def _block(rule: str, field: str | None, span, message: str) -> CheckFinding:
    return CheckFinding(
        agent=AGENT, rule_id=rule, severity=Severity.BLOCK, field=field, span=span, message=message
    )


def _words(text: str) -> list[str]:
    return _ALNUM.findall(text.lower())


def _phrase_in(phrase: str, text_words: str) -> bool:
    words = " ".join(_words(phrase))
    return bool(words) and f" {words} " in text_words


def _padded(text: str) -> str:
    return f" {' '.join(_words(text))} "


def _compose(draft: Draft, path: str) -> str:
    spec = draft.channel.fields.get(path.split("[", 1)[0])
    return spec.compose if spec is not None else ""


def _own_text(product: ProductFacts) -> str:
    return " ".join(
        [product.name, product.sku, product.gtin or "", *map(str, product.attributes.values())]
    )


def data_numbers(product: ProductFacts, rules: BrandRules | None = None) -> set[str]:
    """Every number the product data (and the claims registry) holds, in its written forms."""
    hit = _numbers_memo.get((id(product), id(rules)))
    if hit is not None and hit[0] is product and hit[1] is rules:
        return hit[2]
    numbers = _data_numbers(product, rules)
    remember(_numbers_memo, (id(product), id(rules)), (product, rules, numbers), 4096)
    return numbers


# By identity: a run checks every channel and variant of a SKU with the same product object.
_numbers_memo: dict[tuple[int, int], tuple[ProductFacts, BrandRules | None, set[str]]] = {}


def _data_numbers(product: ProductFacts, rules: BrandRules | None) -> set[str]:
    sources = [_own_text(product)]
    if product.price is not None:
        sources += [str(product.price), f"{product.price:.2f}"]
    if rules is not None:
        sources += [c.text or "" for c in rules.claims]
        sources.append(rules.brand_name)
    return _numbers_of(sources)


def _number_forms(written: str) -> set[str]:
    """The values a number as written may stand for: "1,299.00" is 1299, "8,5" is 8.5 ("1,299"
    could be either: both are kept)."""
    forms = {written.replace(",", ".")} if written.count(",") <= 1 and "." not in written else set()
    if _THOUSANDS.fullmatch(written):
        forms.add(written.replace(",", ""))
    forms = forms or {written.replace(",", ".")}
    return forms | {n.rstrip("0").rstrip(".") for n in forms if "." in n}


def _numbers_of(texts: Iterable[str]) -> set[str]:
    return {
        form
        for text in texts
        for written in re.findall(r"\d+(?:[.,]\d+)*", text)
        for form in _number_forms(written)
    }


def _identity(draft: Draft, shared: str) -> list[CheckFinding]:
    product = draft.product
    findings: list[CheckFinding] = []
    name_words = _distinctive(product, draft.siblings)
    texts = field_texts(draft.fields)
    for path, text in texts:
        if _compose(draft, path) in TITLE_COMPOSERS and text and name_words:
            have = set(_words(text))
            missing = [w for w in name_words if w not in have]
            # "Lumen Home Lavender" names the Lavender Fields Candle among its siblings: at
            # least half the words that tell it from them, and one at the least.
            if len(missing) * 2 > len(name_words):
                findings.append(
                    _block(
                        "identity.title_name",
                        path,
                        None,
                        f"does not name this product ({product.name!r}; missing "
                        f"{', '.join(missing)})",
                    )
                )
    own = _padded(_own_text(product))
    markers = _sibling_markers(draft.siblings)
    if not markers.by_phrase:
        return findings
    for path, text in texts:
        words = _words(text)
        reported: set[str] = set()
        starts = [i for i, word in enumerate(words) if word in markers.first_words]
        for size in range(1, markers.longest + 1):
            for i in starts:
                if i + size > len(words):
                    continue
                phrase = " ".join(words[i : i + size])
                entries = markers.by_phrase.get(phrase)
                if not entries:
                    continue
                padded = f" {phrase} "
                if padded in own or padded in shared:
                    continue  # this product, or the whole brief, says it too
                for rule, sibling, key, marker in entries:
                    if sibling.sku == product.sku or sibling.sku in reported:
                        continue
                    if key and str(product.attributes.get(key, "")) == marker:
                        continue
                    reported.add(sibling.sku)
                    what = "names" if rule == "identity.sibling_name" else "states a fact of"
                    findings.append(
                        _block(
                            rule,
                            path,
                            None,
                            f"{what} another product of the brief, {sibling.name} "
                            f"({sibling.sku}): {marker!r}",
                        )
                    )
    return findings


def _distinctive(product: ProductFacts, siblings: tuple[ProductFacts, ...]) -> list[str]:
    """The words of the product's name that tell it from its siblings (without siblings: all
    but the last, the product type, when there are more)."""
    words = [w for w in dict.fromkeys(_words(product.name)) if w not in STOP]
    named = _sibling_markers(siblings).name_words  # in how many of the names each word is
    mine = 1 if product.sku in _sibling_markers(siblings).skus else 0
    others = [w for w in words if named.get(w, 0) - mine > 0]
    if len(siblings) > mine:
        return [w for w in words if w not in others] or words
    return words[:-1] if len(words) > 1 else words


@dataclass(frozen=True, slots=True)
class _Markers:
    # normalised words -> (rule, product, attribute key or "", the value as given)
    by_phrase: dict[str, list[tuple[str, ProductFacts, str, str]]]
    longest: int  # words in the longest phrase
    first_words: frozenset[str]  # where a phrase can start
    name_words: Counter[str]  # how many of the products' names hold each word
    skus: frozenset[str]


# By identity: a run hands every draft of a brief the same siblings tuple.
_markers_memo: dict[int, tuple[tuple[ProductFacts, ...], _Markers]] = {}
MAX_MARKER_WORDS = 8  # longer values are sentences, not facts one would copy by mistake


def _sibling_markers(siblings: tuple[ProductFacts, ...]) -> _Markers:
    hit = _markers_memo.get(id(siblings))
    if hit is not None and hit[0] is siblings:
        return hit[1]
    by_phrase: dict[str, list[tuple[str, ProductFacts, str, str]]] = {}

    def add(rule: str, sibling: ProductFacts, key: str, value: str) -> None:
        words = _words(value)
        if words and len(words) <= MAX_MARKER_WORDS:
            by_phrase.setdefault(" ".join(words), []).append((rule, sibling, key, value))

    for sibling in siblings:
        add("identity.sibling_name", sibling, "", sibling.name)
        for value in (sibling.gtin, sibling.sku):
            if value:
                add("identity.sibling_fact", sibling, "", value)
        for key, value in sibling.attributes.items():
            value = str(value)
            if sum(ch.isalpha() for ch in value) < 4 or value.lower() in NOT_FACTS:
                continue
            add("identity.sibling_fact", sibling, key, value)
    longest = max((len(p.split()) for p in by_phrase), default=0)
    name_words = Counter(w for sibling in siblings for w in set(_words(sibling.name)))
    markers = _Markers(
        by_phrase,
        longest,
        frozenset(p.split()[0] for p in by_phrase),
        name_words,
        frozenset(sibling.sku for sibling in siblings),
    )
    remember(_markers_memo, id(siblings), (siblings, markers), 64)
    return markers


def _substance(draft: Draft, path: str, text: str) -> list[CheckFinding]:
    found = _substance_memo.get(text)
    if found is None:
        found = remember(_substance_memo, text, tuple(_substance_of(text)))
    return [replace(f, field=path) for f in found]


_substance_memo: dict[str, tuple[CheckFinding, ...]] = {}


def _substance_of(text: str) -> list[CheckFinding]:
    path = ""
    findings: list[CheckFinding] = []
    stripped = text.strip()
    if stripped and len(stripped) < 8 and sum(ch.isalnum() for ch in stripped) < 2:
        findings.append(
            _block("substance.near_empty", path, None, f"holds almost nothing ({stripped!r})")
        )
    match = PLACEHOLDER.search(text)
    if match:
        findings.append(
            _block(
                "substance.placeholder",
                path,
                match.span(),
                f"holds a placeholder ({match.group(0)!r})",
            )
        )
    match = FRAGMENT.search(text)
    if match:
        findings.append(
            _block(
                "substance.fragment",
                path,
                match.span(),
                f"{match.group(0)!r} is not a phrase (a number glued to a unit and a number, or a "
                "bare pluralised number)",
            )
        )
    return findings


def _contradicted(product: ProductFacts, unit: str) -> str:
    """The attribute a number with ``unit`` would be about, as "size 8 oz"."""
    unit = unit.lower()
    if not unit:
        return ""
    for key, value in product.attributes.items():
        value_s = str(value).lower()
        if (
            unit in _words(value_s)
            or (unit == "%" and "%" in value_s)
            or key.lower().endswith(f"_{unit}")
        ):
            return f"{key.replace('_', ' ')} {value}"
    if unit in ("hours", "hour", "hrs", "hr"):
        for key, value in product.attributes.items():
            if "burn" in key.lower():
                return f"{key.replace('_', ' ')} {value}"
    return ""


def _invented_numbers(draft: Draft, path: str, text: str, allowed: set[str]) -> list[CheckFinding]:
    if not _HAS_DIGIT.search(text):
        return []
    for match in _NUMBER.finditer(text):
        forms = _number_forms(match.group(1))
        if forms & allowed:
            continue
        number = max(forms, key=len)
        if len(number) >= 8:
            continue  # a barcode or a phone number: the PII and identity rules say what it is
        unit = match.group(2) or ""
        unit = unit if unit == "%" or unit.lower() in UNIT_WORDS else ""
        about = _contradicted(draft.product, unit)
        said = f"{match.group(1)}{' ' + unit if unit and unit != '%' else unit}"
        return [
            _block(
                "invented.number",
                path,
                match.span(),
                f"states {said!r}, which the product data does not hold"
                + (f" (the data says {about})" if about else ""),
            )
        ]
    return []


def _numbered_claims(
    draft: Draft, path: str, text: str, attributes: dict[str, str]
) -> list[CheckFinding]:
    if not _HAS_DIGIT.search(text):
        return []
    findings: list[CheckFinding] = []
    for what, pattern, keys in NUMBERED_CLAIMS:
        for match in pattern.finditer(text):
            said = next(g for g in match.groups() if g)
            values = [(k, attributes[k]) for k in keys if k in attributes]
            if any(said in re.findall(r"\d+", v) for _, v in values):
                continue
            has = (
                f"the data says {values[0][0].replace('_', ' ')} {values[0][1]}"
                if values
                else (f"the product data has no {what}")
            )
            findings.append(
                _block(
                    "invented.numbered_claim",
                    path,
                    match.span(),
                    f"claims {what} {said}; {has}",
                )
            )
            break
    return findings


def _registry_covers(rules: BrandRules, text: str, start: int, end: int) -> bool:
    low = text.lower()
    for claim in rules.claims:
        if claim.text:
            words = (
                re.escape(claim.text.lower()).replace(r"\ ", r"[\s-]+").replace(r"\-", r"[\s-]+")
            )
            for m in re.finditer(words, low):
                if m.start() < end and start < m.end():
                    return True
        if claim.pattern:
            try:
                for m in re.finditer(claim.pattern, text):
                    if m.start() < end and start < m.end():
                        return True
            except re.error:
                continue
    return False


def _invented_claims(
    draft: Draft, rules: BrandRules, path: str, text: str, own: str
) -> list[CheckFinding]:
    if not _CLAIM_STEM.search(text.lower()):
        return []  # most copy holds none: one cheap pass instead of the long alternation
    for match in CLAIM_LIKE.finditer(text):
        if _phrase_in(match.group(0), own) or _registry_covers(rules, text, *match.span()):
            continue
        return [
            _block(
                "invented.claim",
                path,
                match.span(),
                f"makes a claim ({match.group(0)!r}) that neither the claims registry nor the "
                "product data holds",
            )
        ]
    return []


def check_substance(draft: Draft, rules: BrandRules) -> list[CheckFinding]:
    """Return the identity, substance and invented-specifics findings on a draft."""
    if not draft.product.name:
        # A copy file linted outside any brief (``signoff check``) has no product data to hold
        # it to: only whether it says something can be judged.
        return [
            f
            for path, text in field_texts(draft.fields)
            if text
            for f in _substance(draft, path, text)
        ]
    shared = _padded(" ".join(draft.inputs.brief_texts)) if draft.inputs else "  "
    findings = _identity(draft, shared)
    # A number the brief itself states ("Holiday 2026: 20% off") is the brief's fact, not one
    # the drafter made up.
    allowed = data_numbers(draft.product, rules) | _numbers_of(
        draft.inputs.brief_texts if draft.inputs else ()
    )
    own = _padded(_own_text(draft.product))
    attributes = {k.lower(): str(v) for k, v in draft.product.attributes.items()}
    for path, text in field_texts(draft.fields):
        if not text:
            continue
        findings += [
            f
            for f in _substance(draft, path, text)
            # The product's own name or data may hold what reads as a fragment ("Model 5s").
            if not (f.rule_id == "substance.fragment" and _phrase_in(text[slice(*f.span)], own))
        ]
        findings += _invented_numbers(draft, path, text, allowed)
        findings += _numbered_claims(draft, path, text, attributes)
        findings += _invented_claims(draft, rules, path, text, own)
    return findings
