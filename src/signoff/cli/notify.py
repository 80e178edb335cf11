"""`signoff notify`: send the SLA reminders, escalations and daily digests that are due (for
cron; the worker also runs it on a schedule)."""

from __future__ import annotations

import click
from rich.table import Table

from signoff.cli.base import _acting_person, _emit_json, command, main, out, token_option


@main.command()
@click.option("--dry-run", is_flag=True, help="List what is due; send and record nothing.")
@click.option("--workspace", "workspace_slug", help="Only this workspace.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command()
def notify(dry_run: bool, workspace_slug: str | None, as_json: bool) -> None:
    """Remind gate owners of packages past their gate's SLA, escalate those past the
    escalation limit, and send opted-in people their daily digest. Each notification is sent
    once (its dedup key), recorded, and in the audit log."""
    from signoff.notifications.services import notify as send_due
    from signoff.workspaces.services import get_workspace

    workspace = get_workspace(workspace_slug) if workspace_slug else None
    summary = send_due(dry_run=dry_run, workspace=workspace)
    if as_json:
        _emit_json(summary)
        return
    if not summary["items"]:
        out.print("Nothing due.")
        return
    table = Table(header_style="bold")
    for column in ("status", "kind", "via", "gate", "to", "subject"):
        table.add_column(column, overflow="fold")
    for item in summary["items"]:
        table.add_row(
            item["status"],
            item["kind"],
            item["channel"],
            item["gate"] or "—",
            ", ".join(item["recipients"]) or "webhook",
            item["subject"],
        )
    out.print(table)
    verb = "would be sent" if dry_run else "sent"
    out.print(
        f"{summary['due']} due: {summary['sent'] if not dry_run else summary['due']} {verb}, "
        f"{summary['failed']} failed, {summary['skipped']} taken by another run."
    )
    if summary["failed"]:
        raise SystemExit(1)


@main.command()
@click.argument("state", type=click.Choice(["on", "off"]))
@token_option
@command()
def digest(state: str, token: str) -> None:
    """Turn your daily digest (what waits on your gates, by e-mail) on or off."""
    from signoff.notifications.services import set_digest

    person = set_digest(person=_acting_person(token), on=state == "on")
    out.print(f"Daily digest {'on' if person.digest else 'off'} for {person.email}.")
