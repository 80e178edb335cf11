"""Comparing rates between the values of one content attribute. Pure: no Django.

Method (stated in docs/insights.md): every value of an attribute is an arm with ``trials``
(impressions for click-through, clicks for conversion) and ``successes`` (clicks, orders).
Each arm's rate gets a 95% Wilson score interval. The leader (the highest rate among arms with
the minimum sample) is compared with every other arm by a two-sided, pooled two-proportion
z-test, at alpha divided by the number of comparisons (Bonferroni), so five arms do not give
five chances of a false winner. An arm is a loser when it is significantly below the leader;
the leader is the winner only when every other arm is a loser. Below the minimum sample no
verdict is given, and each undecided arm says how many more trials it needs: the minimum
sample, or the per-arm sample that detects the difference seen so far with 80% power,
whichever is larger.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist

METHOD = "two-proportion z-test (pooled, two-sided, Bonferroni), Wilson 95% intervals"
ALPHA = 0.05
POWER = 0.8
_NORMAL = NormalDist()


class Verdict(StrEnum):
    WINNER = "winner"  # significantly above every other value
    LOSER = "loser"  # significantly below the leader
    UNDECIDED = "undecided"  # enough data for a test, but no significant difference yet
    TOO_LITTLE = "too_little_data"  # below the minimum sample: no verdict at all
    ALONE = "alone"  # the only value: nothing to compare with


@dataclass(frozen=True, slots=True)
class Arm:
    label: str
    trials: int
    successes: int

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials else 0.0


@dataclass(frozen=True, slots=True)
class ArmResult:
    label: str
    trials: int
    successes: int
    rate: float
    low: float  # Wilson interval
    high: float
    verdict: Verdict
    needed: int | None  # more trials this arm needs for a verdict; None: cannot be sized
    z: float | None = None  # against the leader
    p_value: float | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    metric: str  # ctr | conversion
    trial_unit: str  # impressions | clicks
    arms: tuple[ArmResult, ...]
    min_trials: int
    alpha: float

    @property
    def winner(self) -> ArmResult | None:
        return next((a for a in self.arms if a.verdict is Verdict.WINNER), None)

    @property
    def runner_up(self) -> ArmResult | None:
        ranked = sorted(self.arms, key=lambda a: -a.rate)
        return ranked[1] if self.winner is not None and len(ranked) > 1 else None

    @property
    def needed(self) -> int | None:
        """The most any undecided arm still needs (0 when decided; None when unsizable)."""
        if self.winner is not None or len(self.arms) < 2:
            return 0
        needs = [a.needed for a in self.arms if a.verdict is not Verdict.LOSER]
        if any(n is None for n in needs):
            return None
        return max(needs, default=0)


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion (0, 1 when there are no trials)."""
    if trials <= 0:
        return 0.0, 1.0
    z = _NORMAL.inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


