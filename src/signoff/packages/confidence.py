"""A package's confidence score, 0-100, from its findings and its completeness. Pure.

Start from 100, scaled by the share of required facts present; take off 25 per blocking
finding, 8 per warning and 1 per info; never below 0. A complete package with clean copy
scores 100; one blocking finding drops it to 75 at most, so a reviewer sorting by confidence
sees every package that cannot pass a gate below every package that can (unless it has
four or more warnings, which deserve a look too).
"""

from __future__ import annotations

from collections.abc import Iterable

PENALTY = {"block": 25, "warn": 8, "info": 1}


def confidence(severities: Iterable[str], needed: int, missing: int) -> int:
    completeness = 1.0 if needed == 0 else (needed - missing) / needed
    score = 100 * completeness - sum(PENALTY.get(s, 0) for s in severities)
    return max(0, round(score))
