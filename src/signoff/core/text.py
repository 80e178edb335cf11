"""Shortening text people read: never mid-word, at a sentence's end where one is near."""

from __future__ import annotations

import re

ELLIPSIS = "…"
# Where a sentence (or a clause of a "; "-joined message) ends: the cut may fall after it.
_SENTENCE_END = re.compile(r"[.;!?](?=\s)")


def clip(text: str, limit: int) -> str:
    """Return ``text`` whole if it fits in ``limit`` characters, else shortened to fit.

    The cut falls after the last sentence end in the second half of what fits, else at the
    last space there, else (one long word) inside it; an ellipsis says that text was cut.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    room = text[: limit - len(ELLIPSIS)]
    half = len(room) // 2
    ends = [m.end() for m in _SENTENCE_END.finditer(room) if m.end() >= half]
    if ends:
        kept = room[: ends[-1]]
        # "First sentence. …" reads as more to come; without the space if it would not fit.
        gap = " " if len(kept) + 1 + len(ELLIPSIS) <= limit else ""
        return kept + gap + ELLIPSIS
    space = room.rfind(" ")
    if space >= half:
        return room[:space].rstrip(" ,:;-") + ELLIPSIS
    return room + ELLIPSIS
