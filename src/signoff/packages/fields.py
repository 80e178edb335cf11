"""Changing a version's field values by path (``title``, ``bullet_points[2]``). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from signoff.agents.context import FieldValue
from signoff.core.errors import InputError, Problem


def plain_newlines(value: FieldValue) -> FieldValue:
    r"""``\r\n`` and ``\r`` as ``\n``: browsers send a textarea's line breaks as CRLF, and a
    line break must count (and be stored) as one character, whoever typed it."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, list):
        return [plain_newlines(item) for item in value]
    return value


def apply_changes(
    fields: Mapping[str, FieldValue], changes: Mapping[str, FieldValue], spec_fields: Iterable[str]
) -> dict[str, FieldValue]:
    """Return the new field values; ``bullets[2]=...`` sets one item of a list field."""
    known = set(spec_fields)
    result = {k: (list(v) if isinstance(v, list) else v) for k, v in fields.items()}
    problems = []
    for key, value in changes.items():
        value = plain_newlines(value)
        name, _, index = key.partition("[")
        if name not in known:
            problems.append(
                Problem(
                    f"unknown field; the channel's fields are {', '.join(sorted(known))}", field=key
                )
            )
            continue
        if index:
            items = result.get(name)
            position = index.rstrip("]")
            if not isinstance(items, list) or not position.isdigit():
                problems.append(Problem("expected a list field and an item number", field=key))
                continue
            i = int(position)
            if i > len(items):
                problems.append(Problem(f"the list has {len(items)} items", field=key))
                continue
            if i == len(items):
                items.append(str(value))
            else:
                items[i] = str(value)
        else:
            result[name] = value
    if problems:
        raise InputError(problems)
    return result
