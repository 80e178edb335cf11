"""Test support for the append-only audit table. Never import this from application code.

The database refuses UPDATE, DELETE and TRUNCATE on ``audit_event``. Two kinds of test need
to get past that:

* tamper tests, which play an attacker with DDL rights: ``append_only_suspended()``;
* every ``transaction=True`` test that writes events, because Django empties the tables
  afterwards with DELETE (SQLite) or TRUNCATE (PostgreSQL): ``flushable_audit_log()`` makes
  that flush lift the guard for its own statements and restore it in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.operations import BaseDatabaseOperations

TABLE = "audit_event"


def guard_statements(connection: BaseDatabaseWrapper) -> tuple[list[str], list[str]]:
    """Return the SQL that lifts the append-only guard and the SQL that restores it."""
    if connection.vendor == "postgresql":
        # USER = every trigger that is not a constraint trigger: exactly the guard triggers.
        return (
            [f"ALTER TABLE {TABLE} DISABLE TRIGGER USER"],
            [f"ALTER TABLE {TABLE} ENABLE TRIGGER USER"],
        )
    if connection.vendor == "sqlite":
        # Re-create from sqlite_master so this never drifts from what the migration installed.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
            triggers = cursor.fetchall()
        return [f'DROP TRIGGER "{name}"' for name, _ in triggers], [sql for _, sql in triggers]
    raise NotImplementedError(f"no append-only guard for {connection.vendor}")


@contextmanager
def append_only_suspended(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Lift the append-only triggers for the block (DDL is transactional on both backends)."""
    connection = connections[using]
    lift, restore = guard_statements(connection)
    with connection.cursor() as cursor:
        for sql in lift:
            cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in restore:
                cursor.execute(sql)


@contextmanager
def flushable_audit_log() -> Iterator[None]:
    """Let Django's test flush empty ``audit_event`` while the block is active."""
    patched: list[tuple[type[BaseDatabaseOperations], Callable[..., list[str]]]] = []
    for connection in connections.all(initialized_only=False):
        operations = type(connection.ops)
        if any(cls is operations for cls, _ in patched):
            continue
        original = operations.sql_flush
        if getattr(original, "lifts_audit_guard", False):
            continue  # already wrapped by an enclosing block; wrapping twice drops twice
        operations.sql_flush = _wrap_sql_flush(original)  # type: ignore[method-assign]
        patched.append((operations, original))
    try:
        yield
    finally:
        for operations, original in patched:
            operations.sql_flush = original  # type: ignore[method-assign]


def _wrap_sql_flush(original: Callable[..., list[str]]) -> Callable[..., list[str]]:
    def sql_flush(self: BaseDatabaseOperations, style: Any, tables: Any, **kwargs: Any) -> list:
        statements = original(self, style, tables, **kwargs)
        if TABLE not in tables or not statements:
            return statements
        lift, restore = guard_statements(self.connection)
        # execute_sql_flush runs the list in one transaction, so the guard is never left off.
        return [*lift, *statements, *restore]

    sql_flush.lifts_audit_guard = True  # type: ignore[attr-defined]
    return sql_flush
