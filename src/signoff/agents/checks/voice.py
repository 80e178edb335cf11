"""The brand-voice check: terminology, banned phrases, sentence length, exclamations, tone, caps.

Each list item is checked as its own text, so a bullet never runs into the next one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from signoff.agents.checks._text import (
    IdentityCache,
    PhraseIndex,
    lowered,
    match_case,
    remember,
    remove_phrase,
    replace_span,
    reword_span,
    starts_sentence,
)
from signoff.agents.context import (
    BannedTerm,
    BrandRules,
    CheckFinding,
    Draft,
    Severity,
    Term,
    field_texts,
)

AGENT = "brand_voice"

# Hype that reads as shouting in calm or factual copy, in any tone.
STRONG_HYPE = (
    "amazing",
    "incredible",
    "unbelievable",
    "revolutionary",
    "must-have",
    "must have",
    "game-changer",
    "game changer",
    "game-changing",
    "best ever",
    "insane",
    "insanely",
    "epic",
    "OMG",
    "mind-blowing",
    "jaw-dropping",
    "life-changing",
    "to die for",
    "unreal",
    "out of this world",
)
# Mild enthusiasm a playful channel can carry but calm or factual copy should not.
MILD_HYPE = ("fun", "cute", "awesome", "obsessed", "gorgeous", "stunning", "wow")
PLAYFUL_TONES = frozenset({"playful", "bold", "energetic"})

# Acronyms that are written in capitals on purpose.
KNOWN_ACRONYMS = frozenset(
    {
        "ASIN",
        "ASTM",
        "CPSC",
        "FAQS",
        "GTIN",
        "HEPA",
        "HTML",
        "IBAN",
        "ISBN",
        "JPEG",
        "MSRP",
        "NASA",
        "OEKO",
        "USDA",
        "UUID",
        "VEGAN",  # certification marks print it this way
    }
)

# Abbreviations after which a full stop rarely ends the sentence.
_NON_TERMINAL = frozenset(
    {"e.g", "i.e", "vs", "approx", "incl", "no", "nos", "mr", "mrs", "ms", "dr", "st", "fl", "ca"}
)

# The leading lookaheads let the regex engine skip quickly to candidate characters.
_SENTENCE_END = re.compile(
    r"(?=[.!?\n])(?:[.!?]+[\"'\u201d\u2019)]*(?=\s+[\"'\u201c\u2018(]?[A-Z0-9])|\n+)"
)
_WORD = re.compile(r"\w[\w'\u2019\-]*")
_TOKEN_BEFORE = re.compile(r"([\w.]+)\.+$")
_EXCLAMATIONS = re.compile(r"!+")
_SHOUTING = re.compile(r"(?=[A-Z]{2})(?<![\w-])[A-Z][A-Z\u00c0-\u00de]{3,}(?![\w-])")
_HYPE_STRONG = PhraseIndex((word, word) for word in STRONG_HYPE)
_HYPE_ALL = PhraseIndex((word, word) for word in STRONG_HYPE + MILD_HYPE)


# eq=False: hashed by identity, cheaply, as part of the per-text memo's keys.
@dataclass(frozen=True, slots=True, eq=False)
class _Terminology:
    # Avoided form -> the approved term, split by how the form must be matched.
    any_case: PhraseIndex[str]
    exact_case: PhraseIndex[str]


def _compile_terminology(terminology: tuple[Term, ...]) -> _Terminology:
    any_case: list[tuple[str, str]] = []
    exact_case: list[tuple[str, str]] = []
    for term in terminology:
        for avoid in term.avoid:
            if avoid == term.use:
                continue
            # "Lumen home" differs from "Lumen Home" only by case: matching it loosely would
            # flag the correct spelling, so such forms match exactly.
            target = exact_case if avoid.lower() == term.use.lower() else any_case
            target.append((avoid, term.use))
    return _Terminology(
        any_case=PhraseIndex(any_case, flexible=False),
        exact_case=PhraseIndex(exact_case, flexible=False, case_sensitive=True),
    )


def _compile_banned(banned: tuple[BannedTerm, ...]) -> PhraseIndex[BannedTerm]:
    return PhraseIndex((entry.phrase, entry) for entry in banned)


# Keyed on the rules' own tuples, so a run over one workspace compiles each once.
_terminologies = IdentityCache(_compile_terminology)
_banned_indexes = IdentityCache(_compile_banned)


def _terminology(
    terminology: _Terminology, path: str, text: str, low: str | None
) -> list[CheckFinding]:
    found = terminology.any_case.find(text, low) + terminology.exact_case.find(text, low)
    findings = []
    for start, end, use in found:
        written = text[start:end]
        findings.append(
            CheckFinding(
                agent=AGENT,
                rule_id="voice.terminology",
                severity=Severity.WARN,
                message=f"Write '{use}', not '{written}'.",
                field=path,
                span=(start, end),
                suggested_fix=reword_span(text, start, end, match_case(use, written)),
            )
        )
    return findings


def _banned(
    index: PhraseIndex[BannedTerm], path: str, text: str, low: str | None
) -> list[CheckFinding]:
    findings = []
    for start, end, banned in index.find(text, low):
        written = text[start:end]
        message = f"'{written}' is a banned phrase"
        if banned.reason:
            message += f" ({banned.reason})"
        if banned.suggest:
            message += f"; write '{banned.suggest}' instead"
            fix: str | None = reword_span(
                text, start, end, match_case(banned.suggest, written), meaning_flips=True
            )
        else:
            fix = remove_phrase(text, start, end)
        if fix is None:
            # A swap or cut that would change the meaning or break the sentence is no fix.
            message += "; no automatic fix: it would change the meaning or the grammar here"
        findings.append(
            CheckFinding(
                agent=AGENT,
                rule_id="voice.banned_phrase",
                severity=Severity.BLOCK,
                message=message + ".",
                field=path,
                span=(start, end),
                suggested_fix=fix,
            )
        )
    return findings


def sentences(text: str) -> list[tuple[int, int]]:
    """Return the [start, end) span of each sentence, trimmed of surrounding whitespace.

    A full stop after "e.g." or "approx." does not end a sentence; "8 oz. Hand-poured" does,
    because a capital follows. Line breaks always end one, so line-separated lists split.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group()[0] == ".":
            token = _TOKEN_BEFORE.search(text, max(0, match.start() - 12), match.start() + 1)
            if token and token.group(1).lower() in _NON_TERMINAL:
                continue
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    trimmed = []
    for s_start, s_end in spans:
        segment = text[s_start:s_end]
        lead = len(segment) - len(segment.lstrip())
        trail = len(segment) - len(segment.rstrip())
        if s_end - trail > s_start + lead:
            trimmed.append((s_start + lead, s_end - trail))
    return trimmed


