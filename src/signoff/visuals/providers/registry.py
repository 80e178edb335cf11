"""Which image provider makes images: ``image_provider("openai:gpt-image-2")``.

A spec is ``provider`` or ``provider:model``. Without one, ``SIGNOFF_IMAGE_PROVIDER`` decides
(default ``builtin``: nothing leaves the machine), and the model comes from
``SIGNOFF_IMAGE_MODEL`` or the provider's own default. Remote providers also take
``SIGNOFF_IMAGE_PROVIDER_OPTIONS`` (base_url, api_key, timeout, max_retries, quality, ...).

Providers are imported by dotted path when asked for, so choosing one never imports another's
SDK, and a provider that is missing fails with a message rather than at start-up.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from signoff.visuals.providers.port import ImageProvider

IMAGE_PROVIDERS = {
    "builtin": "signoff.visuals.providers.builtin.BuiltinImageProvider",
    "openai": "signoff.visuals.providers.openai_images.OpenAIImageProvider",
}
# The builtin provider composes from the packshots and has no model to choose.
LOCAL_PROVIDERS = frozenset({"builtin"})


def parse_spec(spec: str) -> tuple[str, str | None]:
    """Split ``"openai:gpt-image-2"`` into ("openai", "gpt-image-2"); refuse unknown providers."""
    kind, _, model = spec.strip().partition(":")
    kind = kind.strip().lower() or "builtin"
    if kind not in IMAGE_PROVIDERS:
        raise ImproperlyConfigured(
            f"Unknown image provider {kind!r} (from {spec!r}); the image providers are "
            f"{', '.join(IMAGE_PROVIDERS)}. Set SIGNOFF_IMAGE_PROVIDER to one of them."
        )
    model = model.strip() or None
    if model and kind in LOCAL_PROVIDERS:
        raise ImproperlyConfigured(f"The {kind} image provider takes no model (got {model!r})")
    return kind, model


def image_provider(spec: str | None = None) -> ImageProvider:
    """Return the image provider ``spec`` names, or the one the settings name."""
    kind, model = parse_spec(spec or settings.SIGNOFF_IMAGE_PROVIDER)
    path = IMAGE_PROVIDERS[kind]
    try:
        backend = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"The {kind} image provider ({path}) cannot be imported: {exc}"
        ) from exc
    if kind in LOCAL_PROVIDERS:
        return backend()
    options: dict[str, Any] = dict(getattr(settings, "SIGNOFF_IMAGE_PROVIDER_OPTIONS", {}) or {})
    model = model or getattr(settings, "SIGNOFF_IMAGE_MODEL", "") or options.pop("model", None)
    options.pop("model", None)
    if model:
        options["model"] = model
    try:
        return backend(**options)
    except TypeError as exc:  # an option the provider does not take
        raise ImproperlyConfigured(
            f"SIGNOFF_IMAGE_PROVIDER_OPTIONS does not fit the {kind} image provider: {exc}"
        ) from exc
