"""Review links: packages shared with a guest reviewer for a while."""

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from signoff.api.schemas.common import Id


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
