"""Bearer-token auth: the same tokens as the CLI (``signoff token issue``)."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from signoff.workspaces.models import Person
from signoff.workspaces.tokens import authenticate


class TokenAuth(HttpBearer):
    """``Authorization: Bearer so_...``; the request then acts as the token's person."""

    def authenticate(self, request: HttpRequest, token: str) -> Person:
        # InvalidToken propagates to the API's handler, which answers 401 with its reason.
        return authenticate(token)
