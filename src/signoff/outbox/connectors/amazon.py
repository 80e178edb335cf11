"""Amazon: one listing per package, put with SP-API Listings Items 2021-08-01 (putListingsItem).

``PUT {region endpoint}/listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds=...
&issueLocale=...`` with the body ``signoff export --format amazon_listings_json`` writes
(``signoff.feeds.amazon``: ``productType``, ``requirements: LISTING_PRODUCT_ONLY``,
``attributes``), and the header ``x-amz-access-token``. A ``dry_run`` destination adds
``mode=VALIDATION_PREVIEW``: Amazon checks the listing against the product type's schema and
saves nothing (developer-docs.amazon.com/sp-api/docs/listings-items-api-v2021-08-01-reference).
A put replaces the listing's attributes, so sending a package again changes nothing more.

The access token comes from Login with Amazon: ``POST https://api.amazon.com/auth/o2/token``
with ``grant_type=refresh_token`` and the app's client id and secret (each from the
environment variable the entry names). It is kept, per worker process, until a minute before
it expires (``expires_in``), not asked for on every call (``signoff.outbox.connectors.tokens``,
shared with the Merchant API). A 403 drops the kept token and the call is made once more with
a new one (a token revoked or rotated early); a second 403 is final. The token endpoint not
answering (a timeout, a refused connection) is retried like the API not answering.

A destination lists in one marketplace: a launch writes its deliveries only for the packages
whose market is that marketplace's (:meth:`AmazonConnector.serves`).

Answers: ``ACCEPTED`` with its ``submissionId`` (the receipt; ``VALID`` in a dry run, recorded
as ``VALIDATION_PREVIEW:<submissionId>``); ``INVALID`` with ``issues`` of severity ERROR is
final, shown in Amazon's words; 429 is retried after the wait ``x-amzn-RateLimit-Limit`` (the
requests per second allowed) implies, unless a ``Retry-After`` says otherwise. A takedown is
``deleteListingsItem`` (DELETE on the same path); a dry run's takedown has nothing to delete.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import quote, urlencode

from signoff.feeds import amazon as amazon_feed
from signoff.feeds import facts
from signoff.feeds.base import FeedItem
from signoff.outbox.connectors.calls import (
    Answer,
    call,
    failure,
    one_line,
    problems_by_package,
    request_of,
    stored_document,
)
from signoff.outbox.connectors.port import TAKEDOWN, DeliveryDocument, Requests
from signoff.outbox.connectors.tokens import RefreshGrant, access_token, forget
from signoff.outbox.destinations import Destination, DestinationError
from signoff.outbox.rules import SendResult

# developer-docs.amazon.com/sp-api/docs/sp-api-endpoints
ENDPOINTS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
API = amazon_feed.API  # listings/2021-08-01


class AmazonConnector:
    kind: ClassVar[str] = "amazon"
    batches: ClassVar[bool] = False
    takes_down: ClassVar[bool] = True  # deleteListingsItem

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout

    @classmethod
    def serves(cls, destination: Destination, market: str) -> bool:
        """Whether a package of ``market`` (``en-US``) is for this destination: its market's
        marketplace is the destination's. A market that names no marketplace is kept, so its
        delivery fails saying so rather than vanishing."""
        marketplace = amazon_feed.MARKETPLACES.get(facts.country(market) or "")
        return marketplace is None or marketplace == destination.options.get("marketplace_id")

    @classmethod
    def requests(
        cls, items: Sequence[FeedItem], destination: Destination, image_base_url: str | None
    ) -> Requests:
        """Each package's listing for the destination's marketplace."""
        feed = amazon_feed.build_json(items, image_base_url)
        problems = problems_by_package(feed.problems)
        wanted = str(destination.options.get("marketplace_id") or "")
        requests = {}
        for listing in json.loads(feed.content)["listings"]:
            package = listing["package_id"]
            if listing["marketplace_id"] != wanted:
                problems[package] = (
                    f"market: the package's market is Amazon marketplace "
                    f"{listing['marketplace_id']}; destination {destination.name!r} lists in "
                    f"{wanted}"
                )
                continue
            requests[package] = {
                "sku": listing["sku"],
                "marketplace_id": listing["marketplace_id"],
                "issue_locale": listing["query"].get("issueLocale", ""),
                "body": listing["body"],
            }
        return Requests(requests, problems)

    def send(self, document: DeliveryDocument) -> SendResult:
        destination = document.destination
        options = destination.options
        stored = stored_document(document)
        dry_run = bool(options.get("dry_run"))
        if document.action == TAKEDOWN:
            request = stored.get("request") or {}
            if dry_run or not request:
                return SendResult(True, 200)  # a preview saved nothing; nothing to delete
        else:
            found = request_of(stored, self.kind)
            if isinstance(found, SendResult):
                return found
            request = found
        try:
            grant = _grant(destination)
        except DestinationError as exc:
            return SendResult(False, error=str(exc), transient=False)
        query = {"marketplaceIds": request["marketplace_id"]}
        if request.get("issue_locale"):
            query["issueLocale"] = request["issue_locale"]
        if dry_run:
            query["mode"] = "VALIDATION_PREVIEW"
        base = str(options.get("endpoint") or ENDPOINTS[str(options.get("region"))]).rstrip("/")
        url = (
            f"{base}/{API}/items/{quote(str(options.get('seller_id')), safe='')}/"
            f"{quote(request['sku'], safe='')}?{urlencode(query)}"
        )
        body = None
        if document.action != TAKEDOWN:
            body = json.dumps(request["body"], ensure_ascii=False).encode("utf-8")
        # A 403 is most often a kept token that was revoked or rotated before it expired: drop
        # it and try once more with a new one before calling the refusal final.
        for _ in range(2):
            token = access_token(grant, timeout=self.timeout)
            if isinstance(token, SendResult):
                return token
            headers = {"x-amz-access-token": token, "Content-Type": "application/json"}
            method = "DELETE" if document.action == TAKEDOWN else "PUT"
            answer = call(method, url, headers=headers, body=body, timeout=self.timeout)
            if isinstance(answer, SendResult):
                return answer
            if answer.status != 403:
                break
            forget(grant)
        if answer.status == 404 and document.action == TAKEDOWN:
            return SendResult(True, 404)  # no such listing: nothing is live
        if not answer.ok:
            return failure(answer, retry_after=_rate_limit_wait(answer))
        return _submission(answer, dry_run=dry_run)


def _grant(destination: Destination) -> RefreshGrant:
    """The destination's LWA refresh grant; DestinationError when a variable is unset."""
    return RefreshGrant(
        "LWA",
        str(destination.options.get("token_endpoint") or LWA_TOKEN_URL),
        destination.credential("lwa_client_id_env"),
        destination.credential("lwa_client_secret_env"),
        destination.credential("refresh_token_env"),
    )


