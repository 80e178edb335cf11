"""The connector port: one narrow interface per way of delivering, chosen by destination kind.

A connector only talks to the receiver. It gets a :class:`DeliveryDocument` (the bytes to send,
fixed at launch, and the idempotency key every attempt repeats) and answers with a
:class:`~signoff.outbox.rules.SendResult`; it never touches the database, never retries and
never decides what a failure means (``signoff.outbox.rules`` does). That keeps a connector
testable against a local server with nothing else running.

To add a kind: write its entry model in ``signoff.workspaces.schema.DESTINATION_KINDS``, a
connector module here, and register it in ``CONNECTORS``. Say whether it ``batches`` (one
document for all of a channel's packages, like a feed file or a bulk operation) and whether it
``takes_down`` (can remove what it delivered). A channel API kind (``shopify``, ``amazon``,
``google_merchant``) also has a ``requests`` class method: the call each package makes, built
at launch from its feed item and stored with the delivery (``signoff.outbox.documents``). A
kind whose destination takes only some markets (``amazon``: one marketplace) has a ``serves``
class method: a launch writes no delivery to it for a package of another market.
"""

from __future__ import annotations

from signoff.outbox.connectors.amazon import AmazonConnector
from signoff.outbox.connectors.folder import FolderConnector
from signoff.outbox.connectors.google_merchant import GoogleMerchantConnector
from signoff.outbox.connectors.port import (
    PUBLISH,
    TAKEDOWN,
    Attachment,
    Connector,
    DeliveryDocument,
    Requests,
)
from signoff.outbox.connectors.shopify import ShopifyConnector
from signoff.outbox.connectors.webhook import WebhookConnector
from signoff.outbox.destinations import Destination

# kind -> connector class. A kind without a connector here cannot be loaded from the file.
CONNECTORS: dict[str, type[Connector]] = {
    FolderConnector.kind: FolderConnector,
    WebhookConnector.kind: WebhookConnector,
    ShopifyConnector.kind: ShopifyConnector,
    AmazonConnector.kind: AmazonConnector,
    GoogleMerchantConnector.kind: GoogleMerchantConnector,
}

__all__ = [
    "CONNECTORS",
    "PUBLISH",
    "TAKEDOWN",
    "Attachment",
    "Connector",
    "DeliveryDocument",
    "Requests",
    "connector_for",
    "serves",
]


def connector_for(destination: Destination, *, timeout: float) -> Connector:
    """Return a connector for the destination's kind; KeyError for an unknown kind."""
    return CONNECTORS[destination.kind](timeout=destination.timeout or timeout)


def serves(destination: Destination, market: str) -> bool:
    """Whether a package of ``market`` is for the destination (every market, unless its kind
    says otherwise)."""
    check = getattr(CONNECTORS.get(destination.kind), "serves", None)
    return True if check is None else bool(check(destination, market))
