"""Publishing: `launch`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from signoff.cli.base import (
    REFUSAL_EXIT,
    _acting_person,
    command,
    main,
    token_option,
)


@main.command()
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--channel", "channels", multiple=True, help="Launch only these channels.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where bundles go, as WORKSPACE/BRIEF/CHANNEL (default: $SIGNOFF_EXPORT_DIR or "
    "$SIGNOFF_HOME/exports).",
)
@token_option
@command()
def launch(brief_ref: str, channels: tuple[str, ...], out_dir: str | None, token: str) -> None:
    """Publish each channel whose packages all passed the last gate, with a provenance bundle.

    Publishing is the point of no return.
    """
    from signoff.briefs.services import get_brief
    from signoff.delivery.services import launch_channel, launchable_channels
    from signoff.workflow import WorkflowError

    person = _acting_person(token)
    target = get_brief(brief_ref)
    out = Path(out_dir) if out_dir else None
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
            f"(manifest {result.manifest_hash[:12]}; by {result.launched_by} at "
            f"{result.launched_at:%Y-%m-%d %H:%M:%S} UTC)"
        )
    if refused:
        # As approve: refusals of one kind exit with its code (3 state, 4 authority); a mix of
        # kinds, or a launch that went through for some channels, exits 1.
        sys.exit(refused.pop() if len(refused) == 1 and not launched else 1)
