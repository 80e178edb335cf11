"""The input guard: what a brief and its product data hold that must never be followed or sent.

Pure (no Django). Every entry point that stores a brief (``brief add``, ``brief update``, the
products CSV, the intake screen, the API) goes through ``briefs.services.add_brief``, which
screens the version with :func:`screen_brief`; the kickoff-notes parser screens its notes with
:func:`screen_text`. Three things are looked for in every text field:

- text that instructs the system (``input.injection``, block): the sentence holding it is
  left out of everything a drafter or a prompt sees, and a person must remove it (G1 refuses
  the version while it is there). Read as ``lookalikes.fold`` reads it (look-alike letters,
  invisible characters and fullwidth forms hide nothing), and across each pair of adjacent
  fields ("... ignore all" then "previous instructions ...");
- personal data (``pii.*``, ``pii.name``, ``pii.address``, warn: drafting may go on without
  it): the sentence holding it is left out the same way, and its words are kept so the
  output checks find them in copy however split, re-cased or re-joined (``InputSignals``).
  A product attribute named like personal data ("buyer_contact", "phone") is personal
  whatever its value looks like (``pii.attribute``);
- identifiers (``input.gtin``, ``input.price``, ``input.unit``): a GTIN whose GS1 check digit
  is wrong, a zero price, a size without a known unit. Warnings: the data still loads (the
  shipped examples must), a person decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from signoff.agents.checks.lookalikes import (
    PERSONA_SWITCH,
    fold,
    is_personal_key,
    is_role_mailbox,
    plausible_person_name,
    plausible_street_address,
    unfold_span,
)
from signoff.agents.checks.pii import PHONE_REGIONS, find_pii, gs1_check_valid, phone_regions
from signoff.agents.context import CheckFinding, InputSignals, Severity

AGENT = "input_guard"

# What an instruction is told to drop: strong words are the system's own ("instructions",
# "prompt"); weak ones ("rules", "guidance") only with a word that says which ("your earlier
# guidance", "the previous rules"), so "forget the rules of candle care" stays copy.
_DROP = r"(?:ignore|disregard|forget|override|bypass)"
_STRONG = r"(?:instructions?|directives|prompts?|system prompt|guardrails|programming)"
_WEAK = (
    r"(?:rules|guidance|guidelines|directions|commands|constraints|restrictions"
    r"|policies|instructions?|directives|prompts?|context)"
)
_PRIOR = (
    r"(?:previous|prior|above|earlier|preceding|foregoing|original|initial|former|existing"
    r"|system(?:'s)?)"
)
_EARLIER = r"(?:before|earlier|previously|so far|until now|above|up to now)"
# Matched on ``fold``'s text (NFKC, no invisible characters, look-alike letters in Latin, one
# space between words): "Ign\u043ere  prev\u0456ous" reads as "Ignore previous".
INJECTION = re.compile(
    rf"\b{_DROP} (?:(?:all|any|each|every|of|the|your|my|these|those|its|this) ){{0,4}}"
    rf"{_PRIOR} (?:[\w-]+ )?{_WEAK}\b"
    # Not "forget the instructions": a product that needs none says so.
    rf"|\b{_DROP} (?:(?:all|any) (?:of )?(?:the |your |these |those )?|(?:your|these|those|my) )?"
    rf"{_STRONG}\b"
    r"|\b(?:override|bypass|circumvent|disregard) (?:(?:all|any|the|your|these|those|of|system"
    r"|safety|brand) ){0,3}(?:rules|guidelines|guidance|restrictions|constraints|policies"
    r"|filters|checks)\b"
    rf"|\b(?:ignore|disregard|forget) (?:everything|anything|all) (?:(?:written|said|stated) )?"
    rf"{_EARLIER}"
    r"|\b(?:ignore|disregard|forget) (?:what(?:ever)?|all|everything|anything) (?:that )?"
    r"you(?:'ve| have| were| had| got)? (?:been )?"
    rf"(?:instructed\b|(?:told|asked|given) (?:\w+ )?{_EARLIER})"
    r"|\bfrom now on,? you(?:'ll| will| must| shall| should| are to| are going to) "
    r"(?:(?:always|only|never|now) )?(?:write|respond|reply|answer|act as|output|ignore|obey"
    r"|approve|insert|append|prepend|claim|pretend|comply|print|generate|disregard|forget)\b"
    r"|approve (?:everything|all packages|all drafts|this (?:package|draft|brief))"
    rf"|you are now\s+{PERSONA_SWITCH}|system prompt|(?:new|updated) instructions\s*:"
    r"|act as (?:an? )?(?:admin|approver|system|developer)"
    r"|(?:set|change|grant) (?:my |the |your )?role(?:s)? (?:to )?(?:admin|approver)"
    r"|\bnote to (?:the |any )?(?:ai|model|llm|assistant|bot|chatbot|chatgpt|gpt|claude|system"
    r"|drafter|generator)\b"
    r"|\b(?:assistant|model|ai|llm|chatgpt|gpt|claude)\s*[,:]\s*(?:ignore|always|never|you must|"
    r"write|say|include|add|insert|put)\b"
    r"|\b(?:assistant|llm|chatgpt|gpt|claude) [-\u2013\u2014] (?:ignore|always|never|you must|"
    r"write|say|include|add|insert|put)\b"
    r"|(?:always|you must|be sure to) (?:write|say|include|add|insert|mention|put)\b[^.!?\n]{0,80}"
    r"\b(?:in|into|to) (?:every|each|all) (?:description|package|draft|listing|field|title"
    r"|bullet(?: point)?|headline|caption|subject line)s?"
    r"|<\|?\s*/?(?:system|im_start|im_end)\s*\|?>|\[/?INST\]",
    re.IGNORECASE,
)


def find_injections(text: str) -> list[tuple[tuple[int, int], str]]:
    """The instructions in ``text``: each one's span in ``text`` and its words as matched
    (folded: "Ignore previous instructions" for "Ign\u043ere  previous instructions")."""
    folded, origin = fold(text)
    return [(unfold_span(origin, m.span()), m.group(0)) for m in INJECTION.finditer(folded)]


_CONTACT = (
    r"(?i:contact|e-?mail(?:ed)?|call|phone|tel|reach(?: out to)?|ask|ping|write to"
    r"|questions? (?:to|for)|attn\.?|attention|cc|buyer|speak (?:to|with)|talk to"
    r"|signed off by)"
)
_NAME = r"[A-Z][a-z'’]+(?:[ -][A-Z][a-z'’]+){1,2}"
# A person's name: one next to a contact word ("contact Jane Doe"), or one right before an
# e-mail address or a phone number ("Jane Doe <jane@...>", "Jane Doe at +1 ...").
NAME_BY_CONTACT = re.compile(rf"\b{_CONTACT}\s*:?\s+(?P<name>{_NAME})\b")
NAME_BEFORE = re.compile(rf"(?P<name>\b{_NAME})\s*(?:[(<,:]|\s+at|\s+on)\s*$")
ADDRESS = re.compile(
    r"\b\d{1,5}\s+(?:[A-Z][a-z]+\.?\s+){1,3}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl"
    r"|Square|Sq|Parkway|Pkwy|Terrace)\b\.?"
    r"(?:,?\s+(?:Suite|Ste|Apt|Unit)\.?\s*\w+)?"
    r"(?:,\s*[A-Z][a-z]+(?:\s[A-Z][a-z]+)*)?(?:,?\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")
_WORD = re.compile(r"[a-z0-9]+")
# Parts of an address or an e-mail address that say nothing about a person.
NEUTRAL_TOKENS = frozenset(
    "com net org io co uk us de fr www http https mail email gmail yahoo outlook hotmail "
    "street st avenue ave road rd boulevard blvd lane ln drive dr court ct way place pl "
    "suite ste apt unit the and at on".split()
)
UNITS = frozenset(
    "oz fl floz ml l cl g kg mg lb lbs cm mm m in inch inches ft hour hours hr hrs min "
    "minutes count ct pack pcs pieces wicks".split()
)
_SIZE_VALUE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([A-Za-z. ]*?)\s*$")


@dataclass(frozen=True, slots=True)
class Screen:
    """What the guard found in a brief's texts and what the drafters may see of them."""

    findings: tuple[CheckFinding, ...] = ()
    # path -> the text with instructing and personal sentences left out ("" when nothing is left)
    clean: Mapping[str, str] = field(default_factory=dict)
    signals: InputSignals = field(default_factory=InputSignals)

    @property
    def blocking(self) -> tuple[CheckFinding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.BLOCK)

    def text(self, path: str, original: str) -> str:
        """The text at ``path`` as drafters may see it."""
        return self.clean.get(path, original)


