"""Say in plain words what changed between two versions' fields. Pure.

Used for re-approval: a reviewer reads "title: 'Soy Wax' became 'Soy Candle'; burn time
50 hours -> 60 hours" instead of comparing two screens of copy.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from signoff.agents.checks.consistency import extract_facts
from signoff.agents.context import FieldValue, field_texts

FACT_NAMES = {"size": "size", "burn_time": "burn time", "price": "price"}


def _words_changed(old: str, new: str) -> str:
    a, b = old.split(), new.split()
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "replace":
            parts.append(f"{' '.join(a[i1:i2])!r} became {' '.join(b[j1:j2])!r}")
        elif op == "delete":
            parts.append(f"removed {' '.join(a[i1:i2])!r}")
        elif op == "insert":
            parts.append(f"added {' '.join(b[j1:j2])!r}")
    return "; ".join(parts) or "whitespace or punctuation only"


def describe_changes(old: Mapping[str, FieldValue], new: Mapping[str, FieldValue]) -> list[str]:
    """Return one line per changed field (list items by index), then changed facts."""
    before, after = dict(field_texts(old)), dict(field_texts(new))
    lines = []
    for name in [*before, *(n for n in after if n not in before)]:
        if name not in after:
            lines.append(f"{name}: removed")
        elif name not in before:
            lines.append(f"{name}: added {after[name]!r}")
        elif before[name] != after[name]:
            lines.append(f"{name}: {_words_changed(before[name], after[name])}")
    old_facts = extract_facts(" ".join(before.values()))
    new_facts = extract_facts(" ".join(after.values()))
    for key, label in FACT_NAMES.items():
        was, now = old_facts.get(key, set()), new_facts.get(key, set())
        if was != now:
            lines.append(
                f"fact {label}: {', '.join(sorted(was)) or 'not stated'} -> "
                f"{', '.join(sorted(now)) or 'not stated'}"
            )
    return lines
