"""Choosing providers: the environment variables, per-agent aliases and get_provider."""

from __future__ import annotations

import runpy
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

import signoff.config.settings as settings_module
from signoff.agents.providers import get_provider, provider_from_spec
from signoff.agents.providers.anthropic_provider import AnthropicProvider
from signoff.agents.providers.builtin import BuiltinProvider
from signoff.agents.providers.openai_provider import OpenAIProvider

OPENAI = "signoff.agents.providers.openai_provider.OpenAIProvider"
ANTHROPIC = "signoff.agents.providers.anthropic_provider.AnthropicProvider"
BUILTIN = "signoff.agents.providers.builtin.BuiltinProvider"
_VARS = (
    "SIGNOFF_PROVIDER",
    "SIGNOFF_MODEL",
    "SIGNOFF_AGENT_PROVIDERS",
    "SIGNOFF_PROVIDER_TIMEOUT",
    "SIGNOFF_PROVIDER_MAX_RETRIES",
    "SIGNOFF_OUTPUT_RETRIES",
    "SIGNOFF_PRICES",
    "SIGNOFF_PROVIDER_OPTIONS",
    "SIGNOFF_CONCURRENCY",
)


def load_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """Evaluate the settings module afresh under ``env``."""
    for name in _VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(settings_module.__file__)


def test_builtin_is_the_default_when_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load_settings(monkeypatch)
    assert loaded["SIGNOFF_PROVIDERS"] == {"default": {"BACKEND": BUILTIN}}
    assert loaded["SIGNOFF_PRICES"] == {}


def test_signoff_provider_and_model_set_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load_settings(
        monkeypatch,
        SIGNOFF_PROVIDER="OpenAI",
        SIGNOFF_MODEL="gpt-4o-mini",
        SIGNOFF_PROVIDER_TIMEOUT="30",
        SIGNOFF_PROVIDER_MAX_RETRIES="4",
        SIGNOFF_OUTPUT_RETRIES="1",
        SIGNOFF_PROVIDER_OPTIONS='{"response_format": "json_object", "timeout": 5}',
        SIGNOFF_PRICES='{"gpt-4o-mini": {"input_per_1k": 0.00015, "output_per_1k": 0.0006}}',
    )
    assert loaded["SIGNOFF_PROVIDERS"]["default"] == {
        "BACKEND": OPENAI,
        "OPTIONS": {
            "model": "gpt-4o-mini",
            "response_format": "json_object",
            "timeout": 30.0,  # the specific variable wins over the JSON
            "max_retries": 4,
            "output_retries": 1,
        },
    }
    assert loaded["SIGNOFF_PRICES"]["gpt-4o-mini"]["output_per_1k"] == 0.0006


def test_agent_aliases_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load_settings(
        monkeypatch,
        SIGNOFF_PROVIDER="anthropic",
        SIGNOFF_MODEL="claude-x",
        SIGNOFF_AGENT_PROVIDERS="copy_drafter=openai:gpt-4o, brief_parser=anthropic,diff=builtin",
    )
    providers = loaded["SIGNOFF_PROVIDERS"]
    assert providers["default"] == {"BACKEND": ANTHROPIC, "OPTIONS": {"model": "claude-x"}}
    assert providers["copy_drafter"] == {"BACKEND": OPENAI, "OPTIONS": {"model": "gpt-4o"}}
    assert providers["brief_parser"]["OPTIONS"] == {"model": "claude-x"}  # SIGNOFF_MODEL
    assert providers["diff"] == {"BACKEND": BUILTIN}


@pytest.mark.parametrize(
    "env",
    [{"SIGNOFF_PROVIDER": "gemini"}, {"SIGNOFF_AGENT_PROVIDERS": "copy_drafter"}],
)
def test_bad_provider_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    with pytest.raises(ImproperlyConfigured):
        load_settings(monkeypatch, **env)


def test_get_provider_falls_back_to_default_and_follows_overrides() -> None:
    assert isinstance(get_provider("copy_drafter"), BuiltinProvider)
    aliases = {
        "default": {"BACKEND": BUILTIN},
        "copy_drafter": {
            "BACKEND": OPENAI,
            "OPTIONS": {"model": "m", "api_key": "k", "base_url": "http://127.0.0.1:9/v1"},
        },
    }
    with override_settings(SIGNOFF_PROVIDERS=aliases):
        drafter = get_provider("copy_drafter")
        assert isinstance(drafter, OpenAIProvider)
        assert drafter.model == "m"
        assert isinstance(get_provider("brief_parser"), BuiltinProvider)
    assert isinstance(get_provider("copy_drafter"), BuiltinProvider)  # cache cleared


def test_provider_from_spec() -> None:
    assert isinstance(provider_from_spec("builtin"), BuiltinProvider)
    built = provider_from_spec("anthropic:claude-x", api_key="k", base_url="http://127.0.0.1:9")
    assert isinstance(built, AnthropicProvider)
    assert built.model == "claude-x"
    with pytest.raises(ImproperlyConfigured, match="Unknown provider"):
        provider_from_spec("gemini:pro")


@pytest.mark.parametrize(
    ("value", "limits"),
    [
        ("", {}),
        ("8", {"openai": 8, "anthropic": 8}),
        ("openai=8, Anthropic=4", {"openai": 8, "anthropic": 4}),
        ("openai=8,2", {"openai": 8, "anthropic": 2}),  # named wins, whatever the order
        ("builtin=2", {"builtin": 2}),
    ],
)
def test_concurrency_per_provider_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, limits: dict[str, int]
) -> None:
    assert load_settings(monkeypatch, SIGNOFF_CONCURRENCY=value)["SIGNOFF_CONCURRENCY"] == limits


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("openai=0", "'openai=0': the limit must be a whole number of 1 or more"),
        ("openai=many", "'openai=many': the limit must be a whole number"),
        ("eight", "'eight': the limit must be a whole number"),
        ("openai=-1", "'openai=-1': the limit must be"),
        ("openai=", "'openai=': the limit must be"),
        ("gemini=3", "'gemini=3': unknown provider 'gemini'"),
        ("openai=2.5", "'openai=2.5': the limit must be a whole number"),
    ],
)
def test_bad_concurrency_is_refused_naming_the_entry(
    monkeypatch: pytest.MonkeyPatch, value: str, says: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match="SIGNOFF_CONCURRENCY entry") as refused:
        load_settings(monkeypatch, SIGNOFF_CONCURRENCY=value)
    assert says in str(refused.value)


def test_a_run_drafts_as_many_at_once_as_the_setting_says(monkeypatch: pytest.MonkeyPatch) -> None:
    from signoff.packages.drafting import default_concurrency

    limits = load_settings(monkeypatch, SIGNOFF_CONCURRENCY="openai=8")["SIGNOFF_CONCURRENCY"]
    remote = OpenAIProvider(model="m", api_key="k", base_url="http://127.0.0.1:9/v1")
    with override_settings(SIGNOFF_CONCURRENCY=limits):
        assert default_concurrency(remote) == 8
        assert default_concurrency(BuiltinProvider()) == 1
    with override_settings(SIGNOFF_CONCURRENCY={}):
        assert default_concurrency(remote) == 4  # the default for a remote provider
