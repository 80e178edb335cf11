"""Inline comments (anchored, with mentions), their resolution, and the editor's live check."""

from datetime import datetime

from ninja import Schema
from pydantic import Field

from signoff.api.schemas.common import FieldValue


class InlineCommentIn(Schema):
    text: str = Field(min_length=1, max_length=5000)  # "@lena" or "@lena@lumen.example" mentions
    field: str = ""  # "title", "bullet_points[2]"; empty: the whole package
    quote: str = ""  # the passage, as the field says it
    start: int | None = Field(default=None, ge=0)  # [start, end) in the field's text
    end: int | None = Field(default=None, ge=0)


class CommentOut(Schema):
    id: int
    package_id: int
    version: int | None
    person: str
    text: str
    created_at: datetime
    field: str | None
    quote: str | None
    start: int | None
    end: int | None
    mentions: list[str]  # emails
    resolved: bool
    resolved_by: str | None
    resolved_at: datetime | None
    resolution: str | None


class ResolveIn(Schema):
    note: str = Field(default="", max_length=5000)


class MentionOut(Schema):
    comment: CommentOut
    brief: str
    sku: str
    channel: str


class EditCheckIn(Schema):
    # Like EditIn: {"title": "...", "bullet_points": [...], "bullet_points[2]": "one item"}
    changes: dict[str, FieldValue] = {}


class FieldCountOut(Schema):
    path: str  # "title", "bullet_points[0]"
    length: int  # characters, as the checks count them
    min_chars: int | None
    max_chars: int | None
    recommended_max_chars: int | None


class CheckFindingOut(Schema):
    agent: str
    rule_id: str
    severity: str
    field: str | None
    span: list[int] | None
    message: str
    suggested_fix: str | None


class EditCheckOut(Schema):
    changed: bool  # whether saving would make a new version
    counts: list[FieldCountOut]
    findings: list[CheckFindingOut]
