"""Full-text search over memory: SQLite FTS5 or PostgreSQL text search, same results.

What is searched (``search_memory``), in one workspace:

- **notes**: rejection, edit and approval notes, comments, and the copy of every version that
  passed the last gate (``winner``), with their package, SKU, channel and gate;
- **versions**: the copy of every version of every package (every string of its fields),
  marked ``current`` when it is the package's current version;
- **decision events**: every audit event that carries a note and is not already a note above:
  G1 brief approvals (``brief.gate.approved``), claim status changes, launches, rules learned,
  and any other decision recorded with a note. Package gate decisions, edits and comments are
  searched as their notes, which carry more context, so they do not appear twice.

Every word of the query must match (as a prefix, stemmed by the Porter/English rules of each
backend). Hits are ranked by each backend's relevance (FTS5's bm25, PostgreSQL's ts_rank),
best first across the three kinds, newest first among equals. ``search_notes`` searches the
notes alone, as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.db import connection
from django.db.models import F, Func, QuerySet

from signoff.agents.context import field_texts
from signoff.audit.models import Event
from signoff.packages.models import Note, Version
from signoff.workspaces.models import Workspace

_WORD = re.compile(r"\w+", re.UNICODE)

# Events whose note is stored as a Note too (by the decision that wrote both).
MIRRORED_BY_NOTES = frozenset(
    {"package.gate.approved", "package.gate.rejected", "package.edited", "package.commented"}
)
SOURCES = ("note", "version", "event")


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result, whichever table it came from."""

    source: str  # note | version | event
    id: int  # the note's or version's id, or the event's seq
    kind: str  # the note's kind, "current" or "earlier" for a version, the event's action
    text: str
    at: datetime
    person: str  # who wrote it: the note's person, the version's author, the event's actor
    sku: str = ""
    channel: str = ""
    package_id: int | None = None
    brief: str = ""  # the brief's slug, for notes and versions
    gate: str = ""
    version: int | None = None  # the version number, for versions
    rank: float = 0.0  # lower is better, comparable across sources of one backend

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "id": self.id,
            "kind": self.kind,
            "package": self.package_id,
            "brief": self.brief,
            "sku": self.sku,
            "channel": self.channel,
            "gate": self.gate,
            "version": self.version,
            "person": self.person,
            "at": self.at.isoformat(),
            "text": self.text,
        }


def _words(query: str) -> list[str]:
    return _WORD.findall(query.lower())


def search_notes(
    *,
    workspace_id: int,
    query: str,
    sku: str | None = None,
    channel: str | None = None,
    limit: int = 20,
) -> list[Note]:
    """Return the notes that match every word of ``query`` (as prefixes), best first."""
    words = _words(query)
    if not words:
        return []
    ranked = _SOURCES["note"].search(workspace_id, words, sku=sku, channel=channel, limit=limit)
    return [note for note, _ in ranked]


def search_memory(
    *,
    workspace_id: int,
    query: str,
    sku: str | None = None,
    channel: str | None = None,
    sources: tuple[str, ...] = SOURCES,
    limit: int = 20,
) -> list[Hit]:
    """Return notes, versions and decision events matching every word of ``query``, best first.

    ``sku`` and ``channel`` keep hits about that SKU or channel (events about a whole brief
    have neither, so they drop out). ``sources`` narrows to some of note, version, event.
    """
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown sources {sorted(unknown)}; use {', '.join(SOURCES)}")
    words = _words(query)
    if not words:
        return []
    hits: list[Hit] = []
    for name in SOURCES:  # in this order, so equal hits keep it
        if name in sources:
            source = _SOURCES[name]
            ranked = source.search(workspace_id, words, sku=sku, channel=channel, limit=limit)
            hits += [source.hit(row, rank) for row, rank in ranked]
    hits.sort(key=lambda hit: (hit.rank, -hit.at.timestamp()))
    return hits[:limit]


# ------------------------------------------------------------------ SQLite (FTS5)


def _match(words: list[str]) -> str:
    # Each word quoted: user text never becomes FTS5 syntax (NEAR, OR, column filters).
    return " ".join(f'"{w}"*' for w in words)


def _sqlite_notes(base: QuerySet[Note], words: list[str], limit: int) -> list[tuple[Note, float]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid, rank FROM memory_fts WHERE memory_fts MATCH %s ORDER BY rank",
            [_match(words)],
        )
        ranked = cursor.fetchall()
    found = {n.pk: n for n in base.filter(pk__in=[pk for pk, _ in ranked])}
    return [(found[pk], rank) for pk, rank in ranked if pk in found][:limit]


