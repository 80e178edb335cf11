"""The `signoff` command: every use case from the terminal.

Read commands take ``--json`` and then print one JSON document on stdout and nothing else;
progress and messages go to stderr.
"""

from __future__ import annotations

import dataclasses
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
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

# Piped output is read by people in wide terminals and by scripts: don't squeeze it to 80.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False)

DEMO_DIR = Path(__file__).parent / "demo" / "lumen-home"
DEMO_BRIEF = "spring-candles-2027"
DEMO_BRIEF_FILE = Path("briefs") / "spring-candles.yaml"
DEMO_CONTENT_LEAD = "maya@lumen.example"
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


def command(needs_db: bool = True) -> Callable:
    """Set Django up, check the database, and turn known errors into clear exits."""

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
                click.echo("error: nothing was stored.", err=True)
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


@brief.command("parse")
@click.argument("notes", type=click.Path(dir_okay=False, exists=True))
@click.option("--workspace", "workspace_slug", required=True)
@click.option(
    "-o",
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    help="Write the brief YAML here (default: stdout).",
)
@command()
def brief_parse(notes: str, workspace_slug: str, out_path: str | None) -> None:
    """Turn free-text kickoff notes into a brief to review, with its open questions."""
    import datetime

    import yaml

    from signoff.agents.brief_parser import parse_kickoff_notes
    from signoff.workspaces.rules import brand_rules
    from signoff.workspaces.services import get_workspace

    workspace = get_workspace(workspace_slug)
    parsed = parse_kickoff_notes(
        Path(notes).read_text(encoding="utf-8"),
        workspace=workspace.slug,
        rules=brand_rules(workspace),
        today=datetime.datetime.now(datetime.UTC).date(),
    )
    header = [f"# Drafted by the brief parser from {notes}: review before adding it."]
    header += [f"# Open question: {q}" for q in parsed.open_questions]
    header += [f"# Mentioned product: {p}" for p in parsed.mentioned_products]
    document = (
        "\n".join(header) + "\n" + yaml.safe_dump(parsed.brief, sort_keys=False, allow_unicode=True)
    )
    if out_path:
        Path(out_path).write_text(document, encoding="utf-8")
        err.print(f"Wrote {out_path}")
    else:
        click.echo(document, nl=False)
    for finding in parsed.findings:
        click.echo(f"{notes}: {finding.severity}: {finding.rule_id}: {finding.message}", err=True)


def _progress_runner(brief_obj: Any) -> Any:
    from signoff.briefs.workflow import template_for
    from signoff.packages.services import STEPS, drafting_version, run_brief

    drafting_version(brief_obj, template_for(brief_obj))  # refuse before showing progress

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
@click.option(
    "--background",
    is_flag=True,
    help="Queue the run for `signoff worker` instead of running it here.",
)
@command()
def run(brief_ref: str, background: bool) -> None:
    """Expand, draft and check every package of a brief."""
    from signoff.briefs.services import get_brief

    target = get_brief(brief_ref)
    if background:
        from signoff.packages.services import ensure_may_queue_run
        from signoff.packages.tasks import run_brief_task

        ensure_may_queue_run(target)  # refuse now, not in the worker
        result = run_brief_task.enqueue(target.pk)
        err.print(f"Queued run of {target.slug} as task {result.id}; `signoff worker` runs it.")
        return
    summary = _progress_runner(target)
    err.print(
        f"Run {summary.run_id}: {summary.packages} packages, {summary.drafted} drafted, "
        f"{summary.skipped} already drafted, {summary.blocked} blocked for missing data."
    )


@main.command()
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command()
def runs(brief_ref: str, as_json: bool) -> None:
    """The brief's runs, newest first: how each ended, what it drafted and spent."""
    from signoff.briefs.services import get_brief
    from signoff.packages.runlock import runs_as_they_stand

    rows = [
        {
            "id": r.pk,
            "status": r.status,
            "brief_version": r.brief_version.number,
            "started_at": r.started_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "summary": r.summary,
        }
        for r in runs_as_they_stand(get_brief(brief_ref))
    ]
    if as_json:
        _emit_json(rows)
        return
    table = Table(show_lines=False, header_style="bold")
    for column in ("run", "status", "version", "started", "drafted", "failed", "tokens", "cost"):
        table.add_column(column, overflow="fold")
    for row in rows:
        summary = row["summary"]
        tokens = summary.get("input_tokens", 0) + summary.get("output_tokens", 0)
        table.add_row(
            str(row["id"]),
            row["status"],
            str(row["brief_version"]),
            row["started_at"][:19].replace("T", " "),
            str(summary.get("drafted", "")),
            str(summary.get("failed", "")),
            str(tokens),
            f"${summary.get('cost', 0.0):.4f}",
        )
    out.print(table)
    for row in rows:
        if row["status"] == "interrupted":
            out.print(f"Run {row['id']} stopped before it finished (its worker ended).")
        elif row["status"] == "failed":
            out.print(
                f"Run {row['id']} stopped on an error: {row['summary'].get('error', '')}",
                markup=False,
            )
    if rows and rows[0]["status"] in ("interrupted", "failed", "stopped"):
        out.print(f"Run again to draft what is left: signoff run {brief_ref}")


