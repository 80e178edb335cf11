"""Request and response bodies. Explicit, so the OpenAPI document says exactly what is sent."""

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field

from signoff.web.compare import TAGS

FieldValue = str | list[str]
# A database id: positive and within a 64-bit integer (larger ones cannot even be looked up).
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Severity = Literal["block", "warn", "info"]
PackageStateName = Literal["draft", "in_review", "approved", "rejected", "blocked", "published"]
ClaimStatus = Literal["approved", "pending", "needs_substantiation", "forbidden", "withdrawn"]


# ---- people ---------------------------------------------------------------------------------


class WorkspaceOut(Schema):
    slug: str
    name: str


class MeOut(Schema):
    email: str
    name: str
    roles: list[str]
    workspace: WorkspaceOut


# ---- briefs ---------------------------------------------------------------------------------


class BriefOut(Schema):
    slug: str
    name: str
    content_type: str
    template: str
    owner: str
    stage: str
    state: str
    latest_version: int | None
    approved_version: int | None
    packages: int


class BriefVersionOut(Schema):
    number: int
    content_hash: str
    added_by: str
    created_at: datetime
    data: dict[str, Any]  # the validated brief document, without its products


class ProductOut(Schema):
    sku: str
    name: str
    gtin: str
    price: str | None  # decimal as text, e.g. "32.00"
    currency: str
    attributes: dict[str, Any]
    claims: list[str]
    images: list[str]
    sources: dict[str, str]  # {fact: "brief" | "csv"}


class BriefDetailOut(BriefOut):
    version: BriefVersionOut
    products: list[ProductOut]


class FactSourceOut(Schema):
    sku: str
    field: str
    source: str  # "brief" | "csv"


class ConflictOut(Schema):
    sku: str
    field: str
    brief: str
    csv: str  # the CSV wins


class BriefAddedOut(Schema):
    brief: BriefOut
    version: int
    created_version: bool  # false when the content equals the latest version
    sources: list[FactSourceOut]
    conflicts: list[ConflictOut]
    warnings: list[str]


class NoteIn(Schema):
    note: str = ""


class BriefApprovalOut(Schema):
    brief: str
    version: int
    gate: str
    person: str
    content_hash: str
    note: str
    approved_at: datetime


class BriefDiffOut(Schema):
    brief: str
    version: int
    lines: list[str]  # unified diff: "user brief" vs "enriched brief"


class ImpactOut(Schema):
    package: int
    sku: str
    channel: str
    reasons: list[str]


class BriefUpdateOut(Schema):
    version: int
    created_version: bool
    touched: list[ImpactOut]  # back to draft, approvals voided
    untouched: int


class RunQueuedOut(Schema):
    task_id: str
    status: str


class RunRecordOut(Schema):
    id: int
    status: str  # running | finished | stopped | failed | interrupted (its worker died)
    started_at: datetime
    finished_at: datetime | None
    summary: dict


class LaunchIn(Schema):
    channel: str = Field(max_length=100)  # one of the brief's channels (422 otherwise)


class LaunchOut(Schema):
    channel: str
    packages: list[int]
    manifest_hash: str
    bundle: str


class LaunchRecordOut(Schema):
    channel: str
    person: str  # who launched it
    launched_at: datetime
    manifest_hash: str  # SHA-256 of the manifest as written
    packages: list[int]


class ManifestOut(Schema):
    """The manifest.json written at launch, as it is in the bundle."""

    brief: str
    workspace: str
    channel: str
    launched_by: str
    packages: list[dict[str, Any]]  # content and provenance of each package


class NotesIn(Schema):
    notes: str = Field(min_length=1, max_length=50_000)  # the kickoff notes, as typed


class ParseFindingOut(Schema):
    rule_id: str
    severity: str
    message: str
    excerpt: str  # the words it flags ("" when it is about the notes as a whole)


class BriefDraftOut(Schema):
    """A brief drafted from kickoff notes: nothing is stored until you POST it to /briefs."""

    brief: dict[str, Any]  # the brief document, to complete and send as the body of POST /briefs
    yaml: str  # the same document as a brief file
    open_questions: list[str]  # what the notes did not say
    findings: list[ParseFindingOut]
    mentioned_products: list[dict[str, Any]]  # products named in the notes, as said


class ProposalOut(Schema):
    id: str  # stable for the same proposal on the same brief version
    kind: Literal["key_message", "request_data", "reference"]
    target: str  # where it goes: "channel_messages.amazon_us_pdp", "data_requests", ...
    value: str
    reason: str


