"""The JSON Schema a model's reply must match, built from the channel spec, and its validation.

One schema per channel: an object with one property per field (a string, or an array of
strings), the spec's character and item limits, its required fields, and nothing else
(``additionalProperties: false``), so a reply can only ever carry field values.

Validation uses ``jsonschema`` against the very schema the model was shown, so what is asked
and what is enforced cannot drift apart. Its raw messages quote the offending value in full
("'...300 characters...' is too long"); :func:`validate_fields` rewrites them into short,
located sentences ("title: 212 characters, at most 200 allowed") because they are sent back
to the model when it is asked to fix its reply.

Limits JSON Schema cannot say (UTF-8 bytes, casing, banned phrases) stay with the spec check,
which runs on every version whoever drafted it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from signoff.channels.spec import ChannelSpec, FieldSpec

# OpenAI's strict structured outputs reject these keywords; the validator still enforces them.
_STRICT_UNSUPPORTED = ("minLength", "maxLength")
_SCHEMA_NAME = re.compile(r"[^a-zA-Z0-9_-]")


def _describe(spec: FieldSpec) -> str:
    parts = [spec.label]
    if spec.recommended_max_chars is not None:
        parts.append(f"aim for at most {spec.recommended_max_chars} characters")
    if spec.casing not in ("any", "no_all_caps"):
        parts.append(f"{spec.casing} case")
    if spec.kind == "list" and spec.max_chars is not None:
        parts.append(f"each item at most {spec.max_chars} characters")
    return "; ".join(parts)


def _text_schema(spec: FieldSpec, *, item: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    # An empty required text is a missing field, and an empty list item is never wanted.
    floor = 1 if (item or spec.required) else 0
    minimum = max(spec.min_chars or 0, floor)
    if minimum:
        schema["minLength"] = minimum
    if spec.max_chars is not None:
        schema["maxLength"] = spec.max_chars
    return schema


def field_schema(spec: FieldSpec) -> dict[str, Any]:
    """The schema of one field's value: limits of a list field apply to each item."""
    if spec.kind == "list":
        schema: dict[str, Any] = {"type": "array", "items": _text_schema(spec, item=True)}
        minimum = max(spec.min_items or 0, 1 if spec.required else 0)
        if minimum:
            schema["minItems"] = minimum
        if spec.max_items is not None:
            schema["maxItems"] = spec.max_items
    else:
        schema = _text_schema(spec, item=False)
    schema["description"] = _describe(spec)
    return schema