@main.command()
@click.option("--batch", is_flag=True, help="Run what is queued, then stop.")
@command()
def worker(batch: bool) -> None:
    """Work the background queue (AI drafting runs); stop with Ctrl-C."""
    from django.core.management import call_command

    args = ["--interval", "1", "--no-startup-delay"] + (["--batch"] if batch else [])
    call_command("db_worker", *args)


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

    target = get_brief(brief_ref)
    latest = target.latest_version()
    channels = set(target.packages.values_list("channel", flat=True))
    skus = set(target.packages.values_list("sku", flat=True))
    if latest is not None:
        channels |= set(latest.data["channels"])
        skus |= set(latest.products.values_list("sku", flat=True))
    _known_value("--channel", channel, channels, "channel", target.slug)
    _known_value("--sku", sku, skus, "SKU", target.slug)
    rows = [
        board_row(p)
        for p in board_query(target, channel=channel, sku=sku, state=state, severity=severity)
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


def _package_list(ids: list[int], shown: int = 8) -> str:
    more = "" if len(ids) <= shown else f" +{len(ids) - shown}"
    return f"[{', '.join(str(i) for i in ids[:shown])}{more}]"


def _unblock_hint(entry: dict) -> list[str]:
    """Say who or what releases one group of blocked packages, one line per way."""
    if entry.get("claim") and entry.get("released_by"):
        keepers = "; ".join(
            f"{r['role']}: {', '.join(r['people']) or 'nobody holds this role'}"
            for r in entry["released_by"]
        )
        return [
            f"unblocked by: {keepers}, reinstating the claim with",
            f"  `signoff claim set-status {entry['claim']} approved --note ...`",
            "or by an edit that drops the claim (that package only)",
        ]
    return ["unblocked by: resolving the cause; each package then returns to where it was"]


def _missing_data_lines(entry: dict) -> list[str]:
    return [
        f"  {entry['sku']}: no {', '.join(entry['labels'])} "
        f"-> blocks {len(entry['packages'])} packages ({', '.join(entry['channels'])})"
    ]


def _other_block_lines(entry: dict) -> list[str]:
    # Claims flagged or withdrawn, and any other cause that holds packages blocked.
    return [
        f"  {entry['cause']}: {entry['example']} -> blocks {len(entry['packages'])} "
        f"packages {_package_list(entry['packages'])}",
        *(f"    {line}" for line in _unblock_hint(entry)),
    ]


def _finding_lines(entry: dict) -> list[str]:
    return [
        f"  {entry['rule_id']} ({entry['agent']}) on {len(entry['packages'])} "
        f"packages {_package_list(entry['packages'])}: {entry['example']}"
    ]


def _gate_lines(entry: dict) -> list[str]:
    people = ", ".join(entry["people"]) or "nobody holds this role"
    return [f"  {entry['gate']} ({entry['role']}: {people}): {len(entry['packages'])} packages"]


# The blocking report's groups in the order printed: key, heading, the lines of one entry.
_BLOCKING_GROUPS = (
    (
        "missing_data",
        "[bold]Missing product data[/] (fix the product data, then run again)",
        _missing_data_lines,
    ),
    (
        "other_blocks",
        "[bold]Blocked[/] (each package returns to where it was once released)",
        _other_block_lines,
    ),
    (
        "blocking_findings",
        "[bold]Blocking findings[/] (fix the copy: `signoff show PACKAGE`)",
        _finding_lines,
    ),
    ("waiting_on_gate", "[bold]Waiting on a gate[/]", _gate_lines),
)


def _print_blocking(report: dict) -> None:
    out.print(
        f"[bold]What is blocking {report['brief']}[/] "
        f"({report['ready']} of {report['packages']} packages ready to launch)"
    )
    for group, heading, lines in _BLOCKING_GROUPS:
        if report[group]:
            out.print(f"\n{heading}")
            for entry in report[group]:
                for line in lines(entry):
                    out.print(line, markup=False)
    if any(report[group] for group, _, _ in _BLOCKING_GROUPS):
        return
    if not report["packages"]:
        out.print(f"Nothing yet: no packages; `signoff run {report['brief']}` makes them.")
    elif report["ready"] == report["packages"]:
        out.print("Nothing: every package is approved.")
    else:
        # Drafts not yet run, rejections awaiting a new draft, published packages.
        out.print(
            f"Nothing is blocked or waiting on a gate; {report['packages'] - report['ready']} "
            "packages are drafting, rejected or published (see `signoff board`)."
        )


@main.command()
@click.argument("package_ref", metavar="PACKAGE")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command()
def show(package_ref: str, as_json: bool) -> None:
    """A package's current version, its origin, findings and completeness."""
    from signoff.packages.selectors import get_package, package_detail

    package = get_package(package_ref)
    detail = package_detail(package)
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
    parent = package.current_version.parent
    out.print(
        f"\n[bold]Version {version['number']}[/] {version['content_hash'][:12]} by "
        f"{escape(version['author'])}: "
        + escape(_origin_text(version["origin"], parent.number if parent else None))
    )
    for name, value in version["fields"].items():
        out.print(f"\n[bold]{name}[/]")
        if isinstance(value, list):
            for item in value:
                out.print(f"  - {item}", markup=False)
        else:
            out.print(f"  {value}", markup=False)
    _print_findings(detail["findings"])


def _origin_text(origin: dict, parent_number: int | None) -> str:
    """Say where a version came from in the words of its kind: an agent's draft or an edit."""
    if origin.get("kind") == "person":
        note = repr(origin["note"]) if origin.get("note") else "no note"
        parent = f"of version {parent_number}" if parent_number else "with no parent version"
        changed = ", ".join(origin.get("changed", [])) or "-"
        return f"an edit {parent} ({note}; changed {changed})"
    if origin.get("kind") == "agent":
        provider = origin.get("provider") or "?"
        # The builtin composer names its template; a remote model's prompt is long text.
        label = "template" if provider == "builtin" else "prompt"
        prompt = " ".join(str(origin.get("prompt") or "-").split())
        if len(prompt) > 80:
            prompt = prompt[:77] + "..."
        model = f" / {origin['model']}" if origin.get("model") else ""
        return f"drafted with {provider}{model}, {label} {prompt}"
    return f"origin {origin.get('kind') or 'not recorded'}"


def _print_findings(findings: list[dict]) -> None:
    out.print(f"\n[bold]Findings[/] ({len(findings)})")
    for f in findings:
        colour = {"block": "red", "warn": "yellow"}.get(f["severity"], "blue")
        out.print(f"  [{colour}]{f['severity']:<5}[/] {f['rule_id']} {f['field'] or ''}: ", end="")
        out.print(f["message"], markup=False)
        if f["suggested_fix"]:
            out.print(f"        fix: {f['suggested_fix']}", markup=False)
        # The packages it is about (the consistency auditor's disagreements), each with what
        # it says: the message names only a few.
        for other in f.get("related") or []:
            says = f" says {other['says']}" if other.get("says") else ""
            out.print(
                f"        {other['sku']} x {other['channel']} ({other['market']}, "
                f"variant {other['variant']}){says}",
                markup=False,
            )


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
    from signoff.channels.catalog import catalog_ids
    from signoff.packages.linting import lint_file
    from signoff.workspaces.models import Workspace
    from signoff.workspaces.services import get_workspace

    # Exit 1 means "blocking findings" here, so a mistyped option must not exit 1 too.
    known_workspaces = Workspace.objects.values_list("slug", flat=True)
    _known_value("--workspace", workspace_slug, set(known_workspaces), "workspace")
    workspace = get_workspace(workspace_slug)
    _known_value(
        "--channel", channel, set(catalog_ids()) | set(workspace.channel_overrides), "channel"
    )
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


DEMO_PASSWORD = "signoff-demo"


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@command()
def serve(host: str, port: int) -> None:
    """Serve the web app and the API on this machine (Ctrl-C stops it)."""
    _serve(host, port)


def _serve(host: str, port: int) -> None:
    from django.core.management import call_command

    err.print(f"Serving on http://{host}:{port}/ (API docs at /api/docs); Ctrl-C stops it.")
    # Django's server, with its static files: a local, single-team deployment. Behind a
    # proxy, run signoff.config.wsgi under gunicorn or uwsgi with collected static files.
    call_command("runserver", f"{host}:{port}", use_reloader=False, insecure_serving=True)


@main.command()
@click.option("--no-serve", is_flag=True, help="Do everything but start the web app.")
@click.option("--port", default=8000, show_default=True, type=int)
@command(needs_db=False)
def demo(no_serve: bool, port: int) -> None:
    """Load the Lumen Home example afresh, run its spring launch and show the board."""
    from django.contrib.auth import get_user_model

    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief
    from signoff.packages.selectors import blocking as blocking_query
    from signoff.packages.selectors import board as board_query
    from signoff.packages.selectors import board_row
    from signoff.web.accounts import ensure_users
    from signoff.workspaces.models import Workspace
    from signoff.workspaces.services import load_workspace
    from signoff.workspaces.tokens import find_person

    _migrate()
    err.print(f"Database: {_database_label()}")
    from django.conf import settings

    # The demo's files live under SIGNOFF_HOME so its images stay viewable after the run.
    copy = settings.SIGNOFF_HOME / "demo" / "lumen-home"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(DEMO_DIR, copy)
    # Starting clean: the audit log keeps earlier demos' events (it is append-only).
    get_user_model().objects.filter(signoff_account__person__workspace__slug="lumen-home").delete()
    Workspace.objects.filter(slug="lumen-home").delete()
    workspace, _ = load_workspace(copy / "workspace.yaml", actor="system:demo")
    ensure_users(workspace, DEMO_PASSWORD)
    report = add_brief(
        copy / DEMO_BRIEF_FILE, products_csv=copy / "products.csv", actor="system:demo"
    )
    # G1 is passed by the demo's content lead, recorded like any other approval.
    lead = find_person(DEMO_CONTENT_LEAD, "lumen-home")
    approve_brief(brief=report.brief, person=lead, note="Approved by the demo")
    err.print(f"G1 approved as {lead.email} (the demo's content lead).")
    report.brief.refresh_from_db()
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
        "`signoff show PACKAGE`; act as a person with "
        "`export SIGNOFF_TOKEN=$(signoff token issue maya@lumen.example)`",
        markup=False,
    )
    people = ", ".join(
        f"{p.email} ({', '.join(p.roles)})"
        for p in workspace.people.filter(active=True).order_by("email")
    )
    out.print(f"\nWeb app: sign in as any of {people}; password: {DEMO_PASSWORD}", markup=False)
    if not no_serve:
        _serve("127.0.0.1", port)


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


