"""The input guard: what a brief and its product data hold that must never be followed or sent.

Pure (no Django). Every entry point that stores a brief (``brief add``, ``brief update``, the
products CSV, the intake screen, the API) goes through ``briefs.services.add_brief``, which
screens the version with :func:`screen_brief`; the kickoff-notes parser screens its notes with
:func:`screen_text`. Three things are looked for in every text field:

- text that instructs the system (``input.injection``, block): the sentence holding it is
  left out of everything a drafter or a prompt sees, and a person must remove it (G1 refuses
  the version while it is there);
- personal data (``pii.*``, ``pii.name``, ``pii.address``, warn: drafting may go on without
  it): the sentence holding it is left out the same way, and its words are kept so the
  output checks find them in copy however split, re-cased or re-joined (``InputSignals``);
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
    is_role_mailbox,
    plausible_person_name,
    plausible_street_address,
)
from signoff.agents.checks.pii import find_pii, gs1_check_valid
from signoff.agents.context import CheckFinding, InputSignals, Severity

AGENT = "input_guard"

INJECTION = re.compile(
    r"ignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier) (?:instructions|rules)"
    r"|disregard (?:the |all |any |your )?(?:previous |prior |above )?(?:rules|instructions)"
    r"|forget (?:all |your )?(?:previous |prior )?instructions"
    r"|approve (?:everything|all packages|all drafts|this (?:package|draft|brief))"
    rf"|you are now\s+{PERSONA_SWITCH}|system prompt|(?:new|updated) instructions\s*:"
    r"|act as (?:an? )?(?:admin|approver|system|developer)"
    r"|(?:set|change|grant) (?:my |the |your )?role(?:s)? (?:to )?(?:admin|approver)"
    r"|(?:assistant|model|ai|llm|chatgpt|gpt|claude)\s*[,:]\s*(?:ignore|always|never|you must|"
    r"write|say|include|add|insert|put)\b"
    r"|(?:always|you must|be sure to) (?:write|say|include|add|insert|mention|put)\b[^.!?\n]{0,80}"
    r"\b(?:in|into|to) (?:every|each|all) (?:description|package|draft|listing|field|title)s?"
    r"|<\|?\s*/?(?:system|im_start|im_end)\s*\|?>|\[/?INST\]",
    re.IGNORECASE,
)
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


def _names(text: str) -> list[tuple[int, int, str]]:
    found = [
        (m.start("name"), m.end("name"), m.group("name")) for m in NAME_BY_CONTACT.finditer(text)
    ]
    for match in find_pii(text):
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
) -> tuple[list[CheckFinding], str, list]:
    """Screen one text: its findings, the text without the flagged sentences, the PII found.

    ``path`` is the field's location ("products[LUM-1].attributes.notes"), ``source`` the file
    it came from, quoted in messages; ``known_names`` the words of the brief's product names
    ("ask for the Green Fig Candle" names a product, not a person). The PII list holds (kind,
    text) pairs.
    """
    findings: list[CheckFinding] = []
    cut: list[tuple[int, int]] = []
    pii: list[tuple[str, str]] = []
    where = _where(path, source)
    for match in INJECTION.finditer(text):
        cut.append(match.span())
        findings.append(
            _finding(
                path,
                "input.injection",
                match.span(),
                f"{where} tries to instruct the system ({match.group(0)!r}); treated as "
                "text, left out of every draft and prompt; remove it before G1",
            )
        )
    for match in find_pii(text):
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
    for start, end, name in _names(text):
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
    if not cut:
        return findings, text, pii
    kept = [
        text[start:end]
        for start, end in _sentence_spans(text)
        if not any(s < end and start < e for s, e in cut)
    ]
    return findings, " ".join(part.strip() for part in kept if part.strip()), pii


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
        if kind in ("phone", "card", "iban"):
            digits = re.sub(r"\D", "", text)
            if len(digits) >= 7:
                forms.add(digits[-10:])
            continue
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
    a product's ``field_sources`` say which one each of its fields came from.
    """
    sources = sources or {}
    findings: list[CheckFinding] = []
    clean: dict[str, str] = {}
    pii: list[tuple[str, str]] = []
    flagged: list[str] = []
    kept_texts: list[str] = []
    products = list(products)
    items = [(path, text, sources.get("brief", "")) for path, text in brief_texts(data)]
    for product in products:
        origin = product.get("field_sources") or {}
        for path, text in product_texts(product):
            key = path.split("].", 1)[1]
            items.append((path, text, sources.get(origin.get(key, "brief"), "")))
    known = frozenset(w for p in products for w in _WORD.findall(str(p.get("name", "")).lower()))
    for path, text, source in items:
        found, cleaned, personal = screen_text(path, text, source=source, known_names=known)
        findings += found
        pii += personal
        if cleaned != text:
            clean[path] = cleaned
        flagged += [
            _sentence_of(text, f.span) for f in found if f.rule_id == "input.injection" and f.span
        ]
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


def _sentence_of(text: str, span: tuple[int, int]) -> str:
    for start, end in _sentence_spans(text):
        if start <= span[0] < end:
            return text[start:end].strip()
    return text[span[0] : span[1]]
