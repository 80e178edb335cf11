"""Fitting copy to a field spec: casing, measuring, trimming, packing and guarding.

The composers in ``builtin/composers.py`` decide *what* to say and hand over a ``Plan``
(sentences, alternatives, segments or terms, best first); ``fit_text`` and ``fit_items`` decide
what of it fits the field and how it is cased. ``CopyGuard`` refuses text the channel or brand
would reject. Pure Python; nothing here imports Django.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from functools import lru_cache

from signoff.channels.spec import FieldSpec

# Words a title keeps lowercase unless they open it (Amazon's title rules; Chicago-like).
SMALL_WORDS = frozenset(
    "a an and as at but by for from in into nor of on onto or over per the to via vs with".split()
)
# Units stay lowercase after a number ("8 oz", "250 ml"): that is how they are written.
UNITS = frozenset("oz fl ml l g kg lb lbs mg cm mm m in ft h hr hrs hours min ct pk pcs pc".split())
# Trimming must never leave a phrase hanging on one of these.
_DANGLING = SMALL_WORDS | frozenset("is are its it your our their this that".split())
_TRAILING_JUNK = " ,;:-–—&/"

# Letters and digits in any script; hyphens split words, as the spec check counts them.
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
# Only where a capital or digit follows: splitting less often counts sentences longer, never
# shorter, than the voice check does.
_SENTENCE_END = re.compile(r"[.?!]+\s+(?=[\"'(]?[A-Z0-9])|\n+")
_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")


# ---------------------------------------------------------------- casing


def _cap(word: str) -> str:
    """Capitalize the first letter, leave the rest: keeps "GTIN", "iPhone"-like words intact."""
    return word[:1].upper() + word[1:] if word else word


def _title_word(word: str, *, first: bool, after_number: bool) -> str:
    lowered = word.lower()
    if after_number and lowered in UNITS:
        return lowered
    if not first and lowered in SMALL_WORDS:
        return lowered
    if any(ch.isupper() for ch in word[1:]):
        return word  # a brand's own casing ("LumenHome") or an acronym
    return "-".join(_cap(part) for part in word.split("-"))


@lru_cache(maxsize=4096)
def title_case(text: str) -> str:
    """Capitalize every word except short articles, conjunctions and prepositions."""
    out: list[str] = []
    previous_is_number = False
    for index, token in enumerate(text.split(" ")):
        if not token:
            out.append(token)
            continue
        # Keep leading/trailing punctuation around the word ("(8", "Cedar,").
        start = 0
        while start < len(token) and not token[start].isalnum():
            start += 1
        end = len(token)
        while end > start and not token[end - 1].isalnum():
            end -= 1
        core = token[start:end]
        first = index == 0 or (out and out[-1].endswith((":", "|", "–", "—")))
        cased = _title_word(core, first=bool(first), after_number=previous_is_number)
        out.append(token[:start] + cased + token[end:])
        previous_is_number = bool(_NUMBER.match(core))
    return " ".join(out)


def sentence_case(text: str) -> str:
    """Capitalize the first letter only; proper nouns inside keep their own case."""
    for index, ch in enumerate(text):
        if ch.isalpha():
            return text[:index] + ch.upper() + text[index + 1 :]
    return text


def apply_casing(text: str, casing: str) -> str:
    if casing == "title":
        return title_case(text)
    if casing == "sentence":
        return sentence_case(text)
    if casing == "lower":
        return text.lower()
    return text


# ---------------------------------------------------------------- measuring


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def over_repeated(text: str, max_repeats: int) -> bool:
    """True if a word other than a small word appears more than ``max_repeats`` times."""
    counts = Counter(w.lower() for w in words(text))
    return any(n > max_repeats and w not in SMALL_WORDS for w, n in counts.items())


def byte_length(text: str, *, ignore_spaces_punctuation: bool) -> int:
    if ignore_spaces_punctuation:
        # Count every non-space character: stricter than Amazon's letters-only count, so a
        # text that fits here fits there whatever the checker treats as punctuation.
        return len("".join(text.split()).encode("utf-8"))
    return len(text.encode("utf-8"))


def char_budget(spec: FieldSpec) -> int | None:
    """The length to aim for: the recommended length when there is one, else the hard cap."""
    if spec.recommended_max_chars is not None and spec.max_chars is not None:
        return min(spec.recommended_max_chars, spec.max_chars)
    return spec.recommended_max_chars or spec.max_chars


def fits(text: str, spec: FieldSpec, budget: int | None) -> bool:
    if budget is not None and len(text) > budget:
        return False
    if spec.max_bytes is not None:
        size = byte_length(text, ignore_spaces_punctuation=spec.bytes_ignore_spaces_punctuation)
        if size > spec.max_bytes:
            return False
    return spec.max_word_repeats is None or not over_repeated(text, spec.max_word_repeats)


def sentence_word_counts(text: str) -> Iterable[int]:
    for sentence in _SENTENCE_END.split(text):
        yield len(words(sentence))


# ---------------------------------------------------------------- trimming and packing


def strip_dangling(text: str) -> str:
    """Drop trailing punctuation and connective words so a cut phrase still reads whole."""
    tokens = text.rstrip(_TRAILING_JUNK).split(" ")
    while tokens:
        last = tokens[-1].rstrip(_TRAILING_JUNK)
        if not last or last.lower() in _DANGLING:
            tokens.pop()
            continue
        tokens[-1] = last
        break
    return " ".join(tokens)


def trim_words(text: str, spec: FieldSpec, budget: int | None, *, period: bool) -> str:
    """Cut ``text`` at a word boundary until it fits; never mid-word. May return ""."""
    text = text.strip()
    ends_with_period = period and text.endswith(".")
    body = text[:-1] if ends_with_period else text
    tokens = body.split(" ")
    while tokens:
        candidate = strip_dangling(" ".join(tokens))
        if ends_with_period and candidate:
            candidate += "."
        if candidate and fits(candidate, spec, budget):
            return candidate
        tokens.pop()
    return ""


def pack(
    pieces: Sequence[str],
    spec: FieldSpec,
    budget: int | None,
    *,
    separator: str = " ",
    start: str = "",
) -> str:
    """Append pieces in order while the result fits; skip a piece that does not."""
    out = start
    for piece in pieces:
        candidate = f"{out}{separator}{piece}" if out else piece
        if fits(candidate, spec, budget):
            out = candidate
    return out


def squash_spaces(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=8192)
def normalized(text: str) -> str:
    """Lowercase, hyphens and runs of spaces as one space: how duplicates are compared."""
    return " ".join(words(text.lower().replace("-", " ")))


# ---------------------------------------------------------------- guarding


def phrase_pattern(phrase: str) -> str:
    """A regex for ``phrase`` that ignores case, hyphens and spacing between its words."""
    parts = [re.escape(p) for p in re.split(r"[\s\-]+", phrase.strip()) if p]
    if not parts:
        return r"(?!x)x"
    return r"(?<![A-Za-z0-9])" + r"[\s\-]*".join(parts) + r"(?![A-Za-z0-9])"


def scoped_pattern(pattern: str) -> str:
    """Move a leading global flag group into a scoped one so patterns can be alternated."""
    match = re.match(r"^\(\?([aiLmsux]+)\)", pattern)
    if match:
        return f"(?{match.group(1)}:{pattern[match.end() :]})"
    return f"(?:{pattern})"


def compile_any(patterns: Iterable[str], flags: int = 0) -> re.Pattern[str] | None:
    parts = [p for p in patterns if p]
    if not parts:
        return None
    return re.compile("|".join(parts), flags)


class PhraseIndex:
    """Many phrase patterns, each tried only when the text holds the phrase's first word.

    One alternation of fifty lookaround phrases costs tens of microseconds per text in
    Python's regex engine; a set lookup per phrase costs almost nothing, and the text's
    words are read once.
    """

    __slots__ = ("_always", "_by_word")

    def __init__(self, entries: Iterable[tuple[tuple[str, ...], re.Pattern[str]]]) -> None:
        self._by_word: dict[str, list[re.Pattern[str]]] = {}
        self._always: list[re.Pattern[str]] = []
        for keys, pattern in entries:
            for key in keys:
                self._by_word.setdefault(key, []).append(pattern)
            if not keys:
                self._always.append(pattern)

    @staticmethod
    def entry(phrase: str, pattern: str, flags: int = 0) -> tuple[tuple[str, ...], re.Pattern[str]]:
        """An entry for ``phrase`` detected by ``pattern``, keyed by its first word.

        Patterns may match the phrase's words run together ("handpoured"), so the run-together
        form is a key too.
        """
        found = [w.lower() for w in words(phrase)]
        keys = tuple(dict.fromkeys(found[:1] + ["".join(found)])) if found else ()
        return (keys, re.compile(pattern, flags))

    def search(self, text: str) -> bool:
        if any(p.search(text) for p in self._always):
            return True
        if not self._by_word:
            return False
        for word in {w.lower() for w in words(text)}:
            patterns = self._by_word.get(word)
            if patterns and any(p.search(text) for p in patterns):
                return True
        return False


class CopyGuard:
    """Refuses text with a banned phrase or character, an avoided term or a long sentence.

    Verdicts are memoised by text: the same fact sentences come back for every variant and
    channel of a run, and fields with the same rules share one guard.
    """

    __slots__ = ("_verdicts", "banned_chars", "max_sentence_words", "refused")

    _MAX_MEMO = 8192

    def __init__(
        self,
        *,
        refused: PhraseIndex | None,
        banned_chars: frozenset[str],
        max_sentence_words: int | None,
    ) -> None:
        self.refused = refused
        self.banned_chars = banned_chars
        self.max_sentence_words = max_sentence_words
        self._verdicts: dict[str, bool] = {}

    def allows(self, text: str) -> bool:
        verdict = self._verdicts.get(text)
        if verdict is None:
            verdict = self._judge(text)
            if len(self._verdicts) >= self._MAX_MEMO:
                self._verdicts.clear()
            self._verdicts[text] = verdict
        return verdict

    def _judge(self, text: str) -> bool:
        if not text or not self.banned_chars.isdisjoint(text):
            return False
        if self.refused is not None and self.refused.search(text):
            return False
        if self.max_sentence_words is not None:
            return all(n <= self.max_sentence_words for n in sentence_word_counts(text))
        return True


@dataclass(frozen=True, slots=True)
class ClaimScreen:
    """Refuses wording of claims one product may not make (unapproved, or not its own).

    A claim's own wording (its id or registry text, "clean burning") is refused anywhere but
    inside the product's name: an attribute that says "clean burning" is still the claim. A
    registry pattern casts a wider net ("green"), so a match inside any product fact the copy
    quotes ("green fig and vetiver") is that fact, not a claim, as the claims scanner reads it.
    Phrases are lowercased.
    """

    wording: re.Pattern[str] | None
    patterns: re.Pattern[str] | None
    name_phrases: tuple[str, ...]
    fact_phrases: tuple[str, ...]
    # Verdicts by text: one screen serves every channel of its product, and their fields ask
    # about the same fact sentences again and again.
    _verdicts: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def allows(self, text: str) -> bool:
        verdict = self._verdicts.get(text)
        if verdict is None:
            verdict = self._judge(text)
            if len(self._verdicts) >= CopyGuard._MAX_MEMO:
                self._verdicts.clear()
            self._verdicts[text] = verdict
        return verdict

    def _judge(self, text: str) -> bool:
        for regex, phrases in (
            (self.wording, self.name_phrases),
            (self.patterns, self.fact_phrases),
        ):
            if regex is None:
                continue
            spans = claim_spans(regex, text)
            if spans:
                lowered = text.lower()
                if not all(_inside_fact(lowered, start, end, phrases) for start, end in spans):
                    return False
        return True


# Per pattern, by identity: hashing a compiled pattern hashes its whole program, which for an
# alternation of every claim costs more than the lookup saves. The pattern is kept with its memo,
# so its id cannot be reused while the entry exists.
_claim_span_memo: dict[int, tuple[re.Pattern[str], dict[str, tuple[tuple[int, int], ...]]]] = {}


def claim_spans(claims: re.Pattern[str], text: str) -> tuple[tuple[int, int], ...]:
    """Where ``claims`` matches in ``text``, memoised: the same lines recur across channels."""
    entry = _claim_span_memo.get(id(claims))
    if entry is None or entry[0] is not claims:
        if len(_claim_span_memo) >= 256:
            _claim_span_memo.clear()
        entry = _claim_span_memo[id(claims)] = (claims, {})
    memo = entry[1]
    spans = memo.get(text)
    if spans is None:
        spans = tuple(m.span() for m in claims.finditer(text) if m.end() > m.start())
        if len(memo) >= CopyGuard._MAX_MEMO:
            memo.clear()
        memo[text] = spans
    return spans


def _inside_fact(lowered: str, start: int, end: int, phrases: Sequence[str]) -> bool:
    """Whether [start, end) lies inside an occurrence of one of ``phrases``."""
    for phrase in phrases:
        at = lowered.find(phrase, max(0, end - len(phrase)))
        while at != -1 and at <= start:
            if at + len(phrase) >= end:
                return True
            at = lowered.find(phrase, at + 1)
    return False


# ---------------------------------------------------------------- fitting


@dataclass(frozen=True, slots=True)
class Plan:
    """What a composer wants said in one field, best first.

    ``mode``: ``prose`` packs sentences in order; ``pick`` takes the first alternative that
    fits; ``segments`` keeps a head and adds ", "-joined parts; ``words`` joins terms with
    spaces. ``filler`` holds more true lines for fields with a minimum length or item count.
    """

    mode: str
    pieces: Sequence[str]
    filler: Sequence[str] = ()
    separator: str = " "
    max_words: int | None = None  # a term list is one long "sentence" to a voice check


@dataclass(frozen=True, slots=True)
class Screen:
    """Everything one field of one product's copy must pass: the field's guard and claims."""

    guard: CopyGuard
    claims: ClaimScreen
    # Both halves memoise already; one lookup here instead of two is what fitting, which asks
    # about every piece of every plan, notices.
    _verdicts: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def allows(self, text: str) -> bool:
        verdict = self._verdicts.get(text)
        if verdict is None:
            verdict = self.guard.allows(text) and self.claims.allows(text)
            if len(self._verdicts) >= CopyGuard._MAX_MEMO:
                self._verdicts.clear()
            self._verdicts[text] = verdict
        return verdict


def _long_enough(text: str, spec: FieldSpec) -> bool:
    return spec.min_chars is None or len(text) >= spec.min_chars


def _pick(
    pieces: list[str], spec: FieldSpec, screen: Screen, budget: int | None, taken: Set[str]
) -> str:
    fresh = [p for p in pieces if p not in taken] + [p for p in pieces if p in taken]
    for piece in fresh:
        if fits(piece, spec, budget) and _long_enough(piece, spec):
            return piece
    for piece in fresh:
        trimmed = trim_words(piece, spec, budget, period=False)
        if trimmed and _long_enough(trimmed, spec) and screen.allows(trimmed):
            return trimmed
    return ""


def fit_text(
    plan: Plan,
    spec: FieldSpec,
    screen: Screen,
    *,
    casing: str | None = None,
    budget: int | None = None,
    taken: Set[str] = frozenset(),
) -> str:
    """Return the plan's text for a text field, within every limit of ``spec``.

    ``casing`` and ``budget`` tighten the spec (a title reads best in Title Case and short
    even where the channel allows more); ``taken`` holds texts other fields already use, so
    a pick does not repeat them when it has another choice.
    """
    casing = casing or spec.casing
    budget = budget or char_budget(spec)
    allowed = [p for p in (apply_casing(p, casing) for p in plan.pieces) if screen.allows(p)]
    if plan.mode == "pick":
        return _pick(allowed, spec, screen, budget, taken)

    separator = plan.separator
    if plan.mode == "words" and plan.max_words is not None:
        allowed = allowed[: plan.max_words]
    if plan.mode == "segments" and allowed:
        head = allowed[0] if fits(allowed[0], spec, budget) else ""
        head = head or trim_words(allowed[0], spec, budget, period=False)
        text = pack(allowed[1:], spec, budget, separator=separator, start=head)
        text = apply_casing(text, casing)  # title case across the joins
    else:
        text = pack(allowed, spec, budget, separator=separator)

    if not _long_enough(text, spec):
        extra = (apply_casing(p, casing) for p in plan.filler)
        extra_allowed = [p for p in extra if p not in text and screen.allows(p)]
        for limit in (budget, spec.max_chars):  # past the recommended length, not too short
            text = pack(extra_allowed, spec, limit, separator=separator, start=text)
            if _long_enough(text, spec):
                break
    if not text and allowed:
        text = trim_words(allowed[0], spec, budget, period=plan.mode == "prose")
    if text and not screen.allows(text):
        # Two allowed pieces can still meet across a join ("hand" + "poured"): rebuild one
        # piece at a time, keeping only what passes as a whole.
        text = ""
        for piece in allowed:
            candidate = f"{text}{separator}{piece}" if text else piece
            if fits(candidate, spec, budget) and screen.allows(candidate):
                text = candidate
    return text


def group_sentences(sentences: Sequence[str], spec: FieldSpec) -> list[str]:
    """Join consecutive sentences into items as long as the field allows (ad descriptions)."""
    budget = char_budget(spec)
    items: list[str] = []
    current = ""
    for sentence in sentences:
        candidate = f"{current} {sentence}" if current else sentence
        if current and not fits(candidate, spec, budget):
            items.append(current)
            current = sentence
        else:
            current = candidate
    if current:
        items.append(current)
    return items


def fit_items(plan: Plan, spec: FieldSpec, screen: Screen, target: int) -> list[str]:
    """Return up to ``target`` distinct items, each within the field's per-item limits.

    Items that are too long are left out first; only when that leaves fewer than
    ``min_items`` are long items cut at a word boundary, because a cut line reads worse
    than a whole one.
    """
    budget = char_budget(spec)
    needed = max(spec.min_items or 0, 1)
    items: list[str] = []
    seen: set[str] = set()
    for allow_trim, limit in ((False, target), (True, min(needed, target))):
        if len(items) >= limit:
            break
        for raw in (*plan.pieces, *plan.filler):
            item = apply_casing(raw, spec.casing)
            if not fits(item, spec, budget):
                if not allow_trim:
                    continue
                item = trim_words(item, spec, budget, period=item.endswith("."))
            if not item or not _long_enough(item, spec):
                continue
            key = normalized(item) or item
            if key in seen or not screen.allows(item):
                continue
            seen.add(key)
            items.append(item)
            if len(items) >= limit:
                break
    return items
