"""The claims registry: `claim set-status`."""

from __future__ import annotations

import click

from signoff.cli.base import (
    _acting_person,
    command,
    main,
    token_option,
)


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