def _rate_limit_wait(answer: Answer) -> str | None:
    """A 429's wait: its Retry-After, else one request's worth of the rate Amazon says it
    allows (``x-amzn-RateLimit-Limit``, requests per second)."""
    if answer.status != 429 or answer.header("Retry-After"):
        return None
    try:
        rate = float(answer.header("x-amzn-RateLimit-Limit") or "")
    except ValueError:
        return None
    return f"{1.0 / rate:g}" if rate > 0 else None


def _submission(answer: Answer, *, dry_run: bool) -> SendResult:
    """A 2xx answer: ACCEPTED (or VALID in a dry run) with its submissionId, else the ERROR
    issues in Amazon's words (final: the listing must change)."""
    data = answer.json()
    if not isinstance(data, dict):
        return SendResult(False, answer.status, error="Amazon answered without JSON")
    status = str(data.get("status") or "")
    issues = [i for i in data.get("issues") or [] if isinstance(i, dict)]
    errors = [i for i in issues if str(i.get("severity", "")).upper() == "ERROR"]
    submission = str(data.get("submissionId") or "")
    if status in ("ACCEPTED", "VALID") and not errors and submission:
        receipt = f"VALIDATION_PREVIEW:{submission}" if dry_run else submission
        return SendResult(True, answer.status, receiver_id=receipt[:500])
    said = "; ".join(
        f"[{i.get('code', '')}] {i.get('message', '')}"
        + (f" ({', '.join(i['attributeNames'])})" if i.get("attributeNames") else "")
        for i in errors
    )
    return SendResult(
        False,
        error=one_line(f"Amazon {status or 'answered'}: {said or 'no submissionId'}"),
        transient=False,
    )
