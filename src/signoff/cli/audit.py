"""The audit log: `audit verify`, `head`, `who-approved` and `log`."""

from __future__ import annotations

import sys

import click

from signoff.cli.base import (
    _emit_json,
    _known_value,
    command,
    main,
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
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to verify with (default: SIGNOFF_AUDIT_VERIFY_PROCESSES, one per core, "
    "for a log of 50,000 events or more).",
)
@click.option("--json", "as_json", is_flag=True)
@command()
def audit_verify(expected: str | None, workers: int | None, as_json: bool) -> None:
    """Recompute every event's hash and link and every checkpoint, segment by segment; report
    the first bad event of each bad segment. Exit 1 if the log does not verify."""
    from signoff.audit.services import verify

    head = None
    if expected:
        seq, _, digest = expected.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise click.BadParameter(
                f"{expected!r} is not SEQ:HASH as printed by `signoff audit head` "
                "(a whole number, a colon, 64 hex digits)",
                param_hint="--head",
            )
        head = (int(seq), digest)
    result = verify(expected_head=head, workers=workers)
    bad = result.failed_segments
    if as_json:
        _emit_json(
            {
                "ok": result.ok,
                "count": result.count,
                "first_bad_seq": result.first_bad_seq,
                "reason": str(result.reason) if result.reason else None,
                "head_seq": result.head_seq,
                "head_hash": result.head_hash,
                "segments": len(result.segments),
                "checkpoints": result.checkpoints,
                "failed_segments": [
                    {
                        "first_seq": s.first_seq,
                        "last_seq": s.last_seq,
                        "checkpoint": s.checkpoint,
                        "first_bad_seq": s.first_bad_seq,
                        "reason": str(s.reason),
                    }
                    for s in bad
                ],
            }
        )
    elif result.ok:
        # Unchanged since before segments: scripts read this line (--json has the segments).
        click.echo(f"ok: {result.count} events verify; head {result.head_seq}:{result.head_hash}")
    else:
        click.echo(
            f"FAILED at event {result.first_bad_seq}: {result.reason} "
            f"({result.count} events before it verify)"
        )
        for s in bad:
            click.echo(
                f"  segment {s.first_seq}-{s.last_seq}: first bad event {s.first_bad_seq} "
                f"({s.reason})"
            )
    if not result.ok:
        sys.exit(1)


@audit.command("head")
@click.option("--json", "as_json", is_flag=True)
@command(writes=False)
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
@command(writes=False)
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
@command(writes=False)
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
