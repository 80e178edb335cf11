"""Changing a claim's status in the registry, and the packages it blocks or releases."""

from ninja import Schema

from signoff.api.schemas.common import ClaimStatus


class ClaimStatusIn(Schema):
    status: ClaimStatus
    note: str = ""


class ClaimChangeOut(Schema):
    claim: str
    before: str
    after: str
    blocked: list[int]
    released: list[int]