def _sentence_length(limit: int, path: str, text: str) -> list[CheckFinding]:
    # Every word takes at least one character and one separator, so short texts cannot
    # hold a long sentence; most titles and bullets stop here.
    if (len(text) + 1) // 2 <= limit:
        return []
    findings = []
    for start, end in sentences(text):
        words = len(_WORD.findall(text, start, end))
        if words > limit:
            findings.append(
                CheckFinding(
                    agent=AGENT,
                    rule_id="voice.sentence_length",
                    severity=Severity.WARN,
                    message=f"Sentence has {words} words; the brand's limit is {limit}.",
                    field=path,
                    span=(start, end),
                )
            )
    return findings


def _exclamations(path: str, text: str) -> list[CheckFinding]:
    if "!" not in text:
        return []
    findings = []
    for match in _EXCLAMATIONS.finditer(text):
        start, end = match.span()
        # "?!" already ends the sentence; elsewhere the mark becomes a full stop.
        after_stop = start > 0 and text[start - 1] in ".?"
        findings.append(
            CheckFinding(
                agent=AGENT,
                rule_id="voice.exclamation",
                severity=Severity.WARN,
                message="The brand voice uses no exclamation marks.",
                field=path,
                span=(start, end),
                suggested_fix=replace_span(text, start, end, "" if after_stop else "."),
            )
        )
    return findings


