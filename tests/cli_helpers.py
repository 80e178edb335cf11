"""What the tests of the `signoff` command share besides fixtures (those are in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BRIEF = "spring-candles-2027"


def ref(sku: str, channel: str) -> str:
    """Name a package of the spring brief as the command does: brief/sku/channel."""
    return f"{BRIEF}/{sku}/{channel}"


def approve_channel(cli: Callable[..., Any], tokens: dict[str, str], channel: str) -> list[str]:
    """Review and batch-approve every package of ``channel`` at G2, G3 and G4; return them."""
    from signoff.packages.models import Package

    refs = [ref(p.sku, p.channel) for p in Package.objects.filter(channel=channel).order_by("id")]
    for name in ("maya", "omar", "lena"):
        assert cli("review", *refs, token=tokens[name]).exit_code == 0
        result = cli("approve", *refs, token=tokens[name])
        assert result.exit_code == 0, result.output
        assert result.stdout.count(": approved: ") == len(refs)
    return refs
