"""Template filters for showing deliveries on the screens (``{% load deliveries %}``)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def deliveries_for(by_package: dict[int, list[Any]] | None, package_id: int) -> list[Any]:
    """Return a package's deliveries from ``matrix_deliveries(...)["by_package"]``."""
    return (by_package or {}).get(package_id, [])
