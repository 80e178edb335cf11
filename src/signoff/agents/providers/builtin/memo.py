"""Memos for the builtin composer: a run drafts thousands of packages from a few objects."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any


class Memo:
    """Memoise by the identity of the objects a value was built from, keeping them alive.

    Specs and rules are frozen but hold lists and mappings, so hashing them is slow or
    impossible; a run drafts thousands of packages against the same few objects.
    """

    def __init__(self, max_size: int = 512) -> None:
        self._entries: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}
        self._max_size = max_size

    def get(self, kind: str, objects: tuple[Any, ...], extra: Any, build: Callable[[], Any]) -> Any:
        key = (kind, *map(id, objects), extra)
        hit = self._entries.get(key)
        if hit is not None:
            # A plain loop: this runs several times per field drafted, and a generator in
            # all() costs more than the lookup itself.
            for kept, given in zip(hit[0], objects, strict=True):
                if kept is not given:
                    break
            else:
                return hit[1]
        value = build()
        if len(self._entries) >= self._max_size:
            self._entries.clear()
        self._entries[key] = (objects, value)
        return value


class ContentKey:
    """A hashable content key that hashes once: nested tuples are rehashed on every lookup."""

    __slots__ = ("_content", "_hash")

    def __init__(self, content: Hashable) -> None:
        self._content = content
        self._hash = hash(content)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, ContentKey)
            and self._hash == other._hash
            and self._content == other._content
        )


def freeze(value: Any) -> Hashable:
    if isinstance(value, dict):
        return tuple((key, freeze(item)) for key, item in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return (type(value).__name__, *map(freeze, value))
    return (type(value).__name__, value)  # 1, 1.0 and True are equal keys, not equal specs


# Compiled rules and guards live long; facts and plans come and go with the products of a run,
# so they get their own, larger memo and never push the compiled ones out.
rules_memo = Memo(max_size=256)
product_memo = Memo(max_size=4096)
# Filled fields, by plan, guard, claim screen and spec content; a run drafts SKU by SKU, so
# entries are needed only while one SKU's channels are drafted.
fill_memo = Memo(max_size=4096)
