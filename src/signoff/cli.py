"""The `signoff` command: every use case from the terminal.

Read commands take ``--json`` and then print one JSON document on stdout and nothing else;
progress and messages go to stderr.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

DEMO_DIR = Path(__file__).parent / "demo" / "lumen-home"
DEMO_BRIEF = "spring-candles-2027"
DEMO_BRIEF_FILE = Path("briefs") / "spring-candles.yaml"


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


def command(needs_db: bool = True) -> Callable:
    """Set Django up, check the database, and turn known errors into clear exits."""

    def wrap(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            _setup_django()
            from signoff.core.errors import InputError, NotFound

            try:
                if needs_db and _pending_migrations():
                    raise click.ClickException(
                        f"the database is not ready ({_database_label()}); run `signoff init`"
                    )
                return func(*args, **kwargs)
            except InputError as exc:
                # Plain lines, never wrapped: editors and CI parse `file:line: ...`.
                click.echo("error: nothing was stored.", err=True)
                for problem in exc.problems:
                    click.echo(str(problem), err=True)
                sys.exit(2)
            except NotFound as exc:
                raise click.ClickException(str(exc)) from exc

        return run

    return wrap


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group()
@click.version_option(package_name="signoff")
def main() -> None:
    """Signoff: one brief becomes checked, reviewable content packages for every channel."""


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


@main.group()
def brief() -> None:
    """Briefs: add them, and (later) approve and update them."""


@brief.command("add")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--products",
    "products_csv",
    type=click.Path(dir_okay=False),
    help="A PIM-style CSV of product facts; it wins over the brief on conflicts.",
)
@command()
def brief_add(file: str, products_csv: str | None) -> None:
    """Store a brief (and its products) as a new version."""
    from signoff.briefs.services import add_brief

    report = add_brief(file, products_csv=products_csv)
    version = report.version
    if not report.created_version:
        err.print(f"Brief {report.brief.slug} unchanged (still version {version.number}).")
    else:
        err.print(
            f"Stored brief {report.brief.slug} version {version.number} "
            f"({version.products.count()} products)."
        )
    if products_csv:
        taken = Counter(source for _, _, source in report.sources)
        err.print(
            f"Facts taken: {taken.get('brief', 0)} from the brief, "
            f"{taken.get('csv', 0)} from {products_csv}."
        )
        by_sku: dict[str, list[str]] = {}
        for sku, field, source in report.sources:
            if source == "csv":
                by_sku.setdefault(sku, []).append(field)
        for sku, fields in by_sku.items():
            err.print(f"  {sku}: from CSV: {', '.join(fields)}", markup=False)
        for sku, field, old, new in report.conflicts:
            err.print(
                f"  conflict {sku}.{field}: brief {old!r}, CSV {new!r} (CSV kept)", markup=False
            )
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {warning}")


def _progress_runner(brief_obj: Any) -> Any:
    from signoff.packages.services import STEPS, run_brief

    with Progress(
        TextColumn("{task.description:<26}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=False,
    ) as progress:
        tasks = {step: progress.add_task(step, total=None) for step in STEPS}

        def report(step: str, done: int, total: int) -> None:
            progress.update(tasks[step], completed=done, total=total)

        summary = run_brief(brief_obj, progress=report)
        for step in STEPS:  # a step with nothing to do still shows as finished
            task = tasks[step]
            if progress.tasks[task].total is None:
                progress.update(task, total=1, completed=1)
    return summary


@main.command()
@click.argument("brief_ref", metavar="BRIEF")
@command()
def run(brief_ref: str) -> None:
    """Expand, draft and check every package of a brief."""
    from signoff.briefs.services import get_brief

    summary = _progress_runner(get_brief(brief_ref))
    err.print(
        f"Run {summary.run_id}: {summary.packages} packages, {summary.drafted} drafted, "
        f"{summary.skipped} already drafted, {summary.blocked} blocked for missing data."
    )


@main.command()
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--channel")
@click.option("--sku")
@click.option(
    "--state",
    type=click.Choice(["draft", "in_review", "approved", "rejected", "blocked", "published"]),
)
@click.option(
    "--severity",
    type=click.Choice(["info", "warn", "block"]),
    help="Only packages with at least one finding of this severity.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command()
def board(
    brief_ref: str,
    channel: str | None,
    sku: str | None,
    state: str | None,
    severity: str | None,
    as_json: bool,
) -> None:
    """One row per package: where it is, who owns it, how confident, what blocks it."""
    from signoff.briefs.services import get_brief
    from signoff.packages.selectors import board as board_query
    from signoff.packages.selectors import board_row

    rows = [
        board_row(p)
        for p in board_query(
            get_brief(brief_ref), channel=channel, sku=sku, state=state, severity=severity
        )
    ]
    if as_json:
        _emit_json(rows)
        return
    _print_board(rows)


def _age(seconds: int) -> str:
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _print_board(rows: list[dict]) -> None:
    table = Table(show_lines=False, header_style="bold")
    for column in (
        "id",
        "SKU",
        "channel",
        "var",
        "stage",
        "state",
        "owner",
        "in stage",
        "conf",
        "findings b/w/i",
        "blocking",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        f = row["findings"]
        table.add_row(
            str(row["id"]),
            row["sku"],
            row["channel"],
            row["variant"],
            row["stage"],
            row["state"],
            row["owner"],
            _age(row["time_in_stage_seconds"]),
            "" if row["confidence"] is None else str(row["confidence"]),
            f"{f['block']}/{f['warn']}/{f['info']}",
            row["blocking_reason"],
        )
    out.print(table)
    out.print(f"{len(rows)} packages")


@main.command()
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command()
def blocking(brief_ref: str, as_json: bool) -> None:
    """What is blocking this launch? Grouped by cause, on one screen."""
    from signoff.briefs.services import get_brief
    from signoff.packages.selectors import blocking as blocking_query

    report = blocking_query(get_brief(brief_ref))
    if as_json:
        _emit_json(report)
        return
    _print_blocking(report)


def _print_blocking(report: dict) -> None:
    out.print(
        f"[bold]What is blocking {report['brief']}[/] "
        f"({report['ready']} of {report['packages']} packages ready to launch)"
    )
    if report["missing_data"]:
        out.print("\n[bold]Missing product data[/] (fix the product data, then run again)")
        for entry in report["missing_data"]:
            out.print(
                f"  {entry['sku']}: no {', '.join(entry['fields'])} "
                f"-> blocks {len(entry['packages'])} packages "
                f"({', '.join(entry['channels'])})",
                markup=False,
            )
    if report["blocking_findings"]:
        out.print("\n[bold]Blocking findings[/] (fix the copy: `signoff show PACKAGE`)")
        for entry in report["blocking_findings"]:
            ids = ", ".join(str(i) for i in entry["packages"][:8])
            more = "" if len(entry["packages"]) <= 8 else f" +{len(entry['packages']) - 8}"
            out.print(
                f"  {entry['rule_id']} ({entry['agent']}) on {len(entry['packages'])} "
                f"packages [{ids}{more}]: {entry['example']}",
                markup=False,
            )
    if report["waiting_on_gate"]:
        out.print("\n[bold]Waiting on a gate[/]")
        for entry in report["waiting_on_gate"]:
            people = ", ".join(entry["people"]) or "nobody holds this role"
            out.print(
                f"  {entry['gate']} ({entry['role']}: {people}): {len(entry['packages'])} packages",
                markup=False,
            )
    if not (report["missing_data"] or report["blocking_findings"] or report["waiting_on_gate"]):
        out.print("Nothing: every package is approved.")


@main.command()
@click.argument("package_ref", metavar="PACKAGE")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command()
def show(package_ref: str, as_json: bool) -> None:
    """A package's current version, its origin, findings and completeness."""
    from signoff.packages.selectors import get_package, package_detail

    detail = package_detail(get_package(package_ref))
    if as_json:
        _emit_json(detail)
        return
    out.print(
        f"[bold]Package {detail['id']}[/]: {detail['sku']} x {detail['channel']} "
        f"({detail['market']}, variant {detail['variant']}) in brief {detail['brief']}"
    )
    out.print(
        f"Stage {detail['stage']}, state {detail['state']}, owner {detail['owner'] or '-'}, "
        f"confidence {detail['confidence']}"
    )
    completeness = detail["completeness"]
    missing = completeness.get("missing", [])
    out.print(
        f"Completeness: {len(completeness.get('required', [])) - len(missing)} of "
        f"{len(completeness.get('required', []))} required facts"
        + (f"; missing {', '.join(missing)}" if missing else ""),
        markup=False,
    )
    version = detail["version"]
    if version is None:
        out.print(
            "No version yet: " + "; ".join(r["message"] for r in detail["blocked_reasons"]),
            markup=False,
        )
        return
    origin = version["origin"]
    out.print(
        f"\n[bold]Version {version['number']}[/] {version['content_hash'][:12]} by "
        f"{version['author']} ({origin.get('provider')} / {origin.get('model')}, "
        f"prompt {origin.get('prompt')})",
        markup=True,
    )
    for name, value in version["fields"].items():
        out.print(f"\n[bold]{name}[/]")
        if isinstance(value, list):
            for item in value:
                out.print(f"  - {item}", markup=False)
        else:
            out.print(f"  {value}", markup=False)
    _print_findings(detail["findings"])


