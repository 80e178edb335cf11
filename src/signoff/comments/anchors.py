"""Reading a comment's anchor and @mentions. Pure: no Django.

An anchor is a field path and a passage of that field's text: the quote, its offsets, or both
(then they must agree). Mentions are ``@name`` words matched against the workspace's people by
email, the part of the email before the @, or first name; each must name exactly one person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from signoff.core.errors import InputError, Problem

# "@lena", "@omar.k", "@lena@lumen.example": a mention starts a word, never inside an email.
_MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9][\w.+-]*(?:@[\w-]+(?:\.[\w-]+)+)?)")


@dataclass(frozen=True)
class Anchor:
    field: str
    quote: str
    start: int
    end: int


def locate(
    texts: Mapping[str, str],
    field: str,
    quote: str = "",
    start: int | None = None,
    end: int | None = None,
) -> Anchor | None:
    """Return the anchor of a comment in the version whose field texts are ``texts``.

    No field: a comment on the whole package (None). A field alone anchors to all of it.
    Raises ``InputError`` naming ``field``, ``quote`` or ``start`` when they do not fit.
    """
    if not field:
        if quote or start is not None or end is not None:
            raise InputError.single("a quoted passage needs the field it is in", field="field")
        return None
    if field not in texts:
        known = ", ".join(texts) or "none"
        raise InputError.single(
            f"{field!r} is not a field of this version (its fields: {known})", field="field"
        )
    text = texts[field]
    if start is not None or end is not None:
        if start is None or end is None or not 0 <= start < end <= len(text):
            raise InputError.single(
                f"start and end must be 0 <= start < end <= {len(text)} (the length of {field})",
                field="start",
            )
        if quote and text[start:end] != quote:
            raise InputError.single(
                f"the quote is not what {field} says at {start}..{end} ({text[start:end]!r})",
                field="quote",
            )
        return Anchor(field, text[start:end], start, end)
    if quote:
        at = text.find(quote)
        if at < 0:
            raise InputError.single(f"{field} does not contain {quote!r}", field="quote")
        return Anchor(field, quote, at, at + len(quote))
    return Anchor(field, text, 0, len(text))


def mentioned(text: str, people: Iterable[tuple[str, str]]) -> list[str]:
    """Return the emails of the people ``text`` mentions, in order, each once.

    ``people`` are (email, name) pairs. An @word that names nobody, or more than one person,
    is an error naming it (a mention that silently reaches nobody would be worse).
    """
    people = list(people)
    found: list[str] = []
    problems = []
    for match in _MENTION.finditer(text):
        word = match.group(1).rstrip(".,;:!?").lower()
        hits = [
            email
            for email, name in people
            if word in {email.lower(), email.split("@")[0].lower(), _first(name)}
        ]
        if len(set(hits)) != 1:
            why = "names nobody in this workspace" if not hits else "names more than one person"
            problems.append(
                Problem(
                    f"@{word} {why}; write @ and their email, e.g. @{people[0][0]}"
                    if people
                    else f"@{word} {why}",
                    field="text",
                )
            )
        elif hits[0] not in found:
            found.append(hits[0])
    if problems:
        raise InputError(problems)
    return found


def _first(name: str) -> str:
    parts = name.split()
    return parts[0].lower() if parts else ""
