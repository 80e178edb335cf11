"""What a delivery sends: a package's JSON document (fixed at launch) or a channel's feed.

The package document is built once, in the launch's transaction, and stored on the delivery:
every attempt sends the same bytes, so a receiver that sees an idempotency key twice sees the
same request twice. A folder's feed is built when it is written, from what is published and
not taken down at that moment (``signoff.feeds`` where installed; otherwise the documents as
one JSON file).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.conf import settings

from signoff.briefs.models import Brief, Product
from signoff.core.hashing import canonical_json
from signoff.outbox.connectors import Attachment, Requests
from signoff.outbox.connectors.folder import FolderConnector
from signoff.outbox.destinations import JSON_FORMAT, Destination, DestinationError
from signoff.packages.models import Package, Version
from signoff.workspaces.models import Workspace

DOCUMENT_SCHEMA = "signoff.delivery/1"  # the document's shape; docs/formats.md describes it


def idempotency_key(workspace: str, destination: str, package_id: int, version: Version) -> str:
    """Return the key for one package version to one destination: the same on every attempt,
    different for another version or destination (hex SHA-256, a valid header value)."""
    text = f"{workspace}\n{destination}\n{package_id}\n{version.number}\n{version.content_hash}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def image_base(destination: Destination, brief_slug: str = "") -> str | None:
    """Where the destination's images are served: its own ``image_base_url``, else the
    deployment's ``SIGNOFF_FEED_IMAGE_BASE_URL``; for a folder, the brief's own subfolder of
    it (:func:`image_folder`)."""
    base = destination.image_base_url or getattr(settings, "SIGNOFF_FEED_IMAGE_BASE_URL", None)
    if base and destination.kind == FolderConnector.kind and brief_slug:
        return f"{base.rstrip('/')}/{quote(image_folder(brief_slug))}"
    return base


def image_folder(brief_slug: str) -> str:
    """The subfolder a folder destination keeps a brief's images in: rendition names carry
    the SKU and version but not the brief, so two briefs of one SKU would overwrite each
    other's files in one shared folder."""
    return brief_slug


def image_url(destination: Destination, file: str, brief_slug: str = "") -> str | None:
    """The rendition's public URL: a file name with a space or ``#`` is percent-encoded, as
    the feeds do, so the receiver fetches the file rather than a broken link."""
    base = image_base(destination, brief_slug)
    return f"{base.rstrip('/')}/{quote(file)}" if base and file else None


def product_image_urls(product: Product, workspace: Workspace) -> list[str]:
    """The product's own image URLs (the products CSV's image columns), main first."""
    try:
        from signoff.feeds.items import product_facts, product_images
    except ImportError:
        return [u for u in product.images if isinstance(u, str) and u.startswith("http")]
    facts = product_facts(product, brand=workspace.name)
    return [image["url"] for image in product_images(facts) if image.get("url")]


def package_document(
    *,
    package: Package,
    version: Version,
    destination: Destination,
    key: str,
    approvals: list[dict[str, Any]],
    published_at: datetime,
    manifest_hash: str,
    product_images: Iterable[str] = (),
) -> dict[str, Any]:
    """Return the JSON document a destination gets for one published package version."""
    images = [
        {
            "slot": slot,
            "file": entry.get("file", ""),
            "sha256": entry.get("sha256", ""),
            "width": entry.get("width"),
            "height": entry.get("height"),
            "format": entry.get("format"),
            "url": image_url(destination, entry.get("file", ""), package.brief.slug),
        }
        for slot, entry in sorted((version.images or {}).items())
    ]
    if not images:  # no renditions yet: the product's own image URLs, as its data gives them
        images = [{"slot": None, "source": "product", "url": url} for url in product_images]
    brief = package.brief
    return {
        "schema": DOCUMENT_SCHEMA,
        "event": "package.published",
        "idempotency_key": key,
        "destination": destination.name,
        "workspace": brief.workspace.slug,
        "brief": brief.slug,
        "package": package.pk,
        "sku": package.sku,
        "channel": package.channel,
        "market": package.market,
        "variant": package.variant,
        "version": version.number,
        "content_hash": version.content_hash,
        "fields": version.fields,
        "images": images,
        "approvals": approvals,
        "published_at": published_at.isoformat(),
        "manifest_hash": manifest_hash,
    }


