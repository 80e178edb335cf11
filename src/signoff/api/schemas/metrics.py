"""Operations metrics (``signoff.metrics``; docs/metrics.md defines each number)."""

from ninja import Schema


class DistributionOut(Schema):
    n: int  # finished stays or waits measured
    median: float | None  # hours
    p90: float | None  # hours


class CycleOut(Schema):
    gates: dict[str, DistributionOut]  # waiting at each gate, to its decision
    stages: dict[str, DistributionOut]  # time in each stage


class MetricSetOut(Schema):
    packages: int
    decisions: int  # approvals and rejections at package gates
    approvals: int
    rejections: int
    cycle_hours: CycleOut
    first_pass_rate: float | None  # of (package, gate) pairs decided, share approved first
    revisions: int  # versions after the first
    revisions_per_package: float | None
    rejection_reasons: dict[str, int]  # rule id -> rejections of a version with it
    sla_breach_rate: float | None  # of gate waits (ended or open), share past the SLA
    sla_breaches: int
    waits: int
    # Per package (None for a gate or a person): past the last gate, and of those...
    shipped: int | None
    ai_unedited_share: float | None  # ... the share an agent wrote with no person's change
    model_cost: float | None  # dollars recorded on the versions
    cost_per_shipped: float | None
    hours_saved: float | None  # shipped x the workspace's manual_hours_per_package


class MetricsOut(Schema):
    workspace: str
    brief: str | None
    since: str | None
    computed_at: str
    manual_hours_per_package: float | None
    overall: MetricSetOut
    by_brief: dict[str, MetricSetOut]
    by_channel: dict[str, MetricSetOut]
    by_gate: dict[str, MetricSetOut]
    by_person: dict[str, MetricSetOut]
    by_week: dict[str, MetricSetOut]  # ISO weeks, "2026-W49"


# The dashboard's operations widgets (signoff.metrics.widgets): the last twelve weeks.
class OpsFiguresOut(Schema):
    shipped: int | None
    decisions: int
    first_pass_rate: float | None
    revisions_per_package: float | None
    ai_unedited_share: float | None
    cost_per_shipped: float | None
    sla_breach_rate: float | None
    hours_saved: float | None


class GateCycleOut(DistributionOut):
    gate: str


class OperationsOut(Schema):
    since: str  # a day, UTC
    figures: OpsFiguresOut
    manual_hours_per_package: float | None
    gates: list[GateCycleOut]  # hours waiting at each gate to its decision
    rejection_reasons: dict[str, int]  # the five most frequent


class WeekOut(Schema):
    week: str  # ISO week, "2026-W49"
    shipped: int
    decisions: int
    first_pass_rate: float | None
    sla_breach_rate: float | None


class OperationsWeeklyOut(Schema):
    since: str
    weeks: list[WeekOut]  # the last eight with any work, oldest first
