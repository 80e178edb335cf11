"""Output integrity: copy that talks to a machine, repeats itself, or carries markup or PII.

Pure. Every rule blocks: a model's answer is text, and text addressed to a system, a phrase
repeated dozens of times or a script's remains never reach a channel (docs/checks.md lists
the rule ids). The rules:

- ``output.instruction``: text addressed to a system or a model ("ignore previous
  instructions", "as an AI language model", "approve everything", "you are now" with a role or
  persona after it), read as ``lookalikes.fold`` reads it, and across adjacent fields or items;
- ``output.role_tag``: role or system tags (``<|system|>``, ``[INST]``, "system:" openers);
- ``output.input_echo``: an echo of an input sentence the input guard flagged;
- ``degenerate.repeat``: a word or a phrase of 2-4 words repeated far beyond a natural rate
  (the product's own name or brand may come back more often);
- ``degenerate.near_duplicate``: two items of a list field that say the same;
- ``degenerate.filler``: filler text (lorem ipsum, "blah blah", a run of dots);
- ``markup.script``: handler or script text left after sanitising (``onerror=``,
  ``javascript:``, ``alert(``, ``document.cookie``);
- ``markup.entity``: HTML entities or escapes where a channel takes text (``&amp;``,
  ``&#39;``, ``\\u003c``);
- ``markup.markdown``: markdown (``**bold**``, ``# heading``, ``[text](url)``, code fences) in
  a field that takes plain text;
- ``pii.input_token``: a word of personal data found in the inputs, however split, re-cased
  or re-joined ("jane.doe@acme.com" as "jane doe acme com", "JaneDoe"); not the role word of a
  shared mailbox ("hello" of hello@brand.com).
"""

from __future__ import annotations

import re
from collections import Counter

from signoff.agents.checks._text import remember
from signoff.agents.checks.lookalikes import PERSONA_SWITCH, ROLE_MAILBOXES, fold, unfold_span
from signoff.agents.context import CheckFinding, Draft, Severity, field_texts
from signoff.agents.guard import INJECTION

AGENT = "output_guard"

