"""What a rejection note asks of the next draft, and whether the redraft did it. Pure.

A reviewer writes plainly: ``Remove "Ignore previous instructions".``, ``the title reads like
an ad``, ``Lead with the scent.`` :func:`parse_note` turns such a note into structured asks:

- :class:`Remove`: a quoted phrase (straight or curly quotes) the note asks to remove, drop,
  cut, delete, avoid or stop saying (``remove "X"``, ``don't say "X"``, ``no "X"``, ``"X" has
  to go``), or the first phrase of ``replace "X" with "Y"`` / ``change "X" to "Y"`` (the
  second is what to say instead). Each quote is read by the nearest cue before it: a phrase
  to keep or to say (``change the title to "X"``, ``keep "X"``, ``use "X"``, ``lead with
  "X"``) is never one to remove;
- :class:`Rework`: a field of the channel named in the note (``title``, ``bullet points``,
  ``search_terms``): the redraft must write that field anew;
- :class:`Lead`: ``lead with ...``, ``open with ...``, ``start with ...``: what comes first.

The drafters act on them (the builtin composer in ``providers/builtin``, and the prompt of a
model provider), and :func:`ignored_findings` holds any provider to the removals: a redraft
that still says what a rejection asked to remove gets a blocking ``feedback.ignored`` finding
that quotes the note; so does a field the note named that comes back word for word
(:func:`unchanged_findings`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from signoff.agents.context import CheckFinding, FieldValue, Severity, field_texts

AGENT = "feedback_guard"
RULE_IGNORED = "feedback.ignored"
NOTE_QUOTE_CHARS = 300

# "[rejected at G2; SKU-1 on amazon_us] note", as ``memory.services.as_prompt_note`` writes it.
PROMPT_NOTE = re.compile(
    r"^\[rejected at (?P<gate>[^;\]]*); (?P<cell>[^\]]*)\] ?(?P<text>.*)$", re.S
)
QUOTED = re.compile(
    r'"(?P<a>[^"\n]{2,200})"|\u201c(?P<b>[^\u201d\n]{2,200})\u201d'
    r"|\u2018(?P<c>[^\u2019\n]{2,200})\u2019|(?<![\w])'(?P<d>[^'\n]{2,200})'(?![\w])"
)
# The cue nearest before a quoted phrase says what the note wants done with it.
CUES = re.compile(
    r"(?P<drop>\b(?:remov(?:e|ing)|delet(?:e|ing)|drop(?:ping)?|cut(?:ting)?|strip|take\s+out"
    r"|get\s+rid\s+of|lose|avoid(?:ing)?|no\s+more|no|not|without|instead\s+of|rather\s+than"
    r"|(?:do\s+not|don['’]?t|never|stop)\s+(?:say|saying|use|using|mention|mentioning|write"
    r"|writing|repeat|repeating|include|including|call|calling))\b)"
    r"|(?P<swap>\b(?:replac(?:e|ing)|chang(?:e|ing)|swap|switch|rewrite|reword)\b)"
    r"|(?P<keep>\b(?:keep(?:ing)?|use|using|say|write|include|add|mention|call\s+it|name\s+it"
    r"|(?:lead|open|start|begin)\s+with|go\s+with|to|with|into|instead|prefer)\b)",
    re.I,
)
# After the phrase: "'X' has to go", "'X': remove it", "'X' is our signature, keep it".
AFTER_DROP = re.compile(
    r"\b(?:removed|deleted|dropped|banned|(?:must|has\s+to|should)\s+go)\b", re.I
)
_BUT = re.compile(r"\bbut\b", re.I)
LEAD = re.compile(
    r"\b(?:lead|open|start|begin)\s+with\s+(?:the\s+|a\s+|an\s+)?(?P<topic>[^.;!?\n]{2,80})",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Remove:
    phrase: str
    instead: str = ""  # what to say instead, when the note said so


@dataclass(frozen=True, slots=True)
class Rework:
    field: str


@dataclass(frozen=True, slots=True)
class Lead:
    topic: str


Ask = Remove | Rework | Lead


@dataclass(frozen=True, slots=True)
class Asks:
    """Everything the rejection notes of one package ask, with the notes they came from."""

    removals: tuple[Remove, ...] = ()
    rework: tuple[str, ...] = ()  # field names
    lead: str = ""  # the newest note's lead, if any
    notes: tuple[str, ...] = ()  # the rejection notes read, newest first
    by_phrase: Mapping[str, str] | None = None  # phrase -> the note that asked to remove it

    def __bool__(self) -> bool:
        return bool(self.removals or self.rework or self.lead)

    def note_for(self, phrase: str) -> str:
        return (self.by_phrase or {}).get(phrase, "")


def _sentences(note: str) -> list[str]:
    """Split at sentence ends outside quotes (a quoted sentence keeps its full stop)."""
    out, start = [], 0
    inside = False
    for i, char in enumerate(note):
        if char in '"\u201c\u201d':
            inside = not inside if char == '"' else char == "\u201c"
        elif not inside and char in ".!?;\n" and (i + 1 == len(note) or note[i + 1].isspace()):
            out.append(note[start : i + 1])
            start = i + 1
    out.append(note[start:])
    return [s.strip() for s in out if s.strip()]


def _field_pattern(name: str) -> re.Pattern[str]:
    words = [w for w in name.lower().split("_") if w]
    if len(words) == 1:  # "bullets" is also "bullet"
        return re.compile(rf"(?<![\w]){re.escape(words[0].rstrip('s'))}s?(?![\w])", re.I)
    spaced = r"[\s_-]+".join(re.escape(w) for w in words)
    # "bullet points" also reads "bullet point", "bullets"; "title" also "titles".
    if len(words) > 1:
        singular = r"[\s_-]+".join(re.escape(w) for w in [*words[:-1], words[-1].rstrip("s")])
        spaced = f"(?:{spaced}|{singular}|{re.escape(words[0])}s)"
    return re.compile(rf"(?<![\w]){spaced}(?:s)?(?![\w])", re.I)


def parse_note(note: str, field_names: Iterable[str] = ()) -> list[Ask]:
    """Return the asks in one note, in the order written."""
    asks: list[Ask] = []
    for sentence in _sentences(note):
        quotes = [
            (m, next(g for g in m.groups() if g is not None).strip())
            for m in QUOTED.finditer(sentence)
        ]
        quotes = [(m, q) for m, q in quotes if len(q) >= 2]
        quoted = [q for _, q in quotes]
        asks.extend(_removals(sentence, quotes))
        unquoted = QUOTED.sub(" ", sentence)
        lead = LEAD.search(unquoted)
        said = LEAD.search(sentence)
        first = next((q for m, q in quotes if said and m.start() == said.start("topic")), "")
        if first:
            asks.append(Lead(first))  # lead with "Green Fig": the quote is the topic
        elif lead:
            asks.append(Lead(lead.group("topic").strip(" ,:'\"")))
        elif quoted and said:
            asks.append(Lead(quoted[0]))
        for name in field_names:
            if _field_pattern(name).search(unquoted):
                asks.append(Rework(name))
    return asks


def _removals(sentence: str, quotes: list[tuple[re.Match[str], str]]) -> list[Remove]:
    """The quoted phrases of one sentence that it asks to remove, each read by its own cue."""
    kinds: list[str] = []
    for i, (match, _) in enumerate(quotes):
        lead_in = sentence[quotes[i - 1][0].end() if i else 0 : match.start()]
        clauses = _BUT.split(lead_in)
        cues = list(CUES.finditer(clauses[-1]))
        kind = cues[-1].lastgroup if cues else ""
        previous = kinds[-1] if kinds else ""
        if previous == "swap" and kind in ("", "keep"):
            kind = "instead"  # replace "X" with "Y": "Y" is what to say
        elif not kind and previous in ("drop", "keep") and len(clauses) == 1:
            kind = previous  # remove "X" and "Y"
        elif not kind:
            end = quotes[i + 1][0].start() if i + 1 < len(quotes) else len(sentence)
            after = sentence[match.end() : end]
            first = CUES.search(after)
            if AFTER_DROP.search(after) or (first and first.lastgroup == "drop"):
                kind = "drop"
        kinds.append(kind or "none")
    out = []
    for i, (_, phrase) in enumerate(quotes):
        if kinds[i] in ("drop", "swap"):
            follows = i + 1 < len(quotes) and kinds[i + 1] == "instead"
            out.append(Remove(phrase, quotes[i + 1][1] if follows else ""))
    return out


def rejection_notes(notes: Sequence[str], sku: str, channel: str) -> list[str]:
    """The rejection notes on this SKU and channel among the drafter's prompt notes."""
    out = []
    for note in notes:
        match = PROMPT_NOTE.match(note)
        if match and match.group("cell").strip() == f"{sku} on {channel}":
            out.append(match.group("text").strip())
    return out


