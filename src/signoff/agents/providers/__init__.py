"""Providers sit behind one port (``port.Provider``), chosen by settings alias."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from signoff.agents.providers.port import Provider


@cache
def get_provider(alias: str = "default") -> Provider:
    config = settings.SIGNOFF_PROVIDERS[alias]
    backend = import_string(config["BACKEND"])
    return backend(**config.get("OPTIONS", {}))