class AcceptProposalsIn(Schema):
    proposals: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        [], max_length=200
    )  # ids accepted as proposed
    edits: dict[Annotated[str, Field(min_length=1, max_length=64)], str] = {}  # id -> own text


class EnrichedOut(Schema):
    brief: str
    version: int  # the new brief version, which G1 approves
    content_hash: str
    added_by: str


# ---- board, blocking, SLA -------------------------------------------------------------------


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


# ---- packages -------------------------------------------------------------------------------


class FindingOut(Schema):
    id: int
    agent: str
    rule_id: str
    severity: str
    field: str
    span: list[int] | None  # [start, end) in the field's text
    message: str
    suggested_fix: str


class CurrentVersionOut(Schema):
    number: int
    content_hash: str
    author: str
    created_at: datetime
    origin: dict[str, Any]
    fields: dict[str, FieldValue]


class BlockReasonOut(Schema):
    kind: str
    message: str
    field: str = ""
    claim: str | None = None


class PackageOut(Schema):
    id: int
    brief: str
    sku: str
    channel: str
    market: str
    variant: str
    stage: str
    state: str
    owner: str
    confidence: int | None
    completeness: dict[str, list[str]]
    blocked_reasons: list[BlockReasonOut]
    version: CurrentVersionOut | None
    findings: list[FindingOut]


class VersionOut(Schema):
    number: int
    parent: int | None
    author: str
    created_at: datetime
    content_hash: str
    origin: dict[str, Any]
    fields: dict[str, FieldValue]
    changes: list[str]  # the diff reporter's lines against the parent version


class ItemResultOut(Schema):
    package_id: int
    ok: bool
    outcome: str  # approved | rejected | reviewed | edited | reassigned | refused
    message: str
    code: str | None  # the error code when refused
    http_status: int  # what this item alone would have answered
    position: str  # stage/state after the action ("" when refused)


class ApproveIn(Schema):
    note: str = ""
    expected_gate: str | None = None  # refuse (409) if the package now waits on another gate


class RejectIn(Schema):
    note: str = ""  # required by the workflow: an empty note is refused with note_required
    expected_gate: str | None = None


class EditIn(Schema):
    # {"title": "...", "bullets": [...], "bullets[2]": "one item"}
    changes: dict[str, FieldValue] = Field(min_length=1)
    note: str = ""


class EditOut(Schema):
    result: ItemResultOut
    changes: list[str]  # what changed, field by field


class BatchIn(Schema):
    action: Literal["approve", "reject", "review", "reassign"]
    ids: list[Id] = Field(min_length=1, max_length=500)
    note: str = ""
    expected_gate: str | None = None
    owner: str = Field("", max_length=254)  # the new owner's email; required to reassign


class ReassignIn(Schema):
    owner: str = Field(min_length=1, max_length=254)  # an active person of your workspace


class CommentIn(Schema):
    text: str = Field(min_length=1, max_length=10_000)


class NoteOut(Schema):
    id: int
    kind: str  # comment | rejection | approval | edit | winner
    person: str
    text: str
    version: int | None  # the version number it was said about
    gate: str  # "" unless said at a gate
    created_at: datetime


class BatchOut(Schema):
    results: list[ItemResultOut]  # one per id, in the order given
    ok: int
    refused: int


# ---- data requests ------------------------------------------------------------------------


class FactOut(Schema):
    fact: str  # e.g. "gtin", "attributes.burn_time"
    label: str  # as people say it


class DataRequestRowOut(Schema):
    sku: str
    facts: list[FactOut]  # the facts blocked packages of this SKU miss
    requests: list[NoteOut]  # the requests already made for it, oldest first


class DataRequestsOut(Schema):
    brief: str
    rows: list[DataRequestRowOut]
    operators: list[str]  # who a fact can be assigned to
    may_request: bool  # whether you may assign them


class DataRequestIn(Schema):
    sku: str = Field(min_length=1, max_length=100)
    fact: str = Field(min_length=1, max_length=100)
    operator: str = Field(min_length=1, max_length=254)  # an operator's email


# ---- compare and ratings -------------------------------------------------------------------


RatingTag = Literal[TAGS]  # the compare screen's feedback tags


class RatingIn(Schema):
    rating: int = Field(ge=1, le=5)
    tags: list[RatingTag] = Field([], max_length=9)
    text: str = Field("", max_length=2000)