def _print_findings(findings: list[dict]) -> None:
    out.print(f"\n[bold]Findings[/] ({len(findings)})")
    for f in findings:
        colour = {"block": "red", "warn": "yellow"}.get(f["severity"], "blue")
        out.print(f"  [{colour}]{f['severity']:<5}[/] {f['rule_id']} {f['field'] or ''}: ", end="")
        out.print(f["message"], markup=False)
        if f["suggested_fix"]:
            out.print(f"        fix: {f['suggested_fix']}", markup=False)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--channel", required=True, help="The channel whose spec applies.")
@click.option(
    "--workspace",
    "workspace_slug",
    required=True,
    help="The workspace whose voice and claims apply.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command()
def check(file: str, channel: str, workspace_slug: str, as_json: bool) -> None:
    """Check a copy file (YAML or JSON with the channel's fields) like a linter."""
    from signoff.packages.linting import lint_file

    findings = lint_file(file, channel_id=channel, workspace_slug=workspace_slug)
    if as_json:
        _emit_json(findings)
    else:
        for f in findings:
            span = f"[{f['span'][0]}:{f['span'][1]}]" if f["span"] else ""
            err.print(
                f"{file}: {f['field'] or '-'}{span}: {f['severity']}: {f['rule_id']}: "
                f"{f['message']}",
                markup=False,
            )
            if f["suggested_fix"]:
                err.print(f"    fix: {f['suggested_fix']}", markup=False)
        counts = Counter(f["severity"] for f in findings)
        err.print(f"{counts['block']} blocking, {counts['warn']} warnings, {counts['info']} info")
    if any(f["severity"] == "block" for f in findings):
        sys.exit(1)


@main.command()
@command(needs_db=False)
def demo() -> None:
    """Load the Lumen Home example afresh, run its spring launch and show the board."""
    from signoff.briefs.services import add_brief
    from signoff.packages.selectors import blocking as blocking_query
    from signoff.packages.selectors import board as board_query
    from signoff.packages.selectors import board_row
    from signoff.workspaces.models import Workspace
    from signoff.workspaces.services import load_workspace

    _migrate()
    err.print(f"Database: {_database_label()}")
    from django.conf import settings

    # The demo's files live under SIGNOFF_HOME so its images stay viewable after the run.
    copy = settings.SIGNOFF_HOME / "demo" / "lumen-home"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(DEMO_DIR, copy)
    # Starting clean: the audit log keeps earlier demos' events (it is append-only).
    Workspace.objects.filter(slug="lumen-home").delete()
    load_workspace(copy / "workspace.yaml", actor="system:demo")
    report = add_brief(
        copy / DEMO_BRIEF_FILE, products_csv=copy / "products.csv", actor="system:demo"
    )
    summary = _progress_runner(report.brief)
    rows = [board_row(p) for p in board_query(report.brief)]
    _print_board(rows)
    out.print()
    _print_blocking(blocking_query(report.brief))
    states = Counter(row["state"] for row in rows)
    severities = Counter()
    for row in rows:
        severities.update(row["findings"])
    out.print("\n[bold]Summary[/]")
    out.print(
        "Packages: "
        + ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
        + f" ({summary.packages} in all)"
    )
    out.print("Findings: " + ", ".join(f"{severities[s]} {s}" for s in ("block", "warn", "info")))
    blocked = [row for row in rows if row["state"] == "blocked"]
    for row in blocked:
        out.print(
            f"  blocked {row['id']} {row['sku']} x {row['channel']}: {row['blocking_reason']}",
            markup=False,
        )
    out.print(
        f"\nNext: `signoff board {DEMO_BRIEF}`, `signoff blocking {DEMO_BRIEF}`, "
        "`signoff show PACKAGE`",
        markup=False,
    )
