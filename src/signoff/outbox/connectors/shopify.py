"""Shopify: one product per package, upserted with the Admin GraphQL ``productSet`` mutation.

``POST https://{shop}/admin/api/{api_version}/graphql.json`` with the header
``X-Shopify-Access-Token`` (the token from the entry's ``token_env``) and the body
``{"query": PRODUCT_SET, "variables": {"identifier": {"handle"}, "input": ProductSetInput}}``,
the same input ``signoff export --format shopify_jsonl`` writes (``signoff.feeds.shopify``),
run ``synchronous: true`` so the answer carries the product. ``productSet`` is an upsert keyed
by the handle, so sending a package again (after a lost answer) changes nothing more: that is
this connector's idempotency (shopify.dev/docs/api/admin-graphql/latest/mutations/productSet).

Answers: the product's ``id`` (``gid://shopify/Product/...``) is the receipt. ``userErrors``
come in a 200 answer and are final (the receiver's words are kept). Throttling comes as HTTP
429 or as a 200 whose ``errors[].extensions.code`` is ``THROTTLED``: treated as a 429 whose
wait is the time the bucket takes to refill to the query's cost (``extensions.cost``:
``(requestedQueryCost - currentlyAvailable) / restoreRate``; shopify.dev/docs/api/usage/
rate-limits).

A takedown archives the product (``productUpdate`` with ``status: ARCHIVED``): it leaves every
sales channel and can be restored by a person, unlike a delete. The product is the one the
delivery's receipt names, else the one with the handle (``productByIdentifier``); none at all
means nothing is live, which is what a takedown asks; so does a ``productUpdate`` answering
that the product does not exist (deleted in Shopify since).

A top-level GraphQL error with ``extensions.code`` ``INTERNAL_SERVER_ERROR`` (Shopify's own
failure, in a 200) is retried with the backoff, as a 5xx answer is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, ClassVar

from signoff.feeds import shopify as shopify_feed
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

PRODUCT_SET = """mutation signoffProductSet(
  $identifier: ProductSetIdentifiers, $input: ProductSetInput!
) {
  productSet(identifier: $identifier, input: $input, synchronous: true) {
    product { id handle }
    userErrors { field message code }
  }
}"""
FIND = """query signoffFindProduct($identifier: ProductIdentifierInput!) {
  productByIdentifier(identifier: $identifier) { id }
}"""
ARCHIVE = """mutation signoffArchive($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id status }
    userErrors { field message }
  }
}"""
DEFAULT_API_VERSION = "2026-01"
# How productUpdate says the product is gone (deleted in Shopify since it was delivered).
NOT_FOUND_CODES = frozenset({"NOT_FOUND", "PRODUCT_DOES_NOT_EXIST", "PRODUCT_NOT_FOUND"})
NOT_FOUND_WORDS = ("does not exist", "not found", "doesn't exist")


class ShopifyConnector:
    kind: ClassVar[str] = "shopify"
    batches: ClassVar[bool] = False
    takes_down: ClassVar[bool] = True  # archives the product

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout

    @classmethod
    def requests(
        cls, items: Sequence[FeedItem], destination: Destination, image_base_url: str | None
    ) -> Requests:
        """The productSet variables of each package (the shopify_jsonl lines)."""
        feed = shopify_feed.build_jsonl(items, image_base_url)
        problems = problems_by_package(feed.problems)
        kept = [item for item in items if item.package_id not in problems]
        lines = [json.loads(line) for line in feed.content.decode("utf-8").splitlines()]
        return Requests(
            {item.package_id: line for item, line in zip(kept, lines, strict=True)}, problems
        )

    def send(self, document: DeliveryDocument) -> SendResult:
        destination = document.destination
        try:
            token = destination.credential("token_env")
        except DestinationError as exc:
            return SendResult(False, error=str(exc), transient=False)
        stored = stored_document(document)
        if document.action == TAKEDOWN:
            return self._archive(destination, token, stored, document.receiver_id)
        request = request_of(stored, self.kind)
        if isinstance(request, SendResult):
            return request
        answer = self._graphql(destination, token, PRODUCT_SET, request)
        if isinstance(answer, SendResult):
            return answer
        data, refused = answer
        if refused is not None:
            return refused
        result = (data or {}).get("productSet") or {}
        errors = _user_errors(result)
        if errors:
            return SendResult(False, error=errors, transient=False)
        product = result.get("product") or {}
        if not product.get("id"):
            return SendResult(False, error="Shopify answered without a product id")
        return SendResult(True, 200, receiver_id=str(product["id"])[:500])

    def _archive(
        self, destination: Destination, token: str, stored: dict[str, Any], receiver_id: str
    ) -> SendResult:
        product_id = receiver_id
        if not product_id:
            handle = ((stored.get("request") or {}).get("identifier") or {}).get("handle")
            if not handle:  # it was never sendable, so nothing of it is live
                return SendResult(True, 200)
            answer = self._graphql(destination, token, FIND, {"identifier": {"handle": handle}})
            if isinstance(answer, SendResult):
                return answer
            data, refused = answer
            if refused is not None:
                return refused
            found = (data or {}).get("productByIdentifier") or {}
            if not found.get("id"):
                return SendResult(True, 200)  # no such product: nothing is live
            product_id = str(found["id"])
        answer = self._graphql(
            destination, token, ARCHIVE, {"product": {"id": product_id, "status": "ARCHIVED"}}
        )
        if isinstance(answer, SendResult):
            return answer
        data, refused = answer
        if refused is not None:
            return refused
        result = (data or {}).get("productUpdate") or {}
        if _all_not_found(result):  # deleted in Shopify meanwhile: nothing is live
            return SendResult(True, 200, receiver_id=product_id[:500])
        errors = _user_errors(result)
        if errors:
            return SendResult(False, error=errors, transient=False)
        return SendResult(True, 200, receiver_id=product_id[:500])

    def _graphql(
        self, destination: Destination, token: str, query: str, variables: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, SendResult | None] | SendResult:
        """POST one GraphQL document; return ``(data, None)``, or ``(None, why not)`` for a
        200 answer that refused it, or a SendResult when the answer was not a 200."""
        options = destination.options
        base = str(options.get("endpoint") or f"https://{options.get('shop')}").rstrip("/")
        version = options.get("api_version") or DEFAULT_API_VERSION
        answer = call(
            "POST",
            f"{base}/admin/api/{version}/graphql.json",
            headers={"Content-Type": "application/json", "X-Shopify-Access-Token": token},
            body=json.dumps({"query": query, "variables": variables}).encode("utf-8"),
            timeout=self.timeout,
        )
        if isinstance(answer, SendResult):
            return answer
        if not answer.ok:
            return failure(answer)
        body = answer.json()
        if not isinstance(body, dict):
            return SendResult(False, answer.status, error="Shopify answered without JSON")
        errors = body.get("errors")
        if errors:
            return None, _graphql_errors(answer, body)
        return body.get("data"), None


def _graphql_errors(answer: Answer, body: dict[str, Any]) -> SendResult:
    """Top-level GraphQL errors: THROTTLED is a 429 with the refill time as its wait;
    INTERNAL_SERVER_ERROR is retried with the backoff, as a 5xx is; any other (a bad query, a
    missing access scope) is final."""
    errors = body["errors"] if isinstance(body["errors"], list) else [body["errors"]]
    codes = {
        ((e.get("extensions") or {}).get("code") if isinstance(e, dict) else None) for e in errors
    }
    words = one_line("; ".join(str(e.get("message") if isinstance(e, dict) else e) for e in errors))
    if "THROTTLED" in codes:
        wait = _refill_seconds(body, errors)
        return SendResult(
            False,
            429,
            error=f"THROTTLED: {words}",
            retry_after=None if wait is None else f"{wait:g}",
        )
    if "INTERNAL_SERVER_ERROR" in codes:  # Shopify's own failure, in a 200: as a 5xx
        return SendResult(False, error=f"Shopify INTERNAL_SERVER_ERROR: {words}", transient=True)
    return SendResult(False, error=f"Shopify GraphQL errors: {words}", transient=False)


def _refill_seconds(body: dict[str, Any], errors: list[Any]) -> float | None:
    """Seconds until the leaky bucket holds the query's cost again, from ``extensions.cost``
    (top level, or on the error); None when the answer does not say."""
    places = [body.get("extensions")] + [e.get("extensions") for e in errors if isinstance(e, dict)]
    for extensions in places:
        cost = (extensions or {}).get("cost") if isinstance(extensions, dict) else None
        if not isinstance(cost, dict):
            continue
        status = cost.get("throttleStatus") or {}
        try:
            needed = float(cost.get("requestedQueryCost") or 0)
            available = float(status.get("currentlyAvailable") or 0)
            rate = float(status.get("restoreRate") or 0)
        except (TypeError, ValueError):
            continue
        if rate > 0:
            return math.ceil(max(needed - available, 0.0) / rate * 1000) / 1000
    return None


def _user_errors(result: dict[str, Any]) -> str:
    """``userErrors`` as one line: ``input.title: Title can't be blank (BLANK)``."""
    said = []
    for error in result.get("userErrors") or []:
        where = ".".join(str(p) for p in error.get("field") or [])
        code = f" ({error['code']})" if error.get("code") else ""
        message = f"{error.get('message', '')}{code}"
        said.append(f"{where}: {message}" if where else message)
    return one_line("Shopify userErrors: " + "; ".join(said)) if said else ""


def _all_not_found(result: dict[str, Any]) -> bool:
    """Whether every one of the ``userErrors`` says the product is not there (``Product does
    not exist``, code ``NOT_FOUND`` or ``PRODUCT_DOES_NOT_EXIST``)."""
    errors = [e for e in result.get("userErrors") or [] if isinstance(e, dict)]
    return bool(errors) and all(
        str(e.get("code") or "").upper() in NOT_FOUND_CODES
        or any(w in str(e.get("message") or "").lower() for w in NOT_FOUND_WORDS)
        for e in errors
    )
