"""The PII guard: email addresses, phone numbers, payment cards and IBANs in copy or inputs.

Product copy is full of numbers that are not personal data: prices ("$32.00"), sizes ("8 oz"),
burn times ("50 hours"), years and GTINs. Every detector therefore needs more than digits:
phones need a "+" country code or North-American grouping with separators, cards a valid Luhn
checksum and no GTIN shape, IBANs a known country code and a valid mod-97 checksum.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from signoff.agents.checks._text import remember, remove_span
from signoff.agents.context import CheckFinding, Draft, Severity, field_texts

AGENT = "pii_guard"


class PiiKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    IBAN = "iban"


@dataclass(frozen=True, slots=True)
class PiiMatch:
    kind: PiiKind
    span: tuple[int, int]  # [start, end) in the scanned text
    text: str

    @property
    def masked(self) -> str:
        """Describe the match without repeating it: findings are stored and shown to people."""
        if self.kind == PiiKind.EMAIL:
            return f"an email address at {self.text.rpartition('@')[2]}"
        tail = re.sub(r"[^0-9A-Za-z]", "", self.text)[-4:]
        noun = {PiiKind.PHONE: "a phone number", PiiKind.CARD: "a card number"}.get(
            self.kind, "an IBAN"
        )
        return f"{noun} ending {tail}"


_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w-])"
)
# 13-19 digits, each optionally preceded by one space or dash.
_CARD = re.compile(r"(?<![\w.,$-])\d(?:[ -]?\d){12,18}(?![\w])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+])\+\d{1,3}(?:[ .\-]?(?:\(\d{1,4}\)|\d{1,5})){1,6}(?![\w])"
)
_PHONE_NORTH_AMERICA = re.compile(
    r"(?<![\w+.$,-])(?:1[ .\-]?)?(?:\((?P<area>\d{3})\)[ .\-]?|(?P<area2>\d{3})[ .\-])"
    r"(?P<exchange>\d{3})[ .\-]\d{4}(?![\w])"
)
_NON_DIGITS = re.compile(r"\D")
_NEEDS_DIGITS = re.compile(r"\d")

_MIN_PHONE_DIGITS = 8
_MAX_PHONE_DIGITS = 15  # E.164
_GTIN_LENGTHS = frozenset({13, 14})  # within card length; GTIN-8 and -12 are too short

# Registered IBAN length by country (SWIFT IBAN registry); the length settles where an IBAN
# ends when a capitalised word follows it ("... 7654 32 USD").
IBAN_LENGTHS = {
    **dict.fromkeys(["NO"], 15),
    **dict.fromkeys(["BE"], 16),
    **dict.fromkeys(["DK", "FI", "FK", "FO", "GL", "NL", "SD"], 18),
    **dict.fromkeys(["MK", "SI"], 19),
    **dict.fromkeys(["AT", "BA", "EE", "KZ", "LT", "LU", "MN", "XK"], 20),
    **dict.fromkeys(["CH", "HR", "LI", "LV"], 21),
    **dict.fromkeys(["BG", "BH", "CR", "DE", "GB", "GE", "IE", "ME", "RS", "VA"], 22),
    **dict.fromkeys(["AE", "GI", "IL", "IQ", "OM", "SO", "TL"], 23),
    **dict.fromkeys(["AD", "CZ", "ES", "MD", "PK", "RO", "SA", "SE", "SK", "TN", "VG"], 24),
    **dict.fromkeys(["LY", "PT", "ST"], 25),
    **dict.fromkeys(["IS", "TR"], 26),
    **dict.fromkeys(["BI", "DJ", "FR", "GR", "IT", "MC", "MR", "SM"], 27),
    **dict.fromkeys(["AL", "AZ", "BY", "CY", "DO", "GT", "HN", "HU", "LB", "NI", "PL", "SV"], 28),
    **dict.fromkeys(["BR", "EG", "PS", "QA", "UA"], 29),
    **dict.fromkeys(["JO", "KW", "MU", "YE"], 30),
    **dict.fromkeys(["MT", "SC"], 31),
    **dict.fromkeys(["LC"], 32),
    **dict.fromkeys(["RU"], 33),
}

REDACTION = {kind: f"[{kind.value} removed]" for kind in PiiKind}


def luhn_valid(digits: str) -> bool:
    """Return whether a digit string passes the Luhn checksum payment cards carry."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def gs1_check_valid(digits: str) -> bool:
    """Return whether a digit string ends in a valid GS1 (GTIN) check digit."""
    body, check = digits[:-1], ord(digits[-1]) - 48
    total = sum((ord(c) - 48) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def iban_valid(compact: str) -> bool:
    """Return whether an IBAN without spaces has its country's length and a valid mod-97."""
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _is_card(candidate: str) -> bool:
    digits = _NON_DIGITS.sub("", candidate)
    if digits[0] == "0" or not luhn_valid(digits):
        # No issuer's numbers start with 0; GTINs with leading zeros often do.
        return False
    # An unbroken 13- or 14-digit run with a GS1 check digit is a barcode number, not a card.
    return not (digits == candidate and len(digits) in _GTIN_LENGTHS and gs1_check_valid(digits))


def _iban_end(text: str, start: int, end: int) -> int | None:
    # The pattern also swallows a following capitalised word ("... 7654 32 USD"); the
    # country's registered length says where the IBAN itself ends.
    length = IBAN_LENGTHS.get(text[start : start + 2])
    if length is None:
        return None
    seen = 0
    for position in range(start, end):
        if text[position] != " ":
            seen += 1
            if seen == length:
                stop = position + 1
                at_boundary = stop == end or text[stop] == " "
                if at_boundary and iban_valid(text[start:stop].replace(" ", "")):
                    return stop
                return None
    return None


def _phone_digits_ok(candidate: str) -> bool:
    return _MIN_PHONE_DIGITS <= len(_NON_DIGITS.sub("", candidate)) <= _MAX_PHONE_DIGITS


def find_pii(text: str) -> list[PiiMatch]:
    """Return the personal or payment data in ``text``, in order, without overlaps.

    Where detectors overlap the more specific one wins: email, then IBAN, card, phone.
    """
    return list(_pii_in(text))


# By text: the same copy is checked on every channel and variant of a SKU.
_pii_memo: dict[str, tuple[PiiMatch, ...]] = {}
_findings_memo: dict[tuple[str, str], tuple[CheckFinding, ...]] = {}


def _pii_in(text: str) -> tuple[PiiMatch, ...]:
    found = _pii_memo.get(text)
    if found is None:
        found = remember(_pii_memo, text, tuple(_scan(text)))
    return found


def _scan(text: str) -> list[PiiMatch]:
    has_at = "@" in text
    if not has_at and not _NEEDS_DIGITS.search(text):
        return []
    found: list[PiiMatch] = []
    if has_at:
        found += [PiiMatch(PiiKind.EMAIL, m.span(), m.group()) for m in _EMAIL.finditer(text)]
    for match in _IBAN.finditer(text):
        end = _iban_end(text, *match.span())
        if end is not None:
            found.append(PiiMatch(PiiKind.IBAN, (match.start(), end), text[match.start() : end]))
    for match in _CARD.finditer(text):
        if _is_card(match.group()):
            found.append(PiiMatch(PiiKind.CARD, match.span(), match.group()))
    for match in _PHONE_INTERNATIONAL.finditer(text):
        if _phone_digits_ok(match.group()):
            found.append(PiiMatch(PiiKind.PHONE, match.span(), match.group()))
    for match in _PHONE_NORTH_AMERICA.finditer(text):
        area = match.group("area") or match.group("area2")
        # Real area codes and exchanges never start with 0 or 1.
        if area[0] in "01" or match.group("exchange")[0] in "01":
            continue
        found.append(PiiMatch(PiiKind.PHONE, match.span(), match.group()))
    if len(found) < 2:
        return found
    kept: list[PiiMatch] = []
    for match in found:  # already in precedence order
        start, end = match.span
        if all(end <= k.span[0] or k.span[1] <= start for k in kept):
            kept.append(match)
    kept.sort(key=lambda m: m.span)
    return kept


def redact(text: str) -> tuple[str, list[PiiMatch]]:
    """Return ``text`` with personal data replaced by "[email removed]" etc., and the matches.

    Spans in the matches refer to the original text.
    """
    matches = find_pii(text)
    if not matches:
        return text, matches
    pieces: list[str] = []
    at = 0
    for match in matches:
        start, end = match.span
        pieces.append(text[at:start])
        pieces.append(REDACTION[match.kind])
        at = end
    pieces.append(text[at:])
    return "".join(pieces), matches


def _findings(field: str, text: str) -> tuple[CheckFinding, ...]:
    key = (field, text)
    found = _findings_memo.get(key)
    if found is None:
        found = remember(_findings_memo, key, _build_findings(field, text))
    return found


def _build_findings(field: str, text: str) -> tuple[CheckFinding, ...]:
    return tuple(
        CheckFinding(
            agent=AGENT,
            rule_id=f"pii.{match.kind.value}",
            severity=Severity.BLOCK,
            message=f"Contains {match.masked}; personal or payment data must not be published.",
            field=field,
            span=match.span,
            suggested_fix=remove_span(text, *match.span),
        )
        for match in _pii_in(text)
    )


def check_pii(draft: Draft) -> list[CheckFinding]:
    """Return a blocking finding for each piece of personal or payment data in the draft."""
    findings: list[CheckFinding] = []
    for field, text in field_texts(draft.fields):
        findings += _findings(field, text)
    return findings


def check_pii_text(label: str, text: str) -> list[CheckFinding]:
    """Return findings for one input text (a brief field, a note), with ``field=label``."""
    return list(_findings(label, text))
