"""Memory: searching past notes, versions and events, and phrases to ban."""

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

MemorySource = Literal["note", "version", "event"]


class MemorySearchQuery(Schema):
    q: str = Field(min_length=1, max_length=500)
    sku: str | None = Field(None, max_length=100)
    channel: str | None = Field(None, max_length=100)
    limit: int = Field(20, ge=1, le=100)


class MemoryHitOut(Schema):
    source: MemorySource
    id: int  # the note's or version's id, or the event's position in your workspace's log
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