@main.group()
def token() -> None:
    """API tokens: the CLI and the API act as the person a token belongs to."""


@token.command("issue")
@click.argument("email")
@click.option("--workspace", help="Needed when the email is in several workspaces.")
@command()
def token_issue(email: str, workspace: str | None) -> None:
    """Print a new token for EMAIL (a local admin command; shown once)."""
    from signoff.workspaces.tokens import issue_token

    click.echo(issue_token(email=email, workspace=workspace))


@main.command("password")
@click.argument("email")
@click.option("--workspace", help="Needed when the email is in several workspaces.")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the password from stdin.")
@command()
def set_password(email: str, workspace: str | None, from_stdin: bool) -> None:
    """Set a person's web sign-in password (a local admin command)."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from signoff.web.accounts import ensure_user
    from signoff.workspaces.tokens import find_person

    person = find_person(email, workspace)
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = ensure_user(person, None)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise click.ClickException(" ".join(exc.messages)) from exc
    ensure_user(person, password)
    err.print(f"{person.email} can sign in to the web app now.")


@brief.command("approve")
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--note", default="")
@click.option("--yes", is_flag=True, help="Approve without showing the diff first.")
@token_option
@command()
def brief_approve(brief_ref: str, note: str, yes: bool, token: str) -> None:
    """G1: approve the brief's current version (shown as user brief vs enriched brief)."""
    from signoff.briefs.approval import approve_brief, brief_diff
    from signoff.briefs.services import get_brief

    person = _acting_person(token)
    target = get_brief(brief_ref)
    if not yes:
        for line in brief_diff(target.latest_version()):
            err.print(line, markup=False, highlight=False)
    approval = approve_brief(brief=target, person=person, note=note)
    err.print(
        f"G1 approved by {approval.person}: {target.slug} version "
        f"{approval.brief_version.number} ({approval.content_hash[:12]}) is locked."
    )


