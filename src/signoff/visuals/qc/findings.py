"""What a QC rule reports: one finding, tied to a rule id and, where it has one, a region."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["info", "warn", "block"]
BBox = tuple[int, int, int, int]  # x, y, w, h in the checked image's pixels


@dataclass(frozen=True, slots=True)
class ImageFinding:
    rule_id: str  # "image.<family>[.<rule>]"
    severity: Severity
    message: str  # states the measured value and the limit
    bbox: BBox | None = None
    suggested_fix: str | None = None
    measured: float | None = None
    limit: float | None = None

    @property
    def family(self) -> str:
        """``image.fill`` for ``image.fill.cut``: the part callers group by."""
        return ".".join(self.rule_id.split(".")[:2])


def pct(share: float) -> str:
    """0.712 -> "71 %" (whole percent unless that would hide a small non-zero share)."""
    value = share * 100
    if 0 < value < 1:
        return f"{value:.1f} %"
    return f"{value:.0f} %"
