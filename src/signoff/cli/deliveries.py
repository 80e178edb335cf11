"""Delivery through the outbox: `deliveries BRIEF`, `deliveries retry`, `deliveries work`."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from signoff.cli.base import _acting_person, _emit_json, command, err, main, out, token_option

STATES = ("pending", "delivered", "failed", "dead", "needs_takedown", "taken_down")


class _ListByDefault(click.Group):
    """`signoff deliveries BRIEF` lists; a first word that names no subcommand is the brief
    (a brief slugged like a subcommand is listed with `signoff deliveries list SLUG`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@main.group(cls=_ListByDefault)
def deliveries() -> None:
    """Each package's delivery to each destination of its channel (the outbox).

    \b
    signoff deliveries BRIEF [--state STATE] [--json]   list them
    signoff deliveries retry ID... | --dead              send failed or dead ones again
    signoff deliveries work [--batch | --wait]           send what is due (as `signoff worker`)
    """


@deliveries.command("list")
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--state", type=click.Choice(STATES), help="Only deliveries in this state.")
@click.option("--channel", help="Only this channel's deliveries.")
@click.option("--attempts", "with_attempts", is_flag=True, help="Each attempt and its reason.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command(writes=False)
def deliveries_list(
    brief_ref: str, state: str | None, channel: str | None, with_attempts: bool, as_json: bool
) -> None:
    """List the brief's deliveries: state, attempts, the receiver's id or the last error."""
    from signoff.briefs.services import get_brief
    from signoff.outbox.selectors import deliveries_of

    brief = get_brief(brief_ref)
    rows = deliveries_of(brief, state=state, channel=channel, with_attempts=with_attempts)
    if as_json:
        _emit_json(rows)
        return
    if not rows:
        scope = f" in state {state}" if state else ""
        err.print(
            f"No deliveries{scope} for {brief.slug}: a launched channel with a destination "
            "in the workspace file has them."
        )
        return
    table = Table(header_style="bold")
    for column in (
        "id",
        "package",
        "sku",
        "channel",
        "destination",
        "state",
        "tries",
        "receipt / last error",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        said = row["receiver_id"] if row["state"] == "delivered" else row["last_error"]
        if row["state"] == "pending" and row["next_attempt_at"] and row["attempts"]:
            said = f"{said} (next {row['next_attempt_at']:%H:%M:%S} UTC)"
        table.add_row(
            str(row["id"]),
            str(row["package"]),
            row["sku"],
            row["channel"],
            f"{row['destination']} ({row['kind']})",
            row["state"],
            str(row["attempts"]),
            escape(said),  # the receiver's words: never read as markup
        )
        for attempt in row.get("history", []):
            table.add_row(
                "",
                "",
                "",
                "",
                "",
                f"  #{attempt['number']} {attempt['outcome']}",
                "",
                escape(attempt["error"] or attempt["receiver_id"]),
            )
    out.print(table)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    out.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))


@deliveries.command("retry")
@click.argument("ids", nargs=-1, type=int, metavar="ID...")
@click.option("--dead", is_flag=True, help="Every dead delivery (of --brief).")
@click.option("--brief", "brief_ref", help="With --dead: only this brief's.")
@token_option
@command()
def deliveries_retry(ids: tuple[int, ...], dead: bool, brief_ref: str | None, token: str) -> None:
    """Send failed or dead deliveries again, with a fresh count of attempts and the same
    idempotency key (a publisher of the brief only)."""
    from signoff.briefs.services import get_brief
    from signoff.core.errors import InputError
    from signoff.outbox.services import retry_deliveries

    if bool(ids) == dead:
        raise InputError.single("name deliveries by id, or say --dead (not both)", field="ID")
    person = _acting_person(token)
    brief = get_brief(brief_ref) if brief_ref else None
    retried = retry_deliveries(person=person, ids=ids, dead=dead, brief=brief)
    if not retried:
        click.echo("No dead deliveries to retry.")
        return
    click.echo(
        f"Queued {len(retried)} deliveries again: {', '.join(map(str, retried[:20]))}"
        + (" ..." if len(retried) > 20 else "")
        + "; `signoff worker` sends them."
    )


@deliveries.command("work")
@click.option("--batch", is_flag=True, help="Send what is due now, then stop.")
@click.option(
    "--wait",
    "wait_all",
    is_flag=True,
    help="Keep going until nothing is left to send "
    "(waits out backoffs; failed and dead deliveries wait for a retry).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 512),
    default=None,
    help="Sends in flight at once (default: SIGNOFF_DELIVERY_CONCURRENCY).",
)
@command()
def deliveries_work(batch: bool, wait_all: bool, concurrency: int | None) -> None:
    """Send due deliveries until stopped (Ctrl-C finishes what is in flight, then stops)."""
    from signoff.outbox.worker import work

    stop = threading.Event()
    _stop_on_signals(stop)
    summary = work(concurrency=concurrency, batch=batch, wait_all=wait_all, stop=stop)
    err.print(_summary_line(summary.as_dict()))


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():  # a second signal: stop now; leases run out and others resend
            sys.exit(1)
        err.print("Stopping after the sends in flight (again to stop now).")
        stop.set()

    for name in ("SIGINT", "SIGTERM"):
        signal.signal(getattr(signal, name), handler)


def _summary_line(summary: dict[str, int]) -> str:
    attempts = summary.pop("attempts", 0)
    said = ", ".join(f"{n} {outcome}" for outcome, n in sorted(summary.items()))
    return f"Deliveries: {attempts} attempted" + (f" ({said})" if said else "") + "."