@brief.command("enrich")
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--json", "as_json", is_flag=True)
@command()
def brief_enrich(brief_ref: str, as_json: bool) -> None:
    """The enricher's proposals: messages per channel, facts to request, references to reuse."""
    from signoff.briefs.enrichment import proposals_for
    from signoff.briefs.services import get_brief

    proposals = proposals_for(get_brief(brief_ref))
    if as_json:
        _emit_json([dataclasses.asdict(p) for p in proposals])
        return
    if not proposals:
        click.echo("Nothing to propose.")
    for p in proposals:
        click.echo(f"{p.id}  {p.kind:<12} {p.target}: {p.value}\n          ({p.reason})")
    if proposals:
        click.echo(f"Accept with: signoff brief accept {brief_ref} ID... [--edit ID=TEXT]")


@brief.command("accept")
@click.argument("brief_ref", metavar="BRIEF")
@click.argument("ids", nargs=-1, metavar="PROPOSAL...")
@click.option(
    "--edit",
    "edits",
    multiple=True,
    metavar="ID=TEXT",
    help="Accept a proposal with your own wording.",
)
@token_option
@command()
def brief_accept(brief_ref: str, ids: tuple[str, ...], edits: tuple[str, ...], token: str) -> None:
    """Accept (or edit) proposals: the brief gets a new version for G1."""
    from signoff.briefs.enrichment import accept_proposals
    from signoff.briefs.services import get_brief
    from signoff.packages.decisions import parse_assignments

    version = accept_proposals(
        brief=get_brief(brief_ref),
        person=_acting_person(token),
        ids=list(ids),
        edits=parse_assignments(edits),
    )
    click.echo(f"Stored version {version.number} of {version.brief.slug}; G1 approves it.")


