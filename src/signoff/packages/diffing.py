"""Say in plain words what changed between two versions' fields. Pure.

Used for re-approval: a reviewer reads "title: 'Soy Wax' became 'Soy Candle'; burn time
50 hours -> 60 hours; claim added: 'eco' ("sustainable")" instead of comparing two screens of
copy. Fields and the facts they state (size, burn time, price) are read from the copy alone;
claims need the workspace's claims registry, so they are reported when ``rules`` is given.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from signoff.agents.checks.claims import mentions_in_fields
from signoff.agents.checks.consistency import extract_facts
from signoff.agents.context import BrandRules, FieldValue, ProductFacts, field_texts

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


def _claims(
    fields: Mapping[str, FieldValue], rules: BrandRules, product: ProductFacts | None
) -> dict[str, dict[str, str]]:
    """Claim id -> {wording without case and hyphens: the wording as first written}."""
    made: dict[str, dict[str, str]] = {}
    for mention in mentions_in_fields(fields, rules, product):
        normal = " ".join(mention.wording.lower().replace("-", " ").split())
        made.setdefault(mention.claim_id, {}).setdefault(normal, mention.wording)
    return made


def _quoted(wordings: Mapping[str, str]) -> str:
    return ", ".join(f'"{w}"' for w in wordings.values())


def describe_claims(
    old: Mapping[str, FieldValue],
    new: Mapping[str, FieldValue],
    rules: BrandRules,
    product: ProductFacts | None = None,
) -> list[str]:
    """Return one line per claim added, removed or reworded between the two versions.

    With ``product``, words that only quote its name or attributes are not claims (as in the
    claims scanner: "Green Fig Candle" makes no green claim).
    """
    if not rules.claims:
        return []
    was, now = _claims(old, rules, product), _claims(new, rules, product)
    lines = []
    for claim_id in [*was, *(c for c in now if c not in was)]:
        if claim_id not in now:
            lines.append(f"claim removed: '{claim_id}' ({_quoted(was[claim_id])})")
        elif claim_id not in was:
            lines.append(f"claim added: '{claim_id}' ({_quoted(now[claim_id])})")
        elif set(was[claim_id]) != set(now[claim_id]):
            lines.append(
                f"claim '{claim_id}' reworded: {_quoted(was[claim_id])} -> {_quoted(now[claim_id])}"
            )
    return lines


def describe_changes(
    old: Mapping[str, FieldValue],
    new: Mapping[str, FieldValue],
    *,
    rules: BrandRules | None = None,
    product: ProductFacts | None = None,
) -> list[str]:
    """Return one line per changed field (list items by index), then facts, then claims.

    Claims are compared only when ``rules`` (the workspace's brand rules, whose registry says
    what a claim is) is given.
    """
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
    if rules is not None:
        lines += describe_claims(old, new, rules, product)
    return lines
