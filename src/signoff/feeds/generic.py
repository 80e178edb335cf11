"""Signoff's own feed formats, for a destination no retailer format fits.

JSON: ``{"format": "signoff.feed", "version": 1, "items": [...]}``, each item every attribute
of :class:`FeedItem` as it is (images with their URL filled in from the image base URL where
given); :func:`read_json` reads it back into the same items.

CSV (RFC 4180, UTF-8, a header row): ``package_id, brief, sku, channel, market, variant,
version, content_hash``, then ``field.<name>`` per copy field, ``product.<fact>`` per product
fact (nested ones dotted: ``product.price.amount``, ``product.attributes.scent``), and
``image.<slot>.url``, ``.file``, ``.sha256`` per image slot. A list (bullets) is one cell with
an item per line. Columns are the union over the feed's packages; a package without a value
has an empty cell.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from typing import Any

from signoff.feeds import facts
from signoff.feeds.base import Check, Feed, FeedItem

FORMAT, VERSION = "signoff.feed", 1
FIXED = ("package_id", "brief", "sku", "channel", "market", "variant", "version", "content_hash")


def _with_urls(item: FeedItem, base: str | None) -> FeedItem:
    images = [{**image, "url": facts.image_url(image, base)} for image in item.images]
    return dataclasses.replace(item, images=images)


def _encodable(check: Check, document: dict) -> bool:
    try:
        json.dumps(document, allow_nan=False)
    except (TypeError, ValueError) as exc:
        check.fail("product", f"holds a value JSON cannot carry: {exc}")
        return False
    return True


def build_json(items: Sequence[FeedItem], image_base_url: str | None = None) -> Feed:
    documents, problems = [], []
    for item in items:
        check = Check(item)
        document = dataclasses.asdict(_with_urls(item, image_base_url))
        if _encodable(check, document):
            documents.append(document)
        problems.extend(check.problems)
    body = {"format": FORMAT, "version": VERSION, "items": documents}
    content = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    return Feed(content.encode("utf-8"), "application/json", "json", problems, len(documents))


def read_json(content: bytes) -> list[FeedItem]:
    """The items of a generic JSON feed; ValueError if it is not one."""
    body = json.loads(content.decode("utf-8"))
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} document")
    if body.get("version") != VERSION:
        raise ValueError(f"{FORMAT} version {body.get('version')!r}; this reads {VERSION}")
    names = {f.name for f in dataclasses.fields(FeedItem)}
    return [FeedItem(**{k: v for k, v in entry.items() if k in names}) for entry in body["items"]]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "\n".join(_cell(v) for v in value)
    return str(value)


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}", inner, out)
    else:
        out[prefix] = _cell(value)


def _row(item: FeedItem) -> dict[str, str]:
    row = {name: _cell(getattr(item, name)) for name in FIXED}
    for name, value in item.fields.items():
        row[f"field.{name}"] = _cell(value)
    _flatten("product", item.product, row)
    for n, image in enumerate(item.images):
        slot = image.get("slot") or str(n)
        for key in ("url", "file", "sha256"):
            row[f"image.{slot}.{key}"] = _cell(image.get(key))
    return row


def build_csv(items: Sequence[FeedItem], image_base_url: str | None = None) -> Feed:
    rows = [_row(_with_urls(item, image_base_url)) for item in items]
    columns = dict.fromkeys(FIXED)  # ordered: first seen first
    for row in rows:
        columns.update(dict.fromkeys(row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return Feed(buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8", "csv", [], len(rows))
