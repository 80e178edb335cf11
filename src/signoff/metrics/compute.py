"""Operations metrics as pure functions: no Django, no I/O.

The inputs are plain records read from the audit log and the packages' rows
(``signoff.metrics.selectors``): each package's moves (``from_position`` -> ``to_position``
events), its versions, its rejections. From the moves come *spans* (how long a package stayed
in a stage) and *waits* (how long it waited at a gate, and how that wait ended). A metric set
is computed over any subset of them, so the same function answers "per brief", "per channel",
"per gate", "per person" and "per week": each grouping only chooses which records go in.

Definitions (docs/metrics.md says the same for people):

- cycle time: hours from entering a stage (or a gate's waiting position) to leaving it;
  median and p90 (linear interpolation between closest ranks). A wait still open counts up to
  ``now`` for the SLA breach rate, never for cycle times.
- first-pass approval rate: of the (package, gate) pairs decided at least once, the share
  whose first decision was an approval. A pair counts where its first decision falls (its
  week; not at all when that decision is before ``since``), so a rejection outside the window
  cannot make the approval that followed it look first.
- revisions per package: versions after the first, per package that has a version.
- rejection reasons: the rule ids of the findings on the version a gate rejected.
- AI text shipped unedited: of the packages past their last gate, the share whose current
  version was written by an agent (no person changed it).
- model cost per shipped package: the model cost recorded on the versions, over the packages
  past their last gate.
- SLA breach rate: of the gate waits (ended or open), the share longer than the gate's SLA.
- hours saved: shipped packages x the workspace's manual baseline hours per package.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

# The records are named tuples, not dataclasses: a 2,000-package brief makes tens of thousands
# of them, and tuples of plain values drop out of the garbage collector's tracking, where
# dataclass instances would make it sweep the whole heap again and again (half the time).

APPROVED = "package.gate.approved"
REJECTED = "package.gate.rejected"


class Move(NamedTuple):
    """One audit event of a package: it went from ``source`` to ``target`` at ``at``."""

    package: int
    at: datetime
    action: str
    actor: str
    source: str  # "S3/in_review"
    target: str
    gate: str | None = None


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """What the metrics need of a package besides its moves."""

    id: int
    brief: str
    channel: str
    # The positions where it waits on a gate: {"S3/in_review": ("G2", 48.0)}.
    gates_at: Mapping[str, tuple[str, float]]
    shipped: bool = False  # past its last gate (approved or published)
    ai_unedited: bool = False  # its current version was written by an agent


class VersionInfo(NamedTuple):
    package: int
    number: int
    author: str  # a person's email or "agent:copy_drafter"
    at: datetime
    cost: float = 0.0


class Rejection(NamedTuple):
    package: int
    gate: str
    person: str
    at: datetime
    rule_ids: tuple[str, ...] = ()


class Span(NamedTuple):
    """A package's stay in one stage; ``end`` is None while it is still there."""

    package: int
    stage: str
    start: datetime
    end: datetime | None


class Wait(NamedTuple):
    """A package waiting at a gate, from entering its position to the move that left it."""

    package: int
    gate: str
    sla_hours: float
    start: datetime
    end: datetime | None  # None: still waiting
    outcome: str  # approved | rejected | left (an edit, a block, ...) | waiting
    decider: str = ""  # who approved or rejected
    duration: float | None = None  # hours, once ended: see ``ended``
    first: bool = False  # the package's first decision (approved or rejected) at this gate

    @classmethod
    def ended(cls, *args: object, **kwargs: object) -> Wait:
        """A wait with its duration computed once (every grouping reads it)."""
        wait = cls(*args, **kwargs)  # type: ignore[arg-type]
        if wait.end is None:
            return wait
        return wait._replace(duration=(wait.end - wait.start).total_seconds() / 3600)

    def hours(self, now: datetime) -> float:
        if self.duration is not None:
            return self.duration
        return (now - self.start).total_seconds() / 3600

    def breached(self, now: datetime) -> bool:
        return self.hours(now) > self.sla_hours


@dataclass
class Records:
    """Everything a metric set is computed from; groupings pass subsets of it."""

    packages: dict[int, PackageInfo]
    waits: list[Wait] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    versions: list[VersionInfo] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    shipped_at: dict[int, datetime] = field(default_factory=dict)


def stage_of(position: str) -> str:
    return position.partition("/")[0]


