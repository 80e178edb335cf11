"""The content attributes a launched version is compared by. Pure: no Django.

variant       the package's variant (A, B, ...)
lead          what the copy leads with: the drafter's recorded lead, else the brief key message
              the opening sentence shares most words with, else "other"
title_length  the title field's length, in buckets of 40 characters
tone          the tone the drafter wrote in (recorded with the version); None when it was not
              recorded: an unknown tone is left out of the comparison, never an arm of it
image         the selected image option of the main slot: its run's hypothesis, else its number
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

ATTRIBUTES = ("variant", "lead", "title_length", "tone", "image")
LABELS = {
    "variant": "variant",
    "lead": "lead message",
    "title_length": "title length",
    "tone": "tone",
    "image": "image option",
}
TITLE_FIELDS = ("title", "headline", "subject", "name", "primary_text")
BUCKET = 40  # characters per title-length bucket
_WORD = re.compile(r"[a-z0-9]+")


def title_bucket(title: str) -> str:
    """Return the bucket of a title's length: "0-39 chars", "40-79 chars", ..."""
    start = len(title) // BUCKET * BUCKET
    return f"{start}-{start + BUCKET - 1} chars"


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value or "")


def title_of(fields: Mapping[str, Any]) -> str:
    """The version's title: the first of the usual title fields, else its first field."""
    for name in TITLE_FIELDS:
        if name in fields:
            return _text(fields[name])
    return _text(next(iter(fields.values()), ""))


def lead_of(fields: Mapping[str, Any], key_messages: Sequence[str]) -> str:
    """The key message the copy opens with (most shared words with the first sentence)."""
    body = " ".join(_text(v) for v in fields.values())
    opening = set(_WORD.findall(re.split(r"(?<=[.!?])\s", body, maxsplit=1)[0].lower()))
    best, best_overlap = "other", 1  # at least two shared words
    for message in key_messages:
        overlap = len(opening & set(_WORD.findall(message.lower())))
        if overlap > best_overlap:
            best, best_overlap = message, overlap
    return best


def attributes_of(
    *,
    variant: str,
    fields: Mapping[str, Any],
    origin: Mapping[str, Any],
    key_messages: Sequence[str],
    image: str | None,
) -> dict[str, str | None]:
    """Return the attribute values of one launched version (None: not known, not compared)."""
    parameters = origin.get("parameters") or {}
    lead = parameters.get("lead")
    return {
        "variant": variant,
        "lead": str(lead) if lead else lead_of(fields, key_messages),
        "title_length": title_bucket(title_of(fields)),
        "tone": str(parameters["tone"]) if parameters.get("tone") else None,
        "image": image or "no image",
    }
