"""Packages, their versions and findings, gate actions on them, and comparing variants."""

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from signoff.api.schemas.board import FindingCountsOut
from signoff.api.schemas.common import FieldValue, Id
from signoff.packages.decisions import BATCH_LIMIT
from signoff.web.compare import TAGS


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


class EligibilityOut(Schema):
    """Who can act on the gate the package waits on, and what you may do and would cause."""

    gate: str | None
    gate_label: str
    owner: str | None  # the gate's role
    owner_label: str
    summary: str  # "Omar Haddad or Lena Park can approve", or why nobody can
    can_approve: list[dict[str, str]]  # [{email, name}]
    cannot_approve: list[dict[str, str]]  # role holders who may not, [{email, name, reason}]
    # Your verdict per action (approve, reject, review, edit, fix): allowed, code, reason.
    you: dict[str, dict[str, Any]]
    # What an action would cause, said beforehand: {"edit": "You will not be able to ..."}.
    consequences: dict[str, str]


class PackageOut(Schema):
    id: int
    brief: str
    sku: str
    channel: str
    channel_label: str = ""  # the channel's display name
    market: str
    variant: str
    stage: str
    state: str
    position_label: str = ""  # "Compliance review", not "S5/in_review"
    owner: str
    confidence: int | None
    careful_read: str = ""  # "needs a careful read: ..." under the workspace's threshold
    completeness: dict[str, list[str]]
    blocked_reasons: list[BlockReasonOut]
    version: CurrentVersionOut | None
    findings: list[FindingOut]
    eligibility: EligibilityOut | None = None


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
    # The version number the changes were made on: a newer current version is a 409 (nothing
    # saved) instead of silently undoing it. Optional; omitted, the edit applies to the current.
    base_version: int | None = Field(default=None, ge=1)


class EditOut(Schema):
    result: ItemResultOut
    changes: list[str]  # what changed, field by field


class BatchIn(Schema):
    # review_approve: mark each reviewed, then approve it (both recorded), in one pass.
    action: Literal["approve", "reject", "review", "reassign", "review_approve"]
    ids: list[Id] = Field(min_length=1, max_length=BATCH_LIMIT)  # the web's limit too
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