def _names(text: str, regions: tuple[str, ...]) -> list[tuple[int, int, str]]:
    found = [
        (m.start("name"), m.end("name"), m.group("name")) for m in NAME_BY_CONTACT.finditer(text)
    ]
    for match in find_pii(text, regions):
        if match.kind.value in ("email", "phone"):
            before = NAME_BEFORE.search(text[: match.span[0]])
            if before:
                found.append((before.start("name"), before.end("name"), before.group("name")))
    return found


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _SENTENCE.finditer(text)] or [(0, len(text))]


def _finding(
    path: str, rule: str, span: tuple[int, int], message: str, severity: Severity = Severity.BLOCK
) -> CheckFinding:
    return CheckFinding(
        agent=AGENT, rule_id=rule, severity=severity, field=path, span=span, message=message
    )


def _where(path: str, source: str) -> str:
    return f"{path} ({source})" if source else path


def screen_text(
    path: str,
    text: str,
    *,
    source: str = "",
    pii_severity: Severity = Severity.WARN,
    known_names: frozenset[str] = frozenset(),
    regions: tuple[str, ...] = PHONE_REGIONS,
) -> tuple[list[CheckFinding], str, list]:
    """Screen one text: its findings, the text without the flagged sentences, the PII found.

    ``path`` is the field's location ("products[LUM-1].attributes.notes"), ``source`` the file
    it came from, quoted in messages; ``known_names`` the words of the brief's product names
    ("ask for the Green Fig Candle" names a product, not a person); ``regions`` where national
    phone numbers are read from (the brief's markets first). The PII list holds (kind, text)
    pairs.
    """
    findings, cut, pii = _screen(path, text, source, pii_severity, known_names, regions)
    return findings, _keep(text, cut), pii


