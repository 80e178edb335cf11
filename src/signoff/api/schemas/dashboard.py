"""The dashboard: a person's layout of widgets, and each widget's data."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from signoff.api.schemas.audit import EventOut
from signoff.api.schemas.board import SlaRowOut
from signoff.api.schemas.metrics import OperationsOut, OperationsWeeklyOut


class WidgetOut(Schema):
    name: str
    title: str
    description: str


class LayoutOut(Schema):
    widgets: list[WidgetOut]  # your dashboard, in order (your roles' defaults until you change it)
    addable: list[WidgetOut]  # the widgets you can still add


class LayoutChangeIn(Schema):
    action: Literal["add", "remove", "up", "down", "reset"]
    widget: str = Field("", max_length=100)  # required except for reset


# The widgets' data, as ``signoff.web.dashboards`` builds it for the screen: the objects it
# holds (packages, briefs, gates, events) are read by attribute into these.


class PackageRefOut(Schema):
    id: int
    brief: str = Field(alias="brief.slug")
    sku: str
    channel: str
    variant: str


class BriefRefOut(Schema):
    slug: str
    name: str


class GateRefOut(Schema):
    id: str
    label: str
    role: str = Field(alias="owner")  # the role that owns it


class QueueRowOut(Schema):
    package: PackageRefOut
    gate: GateRefOut | None
    waited: str  # how long, in words: "5 h"
    urgency: Literal["on_time", "due_soon", "overdue", "blocked", "idle"]


class BriefCountOut(Schema):
    brief: BriefRefOut
    count: int


class BriefGateOut(Schema):
    brief: BriefRefOut
    gate: GateRefOut


class MyQueueOut(Schema):
    total: int  # packages waiting on a gate one of your roles owns
    rows: list[QueueRowOut]  # the oldest ten
    per_brief: list[BriefCountOut]
    briefs: list[BriefGateOut]  # briefs waiting on their own gate (G1) that you own
    roles: list[str]


class CauseOut(Schema):
    cause: str
    packages: int


class BlockedRowOut(Schema):
    package: PackageRefOut
    reason: str


class BlockedOut(Schema):
    total: int
    causes: list[CauseOut]  # the six most common, most packages first
    rows: list[BlockedRowOut]

    @staticmethod
    def resolve_causes(data: dict) -> list[dict]:
        return [{"cause": cause, "packages": n} for cause, n in data["causes"]]


class SlaBreachOut(SlaRowOut):
    brief: BriefRefOut
    overdue: str  # by how long, in words


class SlaBreachesOut(Schema):
    total: int
    rows: list[SlaBreachOut]  # the ten most overdue


class PipelineRowOut(Schema):
    stage: str
    label: str
    cells: list[int]  # packages per state, in the order of ``states``
    total: int


class PipelineOut(Schema):
    states: list[str]
    rows: list[PipelineRowOut]
    total: int
    widest: int  # the largest stage total


class GateCountOut(Schema):
    gate: str
    label: str
    role: str
    approved: int
    rejected: int


class GateThroughputOut(Schema):
    rows: list[GateCountOut]
    approved: int
    widest: int
    since: datetime


class AgentCountOut(Schema):
    agent: str
    drafts: int
    failed: int
    block: int
    warn: int
    info: int
    findings: int


class AgentActivityOut(Schema):
    rows: list[AgentCountOut]
    since: datetime


class DecisionRowOut(Schema):
    event: EventOut
    approved: bool
    who: str  # the person's name
    package_id: int | None
    brief: BriefRefOut | None  # for a decision on the brief itself


class RecentDecisionsOut(Schema):
    rows: list[DecisionRowOut]


class MyQueueWidgetOut(WidgetOut):
    name: Literal["my_queue"]
    data: MyQueueOut


class BlockedWidgetOut(WidgetOut):
    name: Literal["blocked"]
    data: BlockedOut


class SlaBreachesWidgetOut(WidgetOut):
    name: Literal["sla_breaches"]
    data: SlaBreachesOut


class PipelineWidgetOut(WidgetOut):
    name: Literal["pipeline"]
    data: PipelineOut


class GateThroughputWidgetOut(WidgetOut):
    name: Literal["gate_throughput"]
    data: GateThroughputOut


class AgentActivityWidgetOut(WidgetOut):
    name: Literal["agent_activity"]
    data: AgentActivityOut


class RecentDecisionsWidgetOut(WidgetOut):
    name: Literal["recent_decisions"]
    data: RecentDecisionsOut


class OperationsWidgetOut(WidgetOut):
    name: Literal["operations"]
    data: OperationsOut


class OperationsWeeklyWidgetOut(WidgetOut):
    name: Literal["operations_weekly"]
    data: OperationsWeeklyOut


DashboardWidgetOut = Annotated[
    MyQueueWidgetOut
    | BlockedWidgetOut
    | SlaBreachesWidgetOut
    | PipelineWidgetOut
    | GateThroughputWidgetOut
    | AgentActivityWidgetOut
    | RecentDecisionsWidgetOut
    | OperationsWidgetOut
    | OperationsWeeklyWidgetOut,
    Field(discriminator="name"),
]


class DashboardOut(Schema):
    widgets: list[DashboardWidgetOut]  # your layout, in order, each with its data
    addable: list[WidgetOut]