@brief.command("update")
@click.argument("brief_ref", metavar="BRIEF")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--products", "products_csv", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the impact analysis as JSON.")
@token_option
@command()
def brief_update(
    brief_ref: str, file: str, products_csv: str | None, as_json: bool, token: str
) -> None:
    """A new brief version; after G1, an impact analysis and the touched packages re-drafted."""
    from signoff.briefs.approval import update_brief
    from signoff.briefs.services import get_brief

    person = _acting_person(token)
    report = update_brief(
        brief=get_brief(brief_ref), path=file, products_csv=products_csv, person=person
    )
    impacts = [
        {"package": i.package_id, "sku": i.sku, "channel": i.channel, "reasons": i.reasons}
        for i in report.impacts
    ]
    if as_json:
        _emit_json(
            {
                "version": report.brief.version.number,
                "touched": impacts,
                "untouched": report.untouched,
            }
        )
        return
    version = report.brief.version
    if not report.brief.created_version:
        err.print(f"Unchanged: still version {version.number}.")
        return
    err.print(f"Stored version {version.number}.")
    if report.impacts:
        err.print(
            f"{len(impacts)} packages touched (back to draft, approvals voided); "
            f"{report.untouched} keep their versions and approvals. G1 is needed again."
        )
        for item in impacts:
            click.echo(
                f"  {item['package']} {item['sku']} x {item['channel']}: "
                f"{'; '.join(item['reasons'])}"
            )


def _print_results(results: list, as_json: bool) -> None:
    if as_json:
        _emit_json([dataclasses.asdict(r) for r in results])
    else:
        for r in results:
            status = r.outcome if r.ok else f"refused ({r.code})"
            click.echo(f"{r.package_id}: {status}: {r.message}")
    refused = [r for r in results if not r.ok]
    if len(results) == 1 and refused:
        # One package: exit as any single refusal does (3 wrong state, 4 not allowed).
        sys.exit(REFUSAL_EXIT.get(refused[0].http_status, 1))
    if refused:
        sys.exit(1)


def _package_ids(refs: tuple[str, ...]) -> list[int]:
    from signoff.packages.selectors import get_package

    return [get_package(ref).pk for ref in refs]


@main.command()
@click.argument("packages", nargs=-1, required=True, metavar="PACKAGE...")
@click.option("--json", "as_json", is_flag=True)
@token_option
@command()
def review(packages: tuple[str, ...], as_json: bool, token: str) -> None:
    """Mark each package's current version reviewed by you (needed for batch approval)."""
    from signoff.packages.decisions import decide_each, review_package

    person = _acting_person(token)
    results = decide_each(
        _package_ids(packages), lambda pk: review_package(package_id=pk, person=person)
    )
    _print_results(results, as_json)


@main.command()
@click.argument("packages", nargs=-1, required=True, metavar="PACKAGE...")
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True)
@token_option
@command()
def approve(packages: tuple[str, ...], note: str, as_json: bool, token: str) -> None:
    """Approve each package at its current gate; several ids are a batch (reviewed only)."""
    from signoff.packages.decisions import approve_package, decide_each

    person = _acting_person(token)
    batch = len(packages) > 1
    results = decide_each(
        _package_ids(packages),
        lambda pk: approve_package(package_id=pk, person=person, note=note, batch=batch),
    )
    _print_results(results, as_json)


@main.command()
@click.argument("packages", nargs=-1, required=True, metavar="PACKAGE...")
@click.option("--note", required=True, help="Why: the next draft reads it.")
@click.option("--json", "as_json", is_flag=True)
@token_option
@command()
def reject(packages: tuple[str, ...], note: str, as_json: bool, token: str) -> None:
    """Reject each package at its current gate; it returns to the previous stage."""
    from signoff.packages.decisions import decide_each, reject_package

    person = _acting_person(token)
    batch = len(packages) > 1
    results = decide_each(
        _package_ids(packages),
        lambda pk: reject_package(package_id=pk, person=person, note=note, batch=batch),
    )
    _print_results(results, as_json)


