"""Full-text search over versions' copy and decision events, next to the notes (0001).

SQLite: two FTS5 tables that hold their own copy of the text, filled by triggers. A version's
text is every string in its ``fields`` JSON; an event's is its note. Both source tables only
ever gain rows (versions are immutable, events append-only), so an insert trigger keeps them
in step; each insert first clears its rowid, so a row left behind by a test flush (which lifts
the audit table's triggers) can never answer for a new one. Existing rows are indexed here.

PostgreSQL: GIN indexes on the same expressions the search uses.
"""

from django.db import migrations

_VERSION_TEXT = (
    "coalesce((SELECT group_concat(value, ' ') FROM json_tree({row}.fields) "
    "WHERE type = 'text'), '')"
)

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE memory_version_fts USING fts5(text, tokenize='porter unicode61')",
    "CREATE TRIGGER memory_version_fts_insert AFTER INSERT ON packages_version BEGIN "
    "DELETE FROM memory_version_fts WHERE rowid = new.id; "
    "INSERT INTO memory_version_fts(rowid, text) VALUES (new.id, "
    + _VERSION_TEXT.format(row="new")
    + "); END",
    "CREATE TRIGGER memory_version_fts_delete AFTER DELETE ON packages_version BEGIN "
    "DELETE FROM memory_version_fts WHERE rowid = old.id; END",
    "INSERT INTO memory_version_fts(rowid, text) SELECT id, "
    + _VERSION_TEXT.format(row="packages_version")
    + " FROM packages_version",
    "CREATE VIRTUAL TABLE memory_event_fts USING fts5(text, tokenize='porter unicode61')",
    # Every event clears its seq; only events with a note are indexed.
    "CREATE TRIGGER memory_event_fts_insert AFTER INSERT ON audit_event BEGIN "
    "DELETE FROM memory_event_fts WHERE rowid = new.seq; "
    "INSERT INTO memory_event_fts(rowid, text) SELECT new.seq, new.note WHERE new.note <> ''; "
    "END",
    "INSERT INTO memory_event_fts(rowid, text) SELECT seq, note FROM audit_event "
    "WHERE note <> ''",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS memory_event_fts_insert",
    "DROP TABLE IF EXISTS memory_event_fts",
    "DROP TRIGGER IF EXISTS memory_version_fts_delete",
    "DROP TRIGGER IF EXISTS memory_version_fts_insert",
    "DROP TABLE IF EXISTS memory_version_fts",
]
POSTGRES_CREATE = [
    "CREATE INDEX memory_version_fields_search ON packages_version "
    "USING GIN (jsonb_to_tsvector('english'::regconfig, fields, '[\"string\"]'::jsonb))",
    "CREATE INDEX memory_event_note_search ON audit_event "
    "USING GIN (to_tsvector('english'::regconfig, note))",
]
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS memory_event_note_search",
    "DROP INDEX IF EXISTS memory_version_fields_search",
]


def _run(statements: dict[str, list[str]]):  # noqa: ANN202
    def apply(apps, schema_editor) -> None:  # noqa: ANN001
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"memory search supports SQLite and PostgreSQL, not {vendor}")
        for sql in statements[vendor]:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("memory", "0001_search_index"),
        ("packages", "0003_note_search_fields"),
        ("audit", "0002_append_only"),
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
