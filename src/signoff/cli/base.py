"""What every `signoff` command module shares: the `main` group, the `command()` decorator
(Django set up, database checked, known errors turned into clear exits), output and tokens.

A command module imports what it needs from here and registers its commands on `main` (or on
a group of its own made with `@main.group()`); `signoff.cli` imports each module so they
register. Nothing here imports a command module.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

# Piped output is read by people in wide terminals and by scripts: don't squeeze it to 80.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False)

# How a refusal exits, by its HTTP status: 3 wrong state (409), 4 not allowed (403), 2 missing
# input (422). Scripts tell "try later" from "ask someone else" by these.
REFUSAL_EXIT = {409: 3, 403: 4, 422: 2}


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signoff.config.settings")
    import django

    django.setup()


def _pending_migrations() -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _migrate() -> None:
    from django.conf import settings
    from django.core.management import call_command

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0, interactive=False)


def _database_label() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite (WAL) at {db['NAME']}"
    return f"PostgreSQL database {db['NAME']} on {db.get('HOST') or 'localhost'}"


def command(needs_db: bool = True, *, writes: bool = True) -> Callable:
    """Set Django up, check the database, and turn known errors into clear exits.

    ``writes=False`` marks a command that only reads (a board, a report, a search): its bad
    input is reported as invalid input, not as "nothing was stored", which would suggest it
    could have stored something.
    """

    def wrap(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            _setup_django()
            from signoff.core.errors import InputError, NotFound
            from signoff.workflow import WorkflowError
            from signoff.workspaces.tokens import InvalidToken

            try:
                if needs_db and _pending_migrations():
                    raise click.ClickException(
                        f"the database is not ready ({_database_label()}); run `signoff init`"
                    )
                return func(*args, **kwargs)
            except InputError as exc:
                # Plain lines, never wrapped: editors and CI parse `file:line: ...`.
                click.echo(
                    "error: nothing was stored." if writes else "error: invalid input:", err=True
                )
                for problem in exc.problems:
                    click.echo(str(problem), err=True)
                sys.exit(2)
            except NotFound as exc:
                raise click.ClickException(str(exc)) from exc
            except WorkflowError as exc:
                click.echo(f"refused ({exc.code.value}): {exc.message}", err=True)
                sys.exit(REFUSAL_EXIT.get(exc.http_status, 2))
            except InvalidToken as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(4)

        return run

    return wrap


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _known_value(option: str, value: str | None, known: Any, what: str, within: str = "") -> None:
    """Refuse an option value that names nothing: bad input (exit 2), never an empty answer.

    A filter naming a channel or gate that does not exist would otherwise print no rows or
    "nobody approved", which reads as a true answer.
    """
    from signoff.core.errors import InputError

    if value is not None and value not in known:
        choices = ", ".join(sorted(known)) or "none yet"
        scope = f" in {within}" if within else ""
        raise InputError.single(
            f"unknown {what} {value!r}{scope}; expected one of {choices}",
            file="<command line>",
            field=option,
        )


@click.group()
@click.version_option(package_name="signoff")
def main() -> None:
    """Signoff: one brief becomes checked, reviewable content packages for every channel."""


# ---- people acting: tokens, gates, edits -------------------------------------------------

token_option = click.option(
    "--token",
    envvar="SIGNOFF_TOKEN",
    default="",
    show_default=False,
    help="Your API token (default: $SIGNOFF_TOKEN).",
)


def _acting_person(token: str):  # noqa: ANN202 - returns a Person
    from signoff.workspaces.tokens import authenticate

    return authenticate(token)
