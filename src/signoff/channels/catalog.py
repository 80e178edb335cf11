"""The shipped channel catalog and per-workspace overrides of it.

One YAML file per channel lives in ``catalog/`` next to this module; its stem is the channel id.
A workspace overrides any value with a mapping that is deep-merged into the shipped data
(mappings merge key by key, lists and scalars replace) and validated again. A workspace may also
define a channel the catalog lacks by giving a complete spec. Nothing here imports Django.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from pydantic import ValidationError

from signoff.channels.spec import ChannelSpec
from signoff.core.errors import InputError, NotFound, Problem
from signoff.core.sourcemap import Loc, SourceDocument, parse_yaml, pydantic_problems

_CATALOG_PACKAGE = "signoff.channels"
_CATALOG_DIR = "catalog"


@lru_cache(maxsize=1)
def _shipped() -> dict[str, tuple[dict[str, Any], ChannelSpec]]:
    """Read every shipped file once: channel id -> (raw data, validated spec)."""
    return read_catalog_folder(resources.files(_CATALOG_PACKAGE).joinpath(_CATALOG_DIR))


def read_catalog_folder(folder: Traversable) -> dict[str, tuple[dict[str, Any], ChannelSpec]]:
    """Read and validate every ``*.yaml`` in ``folder``; raise InputError with file and line."""
    entries = sorted(
        (item for item in folder.iterdir() if item.name.endswith((".yaml", ".yml"))),
        key=lambda item: item.name,
    )
    shipped: dict[str, tuple[dict[str, Any], ChannelSpec]] = {}
    for entry in entries:
        doc = parse_yaml(entry.read_text(encoding="utf-8"), str(entry))
        spec = _validate_shipped(doc)
        stem = entry.name.rsplit(".", 1)[0]
        if spec.id != stem:
            # The file name is how people find a channel; a mismatch is a packaging bug.
            raise InputError([doc.problem(f"id {spec.id!r} does not match file name", ("id",))])
        shipped[spec.id] = (doc.data, spec)
    return shipped


def _validate_shipped(doc: SourceDocument) -> ChannelSpec:
    if not isinstance(doc.data, dict):
        raise InputError([doc.problem("expected a mapping with id, name, kind, fields, ...")])
    try:
        return ChannelSpec.model_validate(doc.data)
    except ValidationError as exc:
        raise InputError(pydantic_problems(doc, exc)) from exc


def load_catalog() -> dict[str, ChannelSpec]:
    """Return every shipped channel spec by id. A bad shipped file raises InputError (a bug)."""
    return {channel_id: spec for channel_id, (_, spec) in _shipped().items()}


def catalog_ids() -> list[str]:
    """Return the shipped channel ids, sorted."""
    return sorted(_shipped())


def merge_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``overrides`` deep-merged in; neither argument is changed.

    Mappings merge key by key; lists and scalars replace. Under ``fields`` a null value drops
    the field, so a workspace can remove a field it never delivers.
    """
    merged = _merge(base, overrides)
    fields = merged.get("fields")
    if isinstance(fields, dict):
        merged["fields"] = {name: value for name, value in fields.items() if value is not None}
    return merged


def _merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = {key: copy.deepcopy(value) for key, value in base.items()}
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def resolve_spec(channel_id: str, overrides: Mapping[str, Any] | None = None) -> ChannelSpec:
    """Return the spec for ``channel_id`` with a workspace's overrides applied.

    Raises ``pydantic.ValidationError`` when the merged spec is invalid; its error locations are
    paths inside ``overrides`` (see ``validate_overrides`` for located problems). Raises
    ``NotFound``, listing the known ids, for an id that is neither shipped nor fully specified.
    """
    shipped = _shipped()
    if channel_id in shipped:
        raw, spec = shipped[channel_id]
        if not overrides:
            return spec
        return ChannelSpec.model_validate(merge_overrides(raw, {**overrides, "id": channel_id}))
    if not overrides:
        raise NotFound(_unknown_message(channel_id))
    data = merge_overrides({"id": channel_id}, overrides)
    try:
        return ChannelSpec.model_validate(data)
    except ValidationError as exc:
        missing = sorted(
            str(err["loc"][0])
            for err in exc.errors()
            if err["type"] == "missing" and len(err["loc"]) == 1
        )
        if missing:
            # Most likely a typo in a catalog id rather than a half-written custom channel.
            raise NotFound(
                f"{_unknown_message(channel_id)}; its override lacks {', '.join(missing)}"
            ) from exc
        raise


def _unknown_message(channel_id: str) -> str:
    return (
        f"channel {channel_id!r} is not in the catalog (known: {', '.join(catalog_ids())}) "
        "and has no complete spec of its own (name, kind, fields)"
    )


def validate_overrides(
    doc: SourceDocument, loc: Loc, channel_id: str | None = None
) -> list[Problem]:
    """Return located problems with the override at ``loc`` in ``doc`` (empty when it is fine).

    ``channel_id`` defaults to the last part of ``loc``, the usual shape being
    ``channel_overrides: {amazon_us_pdp: {...}}``.
    """
    channel_id = channel_id if channel_id is not None else str(loc[-1])
    node: Any = doc.data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return [doc.problem("override not found", loc)]
    if node is None:
        node = {}
    if not isinstance(node, Mapping):
        return [doc.problem("expected a mapping of spec values to change", loc)]
    try:
        resolve_spec(channel_id, node)
    except ValidationError as exc:
        return pydantic_problems(doc, exc, tuple(loc))
    except NotFound as exc:
        return [doc.problem(str(exc), loc)]
    return []
