"""Casing rules of a channel's text: lowercase, title case, sentence case, and no ALL CAPS.

Pure: each check returns what is wrong (the message's middle, the span, the fixed text) or
None; the spec check turns it into a finding with the channel's citation.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from signoff.agents.checks.trimming import MINOR_WORDS

# Units are written lowercase after a number ("8 oz", "250 ml") whatever the casing rule.
UNITS = frozenset(
    "oz fl ml cl l g kg mg lb lbs in ft yd cm mm m h hr hrs hours min ct pk pc pcs qt gal x".split()
)
_TOKEN = re.compile(r"\S+")
# Two or more capitalised words in a row ("FREE SHIPPING"); single acronyms ("USB") pass.
_CAPS_RUN = re.compile(r"(?<![\w'’])[A-Z][A-Z'’]+(?:[\s/&+-]+[A-Z][A-Z'’]+)+(?![\w'’])")
_CAPS_RUN_MIN_LETTERS = 7


class CasingProblem(NamedTuple):
    message: str  # what is wrong, between the field path and the channel's citation
    span: tuple[int, int]
    fixed: str


def casing_problem(channel: str, casing: str, text: str) -> CasingProblem | None:
    """What breaks the channel's casing rule in ``text``, or None."""
    if casing == "lower":
        for index, char in enumerate(text):
            if char.isupper():
                return CasingProblem(
                    f"has capital letters; {channel} wants lowercase",
                    (index, index + 1),
                    text.lower(),
                )
        return None
    shouting = _shouting_span(text)
    if shouting is not None:
        start, end = shouting
        fixed = text[:start] + _capitalize_words(text[start:end]) + text[end:]
        if casing == "sentence" and start == 0 and end >= len(text.rstrip()):
            fixed = text[:1].upper() + text[1:].lower()
        return CasingProblem(
            f"has ALL CAPS text ({text[start:end]!r}); {channel} does not allow ALL CAPS",
            shouting,
            fixed,
        )
    if casing == "title":
        return _title_case(channel, text)
    if casing == "sentence":
        return _sentence_case(channel, text)
    return None


def _shouting_span(text: str) -> tuple[int, int] | None:
    """Return the span of ALL CAPS text: the whole text, or a run of capitalised words."""
    letters = sum(1 for char in text if char.isalpha()) if text.isupper() else 0
    if letters >= 4:
        stripped = text.rstrip()
        return (len(text) - len(text.lstrip()), len(stripped))
    for match in _CAPS_RUN.finditer(text):
        if sum(1 for char in match.group() if char.isalpha()) >= _CAPS_RUN_MIN_LETTERS:
            return match.span()
    return None


def _capitalize_words(text: str) -> str:
    return _TOKEN.sub(lambda m: m.group()[:1] + m.group()[1:].lower(), text)


def _core(token: str) -> tuple[int, int]:
    """Return the [start, end) of a token without its surrounding punctuation."""
    start, end = 0, len(token)
    while start < end and not token[start].isalnum():
        start += 1
    while end > start and not token[end - 1].isalnum():
        end -= 1
    return start, end


def _title_case(channel: str, text: str) -> CasingProblem | None:
    bad: list[tuple[int, int]] = []
    after_number = False
    first = True
    for match in _TOKEN.finditer(text):
        token = match.group()
        start, end = _core(token)
        core = token[start:end]
        if not core:
            after_number = False
            continue
        lead = core[0]
        if lead.isalpha() and lead.islower():
            lowered = core.lower()
            acceptable = (
                (not first and lowered in MINOR_WORDS)
                or (after_number and lowered in UNITS)
                or any(char.isupper() for char in core[1:])  # a brand's own casing: "iPhone"
            )
            if not acceptable:
                bad.append((match.start() + start, match.start() + end))
        after_number = lead.isdigit()
        first = False
    if not bad:
        return None
    words = ", ".join(repr(text[s:e]) for s, e in bad[:5])
    fixed = text
    for s, _ in reversed(bad):
        fixed = fixed[:s] + fixed[s].upper() + fixed[s + 1 :]
    return CasingProblem(
        f"is not in title case ({words}); {channel} capitalizes every word except"
        " short articles, conjunctions and prepositions",
        bad[0],
        fixed,
    )


def _sentence_case(channel: str, text: str) -> CasingProblem | None:
    match = _TOKEN.search(text)
    if match is None:
        return None
    token = match.group()
    start, end = _core(token)
    core = token[start:end]
    if not core or not core[0].isalpha() or not core[0].islower():
        return None
    if any(char.isupper() for char in core[1:]):
        return None  # "iPhone stand ..." opens with a brand's own casing
    at = match.start() + start
    return CasingProblem(
        f"starts with a lowercase letter; {channel} wants it to start with a capital",
        (at, at + 1),
        text[:at] + text[at].upper() + text[at + 1 :],
    )
