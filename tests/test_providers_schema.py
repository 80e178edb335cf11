"""The reply schema built from a channel spec, and the validation messages sent back to models."""

from __future__ import annotations

import pytest
from fakes.drafting import draft_request, good_fields, small_channel
from jsonschema import Draft202012Validator

from signoff.agents.providers.builtin import BuiltinProvider
from signoff.agents.providers.schema import (
    drop_nulls,
    fields_schema,
    schema_name,
    strict_schema,
    validate_fields,
)
from signoff.channels.catalog import load_catalog

CATALOG = load_catalog()


def test_schema_has_one_property_per_field_with_its_limits() -> None:
    schema = fields_schema(small_channel())

    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["title", "bullets"]
    title = schema["properties"]["title"]
    assert (title["type"], title["minLength"], title["maxLength"]) == ("string", 10, 60)
    bullets = schema["properties"]["bullets"]
    assert bullets["type"] == "array"
    assert (bullets["minItems"], bullets["maxItems"]) == (2, 3)
    assert bullets["items"] == {"type": "string", "minLength": 1, "maxLength": 80}
    assert "minLength" not in schema["properties"]["description"]  # optional: may be empty


@pytest.mark.parametrize("channel_id", sorted(CATALOG))
def test_every_catalog_channel_gives_a_valid_schema(channel_id: str) -> None:
    channel = CATALOG[channel_id]
    Draft202012Validator.check_schema(fields_schema(channel))
    Draft202012Validator.check_schema(strict_schema(fields_schema(channel)))
    assert len(schema_name(channel)) <= 64


@pytest.mark.parametrize("channel_id", sorted(CATALOG))
def test_builtin_drafts_pass_the_schema(channel_id: str) -> None:
    """The offline composer and the model schema agree on what a valid draft is."""
    request = draft_request()
    request = type(request)(
        channel=CATALOG[channel_id],
        product=request.product,
        brief=request.brief,
        rules=request.rules,
    )
    fields = BuiltinProvider().draft(request).fields
    present = {k: v for k, v in fields.items() if v not in ("", [])}
    assert validate_fields(CATALOG[channel_id], present) == []


def test_valid_reply_has_no_errors() -> None:
    assert validate_fields(small_channel(), good_fields()) == []


def test_errors_are_short_located_and_in_field_order() -> None:
    reply = {
        "bullets": ["ok", "x" * 81, "three", "four"],
        "title": "T" * 61,
        "state": "approved",
    }
    errors = validate_fields(small_channel(), reply)

    assert errors == [
        "state: not a field of Test PDP; use only title, bullets, description",
        "title: 61 characters, at most 60 allowed; shorten it",
        "bullets: 4 items, at most 3 allowed",
        "bullets[1]: 81 characters, at most 80 allowed; shorten it",
    ]
    assert all("x" * 81 not in e for e in errors)  # messages never quote the value


def test_missing_wrong_type_and_empty() -> None:
    channel = small_channel()
    assert validate_fields(channel, {"title": "A good title", "bullets": "one"}) == [
        "bullets: should be a list of strings"
    ]
    assert validate_fields(channel, {"bullets": ["a", "b"]}) == ["title: missing; it is required"]
    assert validate_fields(channel, {"title": "", "bullets": ["a", ""]}) == [
        "title: empty; write it",
        "bullets[1]: empty; write it",
    ]
    assert validate_fields(channel, ["not", "an", "object"]) == [
        "reply: should be a JSON object with the fields title, bullets, description"
    ]


def test_strict_schema_requires_every_field_and_allows_null_for_optional() -> None:
    schema = strict_schema(fields_schema(small_channel()))

    assert schema["required"] == ["title", "bullets", "description"]
    assert schema["properties"]["description"]["type"] == ["string", "null"]
    assert "maxLength" not in schema["properties"]["title"]  # refused by OpenAI strict mode
    assert "maxLength" not in schema["properties"]["bullets"]["items"]
    assert schema["properties"]["bullets"]["maxItems"] == 3
    reply = {**good_fields(), "description": None}
    assert validate_fields(small_channel(), drop_nulls(small_channel(), reply)) == []