@main.command()
@click.argument("package_ref", metavar="PACKAGE")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    required=True,
    help="field=value, or list_field[2]=value for one item.",
)
@click.option("--note", default="")
@token_option
@command()
def edit(package_ref: str, assignments: tuple[str, ...], note: str, token: str) -> None:
    """Save your new version of a package; approvals it no longer matches are voided."""
    from signoff.packages.decisions import edit_package, parse_assignments
    from signoff.packages.selectors import get_package

    person = _acting_person(token)
    result, changes = edit_package(
        package_id=get_package(package_ref).pk,
        person=person,
        changes=parse_assignments(assignments),
        note=note,
    )
    click.echo(f"{result.package_id}: {result.message}")
    for line in changes:
        click.echo(f"  {line}")


@main.group()
def claim() -> None:
    """The claims registry."""


@claim.command("set-status")
@click.argument("claim_id", metavar="CLAIM")
@click.argument(
    "status",
    type=click.Choice(["approved", "pending", "needs_substantiation", "forbidden", "withdrawn"]),
)
@click.option("--note", required=True)
@token_option
@command()
def claim_set_status(claim_id: str, status: str, note: str, token: str) -> None:
    """Change a claim's status; packages using it are blocked (or released) across briefs."""
    from signoff.packages.claims import set_claim_status

    person = _acting_person(token)
    change = set_claim_status(
        workspace=person.workspace, claim_id=claim_id, status=status, note=note, person=person
    )
    click.echo(
        f"{change.claim}: {change.before} -> {change.after}; "
        f"blocked {len(change.blocked)} packages, released {len(change.released)}"
    )
    for pk in change.blocked:
        click.echo(f"  blocked {pk}")
    for pk in change.released:
        click.echo(f"  released {pk}")


@main.command()
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--channel", "channels", multiple=True, help="Launch only these channels.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where bundles go (default: $SIGNOFF_HOME/exports).",
)
@token_option
@command()
def launch(brief_ref: str, channels: tuple[str, ...], out_dir: str | None, token: str) -> None:
    """Publish each channel whose packages all passed the last gate, with a provenance bundle.

    Publishing is the point of no return.
    """
    from django.conf import settings

    from signoff.briefs.services import get_brief
    from signoff.delivery.services import launch_channel, launchable_channels
    from signoff.workflow import WorkflowError

    person = _acting_person(token)
    target = get_brief(brief_ref)
    out = Path(out_dir) if out_dir else settings.SIGNOFF_HOME / "exports"
    refused: set[int] = set()  # the exit codes of the refusals
    launched = 0
    for channel in channels or launchable_channels(target):
        try:
            result = launch_channel(brief=target, channel=channel, person=person, out_dir=out)
        except WorkflowError as exc:
            refused.add(REFUSAL_EXIT.get(exc.http_status, 1))
            click.echo(f"{channel}: refused ({exc.code.value}): {exc.message}")
            continue
        launched += 1
        click.echo(
            f"{channel}: launched {len(result.packages)} packages -> {result.bundle} "
            f"(manifest {result.manifest_hash[:12]})"
        )
    if refused:
        # As approve: refusals of one kind exit with its code (3 state, 4 authority); a mix of
        # kinds, or a launch that went through for some channels, exits 1.
        sys.exit(refused.pop() if len(refused) == 1 and not launched else 1)


@main.command()
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--json", "as_json", is_flag=True)
@command()
def sla(brief_ref: str, as_json: bool) -> None:
    """Packages waiting on a gate longer than its SLA, oldest first, with the gate owner."""
    from signoff.briefs.services import get_brief
    from signoff.packages.selectors import sla_report

    rows = sla_report(get_brief(brief_ref))
    if as_json:
        _emit_json(rows)
        return
    if not rows:
        click.echo("No package is over its gate's SLA.")
    for row in rows:
        click.echo(
            f"{row['id']} {row['sku']} x {row['channel']}: {row['gate']} "
            f"({row['owner_role']}: {', '.join(row['people']) or 'nobody'}) waiting "
            f"{row['waiting_hours']} h, SLA {row['sla_hours']:g} h "
            f"(+{row['overdue_hours']} h)"
        )


# ---- the audit log ------------------------------------------------------------------------


@main.group()
def audit() -> None:
    """The append-only, hash-chained audit log."""


@audit.command("verify")
@click.option(
    "--head",
    "expected",
    default=None,
    metavar="SEQ:HASH",
    help="A head exported earlier with `signoff audit head`: detects a cut tail.",
)
@click.option("--json", "as_json", is_flag=True)
@command()
def audit_verify(expected: str | None, as_json: bool) -> None:
    """Recompute the chain; report the first bad event. Exit 1 if it does not verify."""
    from signoff.audit.services import verify

    head = None
    if expected:
        seq, _, digest = expected.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise click.BadParameter("expected SEQ:HASH as printed by `signoff audit head`")
        head = (int(seq), digest)
    result = verify(expected_head=head)
    if as_json:
        _emit_json(
            {
                "ok": result.ok,
                "count": result.count,
                "first_bad_seq": result.first_bad_seq,
                "reason": str(result.reason) if result.reason else None,
                "head_seq": result.head_seq,
                "head_hash": result.head_hash,
            }
        )
    elif result.ok:
        click.echo(f"ok: {result.count} events verify; head {result.head_seq}:{result.head_hash}")
    else:
        click.echo(
            f"FAILED at event {result.first_bad_seq}: {result.reason} "
            f"({result.count} events before it verify)"
        )
    if not result.ok:
        sys.exit(1)


