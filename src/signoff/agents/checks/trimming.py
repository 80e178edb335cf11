"""Measuring and trimming text for suggested fixes: byte counts, cuts at a word boundary, and
removing a span so what is left still reads as a phrase. Pure."""

from __future__ import annotations

import re

# Title case leaves these lowercase (Amazon: articles, conjunctions, short prepositions); the
# builtin composer's list is a subset, so its titles pass.
MINOR_WORDS = frozenset(
    "a an the and or for nor but so yet as at by for from in into of on onto over per to via vs "
    "with".split()
)
# What Amazon leaves out of the search-terms byte count: spaces and punctuation.
_UNCOUNTED = re.compile(
    r"[\s!-/:-@\[-`{-~\u00a1\u00ab\u00b7\u00bb\u00bf\u2010-\u2027\u2030-\u205e\u3000-\u3003]"
)
_TRIM_JUNK = " \t\n,;:-–—/&|(+"


def count_bytes(text: str, *, ignore_spaces_punctuation: bool = False) -> int:
    """UTF-8 bytes of ``text``; Amazon's search terms leave out spaces and punctuation."""
    if ignore_spaces_punctuation:
        text = _UNCOUNTED.sub("", text)
    return len(text.encode("utf-8"))


def byte_cut_index(text: str, limit: int, *, ignore_spaces_punctuation: bool) -> int:
    """Return the index of the first character that takes the count past ``limit``."""
    used = 0
    for index, char in enumerate(text):
        if not (ignore_spaces_punctuation and _UNCOUNTED.match(char)):
            used += len(char.encode("utf-8"))
        if used > limit:
            return index
    return len(text)


def trim_to_chars(text: str, limit: int) -> str | None:
    """Return ``text`` cut to at most ``limit`` characters at a word boundary, or None.

    Trailing commas, dashes and dangling small words ("with", "and") go too, so the suggestion
    reads as a whole phrase.
    """
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if not text[limit].isspace() and not cut[-1:].isspace():
        space = max(cut.rfind(" "), cut.rfind("\n"))
        if space > 0:
            cut = cut[:space]
    cut = cut.rstrip(_TRIM_JUNK)
    while " " in cut:
        head, last = cut.rsplit(" ", 1)
        if last.lower() not in MINOR_WORDS:
            break
        cut = head.rstrip(_TRIM_JUNK)
    return cut or None


_SPACE_RUN = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([,.;:!?)\]])")
_COMMA_RUN = re.compile(r",(?:\s*,)+")
_COMMA_BEFORE_STOP = re.compile(r",\s*([.;:!?)\]]|$)")
_LEADING_JUNK = re.compile(r"^[\s,;:.]+")


def tidy(text: str) -> str:
    """Clean up what a deletion leaves behind: double spaces, stray commas, leading commas."""
    text = _SPACE_RUN.sub(" ", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _COMMA_RUN.sub(",", text)
    text = _COMMA_BEFORE_STOP.sub(r"\1", text)
    text = _LEADING_JUNK.sub("", text)
    return text.strip()


def remove_span(text: str, start: int, end: int) -> str | None:
    """Return ``text`` without ``[start, end)``, tidied; None when nothing sensible is left."""
    head, tail = text[:start], text[end:]
    if not head.strip() and text[start : start + 1].isupper():
        # The removed words opened the text: the next word takes over the capital.
        tail = re.sub(r"[^\W\d_]", lambda m: m.group().upper(), tail, count=1)
    result = tidy(head + tail)
    while " " in result:
        rest, last = result.rsplit(" ", 1)
        if last.lower() not in MINOR_WORDS:
            break
        result = rest.rstrip(_TRIM_JUNK)  # "Candle with" reads as cut off
    return result if any(char.isalnum() for char in result) else None
