"""Providers sit behind one port (``port.Provider``), chosen by settings alias.

``settings.SIGNOFF_PROVIDERS`` maps an alias to a backend and its options::

    SIGNOFF_PROVIDERS = {
        "default": {"BACKEND": "signoff.agents.providers.builtin.BuiltinProvider"},
        "copy_drafter": {
            "BACKEND": "signoff.agents.providers.openai_provider.OpenAIProvider",
            "OPTIONS": {"model": "gpt-4o-mini", "timeout": 60, "max_retries": 2},
        },
    }

An agent asks for its own alias (``get_provider("copy_drafter")``) and gets ``"default"``
when that alias is not configured. The settings build the table from the environment:

``SIGNOFF_PROVIDER``
    ``builtin`` (the offline default), ``openai`` or ``anthropic``: the ``"default"`` alias.
``SIGNOFF_MODEL``
    The model for it (required for ``openai`` and ``anthropic``).
``SIGNOFF_AGENT_PROVIDERS``
    Per-agent aliases, ``alias=provider[:model]`` separated by commas, e.g.
    ``copy_drafter=anthropic:claude-sonnet-4-5,brief_parser=openai:gpt-4o-mini``.
``SIGNOFF_PROVIDER_TIMEOUT``, ``SIGNOFF_PROVIDER_MAX_RETRIES``, ``SIGNOFF_OUTPUT_RETRIES``
    Seconds per HTTP request, the SDK's transport retries (429 with Retry-After, 5xx,
    timeouts) and re-prompts after an invalid reply, for every remote provider.
``SIGNOFF_PRICES``
    JSON, ``{"model": {"input_per_1k": 0.00015, "output_per_1k": 0.0006}}``: the price table
    cost is computed from (a model without a price costs 0 and is recorded as unpriced).

Each SDK reads its usual variables: ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``,
``ANTHROPIC_BASE_URL``, ``ANTHROPIC_API_KEY``. The options each backend takes are listed on
``OpenAIProvider`` and ``AnthropicProvider``; docs/providers.md shows OpenAI, Azure OpenAI,
vLLM, Ollama, llama.cpp server and Anthropic set up step by step.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from signoff.agents.providers.port import DraftFailed, Provider

__all__ = ["BACKENDS", "DraftFailed", "Provider", "get_provider", "provider_from_spec"]

BACKENDS = {
    "builtin": "signoff.agents.providers.builtin.BuiltinProvider",
    "openai": "signoff.agents.providers.openai_provider.OpenAIProvider",
    "anthropic": "signoff.agents.providers.anthropic_provider.AnthropicProvider",
}


def build_provider(config: dict[str, Any]) -> Provider:
    """Build a provider from one ``SIGNOFF_PROVIDERS`` entry."""
    backend = import_string(config["BACKEND"])
    return backend(**config.get("OPTIONS", {}))


@cache
def get_provider(alias: str = "default") -> Provider:
    """The provider for ``alias``, or for ``"default"`` when the alias is not configured."""
    providers = settings.SIGNOFF_PROVIDERS
    return build_provider(providers.get(alias) or providers["default"])


def provider_from_spec(spec: str, **options: Any) -> Provider:
    """Build a provider from ``"builtin"``, ``"openai:MODEL"`` or ``"anthropic:MODEL"``.

    For side-by-side comparisons (``signoff compare --providers builtin,openai:gpt-4o``).
    Other options come from ``options``; the SDKs read their own environment variables.
    """
    kind, _, model = spec.strip().partition(":")
    if kind not in BACKENDS:
        raise ImproperlyConfigured(
            f"Unknown provider {kind!r} in {spec!r}; use one of {', '.join(BACKENDS)}"
        )
    if model and kind != "builtin":
        options["model"] = model
    return build_provider({"BACKEND": BACKENDS[kind], "OPTIONS": options})


@receiver(setting_changed)
def _forget_providers(*, setting: str, **kwargs: Any) -> None:
    # Tests override SIGNOFF_PROVIDERS; a cached provider must not outlive its settings.
    if setting in ("SIGNOFF_PROVIDERS", "SIGNOFF_PRICES"):
        get_provider.cache_clear()


def provider_for(agent: str, workspace_providers: Mapping[str, str] | None = None) -> Provider:
    """Return the agent's provider: the workspace's choice if it made one, else the settings'."""
    spec = (workspace_providers or {}).get(agent)
    return provider_from_spec(spec) if spec else get_provider(agent)