@audit.command("head")
@click.option("--json", "as_json", is_flag=True)
@command()
def audit_head(as_json: bool) -> None:
    """Print SEQ:HASH of the last event, to keep somewhere else."""
    from signoff.audit.services import head

    seq, digest = head()
    if as_json:
        _emit_json({"seq": seq, "hash": digest, "head": f"{seq}:{digest}"})
        return
    click.echo(f"{seq}:{digest}")


@audit.command("who-approved")
@click.option("--sku", required=True)
@click.option("--channel", required=True)
@click.option("--gate")
@click.option("--json", "as_json", is_flag=True)
@command()
def audit_who_approved(sku: str, channel: str, gate: str | None, as_json: bool) -> None:
    """Who approved this SKU on this channel (at this gate), when, and for which content."""
    from signoff.audit.selectors import who_approved
    from signoff.channels.catalog import catalog_ids
    from signoff.workflow.templates import TEMPLATES
    from signoff.workspaces.models import Workspace

    custom = {c for o in Workspace.objects.values_list("channel_overrides", flat=True) for c in o}
    _known_value("--channel", channel, set(catalog_ids()) | custom, "channel")
    gates = {g.id for template in TEMPLATES.values() for g in template.gates}
    _known_value("--gate", gate, gates, "gate")
    event = who_approved(sku=sku, channel=channel, gate=gate)
    if event is None:
        if as_json:
            _emit_json(None)
            return
        click.echo(f"Nobody has approved {sku} on {channel}" + (f" at {gate}" if gate else ""))
        sys.exit(1)
    if as_json:
        _emit_json(
            {
                "person": event.actor,
                "at": event.occurred_at.isoformat(),
                "gate": event.gate,
                "content_hash": event.content_hash,
                "seq": event.seq,
            }
        )
        return
    click.echo(
        f"{event.actor} approved {sku} on {channel} at {event.gate} on "
        f"{event.occurred_at:%Y-%m-%d %H:%M:%S} UTC for content {event.content_hash}"
    )