def api_requests(
    brief: Brief, channel: str, package_ids: Iterable[int], destinations: Iterable[Destination]
) -> dict[str, Requests]:
    """Return, for each destination of a channel API kind (one whose connector builds
    ``requests``), the call each of ``package_ids`` makes, or why it cannot (a field the API
    needs and the package or its product data lacks): ``{destination name: Requests}``.

    Built at launch, from the channel's published packages (offer ids and handles depend on
    all of them), so that every attempt sends the same call."""
    from signoff.outbox.connectors import CONNECTORS

    builders = [
        (d, build)
        for d in destinations
        if (build := getattr(CONNECTORS.get(d.kind), "requests", None)) is not None
    ]
    if not builders:
        return {}
    from signoff.feeds.items import feed_items

    items = feed_items(brief, channel)
    wanted = set(package_ids)
    built = {}
    for destination, build in builders:
        found = build(items, destination, image_base(destination))
        built[destination.name] = Requests(
            {k: v for k, v in found.requests.items() if k in wanted},
            {k: v for k, v in found.problems.items() if k in wanted},
        )
    return built


def with_request(document: dict[str, Any], requests: Requests | None) -> dict[str, Any]:
    """Return ``document`` carrying its channel API call (``request``), or why there is none
    (``problem``: the delivery fails with it, naming the field, and nothing is sent)."""
    if requests is None:
        return document
    package = document["package"]
    if package in requests.requests:
        return {**document, "request": requests.requests[package]}
    said = requests.problems.get(package) or "the feed could not express this package"
    return {**document, "problem": said}


def takedown_document(document: dict[str, Any], reason: str) -> dict[str, Any]:
    """Return the document asking a receiver to take a delivered package down (with the
    channel API call it made, which names what to take down)."""
    keep = ("schema", "destination", "workspace", "brief", "package", "sku", "channel")
    request = {"request": document["request"]} if "request" in document else {}
    return {
        **request,
        **{k: document.get(k) for k in keep},
        "event": "package.takedown",
        "idempotency_key": document.get("idempotency_key"),
        "market": document.get("market"),
        "variant": document.get("variant"),
        "version": document.get("version"),
        "content_hash": document.get("content_hash"),
        "reason": reason,
    }


def body_of(document: dict[str, Any]) -> bytes:
    """Return the bytes sent for a document: canonical JSON (the same on every attempt)."""
    return canonical_json(document)


@dataclass
class Feed:
    """A channel's feed as a folder destination writes it."""

    filename: str
    content: bytes
    media_type: str
    problems: dict[int, str] = field(default_factory=dict)  # package id -> why it is left out
    attachments: tuple[Attachment, ...] = ()


def channel_feed(
    brief: Brief, channel: str, destination: Destination, documents: dict[int, dict[str, Any]]
) -> Feed:
    """Build the channel's feed in the destination's format from the packages in
    ``documents`` (package id -> its stored document: what is published and not taken down).

    Raises DestinationError when the format needs ``signoff.feeds`` and it is not installed.
    """
    try:
        from signoff.feeds import build_feed
        from signoff.feeds.items import feed_items
    except ImportError:
        if destination.format != JSON_FORMAT:
            raise DestinationError(
                f"destination {destination.name!r}: format {destination.format!r} needs the "
                "feed exporters (signoff.feeds), which are not installed here"
            ) from None
        content = canonical_json(
            {
                "schema": DOCUMENT_SCHEMA,
                "brief": brief.slug,
                "channel": channel,
                "packages": [documents[k] for k in sorted(documents)],
            }
        )
        name = f"{brief.slug}-{channel}.json"
        return Feed(name, content, "application/json", {}, _images(brief, documents))
    items = [i for i in feed_items(brief, channel) if _item_package(i) in documents]
    built = build_feed(
        destination.format, items, image_base_url=image_base(destination, brief.slug)
    )
    problems: dict[int, list[str]] = {}
    for problem in built.problems:
        said = f"{problem.field}: {problem.message}" if problem.field else problem.message
        problems.setdefault(problem.package_id, []).append(said)
    return Feed(
        f"{brief.slug}-{channel}.{built.extension.lstrip('.')}",
        built.content,
        built.media_type,
        {package: "; ".join(said) for package, said in problems.items()},
        _images(brief, {k: v for k, v in documents.items() if k not in problems}),
    )


def _item_package(item: object) -> int | None:
    return getattr(item, "package_id", None) or getattr(item, "package", None)


def _images(brief: Brief, documents: dict[int, dict[str, Any]]) -> tuple[Attachment, ...]:
    """The rendition files the documents name, read from storage only when written."""
    from signoff.visuals.models import Blob
    from signoff.visuals.storage import read_blob

    wanted = {
        image["file"]: image["sha256"]
        for document in documents.values()
        for image in document.get("images", [])
        if image.get("file") and image.get("sha256")
    }
    stored = Blob.objects.filter(workspace=brief.workspace_id, sha256__in=set(wanted.values()))
    blobs = {blob.sha256: blob for blob in stored}
    return tuple(
        Attachment(
            f"{image_folder(brief.slug)}/{name}", sha, lambda blob=blobs[sha]: read_blob(blob)
        )
        for name, sha in sorted(wanted.items())
        if sha in blobs
    )