def fields_schema(channel: ChannelSpec) -> dict[str, Any]:
    """The JSON Schema of a reply for ``channel``: exactly its fields, with their limits."""
    return {
        "type": "object",
        "properties": {name: field_schema(spec) for name, spec in channel.fields.items()},
        "required": channel.required_fields,
        "additionalProperties": False,
    }


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The same schema in the subset OpenAI's ``strict`` mode accepts.

    Strict mode wants every property required (an optional one may be null) and refuses
    length keywords; the reply is still validated against the full schema afterwards.
    """
    required = set(schema.get("required", ()))
    properties: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        prop = {k: v for k, v in prop.items() if k not in _STRICT_UNSUPPORTED}
        if "items" in prop:
            items = prop["items"]
            prop["items"] = {k: v for k, v in items.items() if k not in _STRICT_UNSUPPORTED}
        if name not in required:
            prop["type"] = [prop["type"], "null"]
        properties[name] = prop
    return {**schema, "properties": properties, "required": list(properties)}


def schema_name(channel: ChannelSpec) -> str:
    """A name for the schema as the OpenAI API wants it: ``[a-zA-Z0-9_-]{1,64}``."""
    return _SCHEMA_NAME.sub("_", f"{channel.id}_fields")[:64]


def drop_nulls(channel: ChannelSpec, data: Any) -> Any:
    """Remove optional fields a strict-mode reply sent as null: null means "not written"."""
    if not isinstance(data, dict):
        return data
    return {
        key: value
        for key, value in data.items()
        if not (value is None and key in channel.fields and not channel.fields[key].required)
    }


def _path(error: ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(channel: ChannelSpec, error: ValidationError) -> str:
    path = _path(error) or "reply"
    value, limit = error.instance, error.validator_value
    match error.validator:
        case "required":
            missing = re.search(r"'([^']+)'", error.message)
            name = missing.group(1) if missing else "a field"
            return f"{name}: missing; it is required"
        case "additionalProperties":
            extra = sorted(set(value) - set(channel.fields)) if isinstance(value, dict) else []
            allowed = ", ".join(channel.fields)
            return (
                f"{', '.join(extra) or 'reply'}: not a field of {channel.name}; use only {allowed}"
            )
        case "type":
            wanted = {"string": "a string", "array": "a list of strings", "object": "an object"}
            expected = limit if isinstance(limit, str) else " or ".join(limit)
            if error.absolute_path:
                return f"{path}: should be {wanted.get(expected, expected)}"
            return f"reply: should be a JSON object with the fields {', '.join(channel.fields)}"
        case "maxLength":
            return f"{path}: {len(value)} characters, at most {limit} allowed; shorten it"
        case "minLength":
            if len(value) == 0:
                return f"{path}: empty; write it"
            return f"{path}: {len(value)} characters, at least {limit} needed; lengthen it"
        case "maxItems":
            return f"{path}: {len(value)} items, at most {limit} allowed"
        case "minItems":
            return f"{path}: {len(value)} items, at least {limit} needed"
        case _:
            return f"{path}: {error.message}"


def validate_fields(channel: ChannelSpec, data: Any) -> list[str]:
    """Return why ``data`` is not a valid reply for ``channel``, one line per problem.

    Empty when it is valid. Lines are in field order, so the same reply always gives the same
    list (it is recorded, and sent back to the model).
    """
    validator = Draft202012Validator(fields_schema(channel))
    order = {name: i for i, name in enumerate(channel.fields)}

    def key(error: ValidationError) -> tuple[int, str, str]:
        head = error.absolute_path[0] if error.absolute_path else ""
        return (order.get(str(head), -1), _path(error), str(error.validator))

    return [_message(channel, e) for e in sorted(validator.iter_errors(data), key=key)]


def _generic_message(schema: Mapping[str, Any], error: ValidationError) -> str:
    path = _path(error) or "reply"
    value, limit = error.instance, error.validator_value
    match error.validator:
        case "required":
            missing = re.search(r"'([^']+)'", error.message)
            name = missing.group(1) if missing else "a key"
            where = f"{path}." if error.absolute_path else ""
            return f"{where}{name}: missing; it is required (null when unknown)"
        case "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            extra = sorted(set(value) - set(allowed)) if isinstance(value, dict) else []
            return f"{', '.join(extra) or path}: not allowed; use only {', '.join(allowed)}"
        case "type":
            expected = limit if isinstance(limit, str) else " or ".join(limit)
            return f"{path}: should be {expected}"
        case "enum":
            return f"{path}: {value!r} is not one of {', '.join(map(str, limit))}"
        case "pattern":
            described = error.schema.get("description")
            return f"{path}: {value!r} should be {described or f'like {limit}'}"
        case "maxLength":
            return f"{path}: {len(value)} characters, at most {limit} allowed; shorten it"
        case "minLength":
            return f"{path}: empty; write it or leave it out"
        case "maxItems":
            return f"{path}: {len(value)} items, at most {limit} allowed"
        case "minimum" | "maximum":
            return f"{path}: {value!r} is out of range ({error.validator} {limit})"
        case _:
            return f"{path}: {error.message}"


def validate_json(schema: Mapping[str, Any], data: Any) -> list[str]:
    """Return why ``data`` does not match ``schema``, one short located line per problem.

    For replies that are not a channel's fields (the brief parser's brief): the same rule as
    ``validate_fields``, validated against the very schema the model was shown, in a stable
    order because the lines are recorded and sent back to the model.
    """
    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: (_path(e), str(e.validator)))
    return [_generic_message(schema, e) for e in errors]
