"""Who acts: `token issue`, `token list`, `token revoke` and `password`."""

from __future__ import annotations

import sys
from datetime import datetime

import click
from rich.table import Table

from signoff.cli.base import (
    _emit_json,
    command,
    err,
    main,
    out,
)


@main.group()
def token() -> None:
    """API tokens: the CLI and the API act as the person a token belongs to."""


@token.command("issue")
@click.argument("email")
@click.option("--workspace", help="Needed when the email is in several workspaces.")
@click.option(
    "--days",
    type=int,
    help="Days until it expires (default: SIGNOFF_TOKEN_DAYS, 90; at most 366).",
)
@command()
def token_issue(email: str, workspace: str | None, days: int | None) -> None:
    """Print a new token for EMAIL (a local admin command; shown once)."""
    from signoff.workspaces.tokens import issue_token

    click.echo(issue_token(email=email, workspace=workspace, days=days))


def _moment(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


@token.command("list")
@click.option("--workspace", help="Only this workspace's tokens.")
@click.option("--email", help="Only this person's tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command()
def token_list(workspace: str | None, email: str | None, as_json: bool) -> None:
    """Every token, newest first: prefix, person, created, last used, expires, status (UTC)."""
    from django.utils import timezone

    from signoff.workspaces.services import get_workspace
    from signoff.workspaces.tokens import all_tokens

    if workspace:
        get_workspace(workspace)  # an unknown workspace is an error, not an empty list
    now = timezone.now()
    rows = [
        {
            "prefix": t.prefix,
            "person": t.person.email,
            "workspace": t.person.workspace.slug,
            "created_at": t.created_at,
            "last_used_at": t.last_used_at,
            "expires_at": t.expires_at,
            "status": t.status(now),
            "revoked_at": t.revoked_at,
            "revoked_by": t.revoked_by,
            "revoked_reason": t.revoked_reason,
        }
        for t in all_tokens(workspace=workspace, email=email)
    ]
    if as_json:
        _emit_json(rows)
        return
    table = Table("prefix", "person", "workspace", "created", "last used", "expires", "status")
    for row in rows:
        status = row["status"]
        if row["revoked_at"]:
            status += (
                f" {_moment(row['revoked_at'])} ({row['revoked_reason'] or row['revoked_by']})"
            )
        table.add_row(
            row["prefix"] + "...",
            row["person"],
            row["workspace"],
            _moment(row["created_at"]),
            _moment(row["last_used_at"]),
            _moment(row["expires_at"]),
            status,
        )
    out.print(table)
    if not rows:
        err.print("No tokens" + (f" in {workspace}" if workspace else "") + ".")


@token.command("revoke")
@click.argument("key", metavar="TOKEN|PREFIX")
@click.option("--workspace", help="Only look in this workspace.")
@command()
def token_revoke(key: str, workspace: str | None) -> None:
    """Revoke a token, named whole or by its prefix (as `token list` shows it): it never works
    again. Revoking a revoked token changes nothing."""
    from signoff.workspaces.tokens import revoke_by_key

    revoked = revoke_by_key(key, workspace=workspace)
    err.print(
        f"{revoked.prefix}... of {revoked.person.email} ({revoked.person.workspace.slug}) is "
        f"revoked since {_moment(revoked.revoked_at)} UTC: {revoked.revoked_reason}."
    )


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
