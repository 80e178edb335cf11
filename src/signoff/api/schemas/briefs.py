"""Briefs: versions, products, approval, updates, runs, launches, drafting and enrichment.

Also the data requests: asking an operator for the facts blocked packages miss.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field

from signoff.api.schemas.packages import NoteOut


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


class InputFindingOut(Schema):
    """What the input guard found in a brief's texts (docs/checks.md, "Input guard")."""

    agent: str
    rule_id: str  # input.injection, pii.*, input.gtin, input.price, input.unit
    severity: str  # block holds G1 until a version without it
    field: str  # where: "audience", "products[SKU].attributes.notes"
    message: str


class BriefDetailOut(BriefOut):
    version: BriefVersionOut
    products: list[ProductOut]
    input_findings: list[InputFindingOut] = []  # the latest version's


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
    input_findings: list[InputFindingOut] = []


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
    # Packages of a SKU whose facts changed, left alone: why (their channel does not use the
    # fact and their copy does not state it).
    spared: list[ImpactOut] = []


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
    bundle: str = Field(
        description="Where the bundle is in the export folder: WORKSPACE/BRIEF/CHANNEL"
    )
    launched_at: datetime  # as the manifest says
    launched_by: str  # the launching person's e-mail


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
    # When (ISO 8601, UTC, as written), and the launching person's name (absent from
    # manifests written before both were).
    launched_at: str | None = None
    launched_by_name: str | None = None
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
    kind: Literal["key_message", "request_data", "reference", "learning"]
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
