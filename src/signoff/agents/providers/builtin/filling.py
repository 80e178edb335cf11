"""A field's value from its plan: fitted to the spec and screened, memoised per product."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace

from signoff.agents.context import FieldValue
from signoff.agents.providers.builtin.composers import SENTENCE_COMPOSERS
from signoff.agents.providers.builtin.facts import Facts
from signoff.agents.providers.builtin.memo import fill_memo, product_memo
from signoff.agents.providers.builtin.vocabulary import LIST_TARGETS
from signoff.agents.providers.compose import (
    CopyGuard,
    Plan,
    Screen,
    char_budget,
    fit_items,
    fit_text,
    group_sentences,
)
from signoff.channels.spec import FieldSpec


def _list_target(compose: str, spec: FieldSpec, available: int) -> int:
    want = LIST_TARGETS.get(compose, available or 1)
    want = max(want, spec.min_items or 0)
    return min(want, spec.max_items) if spec.max_items else want


# Product titles read as titles wherever the channel leaves casing open, and stay short
# enough to scan where it sets no recommended length.
_TITLE_CASINGS = frozenset({"any", "no_all_caps", "title"})
_TITLE_SOFT_MAX = 100


def _fill_field(
    plan: Plan, spec: FieldSpec, screen: Screen, max_words: int | None, taken: set[str]
) -> FieldValue:
    if spec.kind == "list":
        if spec.compose in SENTENCE_COMPOSERS:
            allowed = [p for p in plan.pieces if screen.allows(p)]
            # Filler repeats what the pieces already say would make an item a reordering of
            # another (degenerate.near_duplicate): it only adds sentences not said yet.
            filler = [s for s in plan.filler if s not in allowed]
            plan = Plan("prose", group_sentences(allowed, spec), group_sentences(filler, spec))
        target = _list_target(spec.compose, spec, len(plan.pieces))
        return fit_items(plan, spec, screen, target)
    if plan.mode == "words" and max_words:
        plan = replace(plan, max_words=max_words)
    casing, budget = None, None
    if spec.compose == "title" and spec.casing in _TITLE_CASINGS:
        casing = "title"
        limit = char_budget(spec)
        budget = _TITLE_SOFT_MAX if limit is None else min(limit, _TITLE_SOFT_MAX)
    return fit_text(plan, spec, screen, casing=casing, budget=budget, taken=taken)


def filled(
    plan: Plan,
    spec: FieldSpec,
    spec_key: Hashable,
    guard: CopyGuard,
    facts: Facts,
    max_words: int | None,
    taken: set[str],
) -> FieldValue:
    """Return ``_fill_field``'s value, memoised across the channels of a product.

    A field's copy depends only on the plan, the spec's content, the guard, the product's claim
    screen and (where a text field picks one alternative) the texts already taken; a SKU's
    channels often share all of them.
    """
    picks = plan.mode == "pick" and spec.kind != "list"

    def build() -> str | tuple[str, ...]:
        value = _fill_field(plan, spec, _screen(guard, facts), max_words, taken)
        return value if isinstance(value, str) else tuple(value)

    value = fill_memo.get(
        "fill",
        (plan, guard, facts.claim_screen),
        (spec_key, max_words, frozenset(taken) if picks else None),
        build,
    )
    return list(value) if isinstance(value, tuple) else value  # each draft gets its own list


def _screen(guard: CopyGuard, facts: Facts) -> Screen:
    # One per guard and product, so its verdicts serve every channel of the product.
    return product_memo.get(
        "screen", (guard, facts.claim_screen), None, lambda: Screen(guard, facts.claim_screen)
    )
