"""A model as the brief parser: what a good one answers for the example notes, and its settings."""

from __future__ import annotations

from typing import Any

from fakes.llm_servers import FakeLLMServer

PRICES = {"fake-gpt": {"input_per_1k": 0.5, "output_per_1k": 2.0}}


def model_brief(**changes: Any) -> dict[str, Any]:
    """What a good model answers for the example notes: every key, nothing invented."""
    return {
        "name": "Spring candles",
        "audience": "first-home buyers, late twenties to mid forties",
        "channels": ["amazon_us_pdp", "walmart_us", "meta_feed_ad"],
        "variants": 1,
        "deadline": "2027-02-15",
        "key_messages": ["Hand-poured in Vermont with phthalate-free fragrance."],
        "acceptance_criteria": ["Tone: calm, no hype.", 'Do not claim "clean burning".'],
        "references": ["Last autumn the brand-first Amazon titles did really well."],
        "mentioned_products": [
            {"name": "lavender", "size": "8 oz"},
            {"name": "peony", "size": "14 oz"},
        ],
        "open_questions": ["deadline year not given: assumed 2027"],
    } | changes


def openai_options(server: FakeLLMServer, **changes: Any) -> dict[str, Any]:
    """The openai provider's options against ``server``, retrying nothing unless told to."""
    return {
        "model": "fake-gpt",
        "base_url": f"{server.origin}/v1",
        "api_key": "test-key",
        "max_retries": 0,
        "output_retries": 0,
    } | changes


def brief_parser_settings(server: FakeLLMServer, **options: Any) -> dict[str, Any]:
    """``SIGNOFF_PROVIDERS`` with the openai SDK against ``server`` as the brief parser."""
    return {
        "default": {"BACKEND": "signoff.agents.providers.builtin.BuiltinProvider"},
        "brief_parser": {
            "BACKEND": "signoff.agents.providers.openai_provider.OpenAIProvider",
            "OPTIONS": openai_options(server, **options),
        },
    }
