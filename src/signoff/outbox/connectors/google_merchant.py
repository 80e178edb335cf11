"""Google Merchant Center: one product input per package, through the Merchant API (products v1).

``POST https://merchantapi.googleapis.com/products/v1/accounts/{account}/productInputs:insert
?dataSource=accounts/{account}/dataSources/{id}`` with ``Authorization: Bearer <token>`` and a
``ProductInput`` body (``offerId``, ``contentLanguage``, ``feedLabel``, ``productAttributes``:
``signoff.feeds.google.product_inputs``, the same values and rules as the Merchant Center feed
files). The older Content API for Shopping is switched off (sunset 18 Aug 2026). An input with
the same content language, feed label and offer id in the data source is replaced, so sending
a package again changes nothing more (developers.google.com/merchant/api/reference/rest/
products_v1/accounts.productInputs/insert). Only an API-type data source can be written.

The access token (``Authorization: Bearer``, scope ``https://www.googleapis.com/auth/content``)
lasts an hour. With ``refresh_token_env``, ``client_id_env`` and ``client_secret_env`` Signoff
gets it itself: the OAuth 2.0 refresh_token grant at ``https://oauth2.googleapis.com/token``
(``token_endpoint`` for tests), kept until a minute before ``expires_in``
(``signoff.outbox.connectors.tokens``, shared with Amazon's LWA); a 401 drops it and the call
is made once more with a new one. With only ``token_env``, the deployment keeps a token fresh
in that variable (a sidecar); it is read again for every call, and a 401 fails the delivery
naming the variable.

Answers: the inserted input's ``name`` is the receipt; 429 ``RESOURCE_EXHAUSTED`` is retried
(after its ``Retry-After`` if it gives one); 400 ``INVALID_ARGUMENT`` and the other 4xx are
final, shown with Google's message. A takedown is ``productInputs.delete`` of that name from
the same data source; 404 means nothing is there, which is what a takedown asks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import quote, urlencode

from signoff.feeds import google as google_feed
from signoff.feeds.base import FeedItem
from signoff.outbox.connectors.calls import (
    Answer,
    call,
    failure,
    problems_by_package,
    receiver_message,
    request_of,
    stored_document,
)
from signoff.outbox.connectors.port import TAKEDOWN, DeliveryDocument, Requests
from signoff.outbox.connectors.tokens import RefreshGrant, access_token, forget
from signoff.outbox.destinations import Destination, DestinationError
from signoff.outbox.rules import SendResult

ENDPOINT = "https://merchantapi.googleapis.com"
API = "products/v1"
TOKEN_URL = "https://oauth2.googleapis.com/token"


class GoogleMerchantConnector:
    kind: ClassVar[str] = "google_merchant"
    batches: ClassVar[bool] = False
    takes_down: ClassVar[bool] = True  # productInputs.delete

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout

    @classmethod
    def requests(
        cls, items: Sequence[FeedItem], destination: Destination, image_base_url: str | None
    ) -> Requests:
        """Each package's ProductInput."""
        inputs, problems = google_feed.product_inputs(items, image_base_url)
        return Requests(inputs, problems_by_package(problems))

    def send(self, document: DeliveryDocument) -> SendResult:
        destination = document.destination
        options = destination.options
        stored = stored_document(document)
        request = stored.get("request") or {}
        if document.action != TAKEDOWN:
            found = request_of(stored, self.kind)
            if isinstance(found, SendResult):
                return found
        elif not request and not document.receiver_id:
            return SendResult(True, 200)  # it was never sendable: nothing of it is live
        try:
            grant = _grant(destination)
        except DestinationError as exc:
            return SendResult(False, error=str(exc), transient=False)
        base = str(options.get("endpoint") or ENDPOINT).rstrip("/")
        account = quote(str(options.get("account")), safe="")
        data_source = urlencode({"dataSource": str(options.get("data_source"))})
        if document.action == TAKEDOWN:
            name = document.receiver_id
            if not name.startswith("accounts/"):
                segment = "~".join(
                    str(request.get(k, "")) for k in ("contentLanguage", "feedLabel", "offerId")
                )
                name = f"accounts/{options.get('account')}/productInputs/{segment}"
            url = f"{base}/{API}/{quote(name, safe='/~')}?{data_source}"
            answer = self._call("DELETE", url, None, destination, grant)
            if isinstance(answer, SendResult):
                return answer
            if answer.ok or answer.status == 404:  # 404: nothing there to take down
                return SendResult(True, answer.status, receiver_id=name[:500])
            return failure(answer)
        url = f"{base}/{API}/accounts/{account}/productInputs:insert?{data_source}"
        body = json.dumps(request, ensure_ascii=False).encode("utf-8")
        answer = self._call("POST", url, body, destination, grant)
        if isinstance(answer, SendResult):
            return answer
        if not answer.ok:
            return failure(answer)
        data = answer.json()
        name = data.get("name") if isinstance(data, dict) else None
        if not name:
            return SendResult(
                False, answer.status, error="Google answered without the input's name"
            )
        return SendResult(True, answer.status, receiver_id=str(name)[:500])

    def _call(
        self,
        method: str,
        url: str,
        body: bytes | None,
        destination: Destination,
        grant: RefreshGrant | None,
    ) -> Answer | SendResult:
        """Make the call with a current token; a 401 comes back as a failure saying which
        credential to fix (after one more try with a new token, when Signoff renews it)."""
        for _ in range(2 if grant is not None else 1):
            if grant is None:
                try:  # read each time: a deployment that rotates the variable is followed
                    token: str | SendResult = destination.credential("token_env")
                except DestinationError as exc:
                    return SendResult(False, error=str(exc), transient=False)
            else:
                token = access_token(grant, timeout=self.timeout)
            if isinstance(token, SendResult):
                return token
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            answer = call(method, url, headers=headers, body=body, timeout=self.timeout)
            if isinstance(answer, SendResult) or answer.status != 401:
                return answer
            if grant is not None:
                forget(grant)  # expired or revoked early: the next try asks for a new one
        words = receiver_message(answer)
        if grant is None:
            variable = destination.options.get("token_env")
            said = (
                f"Google refused the access token in {variable} (token_env): {words}; put a "
                "fresh one there (they last an hour), or give the destination "
                "refresh_token_env, client_id_env and client_secret_env so Signoff renews it, "
                "then retry the delivery"
            )
        else:
            said = (
                f"Google refused a newly issued access token: {words}; check that the refresh "
                f"token in {destination.options.get('refresh_token_env')} was granted the "
                "https://www.googleapis.com/auth/content scope by a user of the account"
            )
        return SendResult(False, answer.status, error=said)


def _grant(destination: Destination) -> RefreshGrant | None:
    """The destination's refresh grant, or None when it names only a ``token_env``;
    DestinationError when a variable it names is unset."""
    if not destination.options.get("refresh_token_env"):
        return None
    return RefreshGrant(
        "Google OAuth",
        str(destination.options.get("token_endpoint") or TOKEN_URL),
        destination.credential("client_id_env"),
        destination.credential("client_secret_env"),
        destination.credential("refresh_token_env"),
    )
