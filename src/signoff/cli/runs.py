"""Drafting runs: `run`, `runs` and `worker`."""

from __future__ import annotations

from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from signoff.cli.base import (
    _emit_json,
    command,
    err,
    main,
    out,
)


def _progress_runner(brief_obj: Any) -> Any:
    from signoff.briefs.workflow import template_for
    from signoff.packages.planning import STEPS, drafting_version
    from signoff.packages.services import run_brief

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
    help="Queue the run for the background worker (`signoff serve`'s, or `signoff worker`).",
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
        err.print(
            f"Queued run of {target.slug} as task {result.id}; the worker of `signoff serve` "
            "(or a `signoff worker`) runs it."
        )
        return
    summary = _progress_runner(target)
    err.print(
        f"Run {summary.run_id}: {summary.packages} packages, {summary.drafted} drafted, "
        f"{summary.skipped} already drafted, {summary.blocked} blocked for missing data."
    )
    if summary.message:
        err.print(f"Run {summary.run_id} {summary.message}.", markup=False)


@main.command()
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command(writes=False)
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
@click.option("--batch", is_flag=True, help="Run what is queued and send what is due, then stop.")
@command()
def worker(batch: bool) -> None:
    """Work the background queue (AI drafting runs) and send due deliveries; stop with Ctrl-C.

    Deliveries go out on a thread of their own beside the queue (`signoff deliveries work`
    sends them alone); SLA reminders, escalations and digests (`signoff notify`) on another,
    every SIGNOFF_NOTIFY_INTERVAL_SECONDS.
    """
    import threading

    from django.core.management import call_command

    from signoff.notifications import scheduler
    from signoff.outbox.worker import run_in_thread, work

    # Never the autoreloader (on with SIGNOFF_DEBUG): it would stop tasks mid-way on a change.
    args = ["--interval", "1", "--no-startup-delay", "--no-reload"]
    args += ["--batch"] if batch else []
    if batch:
        call_command("db_worker", *args)
        work(batch=True)
        scheduler.run_due()
        return
    stop = threading.Event()
    sender = run_in_thread(stop=stop)
    scheduler.run_in_thread(stop=stop)
    try:
        call_command("db_worker", *args)
    finally:
        stop.set()  # the sends in flight finish and are recorded before the process ends
        sender.join(timeout=60)
