"""API tokens: listed by prefix (the token itself is shown once, when issued)."""

from datetime import datetime
from typing import Literal

from ninja import Schema


class TokenOut(Schema):
    id: int
    prefix: str  # the token's first characters, e.g. "so_Ab3x9Qz"
    person: str  # whose it is (email)
    status: Literal["active", "expired", "revoked"]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str  # an email, or "system:<name>" (a workspace load, the command line)
    revoked_reason: str
