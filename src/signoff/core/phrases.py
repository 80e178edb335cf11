"""Show a change as the phrase that changed, with a few words either side, not the whole field.

Pure Python. A suggested fix is stored as the field's whole new text (so applying it is one
edit); a reviewer needs to see only "never <del>cheap</del> <ins>affordable</ins> on scent".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

_TOKENS = re.compile(r"\s+|\w[\w'\u2019-]*|[^\w\s]")


@dataclass(frozen=True, slots=True)
class PhraseChange:
    """One field's change as context, removed words, added words, context."""

    before: str  # the unchanged words just before the change
    removed: str  # "" for a pure insertion
    added: str  # "" for a pure removal
    after: str  # the unchanged words just after
    clipped_start: bool  # more text comes before ``before`` (show an ellipsis)
    clipped_end: bool

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.added)


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


def phrase_change(old: str, new: str, context: int = 4) -> PhraseChange:
    """Return the smallest run of words that differs between ``old`` and ``new``, with up to
    ``context`` words of unchanged text on each side."""
    a, b = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    blocks = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not blocks:
        return PhraseChange(old, "", "", "", False, False)
    i1, j1 = blocks[0][1], blocks[0][3]
    i2, j2 = blocks[-1][2], blocks[-1][4]
    start = _back(a, i1, context)
    end = _forward(a, i2, context)
    return PhraseChange(
        before="".join(a[start:i1]),
        removed="".join(a[i1:i2]).strip(),
        added="".join(b[j1:j2]).strip(),
        after="".join(a[i2:end]),
        clipped_start=start > 0,
        clipped_end=end < len(a),
    )


def _back(tokens: list[str], at: int, words: int) -> int:
    seen = 0
    while at > 0 and seen < words:
        at -= 1
        seen += not tokens[at].isspace()
    return at


def _forward(tokens: list[str], at: int, words: int) -> int:
    seen = 0
    while at < len(tokens) and seen < words:
        seen += not tokens[at].isspace()
        at += 1
    return at


def word_marks(text: str, against: str) -> list[tuple[bool, str]]:
    """Return ``text`` as runs of (differs, words): the words ``against`` does not have at that
    place are marked, so a side-by-side view can highlight only what differs."""
    a, b = _tokens(against), _tokens(text)
    runs: list[tuple[bool, str]] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, _i1, _i2, j1, j2 in matcher.get_opcodes():
        chunk = "".join(b[j1:j2])
        if not chunk:
            continue
        differs = op != "equal" and not chunk.isspace()
        if differs:  # the spaces around changed words are not the change
            core = chunk.strip()
            lead, trail = chunk[: chunk.index(core)], chunk[chunk.index(core) + len(core) :]
            pieces = [(False, lead), (True, core), (False, trail)]
        else:
            pieces = [(False, chunk)]
        for marked, piece in pieces:
            if not piece:
                continue
            if runs and runs[-1][0] == marked:
                runs[-1] = (marked, runs[-1][1] + piece)
            else:
                runs.append((marked, piece))
    return runs