@audit.command("log")
@click.option("--package", "package_ref", help="Only this package's history.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@command()
def audit_log(package_ref: str | None, limit: int, as_json: bool) -> None:
    """Recent events, newest first."""
    from signoff.audit.selectors import history
    from signoff.packages.selectors import get_package

    if package_ref:
        events = history(
            subject_type="package", subject_id=str(get_package(package_ref).pk), limit=limit
        )
    else:
        events = history(limit=limit)
    rows = [
        {
            "seq": e.seq,
            "at": e.occurred_at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "subject": f"{e.subject_type}:{e.subject_id}",
            "from": e.from_position,
            "to": e.to_position,
            "gate": e.gate,
            "content_hash": e.content_hash,
            "note": e.note,
            "hash": e.hash,
        }
        for e in events
    ]
    if as_json:
        _emit_json(rows)
        return
    for r in rows:
        move = f" {r['from']} -> {r['to']}" if r["from"] or r["to"] else ""
        click.echo(
            f"{r['seq']:>6} {r['at'][:19]} {r['actor']:<24} {r['action']:<22} "
            f"{r['subject']}{move}{' ' + repr(r['note']) if r['note'] else ''}"
        )


@main.command()
@click.option("--brief", "brief_ref", metavar="BRIEF", help="The brief the package belongs to.")
@click.option(
    "--package",
    "package_ref",
    required=True,
    metavar="PACKAGE",
    help="An id, brief/SKU/channel[/variant], or SKU/channel[/variant] with --brief.",
)
@click.option(
    "--providers", required=True, help="Comma-separated: builtin,openai:MODEL,anthropic:MODEL"
)
@click.option("--json", "as_json", is_flag=True)
@command()
def compare(brief_ref: str | None, package_ref: str, providers: str, as_json: bool) -> None:
    """Draft one package with several providers side by side, with findings and cost."""
    from signoff.packages.compare import compare_providers

    specs = [s.strip() for s in providers.split(",") if s.strip()]
    candidates = compare_providers(_package_in(brief_ref, package_ref), specs)
    if as_json:
        _emit_json([dataclasses.asdict(c) for c in candidates])
        return
    for c in candidates:
        out.print(
            f"\n[bold]{c.provider}[/] ({c.model or '-'}): "
            + (f"{len(c.findings)} findings" if c.ok else f"[red]failed[/]: {c.error}")
            + f"; {c.input_tokens}+{c.output_tokens} tokens, ${c.cost:.4f}, "
            f"{c.latency_ms:.0f} ms"
        )
        for name, value in c.fields.items():
            text = "; ".join(value) if isinstance(value, list) else value
            out.print(f"  {name}: {text}", markup=False)
        for f in c.findings:
            out.print(
                f"  {f['severity']} {f['rule_id']} {f['field'] or ''}: {f['message']}", markup=False
            )


def _package_in(brief_ref: str | None, package_ref: str):  # noqa: ANN202 - returns a Package
    """Resolve a package reference, within ``brief_ref`` when one is given."""
    from signoff.briefs.services import get_brief
    from signoff.core.errors import InputError
    from signoff.packages.selectors import get_package

    if brief_ref is None:
        return get_package(package_ref)
    brief = get_brief(brief_ref)
    if package_ref.isdigit():
        package = get_package(package_ref)
        if package.brief_id != brief.pk:
            raise InputError.single(
                f"package {package_ref} belongs to brief {package.brief.slug}, not {brief.slug}",
                field="--package",
            )
        return package
    return get_package(f"{brief.slug}/{package_ref}")


# ---- memory -------------------------------------------------------------------------------


def _workspace(slug: str | None):  # noqa: ANN202 - returns a Workspace
    from signoff.workspaces.models import Workspace
    from signoff.workspaces.services import get_workspace

    if slug:
        return get_workspace(slug)
    found = list(Workspace.objects.all()[:2])
    if len(found) != 1:
        raise click.ClickException("name the workspace with --workspace")
    return found[0]


@main.group()
def memory() -> None:
    """What people decided and said: search it, and turn repeated rejections into rules."""


@memory.command("search")
@click.argument("text")
@click.option("--workspace", "workspace_slug")
@click.option("--sku")
@click.option("--channel")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@command()
def memory_search(
    text: str,
    workspace_slug: str | None,
    sku: str | None,
    channel: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Full-text search over notes, every version's copy and decision events, best first.

    Notes are rejection, edit and approval notes, comments and winning copy; decision events
    are G1 approvals, claim status changes, launches and other decisions with a note.
    """
    from signoff.memory.search import search_memory

    hits = search_memory(
        workspace_id=_workspace(workspace_slug).pk,
        query=text,
        sku=sku,
        channel=channel,
        limit=limit,
    )
    if as_json:
        _emit_json([hit.as_dict() for hit in hits])
        return
    if not hits:
        click.echo("Nothing found.")
    for hit in hits:
        where = f"{hit.sku or '-'} x {hit.channel or '-'}" if hit.sku or hit.channel else "-"
        ref = f"package {hit.package_id}" if hit.package_id else f"event {hit.id}"
        if hit.version is not None:
            ref += f" v{hit.version}"
        click.echo(
            f"{hit.at:%Y-%m-%d} {hit.source} {hit.kind:<9} {where} ({ref}, {hit.person or '-'}): "
            + hit.text.replace("\n", " | ")
        )


@memory.command("suggestions")
@click.option("--workspace", "workspace_slug")
@click.option("--json", "as_json", is_flag=True)
@command()
def memory_suggestions(workspace_slug: str | None, as_json: bool) -> None:
    """Phrases reviewers keep rejecting, proposed as banned phrases (a person decides)."""
    from signoff.memory.services import rejection_notes
    from signoff.memory.suggestions import suggest_banned_phrases
    from signoff.workspaces.rules import brand_rules

    workspace = _workspace(workspace_slug)
    known = [b.phrase for b in brand_rules(workspace).banned]
    found = suggest_banned_phrases(rejection_notes(workspace.pk), known)
    if as_json:
        _emit_json([dataclasses.asdict(s) for s in found])
        return
    if not found:
        click.echo("No phrase has been rejected on enough packages to suggest a rule.")
    for s in found:
        click.echo(
            f"{s.phrase!r}: rejected on {len(s.packages)} packages "
            f"({', '.join(map(str, s.packages))}); accept with: "
            f"signoff memory ban {s.phrase!r}"
        )


@memory.command("ban")
@click.argument("phrase")
@click.option("--suggest", default="", help="The wording to use instead.")
@click.option("--reason", default="")
@token_option
@command()
def memory_ban(phrase: str, suggest: str, reason: str, token: str) -> None:
    """Accept a phrase into your workspace's banned phrases (content lead, brand manager, admin)."""
    from signoff.memory.services import learn_banned_phrase

    rule = learn_banned_phrase(
        person=_acting_person(token), phrase=phrase, suggest=suggest, reason=reason
    )
    click.echo(
        f"Banned {rule['phrase']!r} in every channel from now on"
        + (f" (suggest {rule['suggest']!r})" if rule["suggest"] else "")
    )
