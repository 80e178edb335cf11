"""Setting up and serving: `init`, `load` and `serve` (the demo is in `signoff.cli.demo`)."""

from __future__ import annotations

import click

from signoff.cli.base import _database_label, _migrate, command, err, main
from signoff.cli.server import serve_app


@main.command()
@command(needs_db=False)
def init() -> None:
    """Create (or upgrade) the database under SIGNOFF_HOME."""
    _migrate()
    err.print(f"Database ready: {_database_label()}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@command()
def load(file: str) -> None:
    """Create or update a workspace from its YAML file."""
    from signoff.workspaces.services import load_workspace

    workspace, created = load_workspace(file)
    verb = "Created" if created else "Updated"
    err.print(
        f"{verb} workspace {workspace.slug}: {workspace.people.filter(active=True).count()} "
        f"people, {workspace.claims.count()} claims, {len(workspace.channels)} channels"
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--no-worker",
    is_flag=True,
    help="Start no background worker here: separate `signoff worker` processes run the queue.",
)
@command()
def serve(host: str, port: int, no_worker: bool) -> None:
    """Serve the web app and the API, with a background worker (Ctrl-C stops both)."""
    serve_app(host, port, worker=not no_worker)