def follow(info: PackageInfo, moves: Sequence[Move]) -> tuple[list[Span], list[Wait]]:
    """Turn one package's moves (oldest first) into its stage spans and gate waits.

    A move whose source and target are the same (a review, a check, an edit that stays) does
    not end a stay; a package that leaves a gate's position and comes back waits again.
    """
    spans: list[Span] = []
    waits: list[Wait] = []
    position: str | None = None
    entered: datetime | None = None
    stage_start: datetime | None = None
    decided: set[str] = set()  # gates with a decision so far
    for move in moves:
        if position is not None and move.target == position:
            continue
        if position is not None and entered is not None:
            gate = info.gates_at.get(position)
            if gate is not None:
                outcome = "left"
                if move.action == APPROVED:
                    outcome = "approved"
                elif move.action == REJECTED:
                    outcome = "rejected"
                decider = move.actor if outcome != "left" else ""
                first = outcome != "left" and gate[0] not in decided
                if first:
                    decided.add(gate[0])
                waits.append(
                    Wait.ended(
                        info.id, gate[0], gate[1], entered, move.at, outcome, decider, first=first
                    )
                )
        if position is None or stage_of(move.target) != stage_of(position):
            if position is not None and stage_start is not None:
                spans.append(Span(info.id, stage_of(position), stage_start, move.at))
            stage_start = move.at
        position, entered = move.target, move.at
    if position is not None and entered is not None:
        gate = info.gates_at.get(position)
        if gate is not None:
            waits.append(Wait(info.id, gate[0], gate[1], entered, None, "waiting"))
        if stage_start is not None and not position.endswith(("/approved", "/published")):
            spans.append(Span(info.id, stage_of(position), stage_start, None))
    return spans, waits


def shipped_time(moves: Sequence[Move]) -> datetime | None:
    """When the package passed its last gate: its latest move into an approved position."""
    times = [m.at for m in moves if m.target.endswith("/approved") and m.source != m.target]
    return max(times) if times else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def distribution(hours: Sequence[float]) -> dict:
    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    return {"n": len(hours), "median": r(percentile(hours, 50)), "p90": r(percentile(hours, 90))}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def metric_set(
    records: Records,
    *,
    now: datetime,
    baseline_hours: float | None,
    package_metrics: bool = True,
) -> dict:
    """Every metric over these records. ``package_metrics=False`` (a gate, a person) leaves
    the per-package ones (shipped, AI unedited, cost, hours saved) as None."""
    waits, spans = records.waits, records.spans
    by_gate: dict[str, list[float]] = {}
    breaches = 0
    decided = approvals = firsts = first_approvals = 0
    for wait in waits:  # one pass: a 2,000-package brief has ~10,000 waits per grouping
        hours = wait.hours(now)
        if hours > wait.sla_hours:
            breaches += 1
        if wait.end is not None:
            by_gate.setdefault(wait.gate, []).append(hours)
        if wait.outcome in ("approved", "rejected"):
            decided += 1
            approvals += wait.outcome == "approved"
            # Only the pair's first decision counts, in the group it falls in: ``follow`` marks
            # it with the package's whole history, so a subset cannot promote a later one.
            if wait.first:
                firsts += 1
                first_approvals += wait.outcome == "approved"
    by_stage: dict[str, list[float]] = {}
    for span in spans:
        if span.end is not None:
            by_stage.setdefault(span.stage, []).append(
                (span.end - span.start).total_seconds() / 3600
            )
    reasons: Counter[str] = Counter()
    for rejection in records.rejections:
        reasons.update(rejection.rule_ids or ("(no finding)",))
    revised = {v.package for v in records.versions}
    revisions = sum(1 for v in records.versions if v.number > 1)
    result = {
        "packages": len(set(records.packages) | revised | {w.package for w in waits}),
        "decisions": decided,
        "approvals": approvals,
        "rejections": len(records.rejections),
        "cycle_hours": {
            "gates": {gate: distribution(hours) for gate, hours in sorted(by_gate.items())},
            "stages": {stage: distribution(h) for stage, h in sorted(by_stage.items())},
        },
        "first_pass_rate": _share(first_approvals, firsts),
        "revisions": revisions,
        "revisions_per_package": round(revisions / len(revised), 3) if revised else None,
        "rejection_reasons": dict(reasons.most_common()),
        "sla_breach_rate": _share(breaches, len(waits)),
        "sla_breaches": breaches,
        "waits": len(waits),
        "shipped": None,
        "ai_unedited_share": None,
        "model_cost": None,
        "cost_per_shipped": None,
        "hours_saved": None,
    }
    if package_metrics:
        shipped = [p for p in records.packages.values() if p.shipped]
        cost = round(sum(v.cost for v in records.versions), 6)
        result.update(
            shipped=len(shipped),
            ai_unedited_share=_share(sum(1 for p in shipped if p.ai_unedited), len(shipped)),
            model_cost=cost,
            cost_per_shipped=round(cost / len(shipped), 6) if shipped else None,
            hours_saved=(
                round(len(shipped) * baseline_hours, 2) if baseline_hours is not None else None
            ),
        )
    return result


