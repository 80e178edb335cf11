"""The anthropic provider, driven through the real ``anthropic`` SDK against a local fake server.

Structured output comes back as a forced ``submit_fields`` tool call; corrections go back as a
``tool_result`` with ``is_error``. Transport behaviour (429 with Retry-After, 5xx, timeouts)
is the SDK's and is checked on the requests the server counted.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from fakes.drafting import INJECTION, brief, draft_request, good_fields
from fakes.llm_servers import (
    FakeLLMServer,
    Scripted,
    anthropic_error,
    anthropic_text_reply,
    anthropic_tool_reply,
    fake_server,
)
from rules_fixture import lavender

from signoff.agents.checks.pii import check_pii
from signoff.agents.checks.spec import check_spec
from signoff.agents.context import Draft, Severity
from signoff.agents.providers.anthropic_provider import TOOL_NAME, AnthropicProvider
from signoff.agents.providers.port import DraftFailed

PRICES = {"fake-claude": {"input_per_1k": 3.0, "output_per_1k": 15.0}}
EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"


def provider(server: FakeLLMServer, **options: Any) -> AnthropicProvider:
    settings: dict[str, Any] = {
        "model": "fake-claude",
        "base_url": server.origin,
        "api_key": "test-key",
        "timeout": 2.0,
        "max_retries": 1,
        "output_retries": 2,
        "prices": PRICES,
    }
    return AnthropicProvider(**(settings | options))


def test_tool_call_becomes_fields_with_provenance() -> None:
    with fake_server(
        anthropic_tool_reply(good_fields(), input_tokens=1000, output_tokens=100)
    ) as s:
        result = provider(s).draft(draft_request())

    assert result.fields == good_fields()
    assert (result.provider, result.model) == ("anthropic", "fake-claude")
    assert (result.input_tokens, result.output_tokens) == (1000, 100)
    assert result.cost == pytest.approx(3.0 + 1.5)
    assert result.parameters["attempts"] == 1
    assert result.parameters["tool"] == TOOL_NAME

    (request,) = s.requests
    assert request.path == "/v1/messages"
    # SDK versions differ: x-api-key, or a bearer token.
    auth = request.headers.get("x-api-key") or request.headers["authorization"]
    assert auth.removeprefix("Bearer ") == "test-key"
    body = request.json
    assert body["model"] == "fake-claude"
    assert body["system"].startswith("You are a copywriter for Lumen Home")
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    (tool,) = body["tools"]
    assert tool["name"] == TOOL_NAME
    assert tool["input_schema"]["properties"]["title"]["maxLength"] == 60
    assert tool["input_schema"]["additionalProperties"] is False


def test_over_length_tool_input_is_answered_with_an_error_tool_result() -> None:
    too_long = {**good_fields(), "bullets": ["x" * 90, "fine"]}
    with fake_server(
        anthropic_tool_reply(too_long, input_tokens=100, output_tokens=10),
        anthropic_tool_reply(good_fields(), input_tokens=200, output_tokens=20),
    ) as s:
        result = provider(s).draft(draft_request())

    assert result.fields == good_fields()
    assert (result.input_tokens, result.output_tokens) == (300, 30)
    retry = s.requests[1].json["messages"]
    assert [m["role"] for m in retry] == ["user", "assistant", "user"]
    assert retry[1]["content"] == [
        {"type": "tool_use", "id": "toolu_fake", "name": TOOL_NAME, "input": too_long}
    ]
    (tool_result,) = retry[2]["content"]
    assert tool_result["type"] == "tool_result"
    assert tool_result["tool_use_id"] == "toolu_fake"
    assert tool_result["is_error"] is True
    assert "bullets[0]: 90 characters, at most 80 allowed" in tool_result["content"]


def test_text_reply_from_a_server_without_tools_is_parsed() -> None:
    import json

    with fake_server(anthropic_text_reply(json.dumps(good_fields()))) as s:
        result = provider(s).draft(draft_request())
    assert result.fields == good_fields()


def test_invalid_text_then_tool_call() -> None:
    with fake_server(
        anthropic_text_reply("Sure! Here is your copy."),
        anthropic_tool_reply(good_fields()),
    ) as s:
        result = provider(s).draft(draft_request())
    assert result.parameters["attempts"] == 2
    retry = s.requests[1].json["messages"]
    assert retry[1] == {"role": "assistant", "content": "Sure! Here is your copy."}
    assert "not valid JSON" in retry[2]["content"]


def test_always_invalid_raises_draft_failed() -> None:
    bad = {"title": "Lumen Home Candle", "bullets": ["one"], "extra": "x"}
    with fake_server(*(anthropic_tool_reply(bad),) * 3) as s:
        with pytest.raises(DraftFailed) as failed:
            provider(s).draft(draft_request())
    assert len(s.requests) == 3
    assert failed.value.attempts == 3
    assert "extra: not a field of Test PDP" in failed.value.reason
    assert "bullets: 1 items, at least 2 needed" in failed.value.reason
    assert failed.value.provider == "anthropic"


def test_cut_off_reply_is_corrected() -> None:
    with fake_server(
        anthropic_tool_reply({"title": "Lumen"}, stop_reason="max_tokens"),
        anthropic_tool_reply(good_fields()),
    ) as s:
        result = provider(s, max_tokens=300).draft(draft_request())
    assert result.parameters["repairs"] == [
        ["the reply was cut off at 300 tokens; write shorter texts"]
    ]


def test_429_with_retry_after_is_retried_after_the_delay() -> None:
    with fake_server(
        anthropic_error(429, "rate limited", headers={"retry-after": "1"}),
        anthropic_tool_reply(good_fields()),
    ) as s:
        result = provider(s).draft(draft_request())
    assert len(s.requests) == 2
    assert s.gaps()[0] >= 1.0
    assert result.fields == good_fields()


def test_overloaded_then_ok_is_retried() -> None:
    with fake_server(anthropic_error(529, "overloaded"), anthropic_tool_reply(good_fields())) as s:
        result = provider(s).draft(draft_request())
    assert len(s.requests) == 2
    assert result.fields == good_fields()


def test_500_then_ok_is_retried() -> None:
    with fake_server(anthropic_error(500, "boom"), anthropic_tool_reply(good_fields())) as s:
        result = provider(s).draft(draft_request())
    assert len(s.requests) == 2
    assert s.requests[1].headers["x-stainless-retry-count"] == "1"
    assert result.fields == good_fields()
    assert result.parameters["attempts"] == 1  # a transport retry is not a new attempt


def test_500s_beyond_max_retries_fail_the_draft() -> None:
    with fake_server(anthropic_error(500, "boom"), anthropic_error(503, "down")) as s:
        with pytest.raises(DraftFailed) as failed:
            provider(s).draft(draft_request())
    assert len(s.requests) == 2  # max_retries=1
    assert "HTTP 503" in failed.value.reason


def test_timeouts_beyond_max_retries_fail_the_draft() -> None:
    slow = Scripted(body=anthropic_tool_reply(good_fields()).body, delay=3.0)
    with fake_server(slow, slow) as s:
        with pytest.raises(DraftFailed) as failed:
            provider(s, timeout=0.5).draft(draft_request())
    assert len(s.requests) == 2
    assert "APITimeoutError" in failed.value.reason


def test_injection_and_pii_never_leave_outside_the_data_blocks() -> None:
    product = replace(lavender(), attributes={**lavender().attributes, "gift": f"card {CARD}"})
    facts = brief(key_messages=(INJECTION, f"Reply to {EMAIL}"))
    leaky = {**good_fields(), "bullets": [f"Ask {EMAIL}"]}  # one item: invalid, echoed back
    with fake_server(anthropic_tool_reply(leaky), anthropic_tool_reply(good_fields())) as s:
        result = provider(s).draft(draft_request(product=product, brief_facts=facts))

    for body in s.bodies:
        assert EMAIL not in body
        assert CARD not in body
    first = s.requests[0].json
    assert INJECTION not in first["system"]
    user = first["messages"][0]["content"]
    block = re.search(r"<brief>\n(.*?)\n</brief>", user, re.DOTALL)
    assert block is not None
    assert INJECTION in block.group(1)
    assert user.count(INJECTION) == 1
    assert result.parameters["redactions"] == 3  # email and card in, email echoed back


def test_temperature_is_sent_only_when_set() -> None:
    with fake_server(anthropic_tool_reply(good_fields()), anthropic_tool_reply(good_fields())) as s:
        provider(s).draft(draft_request())
        provider(s, temperature=0.2).draft(draft_request())
    assert "temperature" not in s.requests[0].json
    assert s.requests[1].json["temperature"] == 0.2


def test_script_tags_and_pii_in_the_output_are_returned_as_text_for_the_checks() -> None:
    reply = {
        **good_fields(),
        "title": "<script>alert(1)</script> Candle",
        "bullets": ['<img src=x onerror="alert(1)"> Lavender', "About 50 hours of even burn"],
        "description": f"Questions? Write to {EMAIL}.",
    }
    with fake_server(anthropic_tool_reply(reply)) as s:
        request = draft_request()
        result = provider(s).draft(request)

    # Neither escaped nor dropped here: the provider returns the text, the checks flag it
    # (and the web escapes it on output).
    assert result.fields == reply
    draft = Draft(channel=request.channel, fields=result.fields, product=request.product)
    html = {f.field: f for f in check_spec(draft) if f.rule_id == "spec.html"}
    assert set(html) == {"title", "bullets[0]"}
    assert all(f.severity is Severity.BLOCK for f in html.values())
    assert "<script" not in html["title"].suggested_fix
    assert "onerror" not in html["bullets[0]"].suggested_fix
    (pii,) = check_pii(draft)
    assert (pii.rule_id, pii.field, pii.severity) == ("pii.email", "description", Severity.BLOCK)
    assert EMAIL not in pii.message
