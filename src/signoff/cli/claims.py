"""The claims registry: `claim set-status`."""

from __future__ import annotations

import click

from signoff.cli.base import (
    _acting_person,
    _emit_json,
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


@claim.command("list")
@click.option("--status", default="", help="Only claims with this status.")
@click.option("--use", type=click.Choice(["", "in_use", "holding"]), default="")
@click.option("--search", "q", default="", help="Text in the claim's id or wording.")
@click.option("--json", "as_json", is_flag=True)
@token_option
@command(writes=False)
def claim_list(status: str, use: str, q: str, as_json: bool, token: str) -> None:
    """The claims registry: each claim, its status and the packages whose copy makes it."""
    from signoff.web.claims_page import as_api_row, registry

    rows = [
        as_api_row(r) for r in registry(_acting_person(token), q=q, status=status, use=use)["rows"]
    ]
    if as_json:
        _emit_json(rows)
        return
    for row in rows:
        held = f", holds {row['blocked']} blocked" if row["blocked"] else ""
        click.echo(f"{row['claim_id']}: {row['status']}; {len(row['packages'])} packages{held}")
