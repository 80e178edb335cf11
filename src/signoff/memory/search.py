"""Full-text search over notes: SQLite FTS5 or PostgreSQL text search, same results."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import QuerySet

from signoff.packages.models import Note

_WORD = re.compile(r"\w+", re.UNICODE)


def search_notes(
    *,
    workspace_id: int,
    query: str,
    sku: str | None = None,
    channel: str | None = None,
    limit: int = 20,
) -> list[Note]:
    """Return the notes that match every word of ``query`` (as prefixes), best first."""
    words = _WORD.findall(query.lower())
    if not words:
        return []
    base = Note.objects.filter(package__brief__workspace_id=workspace_id).select_related(
        "package", "package__brief"
    )
    if sku:
        base = base.filter(sku=sku)
    if channel:
        base = base.filter(channel=channel)
    if connection.vendor == "postgresql":
        return _postgres(base, words, limit)
    return _sqlite(base, words, limit)


def _sqlite(base: QuerySet[Note], words: list[str], limit: int) -> list[Note]:
    # Each word quoted: user text never becomes FTS5 syntax (NEAR, OR, column filters).
    match = " ".join(f'"{w}"*' for w in words)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM memory_fts WHERE memory_fts MATCH %s ORDER BY rank",
            [match],
        )
        ranked = [row[0] for row in cursor.fetchall()]
    found = {n.pk: n for n in base.filter(pk__in=ranked)}
    return [found[pk] for pk in ranked if pk in found][:limit]


def _postgres(base: QuerySet[Note], words: list[str], limit: int) -> list[Note]:
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    query = SearchQuery(" & ".join(f"{w}:*" for w in words), config="english", search_type="raw")
    vector = SearchVector("text", config="english")
    return list(
        base.annotate(document=vector, rank=SearchRank(vector, query))
        .filter(document=query)
        .order_by("-rank", "-created_at")[:limit]
    )
