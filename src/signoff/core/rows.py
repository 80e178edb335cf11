"""Insert plain rows of a model's table: Django's column types, no model instance per row.

``bulk_create`` builds a model instance per row and compiles every value through the full
field API (pre_save, get_db_prep_save, placeholder SQL per value). For the run's thousands of
rows that is most of the run's time, and none of it is needed when the caller already holds
values of the column's own type. This writes the same rows with one multi-row
``INSERT ... RETURNING`` per chunk (``COPY`` on PostgreSQL when no ids are wanted); values of
types that need the backend's conversion (JSON, dates, UUIDs, decimals) still go through the
field's own ``get_db_prep_save``, so what lands in the table is exactly what ``bulk_create``
would have stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connections, models, router

# Field types whose Python value the database driver takes as it is.
_AS_IS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.FloatField,
    models.ForeignKey,
    models.AutoField,
)


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    returning: bool = False,
    using: str | None = None,
) -> list[Any]:
    """Insert ``rows`` (value tuples in ``columns`` order, attnames such as ``package_id``).

    Returns the new primary keys in row order when ``returning`` is set, else an empty list.
    Must run inside the caller's transaction when it belongs with other writes.
    """
    using = using or router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    given = [meta.get_field(name) for name in columns]
    # Django applies model defaults in Python, not in the table: fill them in for the columns
    # the caller left out, as a model instance would.
    defaults = _defaults(model, given)
    fields = given + [field for field, _ in defaults]
    prepare = [_preparer(field, connection) for field in fields]
    prepare_given = prepare[: len(given)]
    extra = tuple(
        prepared(value) if prepared else value
        for (_, value), prepared in zip(defaults, prepare[len(given) :], strict=True)
    )
    quote = connection.ops.quote_name
    head = (
        f"INSERT INTO {quote(meta.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}) VALUES "
    )
    tail = f" RETURNING {quote(meta.pk.column)}" if returning else ""
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    limit = connection.features.max_query_params or 65535
    per_statement = max(1, min(500, limit // max(1, len(fields))))
    ids: list[Any] = []
    chunk: list[Any] = []
    count = 0

    def flush(cursor: Any) -> None:
        cursor.execute(head + ", ".join([one] * count) + tail, chunk)
        if returning:
            ids.extend(row[0] for row in cursor.fetchall())

    with connection.cursor() as cursor:
        if not returning and _copies(connection, cursor):
            # Rows that need no ids back stream in through COPY on PostgreSQL: no SQL text to
            # build or parse per row, and each value goes through the same preparation.
            names = ", ".join(quote(field.column) for field in fields)
            sql = f"COPY {quote(meta.db_table)} ({names}) FROM STDIN"
            # The raw driver cursor: wrap its errors as Django's (IntegrityError, ...), as
            # ``cursor.execute`` does, so callers catch the same exceptions on every backend.
            with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(
                        [p(v) if p else v for p, v in zip(prepare_given, row, strict=True)]
                        + list(extra)
                    )
            return ids
        for row in rows:
            chunk.extend(p(v) if p else v for p, v in zip(prepare_given, row, strict=True))
            chunk.extend(extra)
            count += 1
            if count == per_statement:
                flush(cursor)
                chunk, count = [], 0
        if count:
            flush(cursor)
    return ids


def _copies(connection: Any, cursor: Any) -> bool:
    # psycopg 3 has Cursor.copy; psycopg 2 (which Django also supports) does not.
    return connection.vendor == "postgresql" and hasattr(cursor.cursor, "copy")


def _defaults(model: type[models.Model], given: list[models.Field]) -> list[tuple]:
    names = {field.name for field in given}
    defaults = []
    for field in model._meta.concrete_fields:
        if field.name in names or field.primary_key and not field.has_default():
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            raise TypeError(f"insert_rows: give {model.__name__}.{field.name} (auto_now) a value")
        # As Model.__init__ does: the declared default, else "" for text and None otherwise.
        defaults.append((field, field.get_default()))
    return defaults


def _preparer(field: models.Field, connection: Any) -> Callable[[Any], Any] | None:
    if isinstance(field, _AS_IS) and not field.choices:
        return None
    if isinstance(field, models.CharField | models.TextField):
        return _as_text  # choices: an enum member is stored as its plain value
    if isinstance(field, models.JSONField):
        return lambda value: field.get_db_prep_save(value, connection)
    return _same_as_last(lambda value: field.get_db_prep_save(value, connection))


def _same_as_last(prepare: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # The rows of one write share their timestamps and correlation ids: convert each distinct
    # object once. Only for immutable values (datetimes, UUIDs, decimals), so identity is safe.
    last: list[Any] = [object(), None]

    def prepared(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, prepare(value)
        return last[1]

    return prepared


def _as_text(value: Any) -> Any:
    return None if value is None else str(value)
