"""Full-text search over notes: an FTS5 table kept in step by triggers on SQLite, a GIN index
on PostgreSQL."""

from django.db import migrations

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE memory_fts USING fts5(text, content='packages_note', "
    "content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER memory_fts_insert AFTER INSERT ON packages_note BEGIN "
    "INSERT INTO memory_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER memory_fts_delete AFTER DELETE ON packages_note BEGIN "
    "INSERT INTO memory_fts(memory_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER memory_fts_update AFTER UPDATE ON packages_note BEGIN "
    "INSERT INTO memory_fts(memory_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO memory_fts(rowid, text) VALUES (new.id, new.text); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS memory_fts_update",
    "DROP TRIGGER IF EXISTS memory_fts_delete",
    "DROP TRIGGER IF EXISTS memory_fts_insert",
    "DROP TABLE IF EXISTS memory_fts",
]
POSTGRES_CREATE = [
    "CREATE INDEX memory_note_text_search ON packages_note "
    "USING GIN (to_tsvector('english'::regconfig, text))"
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS memory_note_text_search"]


def _run(statements: dict[str, list[str]]):  # noqa: ANN202
    def apply(apps, schema_editor) -> None:  # noqa: ANN001
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"memory search supports SQLite and PostgreSQL, not {vendor}")
        for sql in statements[vendor]:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("packages", "0003_note_search_fields")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