def _screen(
    path: str,
    text: str,
    source: str,
    pii_severity: Severity,
    known_names: frozenset[str],
    regions: tuple[str, ...],
) -> tuple[list[CheckFinding], list[tuple[int, int]], list[tuple[str, str]]]:
    findings: list[CheckFinding] = []
    cut: list[tuple[int, int]] = []
    pii: list[tuple[str, str]] = []
    where = _where(path, source)
    for span, said in find_injections(text):
        cut.append(span)
        findings.append(
            _finding(
                path,
                "input.injection",
                span,
                f"{where} tries to instruct the system ({said!r}); treated as "
                "text, left out of every draft and prompt; remove it before G1",
            )
        )
    for match in find_pii(text, regions):
        cut.append(match.span)
        pii.append((match.kind.value, match.text))
        findings.append(
            _finding(
                path,
                f"pii.{match.kind.value}",
                match.span,
                f"{where} contains {match.masked}; left out of every draft and prompt",
                pii_severity,
            )
        )
    for start, end, name in _names(text, regions):
        if any(s < end and start < e for s, e in cut):
            continue  # the same name found twice, or part of an address or e-mail address
        if set(_WORD.findall(name.lower())) <= known_names or not plausible_person_name(name):
            continue  # a product of the brief, or a product phrase ("Contact Lens Safe")
        cut.append((start, end))
        pii.append(("name", name))
        initials = "".join(part[0] for part in name.split())
        findings.append(
            _finding(
                path,
                "pii.name",
                (start, end),
                f"{where} names a person ({initials}.) next to contact details; left out of "
                "every draft and prompt",
                pii_severity,
            )
        )
    for match in ADDRESS.finditer(text):
        if not plausible_street_address(match.group(0)):
            continue  # a measure or a count ("20 Piece Place Setting")
        cut.append(match.span())
        pii.append(("address", match.group(0)))
        findings.append(
            _finding(
                path,
                "pii.address",
                match.span(),
                f"{where} holds a postal address; left out of every draft and prompt",
                pii_severity,
            )
        )
    return findings, cut, pii


def _keep(text: str, cut: list[tuple[int, int]]) -> str:
    """``text`` without the sentences that ``cut``'s spans touch."""
    if not cut:
        return text
    kept = [
        text[start:end]
        for start, end in _sentence_spans(text)
        if not any(s < end and start < e for s, e in cut)
    ]
    return " ".join(part.strip() for part in kept if part.strip())


