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
it expires (``expires_in``), not asked for on every call.

Answers: ``ACCEPTED`` with its ``submissionId`` (the receipt; ``VALID`` in a dry run, recorded
as ``VALIDATION_PREVIEW:<submissionId>``); ``INVALID`` with ``issues`` of severity ERROR is
final, shown in Amazon's words; 429 is retried after the wait ``x-amzn-RateLimit-Limit`` (the
requests per second allowed) implies, unless a ``Retry-After`` says otherwise. A takedown is
``deleteListingsItem`` (DELETE on the same path); a dry run's takedown has nothing to delete.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import quote, urlencode

from signoff.feeds import amazon as amazon_feed
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
TOKEN_MARGIN = 60.0  # seconds before expiry a kept token is renewed

# (token URL, client id, digest of the refresh token) -> (access token, monotonic expiry)
_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()
# One exchange at a time per key: threads that need a token together wait for one answer.
_exchanges: dict[tuple[str, str, str], threading.Lock] = {}


class AmazonConnector:
    kind: ClassVar[str] = "amazon"
    batches: ClassVar[bool] = False
    takes_down: ClassVar[bool] = True  # deleteListingsItem

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout

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
            token = self._access_token(destination)
        except DestinationError as exc:
            return SendResult(False, error=str(exc), transient=False)
        if isinstance(token, SendResult):
            return token
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
        headers = {"x-amz-access-token": token, "Content-Type": "application/json"}
        if document.action == TAKEDOWN:
            answer = call("DELETE", url, headers=headers, timeout=self.timeout)
        else:
            body = json.dumps(request["body"], ensure_ascii=False).encode("utf-8")
            answer = call("PUT", url, headers=headers, body=body, timeout=self.timeout)
        if isinstance(answer, SendResult):
            return answer
        if answer.status == 404 and document.action == TAKEDOWN:
            return SendResult(True, 404)  # no such listing: nothing is live
        if not answer.ok:
            if answer.status == 403:  # a revoked or expired token: ask for a new one next time
                _forget_token(destination)
            return failure(answer, retry_after=_rate_limit_wait(answer))
        return _submission(answer, dry_run=dry_run)

    def _access_token(self, destination: Destination) -> str | SendResult:
        """The kept LWA access token, or a new one from the refresh token."""
        client_id = destination.credential("lwa_client_id_env")
        secret = destination.credential("lwa_client_secret_env")
        refresh = destination.credential("refresh_token_env")
        key = _token_key(destination)
        with _tokens_lock:
            exchange = _exchanges.setdefault(key, threading.Lock())
        with exchange:
            with _tokens_lock:
                kept = _tokens.get(key)
            if kept is not None and kept[1] > time.monotonic():
                return kept[0]
            return self._exchange(key, client_id, secret, refresh)

    def _exchange(
        self, key: tuple[str, str, str], client_id: str, secret: str, refresh: str
    ) -> str | SendResult:
        """Trade the refresh token for an access token at LWA, and keep it."""
        url = key[0]
        form = urlencode(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "client_id": client_id,
                "client_secret": secret,
            }
        ).encode("ascii")
        answer = call(
            "POST",
            url,
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
            body=form,
            timeout=self.timeout,
        )
        if isinstance(answer, SendResult):
            return SendResult(False, error=f"LWA token exchange: {answer.error}")
        data = answer.json() if answer.ok else None
        if not isinstance(data, dict) or not data.get("access_token"):
            refused = failure(answer)
            words = refused.error if not answer.ok else "no access_token in the answer"
            return SendResult(
                False,
                answer.status if not answer.ok else None,
                error=f"LWA token exchange refused: {words}",
                retry_after=refused.retry_after,
                transient=False,
            )
        try:
            lifetime = float(data.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        token = str(data["access_token"])
        with _tokens_lock:
            _tokens[key] = (token, time.monotonic() + max(lifetime - TOKEN_MARGIN, 0.0))
        return token


def _token_key(destination: Destination) -> tuple[str, str, str]:
    url = str(destination.options.get("token_endpoint") or LWA_TOKEN_URL)
    refresh = destination.credential("refresh_token_env")
    client_id = destination.credential("lwa_client_id_env")
    return url, client_id, hashlib.sha256(refresh.encode("utf-8")).hexdigest()


def _forget_token(destination: Destination) -> None:
    with _tokens_lock:
        _tokens.pop(_token_key(destination), None)


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
