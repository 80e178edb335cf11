"""Who acts: `token issue` and `password`."""

from __future__ import annotations

import sys

import click

from signoff.cli.base import (
    command,
    err,
    main,
)


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
