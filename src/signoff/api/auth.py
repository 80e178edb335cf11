"""Bearer-token auth: the same tokens as the CLI (``signoff token issue``)."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from signoff.web import throttle
from signoff.workspaces.models import Person
from signoff.workspaces.tokens import UnknownToken, authenticate


class TokenAuth(HttpBearer):
    """``Authorization: Bearer so_...``; the request then acts as the token's person."""

    def authenticate(self, request: HttpRequest, token: str) -> Person:
        # InvalidToken propagates to the API's handler, which answers 401 with its reason;
        # Throttled, to the one that answers 429 (too many unknown tokens from this address).
        try:
            return authenticate(token)
        except UnknownToken:
            # Counted only once a token is found unknown, so a real token costs no query more.
            address = throttle.client_address(request)
            throttle.flush()
            wait = throttle.token_refusal(address)
            throttle.count(throttle.Kind.TOKEN, address, throttled=wait is not None)
            if wait is not None:
                raise throttle.Throttled(wait) from None
            raise
