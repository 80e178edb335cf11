"""Short-lived access tokens from an OAuth 2.0 refresh token, kept per worker process.

Login with Amazon (the SP-API's tokens) and Google's OAuth 2.0 token endpoint (the Merchant
API's) speak the same grant (RFC 6749 section 6): ``POST`` a form with
``grant_type=refresh_token``, the refresh token and the app's client id and secret; the answer
is ``{"access_token", "expires_in"}``. The token is kept until :data:`TOKEN_MARGIN` seconds
before it expires, so a busy worker asks once an hour, not once per call; a receiver refusing
it (a 401 or 403: revoked, rotated, or expired early) makes the connector :func:`forget` it
and ask again once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from signoff.outbox.connectors.calls import call, failure
from signoff.outbox.rules import SendResult

TOKEN_MARGIN = 60.0  # seconds before expiry a kept token is renewed
DEFAULT_LIFETIME = 3600.0  # when the answer gives no expires_in

# The clock the kept tokens' expiry is measured on (tests move it forward).
clock = time.monotonic


@dataclass(frozen=True, slots=True)
class RefreshGrant:
    """Where and how to trade a refresh token for an access token."""

    label: str  # who issues it, as failures name it: "LWA", "Google OAuth"
    url: str  # the token endpoint
    client_id: str
    client_secret: str
    refresh_token: str

    @property
    def key(self) -> tuple[str, str, str]:
        # The refresh token only as a digest: a kept key never holds the secret itself.
        digest = hashlib.sha256(self.refresh_token.encode("utf-8")).hexdigest()
        return self.url, self.client_id, digest


# grant key -> (access token, clock() when it is renewed)
_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()
# One exchange at a time per key: threads that need a token together wait for one answer.
_exchanges: dict[tuple[str, str, str], threading.Lock] = {}


def access_token(grant: RefreshGrant, *, timeout: float) -> str | SendResult:
    """The kept access token for ``grant``, or a new one from its token endpoint; a failed
    SendResult when the endpoint refused (final) or did not answer (retried)."""
    key = grant.key
    with _tokens_lock:
        exchange = _exchanges.setdefault(key, threading.Lock())
    with exchange:
        with _tokens_lock:
            kept = _tokens.get(key)
        if kept is not None and kept[1] > clock():
            return kept[0]
        return _exchange(grant, timeout=timeout)


def forget(grant: RefreshGrant) -> None:
    """Drop the kept token: the receiver refused it, so the next call asks for a new one."""
    with _tokens_lock:
        _tokens.pop(grant.key, None)


def _exchange(grant: RefreshGrant, *, timeout: float) -> str | SendResult:
    form = urlencode(
        {
            "grant_type": "refresh_token",
            "refresh_token": grant.refresh_token,
            "client_id": grant.client_id,
            "client_secret": grant.client_secret,
        }
    ).encode("ascii")
    answer = call(
        "POST",
        grant.url,
        headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
        body=form,
        timeout=timeout,
    )
    if isinstance(answer, SendResult):
        # No answer: keep the call's own verdict (a timeout or refusal is retried, a refused
        # certificate is not), only saying where it happened.
        return dataclasses.replace(answer, error=f"{grant.label} token exchange: {answer.error}")
    data = answer.json() if answer.ok else None
    if not isinstance(data, dict) or not data.get("access_token"):
        refused = failure(answer)
        words = refused.error if not answer.ok else "no access_token in the answer"
        return SendResult(
            False,
            answer.status if not answer.ok else None,
            error=f"{grant.label} token exchange refused: {words}",
            retry_after=refused.retry_after,
            transient=False,
        )
    try:
        lifetime = float(data.get("expires_in") or DEFAULT_LIFETIME)
    except (TypeError, ValueError):
        lifetime = DEFAULT_LIFETIME
    token = str(data["access_token"])
    with _tokens_lock:
        _tokens[grant.key] = (token, clock() + max(lifetime - TOKEN_MARGIN, 0.0))
    return token
