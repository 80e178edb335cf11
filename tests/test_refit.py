"""Refit: a model's draft outside the spec is re-prompted with the findings, then trimmed by rule.

Most tests use a scripted provider (pure, no network); the last one drives the real ``openai``
SDK against the local fake server, as a run would.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any

import pytest
from fakes.drafting import brief, draft_request, factual_pdp
from fakes.llm_servers import fake_server, openai_reply

from signoff.agents.providers.openai_provider import OpenAIProvider
from signoff.agents.providers.port import DraftFailed, DraftRequest, DraftResult
from signoff.agents.refit import draft_and_refit, spec_blocks
from signoff.channels.spec import ChannelSpec, FieldSpec

LONG_TITLE = "Lumen Home Lavender Fields Soy Wax Candle for Calm Spring Evenings, 8 oz"


def channel() -> ChannelSpec:
    # Limits the JSON Schema does not carry (banned characters, UTF-8 bytes), so a model's
    # reply can pass validation and still break the spec: that is what refit is for.
    return factual_pdp(
        "refit_pdp",
        "Refit PDP",
        title=FieldSpec(label="Title", compose="title", max_bytes=48, banned_chars=["|"]),
        bullets=FieldSpec(
            label="Bullets", compose="bullets", kind="list", min_items=2, max_bytes=40
        ),
    )


def request(**brief_changes: Any) -> DraftRequest:
    return draft_request(channel=channel(), brief_facts=brief(**brief_changes))


FITS = {"title": "Lavender Fields Candle, 8 oz", "bullets": ["Soy wax", "About 50 hours"]}


def result(fields: dict, tokens: int = 100, cost: float = 0.01, model: str = "m1") -> DraftResult:
    return DraftResult(
        fields=fields,
        provider="scripted",
        model=model,
        prompt=f"prompt for {model}",
        parameters={"attempts": 1},
        input_tokens=tokens,
        output_tokens=tokens // 2,
        latency_ms=10.0,
        cost=cost,
    )


class Scripted:
    """A provider that answers from a queue and keeps every request it was sent."""

    name = "scripted"

    def __init__(self, *answers: DraftResult | DraftFailed, spec_valid: bool = False) -> None:
        self.answers = deque(answers)
        self.requests: list[DraftRequest] = []
        self.spec_valid = spec_valid

    def draft(self, request: DraftRequest) -> DraftResult:
        self.requests.append(request)
        answer = self.answers.popleft()
        if isinstance(answer, DraftFailed):
            raise answer
        return answer


def test_a_draft_within_the_spec_is_asked_for_once():
    provider = Scripted(result(FITS))

    drafted, refit = draft_and_refit(provider, request())

    assert drafted.fields == FITS
    assert refit == {}
    assert len(provider.requests) == 1


def test_a_provider_that_composes_within_spec_is_never_refitted():
    provider = Scripted(result({**FITS, "title": LONG_TITLE}), spec_valid=True)

    drafted, refit = draft_and_refit(provider, request())

    assert drafted.fields["title"] == LONG_TITLE
    assert refit == {}
    assert len(provider.requests) == 1


def test_a_draft_outside_the_spec_is_reprompted_with_the_findings():
    first = result({**FITS, "title": "Lavender | Candle"}, tokens=100, cost=0.01, model="m1")
    second = result(FITS, tokens=200, cost=0.02, model="m2")
    provider = Scripted(first, second)
    asked = request(notes=("[rejected at G2] lead with the scent",))

    drafted, refit = draft_and_refit(provider, asked)

    assert drafted.fields == FITS
    assert (drafted.model, drafted.prompt) == ("m2", "prompt for m2")  # the draft kept
    assert (drafted.input_tokens, drafted.output_tokens) == (300, 150)
    assert drafted.cost == pytest.approx(0.03)
    assert drafted.latency_ms == 20.0
    (line,) = refit["reprompted_with"]
    assert line.startswith("fix: title: title contains '|'")
    assert "trimmed" not in refit
    # The second request is the first with the feedback after the reviewers' notes.
    again = provider.requests[1]
    assert again.brief.notes == ("[rejected at G2] lead with the scent", line)
    assert replace(again, brief=asked.brief) == asked
    assert provider.requests[0] == asked  # the caller's request is not changed


def test_what_still_breaks_a_limit_is_trimmed_by_rule():
    over = {
        "title": LONG_TITLE,
        "bullets": ["Soy wax", "About fifty hours of calm and even burn, slowly"],
    }
    provider = Scripted(result(over), result(over))

    drafted, refit = draft_and_refit(provider, request())

    assert len(provider.requests) == 2
    assert refit["trimmed"] == ["bullets[1]", "title"]
    assert len(refit["reprompted_with"]) == 2
    assert drafted.fields["title"] == "Lumen Home Lavender Fields Soy Wax Candle"
    assert drafted.fields["bullets"] == ["Soy wax", "About fifty hours of calm and even burn"]
    assert spec_blocks(request(), drafted.fields) == []


def test_a_text_breaking_two_rules_is_fixed_for_both():
    both = {**FITS, "title": "Lumen Home | Lavender Fields Soy Wax Candle, 8 oz, spring"}
    provider = Scripted(result(both), result(both))

    drafted, refit = draft_and_refit(provider, request())

    assert refit["trimmed"] == ["title"]
    assert "|" not in drafted.fields["title"]
    assert len(drafted.fields["title"].encode()) <= 48
    assert spec_blocks(request(), drafted.fields) == []


def test_blocks_without_a_rule_fix_are_left_for_a_person():
    short = {**FITS, "bullets": ["Soy wax"]}  # too few items: no rule can write another
    provider = Scripted(result(short), result(short))

    drafted, refit = draft_and_refit(provider, request())

    assert drafted.fields == short
    assert "trimmed" not in refit
    assert [f.rule_id for f in spec_blocks(request(), drafted.fields)] == ["spec.min_items"]


def test_a_failed_reprompt_keeps_the_first_draft_trimmed_and_counts_its_tokens():
    first = result({**FITS, "title": LONG_TITLE}, tokens=100, cost=0.01)
    failed = DraftFailed("invalid output: title: missing", 3, input_tokens=40, cost=0.005)
    provider = Scripted(first, failed)

    drafted, refit = draft_and_refit(provider, request())

    assert drafted.fields["title"] == "Lumen Home Lavender Fields Soy Wax Candle"
    assert refit["reprompt_failed"] == "invalid output: title: missing (after 3 attempts)"
    assert refit["trimmed"] == ["title"]
    assert drafted.input_tokens == 140
    assert drafted.cost == pytest.approx(0.015)
    assert drafted.model == "m1"


def test_a_failed_first_draft_is_not_refitted():
    provider = Scripted(DraftFailed("the provider answered HTTP 500", 1))

    with pytest.raises(DraftFailed):
        draft_and_refit(provider, request())
    assert len(provider.requests) == 1


def test_through_the_openai_sdk_the_findings_reach_the_model():
    over = {"title": "Lavender | Candle", "bullets": ["Soy wax", "About 50 hours"]}
    with fake_server(openai_reply(over), openai_reply(FITS)) as server:
        provider = OpenAIProvider(
            model="fake-gpt",
            base_url=f"{server.origin}/v1",
            api_key="test-key",
            max_retries=0,
            timeout=2.0,
        )
        drafted, refit = draft_and_refit(provider, request())

    assert drafted.fields == FITS
    assert len(server.requests) == 2
    (line,) = refit["reprompted_with"]
    second_user = server.requests[1].json["messages"][1]["content"]
    assert "title contains '|'" in second_user
    assert "title contains '|'" not in server.requests[0].json["messages"][1]["content"]
    assert drafted.input_tokens == 200  # 100 per reply from the fake server