def week_of(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


class _Buckets:
    """Records sorted into groups in one pass each, so every grouping costs one pass over
    the records, not one per group."""

    def __init__(self) -> None:
        self.packages: set[int] = set()
        self.waits: list[Wait] = []
        self.spans: list[Span] = []
        self.versions: list[VersionInfo] = []
        self.rejections: list[Rejection] = []

    def records(self, source: Records) -> Records:
        return Records(
            packages={i: source.packages[i] for i in self.packages if i in source.packages},
            waits=self.waits,
            spans=self.spans,
            versions=self.versions,
            rejections=self.rejections,
            shipped_at=source.shipped_at,
        )


def _bucket(
    records: Records,
    *,
    wait: Callable[[Wait], str | None],
    span: Callable[[Span], str | None],
    version: Callable[[VersionInfo], str | None],
    rejection: Callable[[Rejection], str | None],
    package: Callable[[PackageInfo], str | None] = lambda p: None,
) -> dict[str, _Buckets]:
    """Sort every record into the group its function names (None: no group)."""
    groups: dict[str, _Buckets] = defaultdict(_Buckets)
    for item in records.packages.values():
        if (key := package(item)) is not None:
            groups[key].packages.add(item.id)
    for attr, items, name in (
        ("waits", records.waits, wait),
        ("spans", records.spans, span),
        ("versions", records.versions, version),
        ("rejections", records.rejections, rejection),
    ):
        lists: dict[str, list] = {}
        for item in items:
            if (key := name(item)) is not None:
                lists.setdefault(key, []).append(item)
        for key, found in lists.items():
            setattr(groups[key], attr, found)
    return groups


def grouped(records: Records, *, now: datetime, baseline_hours: float | None) -> dict:
    """The metric set overall and per brief, channel, gate, person and week."""
    info = records.packages

    def compute(groups: dict[str, _Buckets], package_metrics: bool = True) -> dict:
        return {
            key: metric_set(
                groups[key].records(records),
                now=now,
                baseline_hours=baseline_hours,
                package_metrics=package_metrics,
            )
            for key in sorted(groups)
        }

    overall = metric_set(records, now=now, baseline_hours=baseline_hours)

    def by_package_attr(attr: str) -> dict:
        values = {getattr(p, attr) for p in info.values()}
        if len(values) == 1:  # one brief (or channel) holds everything: that is overall
            return {values.pop(): overall}

        def of(item: Wait | Span | VersionInfo | Rejection) -> str | None:
            found = info.get(item.package)
            return getattr(found, attr) if found is not None else None

        return compute(
            _bucket(
                records,
                wait=of,
                span=of,
                version=of,
                rejection=of,
                package=lambda p: getattr(p, attr),
            )
        )

    def nobody(item: object) -> None:
        return None

    def author(v: VersionInfo) -> str | None:
        return None if v.author.startswith("agent:") else v.author

    def wait_week(w: Wait) -> str:
        return week_of(w.end or now)

    by_week = _bucket(
        records,
        wait=wait_week,
        span=lambda s: week_of(s.end) if s.end is not None else None,
        version=lambda v: week_of(v.at),
        rejection=lambda r: week_of(r.at),
        package=lambda p: week_of(records.shipped_at[p.id]) if p.id in records.shipped_at else None,
    )
    return {
        "overall": overall,
        "by_brief": by_package_attr("brief"),
        "by_channel": by_package_attr("channel"),
        "by_gate": compute(
            _bucket(
                records,
                wait=lambda w: w.gate,
                span=nobody,
                version=nobody,
                rejection=lambda r: r.gate,
            ),
            package_metrics=False,
        ),
        "by_person": compute(
            _bucket(
                records,
                wait=lambda w: w.decider or None,
                span=nobody,
                version=author,
                rejection=lambda r: r.person,
            ),
            package_metrics=False,
        ),
        "by_week": compute(by_week),
    }