def asks_for(notes: Sequence[str], sku: str, channel: str, field_names: Iterable[str]) -> Asks:
    """Everything this package's rejections ask of its next draft (notes newest first)."""
    own = rejection_notes(notes, sku, channel)
    names = list(field_names)
    removals: dict[str, Remove] = {}
    by_phrase: dict[str, str] = {}
    rework: dict[str, None] = {}
    lead = ""
    for note in own:
        for ask in parse_note(note, names):
            if isinstance(ask, Remove):
                key = normalized(ask.phrase)
                if key and key not in removals:
                    removals[key] = ask
                    by_phrase[ask.phrase] = note
            elif isinstance(ask, Rework):
                rework.setdefault(ask.field)
            elif isinstance(ask, Lead) and not lead:
                lead = ask.topic
    return Asks(
        removals=tuple(removals.values()),
        rework=tuple(rework),
        lead=lead,
        notes=tuple(own),
        by_phrase=by_phrase,
    )


def normalized(text: str) -> str:
    """Lower case, every run of non-word characters one space: how phrases are compared."""
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())


def says(text: str, phrase: str) -> bool:
    """Whether ``text`` says ``phrase``, whatever its case, spacing and punctuation."""
    needle = normalized(phrase)
    return bool(needle) and f" {needle} " in f" {normalized(text)} "


