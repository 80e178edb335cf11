"""Small text helpers the checks share: phrase patterns, span edits, per-rules caches.

Pure Python. Suggested fixes are whole field texts, so every edit here returns the new text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

# Hyphen-like characters people and word processors put between the parts of a compound.
_JOINER = r"[\s\-\u2010\u2011\u2012\u2013]+"
_PARTS = re.compile(_JOINER)
_WHITESPACE = re.compile(r"\s+")
_WORD_CHAR = re.compile(r"\w")

_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([,.;:!?)\]])")
_REPEATED_COMMA = re.compile(r",(?:[ \t]*,)+")
_COMMA_BEFORE_STOP = re.compile(r",[ \t]*([.;:!?)\]])")
_DANGLING_JOIN = re.compile(r"[ \t]+(?:and|or|with|&)[ \t]*([.,;:!?])", re.IGNORECASE)
_EMPTY_BRACKETS = re.compile(r"\([ \t]*\)|\[[ \t]*\]")
_SENTENCE_LEADING_PUNCT = re.compile(r"([.!?\n][ \t]*)[,;:][ \t]*")
_TEXT_LEADING_DEBRIS = re.compile(r"^[\s,;:]+")
_TEXT_TRAILING_DEBRIS = re.compile(r"(?:[\s,;:]|\s(?:and|or|with|&))+$", re.IGNORECASE)
# How far either side of an edit the debris can reach; the rest of the text is left as written.
_SEAM = 40


def _bounded(phrase: str, body: str) -> str:
    # \b is much cheaper for the regex engine than a lookaround, but only means "word edge"
    # next to a word character.
    lead = r"\b" if _WORD_CHAR.match(phrase[0]) else r"(?<!\w)"
    tail = r"\b" if _WORD_CHAR.match(phrase[-1]) else r"(?!\w)"
    return lead + body + tail


def phrase_pattern(phrase: str) -> str:
    """Return a regex for ``phrase`` as whole words, with hyphens and spaces interchangeable.

    "clean burning", "clean-burning" and "Clean  Burning" all match the same pattern (compile
    it with re.IGNORECASE).
    """
    phrase = phrase.strip()
    parts = [re.escape(part) for part in _PARTS.split(phrase) if part]
    return _bounded(phrase, _JOINER.join(parts))


def exact_pattern(phrase: str) -> str:
    """Return a regex for ``phrase`` as whole words, spacing flexible, hyphens significant."""
    phrase = phrase.strip()
    return _bounded(phrase, r"\s+".join(re.escape(part) for part in phrase.split()))


def lowered(text: str) -> str | None:
    """Return ``text`` lower-cased if that keeps every offset (it does unless e.g. "İ")."""
    low = text.lower()
    return low if len(low) == len(text) else None


P = TypeVar("P")


class PhraseIndex(Generic[P]):
    """Find many whole-word phrases in one regex pass and say which phrase each match is.

    One alternation, longest phrase first, without capturing groups: groups around branches
    make Python's regex engine try every branch at every position, about 30 times slower.
    The matched words are normalised and looked up instead.

    ``flexible``: hyphens and spaces are interchangeable ("clean-burning" is "clean burning");
    otherwise only spacing is flexible ("hand poured" is not "hand-poured").
    ``case_sensitive``: "Lumen home" matches only itself, not "Lumen Home".
    """

    def __init__(
        self,
        entries: Iterable[tuple[str, P]],
        *,
        flexible: bool = True,
        case_sensitive: bool = False,
    ) -> None:
        self._flexible = flexible
        self._case_sensitive = case_sensitive
        self._payloads: dict[str, P] = {}
        sources: dict[str, int] = {}
        needles: set[str] = set()
        for phrase, payload in entries:
            phrase = phrase.strip()
            if not phrase:
                continue
            # A phrase cannot match unless its longest word is somewhere in the text; checking
            # that with `in` is several times cheaper than the regex scan it usually saves.
            needles.add(max(_PARTS.split(phrase.lower()), key=len))
            self._payloads.setdefault(self.key(phrase), payload)
            # Copy usually writes a phrase as registered: that form skips normalising.
            self._payloads.setdefault(phrase if case_sensitive else phrase.lower(), payload)
            # Case-insensitive indexes scan lower-cased text, so their literals are lower-case.
            literal = phrase if case_sensitive else phrase.lower()
            source = phrase_pattern(literal) if flexible else exact_pattern(literal)
            sources[source] = max(sources.get(source, 0), len(phrase))
        self._needles = tuple(sorted(needles))
        ordered = sorted(sources, key=lambda source: sources[source], reverse=True)
        alternation = "|".join(ordered)
        self._pattern = re.compile(alternation) if ordered else None
        self._any_case = (
            re.compile(alternation, re.IGNORECASE) if ordered and not case_sensitive else None
        )

    def key(self, words: str) -> str:
        """Return the lookup form of a phrase or of matched words."""
        if not self._case_sensitive:
            words = words.lower()
        splitter = _PARTS if self._flexible else _WHITESPACE
        return " ".join(part for part in splitter.split(words.strip()) if part)

    def find(self, text: str, low: str | None = None) -> list[tuple[int, int, P]]:
        """Return (start, end, payload) for each match in ``text``, leftmost-longest.

        Pass ``low=lowered(text)`` when scanning one text with several indexes.
        """
        if self._pattern is None:
            return []
        if low is None:
            low = lowered(text)
        if low is not None and not any(needle in low for needle in self._needles):
            return []
        if self._case_sensitive:
            matches = self._pattern.finditer(text)
        elif low is not None:
            matches = self._pattern.finditer(low)
        else:
            matches = self._any_case.finditer(text)  # type: ignore[union-attr]
        payloads = self._payloads
        found = []
        for match in matches:
            start, end = match.span()
            payload = payloads.get(match.group())
            if payload is None:
                payload = payloads.get(self.key(text[start:end]))
            if payload is not None:
                found.append((start, end, payload))
        return found


def _tidy_seam(seam: str, at_text_start: bool, at_text_end: bool) -> str:
    seam = _EMPTY_BRACKETS.sub("", seam)
    seam = _SPACES.sub(" ", seam)
    seam = _SPACE_BEFORE_PUNCT.sub(r"\1", seam)
    seam = _REPEATED_COMMA.sub(",", seam)
    seam = _DANGLING_JOIN.sub(r"\1", seam)
    seam = _COMMA_BEFORE_STOP.sub(r"\1", seam)
    seam = _SENTENCE_LEADING_PUNCT.sub(r"\1", seam)
    if at_text_start:
        seam = _TEXT_LEADING_DEBRIS.sub("", seam)
    if at_text_end:
        seam = _TEXT_TRAILING_DEBRIS.sub("", seam)
    return seam


def starts_sentence(text: str, start: int) -> bool:
    """Return whether position ``start`` begins a sentence (or the text)."""
    at = start - 1
    while at >= 0 and text[at] in " \t":
        at -= 1
    return at < 0 or text[at] in ".!?\n:"


def remove_span(text: str, start: int, end: int) -> str | None:
    """Return ``text`` without ``[start, end)``; None if nothing sensible is left.

    The debris the deletion leaves (double spaces, a dangling comma or "and") is cleaned up
    around the cut only, so the rest of the text stays exactly as written.
    """
    before, after = text[:start], text[end:]
    if starts_sentence(text, start) and text[start : start + 1].isupper():
        # The deleted words opened a sentence: the word that now opens it takes the capital.
        first_letter = next((i for i, ch in enumerate(after) if ch.isalpha()), None)
        if first_letter is not None:
            after = after[:first_letter] + after[first_letter].upper() + after[first_letter + 1 :]
    keep_before, keep_after = before[:-_SEAM] if len(before) > _SEAM else "", after[_SEAM:]
    seam = _tidy_seam(
        before[len(keep_before) :] + after[:_SEAM],
        at_text_start=not keep_before,
        at_text_end=not keep_after,
    )
    result = keep_before + seam + keep_after
    if not any(ch.isalnum() for ch in result):
        return None
    return result


# Words that, just before a phrase, turn it around: swapping the phrase for its "better" word
# under one changes the meaning ("never cheap on scent" -> "never affordable on scent").
_NEGATIONS = frozenset(
    {"not", "never", "no", "nor", "without", "nothing", "none", "hardly", "barely", "neither"}
)
# Words after which a removed phrase leaves a hole when nothing word-like follows it:
# "a cheap." -> "a.", "it is cheap." -> "it is.".
_NEEDS_A_WORD = frozenset(
    {"a", "an", "the", "this", "that", "our", "your", "its", "so", "very", "too", "more", "most"}
    | {"is", "are", "was", "were", "be", "feels", "looks", "smells", "stays", "seems"}
)
_WORDS_BEFORE = re.compile(r"([\w'\u2019]+)[^\w]*$")
_ARTICLE_BEFORE = re.compile(r"(?<![\w'])([Aa]n?)([ \t]+)$")
_FIRST_WORD = re.compile(r"[^\w]*([\w'\u2019-]+)")
_SILENT_H = ("hour", "honest", "honour", "honor", "heir")
_YOU_SOUND = ("uni", "use", "usu", "uti", "eu", "one", "once", "ure")


def _previous_words(text: str, start: int, count: int = 2) -> list[str]:
    words = re.findall(r"[\w'\u2019]+", text[max(0, start - 40) : start])
    return [w.lower() for w in words[-count:]]


def negated(text: str, start: int) -> bool:
    """Whether a negation ("never", "not", "isn't") stands within two words before ``start``."""
    return any(
        w in _NEGATIONS or w.endswith(("n't", "n\u2019t")) for w in _previous_words(text, start)
    )


def _an(word: str) -> bool:
    low = word.lower()
    if low.startswith(_SILENT_H):
        return True
    if low.startswith(_YOU_SOUND):
        return False
    if low[:1].isdigit():
        return low.startswith(("8", "11", "18"))
    return low[:1] in "aeiou"


def agree_article(before: str, following: str) -> str:
    """Return ``before`` with a closing "a"/"an" made to agree with the word ``following``."""
    match = _ARTICLE_BEFORE.search(before)
    word = _FIRST_WORD.match(following)
    if match is None or word is None:
        return before
    article = "an" if _an(word.group(1)) else "a"
    if match.group(1)[0].isupper():
        article = article.capitalize()
    return before[: match.start()] + article + match.group(2)


def reword_span(
    text: str, start: int, end: int, replacement: str, *, meaning_flips: bool = False
) -> str | None:
    """Return ``text`` with ``[start, end)`` replaced, keeping grammar and meaning; None when
    it cannot.

    ``meaning_flips``: the replacement is a judgement ("affordable" for "cheap"), which a
    negation just before turns into a different claim -- no fix is offered then. A closing
    "a"/"an" before the span is made to agree with the new word ("a cheap" -> "an affordable").
    """
    if meaning_flips and negated(text, start):
        return None
    return agree_article(text[:start], replacement) + replacement + text[end:]


def remove_phrase(text: str, start: int, end: int) -> str | None:
    """Return ``text`` without ``[start, end)`` when the sentence stays whole; None otherwise.

    No fix after a negation ("never cheap on scent" would become "never on scent"), nor where
    the removal leaves an article, intensifier or linking verb with no word after it ("it is
    cheap." -> "it is."). A closing "a"/"an" agrees with the word that now follows it.
    """
    if negated(text, start):
        return None
    words = _previous_words(text, start, 1)
    rest = text[end:].lstrip()
    if words and words[0] in _NEEDS_A_WORD and not (rest[:1].isalnum()):
        return None
    if starts_sentence(text, start) and re.match(r"(?i)(and|or|but|with|&)\b", rest):
        return None  # "Cheap and calm." would become "And calm."
    before = agree_article(text[:start], text[end:].lstrip())
    shift = len(before) - start
    return remove_span(before + text[start:], start + shift, end + shift)


def match_case(replacement: str, original: str) -> str:
    """Return ``replacement`` capitalised like ``original`` when it opens with a capital."""
    if original[:1].isupper() and replacement[:1].islower():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def replace_span(text: str, start: int, end: int, replacement: str) -> str:
    """Return ``text`` with ``[start, end)`` replaced by ``replacement``."""
    return text[:start] + replacement + text[end:]


K = TypeVar("K")
V = TypeVar("V")

# Per-text results: a run checks each SKU's copy on many channels and variants, so the same
# few hundred texts come back thousands of times.
MEMO_SIZE = 16384


def remember(memo: dict[K, V], key: K, value: V, max_size: int = MEMO_SIZE) -> V:
    """Store ``value`` under ``key`` in a bounded memo and return it.

    A full memo is cleared rather than evicted entry by entry: no bookkeeping on the hit path,
    and concurrent drafting threads at worst recompute a value (dict operations are atomic).
    Keys hold their objects, so an object's id cannot be reused while its entries exist.
    """
    if len(memo) >= max_size:
        memo.clear()
    memo[key] = value
    return value


class IdentityCache(Generic[K, V]):
    """Memoise ``build(key)`` by object identity first, then by equality.

    Rules tuples are hashable but hashing a tuple of frozen dataclasses costs microseconds per
    call; a run checks thousands of drafts against the same rules object, so the identity hit
    is the common path. The key object is kept alive so its id cannot be reused.
    """

    def __init__(self, build: Callable[[K], V], max_size: int = 64) -> None:
        self._build = build
        self._by_id: dict[int, tuple[K, V]] = {}
        self._by_value: dict[K, V] = {}
        self._max_size = max_size

    def get(self, key: K) -> V:
        hit = self._by_id.get(id(key))
        if hit is not None and hit[0] is key:
            return hit[1]
        value = self._by_value.get(key)
        if value is None:
            value = self._build(key)
            if len(self._by_value) >= self._max_size:
                self._by_value.clear()
            self._by_value[key] = value
        if len(self._by_id) >= self._max_size:
            self._by_id.clear()
        self._by_id[id(key)] = (key, value)
        return value
