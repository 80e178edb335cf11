"""Types the bodies share: field values, ids, severities, package states, claim statuses."""

from typing import Annotated, Literal

from pydantic import Field

FieldValue = str | list[str]
# A database id: positive and within a 64-bit integer (larger ones cannot even be looked up).
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Severity = Literal["block", "warn", "info"]
PackageStateName = Literal["draft", "in_review", "approved", "rejected", "blocked", "published"]
ClaimStatus = Literal["approved", "pending", "needs_substantiation", "forbidden", "withdrawn"]
