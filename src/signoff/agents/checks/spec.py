"""The channel-spec check: every limit and rule of the draft's channel, field by field.

Each finding names its rule (``spec.max_chars``, ...), the field path (``title`` or
``bullet_points[2]``), the span it is about and the source of the limit, so a reviewer can see
why it fires and where the number comes from. Limits of a list field apply to each item.

A run checks thousands of drafts against a handful of specs, so each spec is compiled once
(regexes, citations) and the per-draft work is a few regex searches per text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from signoff.agents.checks._text import remember
from signoff.agents.checks.casing import casing_problem
from signoff.agents.checks.trimming import (
    MINOR_WORDS,
    byte_cut_index,
    count_bytes,
    remove_span,
    tidy,
    trim_to_chars,
)
from signoff.agents.context import CheckFinding, Draft, FieldValue, Severity
from signoff.channels.spec import BannedPhrase, ChannelSpec, FieldSpec, RuleSource

AGENT = "spec_checker"


_LETTER_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\u3030\u303d\ufe0f\u200d]+"
)
_TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9]*)\b([^<>]*)>")
_URL = re.compile(
    r"(?i)\b(?:https?://|www\.)[^\s<>\"]+"
    r"|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co|shop|store|us|uk|biz|info)\b[^\s<>\"]*"
)
_JOINER = r"[\s\-\u2010-\u2013]+"
_PHRASE_PARTS = re.compile(_JOINER)
_URL_TAIL = ".,;:!?)]}'\""
_EXCLAMATIONS = re.compile(r"!+")


@dataclass(frozen=True, slots=True)
class _FieldRules:
    """One field's rules, compiled: regexes built and citations formatted once per spec."""

    name: str
    spec: FieldSpec
    banned_char_re: re.Pattern[str] | None
    char_cites: dict[str, str]  # banned char -> " (source: ...)"
    phrase_re: re.Pattern[str] | None
    phrases: tuple[BannedPhrase, ...]  # group "p{i}" of phrase_re is phrases[i]
    check_exclamation: bool
    cites: dict[str, str]  # rule name -> " (source: ...)" or ""
    # Findings by (path, text): bullets such as "Size: 8 oz" recur across a run's SKUs.
    findings: dict[tuple[str, str], tuple[CheckFinding, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _ChannelRules:
    name: str
    fields: dict[str, _FieldRules]
    exclamation_cite: str


def check_spec(draft: Draft) -> list[CheckFinding]:
    """Return every way the draft breaks its channel's spec; empty when it complies."""
    rules = _compiled(draft.channel)
    out: list[CheckFinding] = []
    values = draft.fields
    for name, field_rules in rules.fields.items():
        value = values.get(name)
        if _is_empty(value):
            spec = field_rules.spec
            if spec.required:
                out.append(
                    _finding(
                        "spec.required",
                        Severity.BLOCK,
                        f"{name} is missing; {rules.name} requires {spec.label}"
                        f"{field_rules.cites['required']}",
                        name,
                    )
                )
            continue
        _check_field(rules, field_rules, value, values, out)
    for name in values:
        if name not in rules.fields:
            out.append(
                _finding(
                    "spec.unknown_field",
                    Severity.INFO,
                    f"{name} is not a field of {rules.name}; it will not be delivered",
                    name,
                )
            )
    return out


# ---------------------------------------------------------------- compiling


_CACHE: dict[int, tuple[ChannelSpec, _ChannelRules]] = {}
_CACHE_SIZE = 128


def _compiled(channel: ChannelSpec) -> _ChannelRules:
    # Specs hold lists, so they are unhashable; cache by identity and keep the spec alive so
    # its id cannot be reused by another object while the entry exists.
    hit = _CACHE.get(id(channel))
    if hit is not None and hit[0] is channel:
        return hit[1]
    rules = _compile(channel)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[id(channel)] = (channel, rules)
    return rules


def _cite(source: RuleSource | None) -> str:
    if source is None:
        return ""
    if source.confidence and source.confidence != "confirmed_official":
        return f" (source: {source.source}, {source.confidence})"
    return f" (source: {source.source})"


_FIELD_RULES = (
    "required",
    "min_chars",
    "max_chars",
    "recommended_max_chars",
    "max_bytes",
    "min_items",
    "max_items",
    "casing",
    "max_word_repeats",
    "allow_emoji",
    "allow_html",
    "allow_urls",
    "requires",
)


def _compile(channel: ChannelSpec) -> _ChannelRules:
    channel_char_cite = _cite(channel.cite("banned_chars"))
    fields = {}
    for name, spec in channel.fields.items():
        char_cites = dict.fromkeys(channel.banned_chars, channel_char_cite)
        char_cites.update(dict.fromkeys(spec.banned_chars, _cite(spec.cite("banned_chars"))))
        phrases = tuple(
            sorted(
                (p for p in channel.banned_phrases if p.fields is None or name in p.fields),
                key=lambda p: -len(p.phrase),  # longest first, so "brand new" beats "new"
            )
        )
        fields[name] = _FieldRules(
            name=name,
            spec=spec,
            banned_char_re=_alternation(list(char_cites)),
            char_cites=char_cites,
            phrase_re=_phrase_regex(phrases),
            phrases=phrases,
            check_exclamation=not channel.allow_exclamation and "!" not in char_cites,
            cites={rule: _cite(spec.cite(rule)) for rule in _FIELD_RULES},
        )
    return _ChannelRules(
        name=channel.name,
        fields=fields,
        exclamation_cite=_cite(channel.cite("allow_exclamation")),
    )


def _alternation(items: list[str]) -> re.Pattern[str] | None:
    items = [item for item in items if item]
    if not items:
        return None
    return re.compile("|".join(re.escape(item) for item in sorted(items, key=len, reverse=True)))


def _phrase_regex(phrases: tuple[BannedPhrase, ...]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    alternatives = []
    for index, banned in enumerate(phrases):
        parts = [re.escape(part) for part in _PHRASE_PARTS.split(banned.phrase.strip()) if part]
        alternatives.append(f"(?P<p{index}>{_JOINER.join(parts)})")
    # Hyphens count as part of a word so "free" does not fire inside "phthalate-free".
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])", re.IGNORECASE)


# ---------------------------------------------------------------- per field


def _is_empty(value: FieldValue | None) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return not any(isinstance(item, str) and item.strip() for item in value)


def _check_field(
    rules: _ChannelRules,
    field_rules: _FieldRules,
    value: FieldValue,
    values: Mapping[str, FieldValue],
    out: list[CheckFinding],
) -> None:
    name = field_rules.name
    spec = field_rules.spec
    cites = field_rules.cites
    if spec.requires is not None and _is_empty(values.get(spec.requires)):
        out.append(
            _finding(
                "spec.required",
                Severity.BLOCK,
                f"{spec.requires} is missing; {rules.name} needs it when {name} is set"
                f"{cites['requires']}",
                spec.requires,
            )
        )
    if spec.kind == "list":
        if isinstance(value, str):
            out.append(_kind_finding(rules, name, "a list of texts"))
            _check_text(rules, field_rules, name, value, out)
            return
        count = len(value)
        if spec.min_items is not None and count < spec.min_items:
            out.append(
                _finding(
                    "spec.min_items",
                    Severity.BLOCK,
                    f"{name} has {count} items; {rules.name} needs at least {spec.min_items}"
                    f"{cites['min_items']}",
                    name,
                )
            )
        if spec.max_items is not None and count > spec.max_items:
            out.append(
                _finding(
                    "spec.max_items",
                    Severity.BLOCK,
                    f"{name} has {count} items; {rules.name} allows at most {spec.max_items}"
                    f"{cites['max_items']}",
                    name,
                )
            )
        for index, item in enumerate(value):
            path = f"{name}[{index}]"
            if not isinstance(item, str) or not item.strip():
                out.append(
                    _finding(
                        "spec.required",
                        Severity.BLOCK,
                        f"{path} is empty; remove it or fill it",
                        path,
                    )
                )
                continue
            _check_text(rules, field_rules, path, item, out)
        return
    if not isinstance(value, str):
        out.append(_kind_finding(rules, name, "a single text"))
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                _check_text(rules, field_rules, f"{name}[{index}]", item, out)
        return
    _check_text(rules, field_rules, name, value, out)


def _kind_finding(rules: _ChannelRules, name: str, expected: str) -> CheckFinding:
    return _finding(
        "spec.kind", Severity.BLOCK, f"{name} should be {expected} for {rules.name}", name
    )


def _check_text(
    rules: _ChannelRules,
    field_rules: _FieldRules,
    path: str,
    text: str,
    out: list[CheckFinding],
) -> None:
    key = (path, text)
    found = field_rules.findings.get(key)
    if found is None:
        in_text: list[CheckFinding] = []
        _check_text_uncached(rules, field_rules, path, text, in_text)
        found = remember(field_rules.findings, key, tuple(in_text))
    out += found


def _check_text_uncached(
    rules: _ChannelRules,
    field_rules: _FieldRules,
    path: str,
    text: str,
    out: list[CheckFinding],
) -> None:
    spec = field_rules.spec
    cites = field_rules.cites
    channel = rules.name
    length = len(text)

    if spec.min_chars is not None and length < spec.min_chars:
        out.append(
            _finding(
                "spec.min_chars",
                Severity.BLOCK,
                f"{path} is {length} characters; {channel} needs at least {spec.min_chars}"
                f"{cites['min_chars']}",
                path,
            )
        )
    if spec.max_chars is not None and length > spec.max_chars:
        out.append(
            _finding(
                "spec.max_chars",
                Severity.BLOCK,
                f"{path} is {length} characters; {channel} allows at most {spec.max_chars}"
                f"{cites['max_chars']}",
                path,
                (spec.max_chars, length),
                trim_to_chars(text, spec.max_chars),
            )
        )
    elif spec.recommended_max_chars is not None and length > spec.recommended_max_chars:
        limit = spec.recommended_max_chars
        out.append(
            _finding(
                "spec.recommended_max_chars",
                Severity.WARN,
                f"{path} is {length} characters; {channel} recommends at most {limit}"
                f"{cites['recommended_max_chars']}",
                path,
                (limit, length),
                trim_to_chars(text, limit),
            )
        )
    if spec.max_bytes is not None:
        _check_bytes(channel, spec, cites, path, text, out)
    if field_rules.banned_char_re is not None:
        _check_banned_chars(channel, field_rules, path, text, out)
    if field_rules.phrase_re is not None:
        _check_phrases(channel, field_rules, path, text, out)
    if spec.casing != "any":
        finding = _check_casing(channel, spec.casing, cites["casing"], path, text)
        if finding is not None:
            out.append(finding)
    if spec.max_word_repeats is not None:
        finding = _check_repeats(channel, spec.max_word_repeats, cites, path, text)
        if finding is not None:
            out.append(finding)
    if not spec.allow_emoji:
        match = _EMOJI.search(text)
        if match:
            out.append(
                _finding(
                    "spec.emoji",
                    Severity.BLOCK,
                    f"{path} contains emoji or pictographs ({match.group()}); {channel} does not"
                    f" allow them{cites['allow_emoji']}",
                    path,
                    match.span(),
                    tidy(_EMOJI.sub(" ", text)) or None,
                )
            )
    if "<" in text:
        finding = _check_html(channel, spec, cites, path, text)
        if finding is not None:
            out.append(finding)
    if not spec.allow_urls and ("." in text or "@" in text):
        match = _URL.search(text)
        if match:
            start, end = match.start(), match.end()
            while end > start and text[end - 1] in _URL_TAIL:
                end -= 1
            out.append(
                _finding(
                    "spec.url",
                    Severity.BLOCK,
                    f"{path} contains a link or e-mail address ({text[start:end]}); {channel}"
                    f" does not allow links or contact details{cites['allow_urls']}",
                    path,
                    (start, end),
                    remove_span(text, start, end),
                )
            )
    if field_rules.check_exclamation and "!" in text:
        start = text.index("!")
        out.append(
            _finding(
                "spec.exclamation",
                Severity.BLOCK,
                f"{path} contains an exclamation mark; {channel} does not allow them"
                f"{rules.exclamation_cite}",
                path,
                (start, start + 1),
                _EXCLAMATIONS.sub(".", text).replace("..", "."),
            )
        )


def _check_bytes(
    channel: str,
    spec: FieldSpec,
    cites: dict[str, str],
    path: str,
    text: str,
    out: list[CheckFinding],
) -> None:
    limit = spec.max_bytes
    assert limit is not None
    ignore = spec.bytes_ignore_spaces_punctuation
    size = count_bytes(text, ignore_spaces_punctuation=ignore)
    if size <= limit:
        return
    cut = byte_cut_index(text, limit, ignore_spaces_punctuation=ignore)
    counted = " (spaces and punctuation not counted)" if ignore else ""
    out.append(
        _finding(
            "spec.max_bytes",
            Severity.BLOCK,
            f"{path} is {size} bytes{counted}; {channel} allows at most {limit}"
            f"{cites['max_bytes']}",
            path,
            (cut, len(text)),
            trim_to_chars(text, cut),
        )
    )


def _check_banned_chars(
    channel: str, field_rules: _FieldRules, path: str, text: str, out: list[CheckFinding]
) -> None:
    pattern = field_rules.banned_char_re
    assert pattern is not None
    found: dict[str, list[int]] = {}
    for match in pattern.finditer(text):
        found.setdefault(match.group(), []).append(match.start())
    if not found:
        return
    fixed = tidy(pattern.sub(" ", text)) or None
    for char, starts in found.items():
        times = f" ({len(starts)} times)" if len(starts) > 1 else ""
        out.append(
            _finding(
                "spec.banned_char",
                Severity.BLOCK,
                f"{path} contains {char!r}{times}; {channel} does not allow it"
                f"{field_rules.char_cites.get(char, '')}",
                path,
                (starts[0], starts[0] + len(char)),
                fixed,
            )
        )


def _check_phrases(
    channel: str, field_rules: _FieldRules, path: str, text: str, out: list[CheckFinding]
) -> None:
    pattern = field_rules.phrase_re
    assert pattern is not None
    seen: set[int] = set()
    for match in pattern.finditer(text):
        index = int(match.lastgroup[1:])  # type: ignore[index]
        if index in seen:
            continue  # one finding per phrase per text; the fix removes the first
        seen.add(index)
        banned = field_rules.phrases[index]
        reason = f" ({banned.reason})" if banned.reason else ""
        verb = "does not allow" if banned.severity == "block" else "advises against"
        out.append(
            _finding(
                "spec.banned_phrase",
                Severity.BLOCK if banned.severity == "block" else Severity.WARN,
                f"{path} contains {match.group()!r}; {channel} {verb} {banned.phrase!r}{reason}"
                f"{_cite(_phrase_source(banned))}",
                path,
                match.span(),
                remove_span(text, match.start(), match.end()),
            )
        )


def _phrase_source(banned: BannedPhrase) -> RuleSource | None:
    if banned.source is None:
        return None
    return RuleSource(source=banned.source, confidence=banned.confidence)


# ---------------------------------------------------------------- casing and repeats


def _check_casing(
    channel: str, casing: str, cite: str, path: str, text: str
) -> CheckFinding | None:
    problem = casing_problem(channel, casing, text)
    if problem is None:
        return None
    message = f"{path} {problem.message}{cite}"
    return _finding("spec.casing", Severity.BLOCK, message, path, problem.span, problem.fixed)


def _check_repeats(
    channel: str, limit: int, cites: dict[str, str], path: str, text: str
) -> CheckFinding | None:
    words = [
        (match.group().lower(), match.span())
        for match in _LETTER_WORD.finditer(text)
        if match.group().lower() not in MINOR_WORDS
    ]
    counts = Counter(word for word, _ in words)
    repeated = [word for word, count in counts.items() if count > limit]
    if not repeated:
        return None
    word = repeated[0]
    spans = [span for w, span in words if w == word]
    extra = spans[limit:]
    fixed = text
    for start, end in reversed(extra):
        fixed = remove_span(fixed, start, end) or fixed
    others = f" (also {', '.join(repr(w) for w in repeated[1:])})" if len(repeated) > 1 else ""
    return _finding(
        "spec.word_repeats",
        Severity.BLOCK,
        f"{path} uses {word!r} {counts[word]} times{others}; {channel} allows a word at most"
        f" {limit} times{cites['max_word_repeats']}",
        path,
        extra[0],
        fixed,
    )


def _check_html(
    channel: str, spec: FieldSpec, cites: dict[str, str], path: str, text: str
) -> CheckFinding | None:
    allowed = {tag.lower() for tag in spec.html_tags}
    for match in _TAG.finditer(text):
        tag = match.group(1).lower()
        if not spec.allow_html:
            why = "accepts plain text only"
        elif allowed and tag not in allowed:
            why = f"accepts only these tags: {', '.join(spec.html_tags)}"
        elif allowed and match.group(2).strip(" /"):
            why = "accepts no attributes on tags"
        else:
            continue
        return _finding(
            "spec.html",
            Severity.BLOCK,
            f"{path} contains HTML ({match.group()}); {channel} {why}{cites['allow_html']}",
            path,
            match.span(),
            tidy(_strip_tags(text, spec.allow_html, allowed)) or None,
        )
    return None


def _strip_tags(text: str, allow_html: bool, allowed: set[str]) -> str:
    def keep_or_drop(match: re.Match[str]) -> str:
        tag = match.group(1).lower()
        if allow_html and (not allowed or tag in allowed) and not match.group(2).strip(" /"):
            return match.group()
        return " "

    return _TAG.sub(keep_or_drop, text)


def _finding(
    rule_id: str,
    severity: Severity,
    message: str,
    field: str,
    span: tuple[int, int] | None = None,
    suggested_fix: str | None = None,
) -> CheckFinding:
    return CheckFinding(
        agent=AGENT,
        rule_id=rule_id,
        severity=severity,
        message=message,
        field=field,
        span=span,
        suggested_fix=suggested_fix,
    )
