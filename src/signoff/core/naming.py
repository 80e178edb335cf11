"""File names from a workspace's naming pattern, so every asset is findable by its parts.

``{brand}_{sku}_{channel}_{slot}_v{version}.{ext}`` gives ``lumen-home_LUM-WIN-EMB-14_
meta_feed_ad_feed_4x5_v3.jpg``. Each part is reduced to letters, digits, ``-``, ``_`` and ``.``, so
a name is safe on every file system and in every URL.
"""

from __future__ import annotations

import re
import string

FIELDS = ("brand", "sku", "channel", "slot", "version", "image", "width", "height", "ext")
_UNSAFE = re.compile(r"[^A-Za-z0-9._\-]+")


def naming_problem(pattern: str) -> str | None:
    """Say what is wrong with a naming pattern, or None when it is usable."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None]
    except ValueError as exc:
        return f"file naming pattern {pattern!r} is not valid: {exc}"
    unknown = sorted({n for n in names if n not in FIELDS})
    if unknown:
        return (
            f"file naming pattern names unknown fields {', '.join(unknown)}; "
            f"known: {', '.join(FIELDS)}"
        )
    for needed in ("sku", "channel", "slot", "ext"):
        if needed not in names:
            return f"file naming pattern must contain {{{needed}}} so names never collide"
    if "/" in pattern or "\\" in pattern:
        return "file naming pattern makes file names, not folders: no / or \\"
    return None


def file_name(pattern: str, **parts: object) -> str:
    """Fill the pattern with ``parts``, each made safe for a file name."""
    safe = {key: _UNSAFE.sub("-", str(value)).strip("-") for key, value in parts.items()}
    return pattern.format(**{field: safe.get(field, "") for field in FIELDS})


def name_words(filename: str) -> str:
    """The parts of a file name as words ("a_LUM-1_feed_4x5_v3.jpg" -> "a LUM 1 feed 4x5 v3
    jpg"), for full-text search: PostgreSQL's parser reads a whole file name as one token."""
    return " ".join(part for part in re.split(r"[^A-Za-z0-9]+", filename) if part)