def two_proportion(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    """Return (z, two-sided p) of the pooled two-proportion z-test of s1/n1 against s2/n2."""
    if n1 <= 0 or n2 <= 0:
        return 0.0, 1.0
    pooled = (s1 + s2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return 0.0, 1.0
    z = (s1 / n1 - s2 / n2) / spread
    return z, math.erfc(abs(z) / math.sqrt(2))


def sample_per_arm(p1: float, p2: float, alpha: float = ALPHA, power: float = POWER) -> int | None:
    """Trials per arm that detect a difference of p1 against p2 (two-sided test at ``alpha``
    with ``power``); None when the rates are equal (no sample size tells them apart)."""
    if p1 == p2:
        return None
    z_alpha = _NORMAL.inv_cdf(1 - alpha / 2)
    z_beta = _NORMAL.inv_cdf(power)
    mean = (p1 + p2) / 2
    root = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_beta * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    return math.ceil((root / (p1 - p2)) ** 2)


def compare(
    metric: str,
    trial_unit: str,
    arms: Sequence[Arm],
    *,
    min_trials: int,
    alpha: float = ALPHA,
    power: float = POWER,
) -> Comparison:
    """Compare the arms' rates; see the module docstring for the method."""
    arms = sorted(arms, key=lambda a: (-a.rate, -a.trials, a.label))
    if len(arms) < 2:
        only = [
            _result(a, Verdict.ALONE if a.trials >= min_trials else Verdict.TOO_LITTLE, None)
            for a in arms
        ]
        if only and only[0].verdict is Verdict.TOO_LITTLE:
            only = [_replace_needed(only[0], min_trials - arms[0].trials)]
        return Comparison(metric, trial_unit, tuple(only), min_trials, alpha)
    eligible = [a for a in arms if a.trials >= min_trials]
    leader = eligible[0] if eligible else arms[0]
    adjusted = alpha / (len(arms) - 1)
    results: dict[str, ArmResult] = {}
    needs_of_leader: list[int | None] = []
    for arm in arms:
        if arm is leader:
            continue
        z, p = two_proportion(leader.successes, leader.trials, arm.successes, arm.trials)
        enough = arm.trials >= min_trials and leader.trials >= min_trials
        sized = sample_per_arm(leader.rate, arm.rate, adjusted, power)
        if enough and p < adjusted:
            verdict, needed = Verdict.LOSER, 0
        else:
            verdict = Verdict.UNDECIDED if enough else Verdict.TOO_LITTLE
            needed = None if sized is None else max(min_trials, sized) - arm.trials
            if sized is None and arm.trials < min_trials:
                needed = min_trials - arm.trials
            needed = None if needed is None else max(0, needed)
        needs_of_leader.append(
            0 if verdict is Verdict.LOSER else (None if sized is None else max(min_trials, sized))
        )
        results[arm.label] = _result(arm, verdict, needed, z, p)
    won = all(r.verdict is Verdict.LOSER for r in results.values())
    if won:
        leader_result = _result(leader, Verdict.WINNER, 0)
    else:
        sizes = [n for n in needs_of_leader if n]
        unsized = any(n is None for n in needs_of_leader)
        needed = None if unsized and not sizes else max([min_trials, *sizes]) - leader.trials
        verdict = Verdict.UNDECIDED if leader.trials >= min_trials else Verdict.TOO_LITTLE
        leader_result = _result(leader, verdict, None if needed is None else max(0, needed))
    ordered = [leader_result if a is leader else results[a.label] for a in arms]
    return Comparison(metric, trial_unit, tuple(ordered), min_trials, alpha)


def _result(
    arm: Arm, verdict: Verdict, needed: int | None, z: float | None = None, p: float | None = None
) -> ArmResult:
    low, high = wilson(arm.successes, arm.trials)
    return ArmResult(
        arm.label, arm.trials, arm.successes, arm.rate, low, high, verdict, needed, z, p
    )


def _replace_needed(result: ArmResult, needed: int) -> ArmResult:
    return ArmResult(
        result.label,
        result.trials,
        result.successes,
        result.rate,
        result.low,
        result.high,
        result.verdict,
        max(0, needed),
    )


def percent(rate: float) -> str:
    """A rate as people read it: 3.33%."""
    return f"{rate * 100:.2f}%"


def reason(comparison: Comparison, channel: str, attribute: str) -> str:
    """Why the winner won, with the numbers it stands on (for memory and the drafter)."""
    winner, runner_up = comparison.winner, comparison.runner_up
    if winner is None or runner_up is None:
        return ""
    name = {"ctr": "click-through", "conversion": "conversion"}.get(
        comparison.metric, comparison.metric
    )
    successes = {"impressions": "clicks", "clicks": "orders"}.get(comparison.trial_unit, "hits")
    lift = (winner.rate / runner_up.rate - 1) * 100 if runner_up.rate else float("inf")
    return (
        f"On {channel}, {attribute} {winner.label!r} won on {name}: {percent(winner.rate)} "
        f"({winner.successes:,} {successes} of {winner.trials:,} {comparison.trial_unit}, 95% "
        f"interval {percent(winner.low)}-{percent(winner.high)}) against {runner_up.label!r} "
        f"at {percent(runner_up.rate)} ({runner_up.successes:,} of {runner_up.trials:,}); "
        f"{lift:+.0f}% relative, z={runner_up.z or 0:.2f}, p={runner_up.p_value or 0:.2g}."
    )