def _span(text: str, phrase: str) -> tuple[int, int] | None:
    at = text.lower().find(phrase.lower())
    return (at, at + len(phrase)) if at >= 0 else None


def without(text: str, phrase: str) -> str:
    """``text`` without the sentences that say ``phrase``, or without the phrase itself when it
    is all one sentence (a title, a headline)."""
    sentences = _sentences(text)
    kept = [s for s in sentences if not says(s, phrase)]
    if kept and len(kept) < len(sentences):
        return " ".join(kept)
    words = normalized(phrase).split()
    pattern = r"[\W_]+".join(re.escape(w) for w in words)
    cut = re.sub(rf"(?i)(?<![\w]){pattern}(?![\w])[\s.,;:!?-]*", "", text)
    return " ".join(cut.split()).strip(" ,;:-")


def scrub(fields: Mapping[str, FieldValue], asks: Asks) -> dict[str, FieldValue]:
    """The fields with every phrase a rejection asked to remove taken out (list items that
    say it dropped, while the list keeps at least one item)."""
    out: dict[str, FieldValue] = {}
    for name, value in fields.items():
        for ask in asks.removals:
            if isinstance(value, list):
                kept = [item for item in value if not says(item, ask.phrase)]
                if len(kept) < len(value):
                    value = kept or [without(item, ask.phrase) for item in value]
            elif isinstance(value, str) and says(value, ask.phrase):
                value = without(value, ask.phrase)
        out[name] = value
    return out


def ignored_findings(fields: Mapping[str, FieldValue], asks: Asks) -> list[CheckFinding]:
    """One blocking ``feedback.ignored`` finding per field that still says a removed phrase."""
    findings = []
    for path, text in field_texts(fields):
        for ask in asks.removals:
            if not says(text, ask.phrase):
                continue
            note = asks.note_for(ask.phrase)
            quoted = note if len(note) <= NOTE_QUOTE_CHARS else note[: NOTE_QUOTE_CHARS - 1] + "…"
            fix = without(text, ask.phrase)
            findings.append(
                CheckFinding(
                    agent=AGENT,
                    rule_id=RULE_IGNORED,
                    severity=Severity.BLOCK,
                    field=path,
                    span=_span(text, ask.phrase),
                    message=f'still says "{ask.phrase}", which a rejection asked to remove: '
                    f'"{quoted}"',
                    suggested_fix=fix if fix and fix != text else None,
                )
            )
    return findings


def unchanged_findings(
    fields: Mapping[str, FieldValue], rejected: Mapping[str, FieldValue] | None, asks: Asks
) -> list[CheckFinding]:
    """One blocking ``feedback.ignored`` finding per field a rejection named that the redraft
    left exactly as it was in the rejected version."""
    if not rejected:
        return []
    note = next(iter(asks.notes), "")
    quoted = note if len(note) <= NOTE_QUOTE_CHARS else note[: NOTE_QUOTE_CHARS - 1] + "…"
    return [
        CheckFinding(
            agent=AGENT,
            rule_id=RULE_IGNORED,
            severity=Severity.BLOCK,
            field=name,
            message=f"is word for word the {name} that was rejected, and the rejection asked "
            f'for it anew: "{quoted}"',
        )
        for name in asks.rework
        if name in fields and fields[name] and fields[name] == rejected.get(name)
    ]


def prompt_lines(asks: Asks, rejected: Mapping[str, FieldValue] | None = None) -> list[str]:
    """The asks as the prompt of a model provider states them (plain, one per line), with the
    rejected wording of each field the note named when ``rejected`` has it."""
    lines = []
    for ask in asks.removals:
        line = f'- Do not write "{ask.phrase}" (or any wording of it) in any field.'
        if ask.instead:
            line += f' Say "{ask.instead}" instead where it fits the facts.'
        lines.append(line)
    for name in asks.rework:
        line = f"- Write the {name} field anew; the reviewer rejected its wording"
        was = (rejected or {}).get(name)
        if was:
            line += f": {json.dumps(was, ensure_ascii=False)}"
        lines.append(line + ".")
    if asks.lead:
        lines.append(f"- Lead with {asks.lead}: put it first in the opening field.")
    return lines
