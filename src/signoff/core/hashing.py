"""Content hashes: SHA-256 over canonical JSON (sorted keys, no whitespace)."""

import hashlib
import json


def canonical_json(data: object) -> bytes:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def content_hash(data: object) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()