class CandidateOut(Schema):
    key: str  # "<package id>:<version number>"
    package: int
    variant: str
    version: int
    current: bool  # the package's current version
    base: bool  # the package asked about
    content_hash: str
    fields: dict[str, FieldValue]
    findings: list[FindingOut]
    counts: FindingCountsOut
    ratings: list[NoteOut]  # comments and ratings on this version, newest first


class CompareOut(Schema):
    package: int
    candidates: list[CandidateOut]  # the base package's first
    differs: list[str]  # field paths whose text differs between the candidates
    siblings: list[int]  # the other variants of the cell, to compare with ``with``
    tags: list[str]  # the feedback tags a rating may carry


# ---- claims ---------------------------------------------------------------------------------


class ClaimStatusIn(Schema):
    status: ClaimStatus
    note: str = ""


class ClaimChangeOut(Schema):
    claim: str
    before: str
    after: str
    blocked: list[int]
    released: list[int]


# ---- audit ----------------------------------------------------------------------------------


class EventOut(Schema):
    seq: int
    occurred_at: datetime
    actor: str
    actor_kind: str
    action: str
    subject_type: str
    subject_id: str
    workspace: str
    from_position: str
    to_position: str
    gate: str | None
    sku: str | None
    channel: str | None
    content_hash: str
    note: str
    data: dict[str, Any]
    hash: str


class WhoApprovedOut(Schema):
    person: str
    at: datetime
    gate: str | None
    content_hash: str
    seq: int


class VerifyOut(Schema):
    ok: bool
    count: int
    first_bad_seq: int | None
    reason: str | None
    head_seq: int
    head_hash: str


# ---- dashboard ------------------------------------------------------------------------------


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


DashboardWidgetOut = Annotated[
    MyQueueWidgetOut
    | BlockedWidgetOut
    | SlaBreachesWidgetOut
    | PipelineWidgetOut
    | GateThroughputWidgetOut
    | AgentActivityWidgetOut
    | RecentDecisionsWidgetOut,
    Field(discriminator="name"),
]


class DashboardOut(Schema):
    widgets: list[DashboardWidgetOut]  # your layout, in order, each with its data
    addable: list[WidgetOut]


# ---- review links ---------------------------------------------------------------------------


class ReviewLinkIn(Schema):
    """Name the packages, or a brief and one of its channels (every package of it)."""

    packages: list[Id] = Field([], max_length=500)
    brief: str | None = Field(None, max_length=100)
    channel: str | None = Field(None, max_length=100)
    days: int = Field(7, ge=1, le=30)  # until it expires
    note: str = Field("", max_length=2000)  # what you ask the reviewer


class ReviewLinkOut(Schema):
    id: int
    status: Literal["active", "expired", "revoked"]
    created_by: str
    note: str
    scope: dict[str, Any]  # {"kind": "packages"} or {"kind": "channel", "brief", "channel"}
    packages: int  # how many packages it opens
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str


class ReviewLinkCreatedOut(Schema):
    link: ReviewLinkOut
    token: str  # shown once: only its hash is stored
    url: str  # the guest's page (view and comment only)


# ---- memory ---------------------------------------------------------------------------------


MemorySource = Literal["note", "version", "event"]


class MemorySearchQuery(Schema):
    q: str = Field(min_length=1, max_length=500)
    sku: str | None = Field(None, max_length=100)
    channel: str | None = Field(None, max_length=100)
    limit: int = Field(20, ge=1, le=100)


class MemoryHitOut(Schema):
    source: MemorySource
    id: int  # the note's or version's id, or the event's seq
    kind: str  # the note's kind, "current" or "earlier" for a version, the event's action
    package: int | None
    brief: str  # "" for an event
    sku: str
    channel: str
    gate: str
    version: int | None  # the version number, for a version
    person: str  # who wrote it
    at: datetime
    text: str


class SuggestionOut(Schema):
    phrase: str
    packages: list[int]  # the packages whose rejections quoted it
    examples: list[str]  # up to three of those notes


class BannedPhraseIn(Schema):
    phrase: str = Field(min_length=2, max_length=200)
    suggest: str = Field("", max_length=200)  # the wording to use instead
    reason: str = Field("", max_length=500)


class BannedPhraseOut(Schema):
    phrase: str
    suggest: str | None
    reason: str
    accepted_by: str
