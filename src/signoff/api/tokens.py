"""API tokens: a person lists and revokes their own; a workspace admin, everyone's there.

Tokens are issued by the local command (`signoff token issue`) or on the web app's Tokens
page (a password sign-in), never through the API: a token that could mint tokens would let a
stolen one outlive its revocation.
"""

from django.http import HttpRequest
from ninja import Router

from signoff.api.errors import error_responses
from signoff.api.schemas import Id, TokenOut
from signoff.workspaces import tokens as services
from signoff.workspaces.models import ApiToken

router = Router(tags=["people"])
LIST_LIMIT = 500


def token_row(token: ApiToken) -> dict:
    return {
        "id": token.pk,
        "prefix": token.prefix,
        "person": token.person.email,
        "status": token.status(),
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "revoked_by": token.revoked_by,
        "revoked_reason": token.revoked_reason,
    }


@router.get("", response={200: list[TokenOut], **error_responses()})
def tokens(request: HttpRequest) -> list[dict]:
    """Your tokens, newest first; a workspace admin sees everyone's in the workspace (the
    last 500)."""
    return [token_row(t) for t in services.tokens_of(request.auth)[:LIST_LIMIT]]


@router.post("/{token_id}/revoke", response={200: TokenOut, **error_responses(403)})
def revoke(request: HttpRequest, token_id: Id) -> dict:
    """Revoke a token: it never works again. Your own, or (a workspace admin) anyone's in the
    workspace: someone else's is 403 otherwise. Revoking it again changes nothing."""
    return token_row(services.revoke_token(person=request.auth, token_id=token_id))