def _sqlite_ranked(
    base: QuerySet, words: list[str], limit: int, *, table: str
) -> list[tuple[Any, float]]:
    """Rank ``base``'s rows by the FTS5 ``table`` whose rowid is their primary key.

    The filters run in the same statement, so a word common to many workspaces still returns
    this workspace's best rows rather than a list cut short before filtering.
    """
    inner, params = base.order_by().values("pk").query.sql_with_params()
    sql = (
        f"SELECT rowid, rank FROM {table} WHERE {table} MATCH %s "  # noqa: S608 - constant names
        f"AND rowid IN ({inner}) ORDER BY rank LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_match(words), *params, limit])
        ranked = cursor.fetchall()
    found = {row.pk: row for row in base.filter(pk__in=[rowid for rowid, _ in ranked])}
    return [(found[rowid], rank) for rowid, rank in ranked if rowid in found]


# ------------------------------------------------------------------ PostgreSQL


def _postgres_query(words: list[str]) -> Any:
    from django.contrib.postgres.search import SearchQuery

    return SearchQuery(" & ".join(f"{w}:*" for w in words), config="english", search_type="raw")


def _postgres_ranked(
    base: QuerySet, vector: Any, words: list[str], limit: int, newest: str
) -> list[tuple[Any, float]]:
    from django.contrib.postgres.search import SearchRank

    query = _postgres_query(words)
    rows = (
        base.annotate(document=vector, rank=SearchRank(vector, query))
        .filter(document=query)
        .order_by("-rank", f"-{newest}")[:limit]
    )
    # ts_rank grows with relevance; FTS5's rank shrinks: keep "lower is better" for both.
    return [(row, -float(row.rank)) for row in rows]


def _postgres_notes(base: QuerySet[Note], words: list[str], limit: int) -> list[tuple[Note, float]]:
    from django.contrib.postgres.search import SearchVector

    return _postgres_ranked(
        base, SearchVector("text", config="english"), words, limit, "created_at"
    )


def _postgres_versions(
    base: QuerySet[Version], words: list[str], limit: int
) -> list[tuple[Version, float]]:
    from django.contrib.postgres.search import SearchVectorField

    # Every string of the fields as a tsvector: the expression the GIN index holds.
    vector = Func(
        F("fields"),
        template="jsonb_to_tsvector('english'::regconfig, %(expressions)s, '[\"string\"]'::jsonb)",
        output_field=SearchVectorField(),
    )
    return _postgres_ranked(base, vector, words, limit, "created_at")


def _postgres_events(
    base: QuerySet[Event], words: list[str], limit: int
) -> list[tuple[Event, float]]:
    from django.contrib.postgres.search import SearchVector

    return _postgres_ranked(base, SearchVector("note", config="english"), words, limit, "seq")


# ------------------------------------------------------------------ hits


def _note_hit(note: Note, rank: float) -> Hit:
    return Hit(
        source="note",
        id=note.pk,
        kind=note.kind,
        text=note.text,
        at=note.created_at,
        person=note.person,
        sku=note.sku,
        channel=note.channel,
        package_id=note.package_id,
        brief=note.package.brief.slug,
        gate=note.gate,
        rank=rank,
    )


def _version_hit(version: Version, rank: float) -> Hit:
    package = version.package
    return Hit(
        source="version",
        id=version.pk,
        kind="current" if package.current_version_id == version.pk else "earlier",
        text="\n".join(f"{name}: {value}" for name, value in field_texts(version.fields)),
        at=version.created_at,
        person=version.author,
        sku=package.sku,
        channel=package.channel,
        package_id=package.pk,
        brief=package.brief.slug,
        version=version.number,
        rank=rank,
    )


def _event_hit(event: Event, rank: float) -> Hit:
    return Hit(
        source="event",
        id=event.seq,
        kind=event.action,
        text=event.note,
        at=event.occurred_at,
        person=event.actor,
        sku=event.sku or "",
        channel=event.channel or "",
        gate=event.gate or "",
        rank=rank,
    )


# ------------------------------------------------------------------ sources


_Ranker = Callable[[QuerySet, list[str], int], list[tuple[Any, float]]]


@dataclass(frozen=True, slots=True)
class _Source:
    """One kind of row that is searched: where its rows are, how each backend ranks them."""

    rows: Callable[[int], QuerySet]  # the rows of one workspace, by its id
    about: str  # the lookup that leads from a row to its ``sku`` and ``channel``
    sqlite: _Ranker
    postgres: _Ranker
    hit: Callable[[Any, float], Hit]

    def search(
        self,
        workspace_id: int,
        words: list[str],
        *,
        sku: str | None,
        channel: str | None,
        limit: int,
    ) -> list[tuple[Any, float]]:
        """Return the rows matching every word (about ``sku`` and ``channel``), best first."""
        rows = self.rows(workspace_id)
        if sku:
            rows = rows.filter(**{f"{self.about}sku": sku})
        if channel:
            rows = rows.filter(**{f"{self.about}channel": channel})
        rank = self.postgres if connection.vendor == "postgresql" else self.sqlite
        return rank(rows, words, limit)


def _notes(workspace_id: int) -> QuerySet[Note]:
    return Note.objects.filter(package__brief__workspace_id=workspace_id).select_related(
        "package__brief"
    )


def _versions(workspace_id: int) -> QuerySet[Version]:
    return Version.objects.filter(package__brief__workspace_id=workspace_id).select_related(
        "package__brief"
    )


def _events(workspace_id: int) -> QuerySet[Event]:
    # Events name their workspace by slug; those of a package's decisions are notes already.
    slug = Workspace.objects.filter(pk=workspace_id).values_list("slug", flat=True).first()
    return (
        Event.objects.filter(workspace=slug or "")
        .exclude(note="")
        .exclude(action__in=MIRRORED_BY_NOTES)
    )


_SOURCES = {
    "note": _Source(_notes, "", _sqlite_notes, _postgres_notes, _note_hit),
    "version": _Source(
        _versions,
        "package__",
        partial(_sqlite_ranked, table="memory_version_fts"),
        _postgres_versions,
        _version_hit,
    ),
    "event": _Source(
        _events,
        "",
        partial(_sqlite_ranked, table="memory_event_fts"),
        _postgres_events,
        _event_hit,
    ),
}
