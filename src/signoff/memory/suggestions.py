"""Propose new banned phrases from what reviewers keep rejecting. Pure: no Django.

Reviewers quote the words they object to ('Drop "luxurious"', "no 'candle of the year'").
A phrase quoted in rejection notes on several different packages is proposed as a rule; a
person decides whether it becomes one (never automatic).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

_QUOTED = re.compile(r"[\"“‘']([^\"“”‘’']{2,60})[\"”’']")
MIN_PACKAGES = 3


@dataclass(frozen=True, slots=True)
class Suggestion:
    phrase: str
    packages: tuple[int, ...]  # the packages whose rejections quoted it
    examples: tuple[str, ...]  # up to three of those notes


def quoted_phrases(note: str) -> list[str]:
    """Return the phrases a note quotes, normalised to lower case and single spaces."""
    return [" ".join(m.group(1).lower().split()) for m in _QUOTED.finditer(note)]


def suggest_banned_phrases(
    rejections: Iterable[tuple[int, str]],
    known: Iterable[str],
    *,
    min_packages: int = MIN_PACKAGES,
) -> list[Suggestion]:
    """Return phrases quoted in rejections of at least ``min_packages`` packages, most first.

    ``rejections`` are (package id, note) pairs; ``known`` phrases are already rules.
    """
    already = {" ".join(k.lower().split()) for k in known}
    packages: dict[str, set[int]] = defaultdict(set)
    notes: dict[str, list[str]] = defaultdict(list)
    for package_id, note in rejections:
        for phrase in set(quoted_phrases(note)):
            if phrase in already:
                continue
            packages[phrase].add(package_id)
            notes[phrase].append(note)
    found = [
        Suggestion(phrase, tuple(sorted(ids)), tuple(notes[phrase][:3]))
        for phrase, ids in packages.items()
        if len(ids) >= min_packages
    ]
    return sorted(found, key=lambda s: (-len(s.packages), s.phrase))
