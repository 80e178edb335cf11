"""The claims registry: a status change blocks (or releases) every package using the claim."""

import dataclasses

from django.http import HttpRequest
from ninja import Router

from signoff.api.errors import error_responses
from signoff.api.schemas import ClaimChangeOut, ClaimStatusIn
from signoff.api.schemas.registry import ClaimRowOut
from signoff.packages.claims import set_claim_status
from signoff.web.claims_page import as_api_row, registry

router = Router(tags=["claims"])


@router.get("", response={200: list[ClaimRowOut], **error_responses()})
def list_claims(request: HttpRequest, q: str = "", status: str = "", use: str = "") -> list[dict]:
    """The claims registry: each claim with its status, evidence, last status change and the
    packages whose current copy makes it. ``q`` matches id or text; ``status`` one status;
    ``use`` is ``in_use`` (made by some package) or ``holding`` (holding packages blocked)."""
    found = registry(request.auth, q=q[:200], status=status, use=use)
    return [as_api_row(row) for row in found["rows"]]


@router.post("/{claim_id}/status", response={200: ClaimChangeOut, **error_responses(400, 403)})
def set_status(request: HttpRequest, claim_id: str, payload: ClaimStatusIn) -> dict:
    """Change a claim's status, with a note saying why (compliance only: 403 otherwise);
    packages using it across briefs are blocked (flagged, withdrawn, ...) or released
    (approved). An unknown claim is a 404; no note is a 422 at ``note``."""
    change = set_claim_status(
        workspace=request.auth.workspace,
        claim_id=claim_id,
        status=payload.status,
        note=payload.note,
        person=request.auth,
    )
    return dataclasses.asdict(change)
