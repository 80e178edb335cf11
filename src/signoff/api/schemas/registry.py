"""The claims registry as compliance reads it, and the role sections of the dashboard."""

from datetime import date, datetime

from ninja import Schema

from signoff.api.schemas.comments import CommentOut


class ClaimPackageOut(Schema):
    id: int
    brief: str
    sku: str
    channel: str
    state: str
    position: str
    blocked_by_claim: bool  # held blocked by this claim now


class ClaimChangeRecordOut(Schema):
    by: str
    at: datetime
    from_status: str
    to_status: str
    note: str


class ClaimRowOut(Schema):
    claim_id: str
    text: str
    status: str
    evidence: str
    packages: list[ClaimPackageOut]  # whose current copy makes it
    blocked: int  # packages it holds blocked
    last_change: ClaimChangeRecordOut | None


class MentionRowOut(CommentOut):
    brief: str
    sku: str
    channel: str


class ClaimsSummaryOut(Schema):
    by_status: dict[str, int]
    holding: list[dict]  # {"claim", "status", "blocked"}


class LaunchChannelOut(Schema):
    channel: str
    total: int
    ready: int  # approved at the launch gate, or published
    in_review: int
    blocked: int
    sent_back: int
    launched: datetime | None
    decision: str  # "ready to launch", "launched", "3 of 12 not ready"


class LaunchPlanOut(Schema):
    brief: str
    name: str
    deadline: date | None
    days_left: int | None
    channels: list[LaunchChannelOut]


class SetOutcomeOut(Schema):
    brief: str
    name: str
    total: int
    consistent: int  # packages with no open consistency finding on their current version
    coherence: int | None  # percent of the set
    inconsistent: int
    claim_blocked: int
    sent_back: int
    published: int
    channels_launched: int
    delivered: int
    failed: int


class RoleDashboardOut(Schema):
    mentions: list[MentionRowOut]
    claims_summary: ClaimsSummaryOut | None  # compliance
    cmo_plan: list[LaunchPlanOut] | None  # the CMO: channel mix and launch timing
    ceo_set: list[SetOutcomeOut] | None  # the CEO: the set's coherence and outcomes
