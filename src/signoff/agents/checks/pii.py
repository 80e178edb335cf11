"""The PII guard: email addresses, phone numbers, payment cards and IBANs in copy or inputs.

Product copy is full of numbers that are not personal data: prices ("$32.00"), sizes ("8 oz"),
burn times ("50 hours"), years and GTINs. Every detector therefore needs more than digits:
phones need a "+" or "00" country code, North-American grouping with separators, or a
national number as it is dialled (trunk prefix "0" first: "020 7946 0018", "01 23 45 67 89")
that the ``phonenumbers`` library reads as a possible number of a market's region; a run of
bare digits counts only right after a word such as "phone" or "call", and never when it is a
GTIN. Cards need a valid Luhn checksum and no GTIN shape, IBANs a known country code and a
valid mod-97 checksum.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

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
# A national number as dialled: the trunk prefix 0 (or an international 00) first, groups of
# two or more digits split by one space, dot, dash or slash, the area code maybe in brackets.
_PHONE_NATIONAL = re.compile(
    r"(?<![\w+$\u20ac\u00a3.,/-])(?:\(0\d{1,4}\)|0\d{1,5})(?:[ .\-/]?\(?\d{2,8}\)?){1,5}"
    r"(?![\w%\u20ac\u00a3$]|[.,/-]\d)"
)
# A bare run of digits is a number only when the text says so right before it.
_PHONE_CUED = re.compile(
    r"(?i:\b(?:phone|tel|telephone|call|mobile|cell|fax|whatsapp|sms|text|ring|dial|ph)\b)"
    r"\.?\s*(?:no\.?\s*)?:?\s*(?P<number>\d{8,15})(?![\w])"
)
# Dates, and a month and year first ("04/2026 0412" is a batch): never a phone.
# A number the text names as a product's or an order's ("SKU 012-345-6789", "Lot 01 23 45").
_CODE_BEFORE = re.compile(
    r"(?i:\b(?:sku|item|art|article|ref|reference|model|part|order|invoice|batch|lot|gtin|ean"
    r"|upc|isbn|mpn|asin|style|code|serial|s/n)\b[.\s-]*(?:no\.?|nr\.?|number|#)?\s*[:#-]?\s*)$"
)
_DATE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}|(?:0[1-9]|1[0-2])[./-](?:19|20)\d\d\b.*")
_GROUPS = re.compile(r"\d+")
# Where a national number is read from when the market does not say (issue 14).
PHONE_REGIONS = ("US", "GB", "DE", "FR")
_MIN_NATIONAL_DIGITS = 9  # "0815 4711" is as likely an article number as a phone
_MIN_POSSIBLE_DIGITS = 10  # fewer digits: only a number the region really assigns
_NON_DIGITS = re.compile(r"\D")
_NEEDS_DIGITS = re.compile(r"\d")

_MIN_PHONE_DIGITS = 8
_MAX_PHONE_DIGITS = 15  # E.164
_GTIN_LENGTHS = frozenset({13, 14})  # within card length; GTIN-8 and -12 are too short
_ALL_GTIN_LENGTHS = frozenset({8, 12, 13, 14})

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
    # A 13- or 14-digit run with a GS1 check digit, unbroken or printed as barcodes print it
    # ("5 901234 123457"), is a barcode number, not a card.
    printed = digits == candidate or not candidate[1].isdigit()
    return not (printed and len(digits) in _GTIN_LENGTHS and gs1_check_valid(digits))


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


def phone_regions(markets: Iterable[str]) -> tuple[str, ...]:
    """The regions national phone numbers are read from: the markets' own ("en-GB" -> GB),
    then the usual ones (``PHONE_REGIONS``)."""
    own = [m.replace("_", "-").rpartition("-")[2].upper() for m in markets if "-" in m or "_" in m]
    known = phonenumbers.SUPPORTED_REGIONS
    return tuple(dict.fromkeys([r for r in own if r in known] + list(PHONE_REGIONS)))


def _possible_phone(candidate: str, region: str, digits: int) -> bool:
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return False
    if phonenumbers.is_valid_number(number):
        return True
    # Fictional and newly assigned ranges ("07700 900123") are possible but not valid; a
    # long number dialled as such is taken as one.
    return digits >= _MIN_POSSIBLE_DIGITS and phonenumbers.is_possible_number(number)


def _national_phone(candidate: str, regions: tuple[str, ...]) -> bool:
    digits = _NON_DIGITS.sub("", candidate)
    if not _MIN_NATIONAL_DIGITS <= len(digits) <= _MAX_PHONE_DIGITS or _DATE.fullmatch(candidate):
        return False
    groups = _GROUPS.findall(candidate)
    if len(groups) < 2:
        return False  # bare digits: a code or a barcode number unless the text says phone
    if len(digits) in _ALL_GTIN_LENGTHS and gs1_check_valid(digits):
        if len(groups[0]) == 1 or len(groups[-1]) == 1:
            return False  # a barcode number as printed ("0 12345 67890 5")
    if digits.startswith("00"):
        return _possible_phone("+" + digits[2:], "ZZ", len(digits) - 2)
    for region in regions:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        prefix = metadata.national_prefix if metadata else None
        if prefix != "0":
            continue  # "0..." is not how this region dials (North America: its own pattern)
        if _possible_phone(candidate, region, len(digits)):
            return True
    return False


def _cued_phone(digits: str, regions: tuple[str, ...]) -> bool:
    if len(digits) in _ALL_GTIN_LENGTHS and gs1_check_valid(digits):
        return False
    return any(_possible_phone(digits, region, len(digits)) for region in regions)


def find_pii(text: str, regions: tuple[str, ...] = PHONE_REGIONS) -> list[PiiMatch]:
    """Return the personal or payment data in ``text``, in order, without overlaps.

    Where detectors overlap the more specific one wins: email, then IBAN, card, phone.
    ``regions``: where national phone numbers are read from (``phone_regions``).
    """
    return list(_pii_in(text, regions))


# By text: the same copy is checked on every channel and variant of a SKU.
_pii_memo: dict[tuple[str, tuple[str, ...]], tuple[PiiMatch, ...]] = {}
_findings_memo: dict[tuple[str, str, tuple[str, ...]], tuple[CheckFinding, ...]] = {}


def _pii_in(text: str, regions: tuple[str, ...] = PHONE_REGIONS) -> tuple[PiiMatch, ...]:
    key = (text, regions)
    found = _pii_memo.get(key)
    if found is None:
        found = remember(_pii_memo, key, tuple(_scan(text, regions)))
    return found


def _scan(text: str, regions: tuple[str, ...]) -> list[PiiMatch]:
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
    for match in _PHONE_NATIONAL.finditer(text):
        if _CODE_BEFORE.search(text, 0, match.start()):
            continue
        if _national_phone(match.group(), regions):
            found.append(PiiMatch(PiiKind.PHONE, match.span(), match.group()))
    for match in _PHONE_CUED.finditer(text):
        if _cued_phone(match.group("number"), regions):
            span = match.span("number")
            found.append(PiiMatch(PiiKind.PHONE, span, match.group("number")))
    if len(found) < 2:
        return found
    kept: list[PiiMatch] = []
    for match in found:  # already in precedence order
        start, end = match.span
        if all(end <= k.span[0] or k.span[1] <= start for k in kept):
            kept.append(match)
    kept.sort(key=lambda m: m.span)
    return kept


def redact(text: str, regions: tuple[str, ...] = PHONE_REGIONS) -> tuple[str, list[PiiMatch]]:
    """Return ``text`` with personal data replaced by "[email removed]" etc., and the matches.

    Spans in the matches refer to the original text.
    """
    matches = find_pii(text, regions)
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


def _findings(
    field: str, text: str, regions: tuple[str, ...] = PHONE_REGIONS
) -> tuple[CheckFinding, ...]:
    key = (field, text, regions)
    found = _findings_memo.get(key)
    if found is None:
        found = remember(_findings_memo, key, _build_findings(field, text, regions))
    return found


def _build_findings(field: str, text: str, regions: tuple[str, ...]) -> tuple[CheckFinding, ...]:
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
        for match in _pii_in(text, regions)
    )


def check_pii(draft: Draft) -> list[CheckFinding]:
    """Return a blocking finding for each piece of personal or payment data in the draft."""
    findings: list[CheckFinding] = []
    regions = phone_regions((draft.market,))
    for field, text in field_texts(draft.fields):
        findings += _findings(field, text, regions)
    return findings


def check_pii_text(label: str, text: str) -> list[CheckFinding]:
    """Return findings for one input text (a brief field, a note), with ``field=label``."""
    return list(_findings(label, text))
