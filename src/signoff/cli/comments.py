"""Inline comments: `comments add`, `comments list`, `comments resolve`, `comments mentions`."""

from __future__ import annotations

import click

from signoff.cli.base import _acting_person, _emit_json, command, main, token_option


@main.group()
def comments() -> None:
    """Comments on a package's copy, anchored to a passage, with @mentions."""


def _show(row: dict) -> None:
    where = f" on {row['field']}" if row["field"] else ""
    quote = f" \u201c{row['quote']}\u201d" if row["quote"] else ""
    state = f"resolved by {row['resolved_by']}" if row["resolved"] else "open"
    click.echo(f"{row['id']}: {row['person']}{where}{quote} ({state})")
    click.echo(f"  {row['text']}")
    if row["mentions"]:
        click.echo(f"  mentions: {', '.join(row['mentions'])}")


@comments.command("add")
@click.argument("package_ref", metavar="PACKAGE")
@click.argument("text")
@click.option(
    "--field", default="", help="The field the comment is about: title, bullet_points[2]."
)
@click.option("--quote", default="", help="The passage of that field it is about.")
@click.option("--start", type=click.IntRange(min=0), default=None, help="Offset of the passage.")
@click.option("--end", type=click.IntRange(min=0), default=None, help="End of the passage.")
@click.option("--json", "as_json", is_flag=True)
@token_option
@command()
def comments_add(
    package_ref: str,
    text: str,
    field: str,
    quote: str,
    start: int | None,
    end: int | None,
    as_json: bool,
    token: str,
) -> None:
    """Comment on a package's current version; @name mentions a person of the workspace."""
    from signoff.comments.services import add_comment, as_row, comment_for
    from signoff.packages.selectors import get_package

    person = _acting_person(token)
    package = get_package(package_ref)
    if package.brief.workspace_id != person.workspace_id:
        raise click.ClickException(f"no package {package_ref} in {person.workspace.slug}")
    comment = add_comment(
        package=package,
        person=person,
        text=text,
        field=field,
        quote=quote,
        start=start,
        end=end,
        via="cli",
    )
    row = as_row(comment_for(person, comment.pk))
    _emit_json(row) if as_json else _show(row)


@comments.command("list")
@click.argument("package_ref", metavar="PACKAGE")
@click.option("--json", "as_json", is_flag=True)
@token_option
@command(writes=False)
def comments_list(package_ref: str, as_json: bool, token: str) -> None:
    """A package's comments, oldest first, with anchors, mentions and resolution."""
    from signoff.comments.services import as_row, comments_on
    from signoff.packages.selectors import get_package

    person = _acting_person(token)
    package = get_package(package_ref)
    if package.brief.workspace_id != person.workspace_id:
        raise click.ClickException(f"no package {package_ref} in {person.workspace.slug}")
    rows = [as_row(c) for c in comments_on(package)]
    if as_json:
        _emit_json(rows)
        return
    for row in rows:
        _show(row)


@comments.command("resolve")
@click.argument("comment_id", type=int)
@click.option("--note", default="", help="How it was resolved.")
@token_option
@command()
def comments_resolve(comment_id: int, note: str, token: str) -> None:
    """Resolve a comment (anyone in the workspace); it leaves the mentioned people's lists."""
    from signoff.comments.services import resolve_comment

    comment = resolve_comment(comment_id=comment_id, person=_acting_person(token), note=note)
    click.echo(f"{comment.pk}: resolved by {comment.resolved_by}")


@comments.command("mentions")
@click.option("--json", "as_json", is_flag=True)
@token_option
@command(writes=False)
def comments_mentions(as_json: bool, token: str) -> None:
    """Open comments that mention you, newest first."""
    from signoff.web.role_dashboard import mentions

    rows = mentions(_acting_person(token))
    if as_json:
        _emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['brief']} {row['sku']} {row['channel']} (package {row['package_id']}):")
        _show(row)