def _tone(tone: str, path: str, text: str, low: str | None) -> list[CheckFinding]:
    hype = _HYPE_STRONG if tone in PLAYFUL_TONES else _HYPE_ALL
    return [
        CheckFinding(
            agent=AGENT,
            rule_id="voice.tone",
            severity=Severity.WARN,
            message=f"'{text[start:end]}' is hype that clashes with the {tone} tone.",
            field=path,
            span=(start, end),
        )
        for start, end, _ in hype.find(text, low)
    ]


def _shouting(allowed: frozenset[str], path: str, text: str) -> list[CheckFinding]:
    findings = []
    for match in _SHOUTING.finditer(text):
        word = match.group()
        if word in KNOWN_ACRONYMS or word in allowed:
            continue
        start, end = match.span()
        calm = word.capitalize() if starts_sentence(text, start) else word.lower()
        findings.append(
            CheckFinding(
                agent=AGENT,
                rule_id="voice.shouting",
                severity=Severity.INFO,
                message=f"'{word}' is in capitals; write it in normal case.",
                field=path,
                span=(start, end),
                suggested_fix=replace_span(text, start, end, calm),
            )
        )
    return findings


def _own_capitals(draft: Draft, rules: BrandRules) -> frozenset[str]:
    # Words the brand or product itself writes in capitals ("NOIR Candle") are names.
    sources = [rules.brand_name, draft.product.name, *draft.product.attributes.values()]
    return frozenset(
        word for source in sources for word in _SHOUTING.findall(str(source)) if source
    )


def check_voice(draft: Draft, rules: BrandRules) -> list[CheckFinding]:
    """Return the draft's departures from the brand voice, field by field, in reading order."""
    terminology = _terminologies.get(rules.terminology)
    banned = _banned_indexes.get(rules.banned)
    tone = rules.tone_for(draft.channel.id, draft.channel.tone)
    limit = rules.max_sentence_words
    forbid_exclamation = rules.forbid_exclamation
    own_capitals: frozenset[str] | None = None
    findings: list[CheckFinding] = []
    for path, text in field_texts(draft.fields):
        if not text:
            continue
        sentence_limit = limit if limit and _has_sentences(draft, path) else None
        # Everything but shouting depends only on these, and the same texts recur on every
        # channel and variant of a SKU; the compiled indexes in the key are shared by every
        # rules object with the same terminology and banned phrases.
        key = (terminology, banned, tone, sentence_limit, forbid_exclamation, path, text)
        hit = _field_memo.get(key)
        if hit is None:
            hit = remember(_field_memo, key, _field_findings(key))
        in_field, shouts = hit
        if shouts:
            if own_capitals is None:
                own_capitals = _own_capitals(draft, rules)
            shouting = _shouting(own_capitals, path, text)
            if shouting:
                # ``in_field`` is already sorted stably, so sorting again with the shouting
                # findings appended orders them exactly as sorting everything at once would.
                findings += sorted([*in_field, *shouting], key=_position)
                continue
        findings += in_field
    return findings


_FieldKey = tuple[_Terminology, PhraseIndex[BannedTerm], str, int | None, bool, str, str]
_field_memo: dict[_FieldKey, tuple[tuple[CheckFinding, ...], bool]] = {}


def _field_findings(key: _FieldKey) -> tuple[tuple[CheckFinding, ...], bool]:
    """Return one text's findings but shouting, sorted, and whether it has capitals to check."""
    terminology, banned, tone, sentence_limit, forbid_exclamation, path, text = key
    low = lowered(text)
    in_field = _terminology(terminology, path, text, low) + _banned(banned, path, text, low)
    if sentence_limit:
        in_field += _sentence_length(sentence_limit, path, text)
    if forbid_exclamation:
        in_field += _exclamations(path, text)
    in_field += _tone(tone, path, text, low)
    if len(in_field) > 1:
        in_field.sort(key=_position)
    return tuple(in_field), _SHOUTING.search(text) is not None


# Fields of words, not sentences: a keyword list is not one long sentence.
_NOT_PROSE = frozenset({"keywords", "hashtags", "path", "item_specifics"})


def _has_sentences(draft: Draft, path: str) -> bool:
    spec = draft.channel.fields.get(path.split("[", 1)[0])
    return spec is None or spec.compose not in _NOT_PROSE


def _position(finding: CheckFinding) -> int:
    return finding.span[0] if finding.span else 0
