"""A brief's board, what blocks its packages, and the gates past their SLA."""

from ninja import Schema


class FindingCountsOut(Schema):
    block: int
    warn: int
    info: int


class BoardRowOut(Schema):
    id: int
    sku: str
    channel: str
    market: str
    variant: str
    stage: str
    state: str
    owner: str
    time_in_stage_seconds: int
    confidence: int | None
    findings: FindingCountsOut
    blocking_reason: str
    # "needs a careful read: ..." when the confidence is under the workspace's threshold
    careful_read: str = ""
    gate: str  # the gate it waits on ("" unless in review), e.g. "G2"


class BoardPageOut(Schema):
    count: int  # rows matching the filters, on every page
    limit: int
    offset: int
    items: list[BoardRowOut]


class MissingDataOut(Schema):
    sku: str
    fields: list[str]
    labels: list[str]
    channels: list[str]
    packages: list[int]


class ReleaserOut(Schema):
    role: str
    people: list[str]  # the active people holding it


class OtherBlockOut(Schema):
    cause: str
    claim: str | None  # the flagged or withdrawn claim, for a claim block
    example: str
    packages: list[int]
    released_by: list[ReleaserOut]  # who can release it; empty when no role can


class BlockingFindingOut(Schema):
    rule_id: str
    agent: str
    example: str
    packages: list[int]


class WaitingOut(Schema):
    gate: str
    role: str
    packages: list[int]
    people: list[str]
    brief: str | None = None  # set when the brief itself waits on its gate (G1)


class BlockingOut(Schema):
    brief: str
    packages: int
    ready: int
    missing_data: list[MissingDataOut]
    other_blocks: list[OtherBlockOut]
    blocking_findings: list[BlockingFindingOut]
    waiting_on_gate: list[WaitingOut]


class SlaRowOut(Schema):
    id: int
    sku: str
    channel: str
    variant: str
    gate: str
    owner_role: str
    people: list[str]
    waiting_hours: float
    sla_hours: float
    overdue_hours: float