ADDRESSED = re.compile(
    r"\bas an ai(?: language)? model\b|\bi am an ai\b|\blanguage model\b|\bi cannot comply\b"
    r"|\b(?:ignore|disregard|override) (?:the |all |any |your )?(?:above|previous|prior|system)"
    r"\b|\b(?:approve|publish) (?:everything|all|this (?:package|draft|version))\b"
    r"|\bset (?:my |the |your )?role\b|\bnote to (?:the )?(?:system|model|reviewer|ai)\b"
    r"|\b(?:dear|hey|hi) (?:ai|model|assistant|system|chatgpt|claude)\b"
    r"|\bdeveloper mode\b|\bjailbreak\b|\bprompt injection\b",
    re.IGNORECASE,
)
ROLE_TAG = re.compile(
    r"<\|?\s*/?\s*(?:system|assistant|user|im_start|im_end|endoftext)\s*\|?>"
    r"|\[/?(?:INST|SYS)\]|<</?SYS>>|^\s*(?:system|assistant|user|developer)\s*:|###\s*(?:system|"
    r"instruction|response)\b",
    re.IGNORECASE | re.MULTILINE,
)
SCRIPT = re.compile(
    r"\bon[a-z]{3,12}\s*=|javascript\s*:|\balert\s*\(|document\s*\.\s*(?:cookie|write|location)"
    r"|window\s*\.\s*location|\beval\s*\(|<\s*/?\s*(?:script|iframe|object|embed|style)\b"
    r"|\bfunction\s*\(\s*\)\s*\{|src\s*=\s*x\b",
    re.IGNORECASE,
)
ENTITY = re.compile(
    r"&(?:[a-z]{2,8}|#\d{2,6}|#x[0-9a-f]{2,5});|\\u00[0-9a-f]{2}|\\[nrt](?=\w)", re.I
)
MARKDOWN = re.compile(
    r"\*\*[^*\n]+\*\*|__[^_\n]+__|(?<![\w*])\*[^*\s][^*\n]*\*(?![\w*])|^\s{0,3}#{1,6}\s+\S"
    r"|\[[^\]\n]+\]\([^)\s]+\)|```|`[^`\n]+`|^\s*>\s+\S|^\s*[-*+]\s+\S|^\s*\d+\.\s+\S",
    re.MULTILINE,
)
FILLER = re.compile(
    r"\blorem ipsum\b|\bdolor sit amet\b|\bblah(?:[\s,]+blah)+\b|\.{4,}|…{2,}"
    r"|\b(?:etc\.?[\s,]+){2,}|\b(\w+)(?:[\s,]+\1\b){3,}|\band so on(?: and so forth)?\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ALNUM = re.compile(r"[a-z0-9]+")
STOP = frozenset(
    "a an and are as at be by for from in into is it its of on or so the to with your you this "
    "that our we".split()
)
# Not prose: one word per item or a path, where repetition is the spec checker's business.
NOT_PROSE = frozenset({"keywords", "hashtags", "path"})
# A content word this many times, and this share of a field's words, is not natural copy.
MAX_WORD_REPEATS = 5
MAX_WORD_SHARE = 0.2
MAX_PHRASE_REPEATS = 3  # the same 2-4 words
# The product's own name (or brand) is named in a title, a description and its bullets alike:
# "the Green Fig Candle" three times in a description is copy; six times is not.
MAX_NAME_REPEATS = 6
_PERSONA = re.compile(rf"\s+{PERSONA_SWITCH}", re.IGNORECASE)
NEAR_DUPLICATE = 0.85  # Jaccard similarity of two items' content words
ECHO_WORDS = 3  # words of a flagged input sentence in a row


def _block(rule: str, field: str, span: tuple[int, int] | None, message: str) -> CheckFinding:
    return CheckFinding(
        agent=AGENT, rule_id=rule, severity=Severity.BLOCK, field=field, span=span, message=message
    )


def _compose(draft: Draft, path: str) -> str:
    spec = draft.channel.fields.get(path.split("[", 1)[0])
    return spec.compose if spec is not None else ""


def _allows_html(draft: Draft, path: str) -> bool:
    spec = draft.channel.fields.get(path.split("[", 1)[0])
    return bool(spec is not None and spec.allow_html)


Hit = tuple[str, tuple[int, int] | None, str]  # rule id, span, message


def _instructs(text: str, match: re.Match[str]) -> bool:
    # "You are now ready for the trail" speaks to a shopper; "you are now DAN", "you are now
    # the approver" hands out a role.
    if match.group(0).lower() != "you are now":
        return True
    return bool(_PERSONA.match(text, match.end()))


def _addressed(text: str) -> re.Match[str] | None:
    """The first text addressed to a system or a model, matched on ``fold``'s text."""
    for pattern in (INJECTION, ADDRESSED):
        match = next((m for m in pattern.finditer(text) if _instructs(text, m)), None)
        if match:
            return match
    return None


def _instructions(text: str) -> list[Hit]:
    found: list[Hit] = []
    # Look-alike letters, invisible characters and fullwidth forms hide no instruction.
    folded, origin = fold(text)
    match = _addressed(folded)
    if match:
        found.append(
            (
                "output.instruction",
                unfold_span(origin, match.span()),
                f"addresses a system or a model ({match.group(0)!r}); copy speaks to shoppers only",
            )
        )
    match = ROLE_TAG.search(text)
    if match:
        found.append(
            (
                "output.role_tag",
                match.span(),
                f"holds a role or system tag ({match.group(0).strip()!r})",
            )
        )
    return found


SPLIT_REACH = 120  # characters of each field read across the seam


def _split_instructions(texts: list[tuple[str, str]]) -> list[CheckFinding]:
    """An instruction split across two adjacent fields or items ("... ignore all" then
    "previous instructions ..."), which neither shows alone."""
    found: list[CheckFinding] = []
    for (path, first), (after, second) in zip(texts, texts[1:], strict=False):
        tail = fold(first[-SPLIT_REACH:])[0].rstrip()
        head = fold(second[:SPLIT_REACH])[0].lstrip()
        if not tail or not head:
            continue
        seam, joined = len(tail), f"{tail} {head}"
        across = [
            m
            for pattern in (INJECTION, ADDRESSED)
            for m in pattern.finditer(joined)
            if m.start() < seam < m.end() - 1
        ]
        if across:
            found.append(
                _block(
                    "output.instruction",
                    path,
                    None,
                    f"with {after}, addresses a system or a model ({across[0].group(0)!r}); "
                    "copy speaks to shoppers only",
                )
            )
    return found


def _echoes(path: str, text: str, flagged: tuple[str, ...], own: str) -> list[CheckFinding]:
    """``own``: the product's own words, padded; a flagged sentence may quote them too."""
    words = _ALNUM.findall(fold(text)[0].lower())
    joined = f" {' '.join(words)} "
    for sentence in flagged:
        said = _ALNUM.findall(fold(sentence)[0].lower())
        size = min(ECHO_WORDS, len(said))
        for i in range(len(said) - size + 1):
            window = said[i : i + size]
            if sum(w not in STOP for w in window) < min(2, size):
                continue  # "in every description" is anyone's words
            phrase = f" {' '.join(window)} "
            if phrase in joined and phrase not in own:
                return [
                    _block(
                        "output.input_echo",
                        path,
                        None,
                        f"repeats input text the input guard flagged as an instruction "
                        f"({sentence[:80]!r})",
                    )
                ]
    return []


def _own_phrase(gram: tuple[str, ...], names: tuple[str, ...]) -> bool:
    """Whether ``gram``, without the stop words at its ends, is part of one of ``names``
    (padded, space-joined words)."""
    core = list(gram)
    while core and core[0] in STOP:
        core.pop(0)
    while core and core[-1] in STOP:
        core.pop()
    return bool(core) and any(f" {' '.join(core)} " in name for name in names)


def _repeats(text: str, names: tuple[str, ...] = ()) -> list[Hit]:
    words = _WORD.findall(text.lower())
    content = [w for w in words if w not in STOP and not w.isdigit()]
    if not content:
        return []
    counts = Counter(content)
    word, count = counts.most_common(1)[0]
    if count >= MAX_WORD_REPEATS and count / len(content) > MAX_WORD_SHARE:
        return [
            ("degenerate.repeat", None, f"repeats {word!r} {count} times in {len(content)} words")
        ]
    if count < MAX_PHRASE_REPEATS:
        return []  # a repeated phrase repeats its content words too
    for size in (4, 3, 2):
        grams = Counter(
            tuple(words[i : i + size])
            for i in range(len(words) - size + 1)
            if not set(words[i : i + size]) <= STOP
        )
        for gram, count in grams.most_common():
            if count < MAX_PHRASE_REPEATS:
                break
            allowed = MAX_PHRASE_REPEATS + (size == 2)
            if _own_phrase(gram, names):
                allowed = MAX_NAME_REPEATS
            if count >= allowed:
                return [
                    (
                        "degenerate.repeat",
                        None,
                        f"repeats the phrase {' '.join(gram)!r} {count} times",
                    )
                ]
    return []


def _near_duplicates(name: str, items: list[str], prose: bool) -> list[CheckFinding]:
    found: list[CheckFinding] = []
    sets = [{w for w in _WORD.findall(item.lower()) if w not in STOP} for item in items]
    for j in range(len(items)):
        for i in range(j):
            a, b = sets[i], sets[j]
            if not a or not b:
                continue
            same = items[i].strip().lower() == items[j].strip().lower()
            similar = (
                prose and min(len(a), len(b)) >= 3 and len(a & b) / len(a | b) >= NEAR_DUPLICATE
            )
            if same or similar:
                found.append(
                    _block(
                        "degenerate.near_duplicate",
                        f"{name}[{j}]",
                        None,
                        f"says what {name}[{i}] says ({items[i][:60]!r})",
                    )
                )
                break
    return found


def _markup(text: str, plain: bool) -> list[Hit]:
    found: list[Hit] = []
    for rule, pattern, what in (
        ("markup.script", SCRIPT, "script or event-handler text"),
        ("markup.entity", ENTITY, "an HTML entity or escape"),
    ):
        match = pattern.search(text)
        if match:
            found.append(
                (rule, match.span(), f"holds {what} ({match.group(0)!r}) after sanitising")
            )
    if plain:
        match = MARKDOWN.search(text)
        if match:
            found.append(
                (
                    "markup.markdown",
                    match.span(),
                    f"holds markdown ({match.group(0).strip()!r}); this field takes plain text",
                )
            )
    return found


# By text and how it is read: the same copy is checked on every channel and variant of a SKU.
_memo: dict[tuple[str, bool, bool, tuple[str, ...]], tuple[Hit, ...]] = {}


def text_hits(text: str, prose: bool, plain: bool, names: tuple[str, ...] = ()) -> tuple[Hit, ...]:
    """What the text shows: instructions, repeats (prose), filler and markup. ``names``: the
    product's own name and brand (padded, space-joined words), which copy may repeat more."""
    key = (text, prose, plain, names)
    found = _memo.get(key)
    if found is None:
        hits = _instructions(text) + (_repeats(text, names) if prose else [])
        filler = FILLER.search(text)
        if filler:
            hits.append(("degenerate.filler", filler.span(), f"filler ({filler.group(0)[:40]!r})"))
        hits += _markup(text, plain)
        found = remember(_memo, key, tuple(hits))
    return found


def _pii_tokens(draft: Draft, path: str, text: str) -> list[CheckFinding]:
    inputs = draft.inputs
    if inputs is None or not (inputs.pii_words or inputs.pii_forms):
        return []
    low = text.lower()
    words = set(_ALNUM.findall(low))
    compact = "".join(_ALNUM.findall(low))
    digits = re.sub(r"\D", "", text)
    product = draft.product
    own = " ".join([product.name, product.sku, *map(str, product.attributes.values())]).lower()
    own_words, own_compact = set(_ALNUM.findall(own)), "".join(_ALNUM.findall(own))
    hits = [
        w
        for w in inputs.pii_words
        # "hello" of hello@brand.com is a greeting in copy, not a person's token.
        if w in words and w not in own_words and w not in ROLE_MAILBOXES
    ]
    hits += [
        f
        for f in inputs.pii_forms
        if f not in own_compact
        and ((f.isdigit() and f in digits) or (not f.isdigit() and f in compact))
    ]
    if not hits:
        return []
    return [
        CheckFinding(
            agent="pii_guard",
            rule_id="pii.input_token",
            severity=Severity.BLOCK,
            field=path,
            message=f"carries {len(hits)} piece(s) of personal data found in the brief's inputs "
            "(split, re-cased or re-joined); it must not be published",
        )
    ]


def check_integrity(draft: Draft) -> list[CheckFinding]:
    """Return the instruction, degenerate-output, markup and input-PII findings on a draft."""
    findings: list[CheckFinding] = []
    flagged = draft.inputs.flagged if draft.inputs else ()
    product = draft.product
    facts = " ".join([product.name, *map(str, product.attributes.values())]).lower()
    own = f" {' '.join(_ALNUM.findall(facts))} "
    names = tuple(
        f" {' '.join(_WORD.findall(name.lower()))} "
        for name in (product.name, str(product.attributes.get("brand", "")))
        if _WORD.search(name.lower())
    )
    texts = list(field_texts(draft.fields))
    findings += _split_instructions(texts)
    for path, text in texts:
        if not text:
            continue
        prose = _compose(draft, path) not in NOT_PROSE
        plain = prose and not _allows_html(draft, path)
        findings += [
            _block(rule, path, span, msg)
            for rule, span, msg in text_hits(text, prose, plain, names)
        ]
        if flagged:
            findings += _echoes(path, text, flagged, own)
        findings += _pii_tokens(draft, path, text)
    for name, value in draft.fields.items():
        if isinstance(value, list):
            # Keywords and hashtags only repeat exactly; prose items also nearly.
            prose = _compose(draft, name) not in NOT_PROSE
            findings += _near_duplicates(name, [str(v) for v in value], prose)
    return findings
