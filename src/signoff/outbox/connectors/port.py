"""The connector port's types: what a connector is given and what it must do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from signoff.outbox.destinations import Destination
from signoff.outbox.rules import SendResult

PUBLISH = "publish"
TAKEDOWN = "takedown"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent along with a document (a folder destination's images)."""

    name: str
    sha256: str
    read: Callable[[], bytes]  # read when needed: an unchanged file is not read again


@dataclass(frozen=True, slots=True)
class DeliveryDocument:
    """What one attempt sends."""

    destination: Destination
    key: str  # the Idempotency-Key: the same on every attempt at this delivery
    body: bytes  # the document, or the feed file, byte for byte the same on every attempt
    media_type: str = "application/json"
    action: str = PUBLISH  # or TAKEDOWN
    filename: str = ""  # where a batching connector writes the body
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    # For a takedown: the receiver's id from the delivery it takes down ("" if none came).
    receiver_id: str = ""


@dataclass(frozen=True, slots=True)
class Requests:
    """What a channel API connector will send for each package, built at launch from the
    packages' feed items (so every attempt sends the same request), or why it cannot."""

    requests: dict[int, dict[str, Any]] = field(default_factory=dict)  # package id -> request
    problems: dict[int, str] = field(default_factory=dict)  # package id -> "field: why; ..."


class Connector(Protocol):
    kind: ClassVar[str]
    batches: ClassVar[bool]  # one document for all of a channel's deliveries to it
    takes_down: ClassVar[bool]  # can take down what it delivered

    def send(self, document: DeliveryDocument) -> SendResult:
        """Deliver the document once; report what came of it, never raise for the receiver."""
        ...