def pii_tokens(
    pii: Iterable[tuple[str, str]], known: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words and joined forms of the personal data found, minus words the inputs use
    elsewhere (``known``: every text with the flagged sentences left out)."""
    known_words = set(_WORD.findall(known.lower()))
    known_compact = "".join(_WORD.findall(known.lower()))
    words: set[str] = set()
    forms: set[str] = set()
    for kind, text in pii:
        if kind == "email" and is_role_mailbox(text):
            text = text.rpartition("@")[2]  # "hello@", "care@": a shared door, not a person
        parts = _WORD.findall(text.lower())
        digits = re.sub(r"\D", "", text)
        if kind in ("phone", "card", "iban"):
            if len(digits) >= 7:
                forms.add(digits[-10:])
            continue
        if kind == "attribute" and len(digits) >= 7:
            forms.add(digits[-10:])  # "2125550199" under "supplier_phone"
        distinct = [p for p in parts if p not in NEUTRAL_TOKENS and not p.isdigit()]
        words |= {p for p in distinct if len(p) >= 3 and p not in known_words}
        for i in range(len(distinct)):
            for j in range(i + 2, len(distinct) + 1):
                form = "".join(distinct[i:j])
                if len(form) >= 6 and form not in known_compact:
                    forms.add(form)
    return tuple(sorted(words)), tuple(sorted(forms))


def _identifier_findings(sku: str, product: Mapping[str, Any]) -> list[CheckFinding]:
    findings: list[CheckFinding] = []
    gtin = str(product.get("gtin") or "")
    if gtin and gtin.isdigit() and len(gtin) in (8, 12, 13, 14) and not gs1_check_valid(gtin):
        findings.append(
            _finding(
                f"products[{sku}].gtin",
                "input.gtin",
                (0, len(gtin)),
                f"products[{sku}].gtin {gtin} fails its GS1 check digit (expected "
                f"{_check_digit(gtin[:-1])}); a typo, or not this product's barcode",
                Severity.WARN,
            )
        )
    price = product.get("price")
    if price not in (None, ""):
        try:
            amount = Decimal(str(price))
        except InvalidOperation:
            amount = None
        if amount is None or amount <= 0:
            findings.append(
                _finding(
                    f"products[{sku}].price",
                    "input.price",
                    (0, len(str(price))),
                    f"products[{sku}].price is {price}: a product on sale needs a price above 0",
                    Severity.WARN,
                )
            )
    for key, value in (product.get("attributes") or {}).items():
        if key.lower() not in ("size", "net_weight", "volume"):
            continue
        match = _SIZE_VALUE.match(str(value))
        unit = match.group(2).strip(". ").lower().replace(" ", "") if match else ""
        if match and unit and unit not in UNITS:
            findings.append(
                _finding(
                    f"products[{sku}].attributes.{key}",
                    "input.unit",
                    (0, len(str(value))),
                    f"products[{sku}].attributes.{key} {value!r}: unknown unit {unit!r} "
                    f"(expected one of oz, ml, g, kg, lb, cm, ...)",
                    Severity.WARN,
                )
            )
        elif match and not unit:
            findings.append(
                _finding(
                    f"products[{sku}].attributes.{key}",
                    "input.unit",
                    (0, len(str(value))),
                    f"products[{sku}].attributes.{key} {value!r} has no unit",
                    Severity.WARN,
                )
            )
    return findings


def _check_digit(body: str) -> int:
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def brief_texts(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(path, text) for every free text of a brief (without its products)."""
    out: list[tuple[str, str]] = []
    for key in ("name", "audience", "hypothesis"):
        if data.get(key):
            out.append((key, str(data[key])))
    for key in ("key_messages", "acceptance_criteria", "data_requests"):
        out += [(f"{key}[{i}]", str(t)) for i, t in enumerate(data.get(key) or []) if t]
    for channel, messages in (data.get("channel_messages") or {}).items():
        out += [(f"channel_messages.{channel}[{i}]", str(t)) for i, t in enumerate(messages) if t]
    for i, ref in enumerate(data.get("references") or []):
        if isinstance(ref, Mapping) and ref.get("note"):
            out.append((f"references[{i}].note", str(ref["note"])))
    return out


def product_texts(product: Mapping[str, Any]) -> list[tuple[str, str]]:
    sku = product.get("sku", "?")
    out = [(f"products[{sku}].name", str(product.get("name") or ""))]
    for key, value in (product.get("attributes") or {}).items():
        out.append((f"products[{sku}].attributes.{key}", str(value)))
    return out


def screen_brief(
    data: Mapping[str, Any],
    products: Iterable[Mapping[str, Any]],
    *,
    sources: Mapping[str, str] | None = None,
) -> Screen:
    """Screen every text field of a brief and its products (plain dicts, as stored).

    ``sources`` maps "brief" / "csv" to the file each came from, for the findings' messages;
    a product's ``field_sources`` say which one each of its fields came from. National phone
    numbers are read as the brief's markets write them, then as the US, GB, DE and FR do.
    """
    sources = sources or {}
    findings: list[CheckFinding] = []
    pii: list[tuple[str, str]] = []
    flagged: list[str] = []
    products = list(products)
    regions = phone_regions(data.get("markets") or ())
    items = [(path, text, sources.get("brief", "")) for path, text in brief_texts(data)]
    for product in products:
        origin = product.get("field_sources") or {}
        for path, text in product_texts(product):
            key = path.split("].", 1)[1]
            items.append((path, text, sources.get(origin.get(key, "brief"), "")))
    known = frozenset(w for p in products for w in _WORD.findall(str(p.get("name", "")).lower()))
    cuts: dict[str, list[tuple[int, int]]] = {}
    for path, text, source in items:
        found, cut, personal = _screen(path, text, source, Severity.WARN, known, regions)
        attribute = path.rpartition(".attributes.")[2] if ".attributes." in path else ""
        if attribute and is_personal_key(attribute) and text.strip().lower() not in _NO_VALUE:
            # The name says whose it is: the whole value is personal, whatever it looks like.
            cut.append((0, len(text)))
            personal.append(("attribute", text))
            found.append(
                _finding(
                    path,
                    "pii.attribute",
                    (0, len(text)),
                    f"{_where(path, source)}: an attribute named {attribute!r} holds personal "
                    "data; left out of every draft and prompt",
                    Severity.WARN,
                )
            )
        findings += found
        pii += personal
        cuts[path] = cut
        flagged += [
            _sentence_of(text, f.span) for f in found if f.rule_id == "input.injection" and f.span
        ]
    for (path, text, source), (after, then, _) in zip(items, items[1:], strict=False):
        for span_a, span_b, said in _split_injections(text, then):
            cuts[path].append(span_a)
            cuts[after].append(span_b)
            flagged.append(f"{_sentence_of(text, span_a)} {_sentence_of(then, span_b)}")
            for where, span in ((path, span_a), (after, span_b)):
                findings.append(
                    _finding(
                        where,
                        "input.injection",
                        span,
                        f"{_where(path, source)} and {after} together try to instruct the "
                        f"system ({said!r}); treated as text, left out of every draft and "
                        "prompt; remove it before G1",
                    )
                )
    clean: dict[str, str] = {}
    kept_texts: list[str] = []
    for path, text, _source in items:
        cleaned = _keep(text, cuts[path])
        if cleaned != text:
            clean[path] = cleaned
        kept_texts.append(cleaned)
    for product in products:
        findings += _identifier_findings(str(product.get("sku", "?")), product)
    words, forms = pii_tokens(pii, " ".join(kept_texts))
    shared = tuple(clean.get(p, t) for p, t in brief_texts(data) if p.startswith(("key_", "chan")))
    signals = InputSignals(
        flagged=tuple(dict.fromkeys(flagged)),
        pii_words=words,
        pii_forms=forms,
        brief_texts=tuple(t for t in shared if t),
    )
    return Screen(tuple(findings), clean, signals)


# What an attribute named like personal data may hold without holding any.
_NO_VALUE = frozenset({"", "-", "n/a", "na", "none", "no", "yes", "true", "false", "tbd"})
SPLIT_REACH = 160  # characters of each field read across the seam


def _split_injections(
    first: str, second: str
) -> list[tuple[tuple[int, int], tuple[int, int], str]]:
    """Instructions split across two adjacent fields (one ends "ignore all", the next begins
    "previous instructions"): the span of each part in its own field and the words matched.
    An instruction wholly inside one field is that field's own finding."""
    if not first.strip() or not second.strip():
        return []
    tail = first[-SPLIT_REACH:]
    offset = len(first) - len(tail)
    joined = f"{tail} {second[:SPLIT_REACH]}"
    seam = len(tail)
    found = []
    for (start, end), said in find_injections(joined):
        if start < seam < end - 1:
            found.append(((offset + start, len(first)), (0, end - seam - 1), said))
    return found


def _sentence_of(text: str, span: tuple[int, int]) -> str:
    for start, end in _sentence_spans(text):
        if start <= span[0] < end:
            return text[start:end].strip()
    return text[span[0] : span[1]]
