"""Memory: `memory search`, `suggestions` and `ban`."""

from __future__ import annotations

import dataclasses

import click

from signoff.cli.base import (
    _acting_person,
    _emit_json,
    command,
    main,
    token_option,
)

# ---- memory -------------------------------------------------------------------------------


def _workspace(slug: str | None):  # noqa: ANN202 - returns a Workspace
    from signoff.workspaces.models import Workspace
    from signoff.workspaces.services import get_workspace

    if slug:
        return get_workspace(slug)
    found = list(Workspace.objects.all()[:2])
    if len(found) != 1:
        raise click.ClickException("name the workspace with --workspace")
    return found[0]


@main.group()
def memory() -> None:
    """What people decided and said: search it, and turn repeated rejections into rules."""


@memory.command("search")
@click.argument("text")
@click.option("--workspace", "workspace_slug")
@click.option("--sku")
@click.option("--channel")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@command(writes=False)
def memory_search(
    text: str,
    workspace_slug: str | None,
    sku: str | None,
    channel: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Full-text search over notes, every version's copy and decision events, best first.

    Notes are rejection, edit and approval notes, comments and winning copy; decision events
    are G1 approvals, claim status changes, launches and other decisions with a note.
    """
    from signoff.memory.search import search_memory

    hits = search_memory(
        workspace_id=_workspace(workspace_slug).pk,
        query=text,
        sku=sku,
        channel=channel,
        limit=limit,
    )
    if as_json:
        _emit_json([hit.as_dict() for hit in hits])
        return
    if not hits:
        click.echo("Nothing found.")
    for hit in hits:
        where = f"{hit.sku or '-'} x {hit.channel or '-'}" if hit.sku or hit.channel else "-"
        ref = f"package {hit.package_id}" if hit.package_id else f"event {hit.id}"
        if hit.version is not None:
            ref += f" v{hit.version}"
        click.echo(
            f"{hit.at:%Y-%m-%d} {hit.source} {hit.kind:<9} {where} ({ref}, {hit.person or '-'}): "
            + hit.text.replace("\n", " | ")
        )


@memory.command("suggestions")
@click.option("--workspace", "workspace_slug")
@click.option("--json", "as_json", is_flag=True)
@command(writes=False)
def memory_suggestions(workspace_slug: str | None, as_json: bool) -> None:
    """Phrases reviewers keep rejecting, proposed as banned phrases (a person decides)."""
    from signoff.memory.services import rejection_notes
    from signoff.memory.suggestions import suggest_banned_phrases
    from signoff.workspaces.rules import brand_rules

    workspace = _workspace(workspace_slug)
    known = [b.phrase for b in brand_rules(workspace).banned]
    found = suggest_banned_phrases(rejection_notes(workspace.pk), known)
    if as_json:
        _emit_json([dataclasses.asdict(s) for s in found])
        return
    if not found:
        click.echo("No phrase has been rejected on enough packages to suggest a rule.")
    for s in found:
        click.echo(
            f"{s.phrase!r}: rejected on {len(s.packages)} packages "
            f"({', '.join(map(str, s.packages))}); accept with: "
            f"signoff memory ban {s.phrase!r}"
        )


@memory.command("ban")
@click.argument("phrase")
@click.option("--suggest", default="", help="The wording to use instead.")
@click.option("--reason", default="")
@token_option
@command()
def memory_ban(phrase: str, suggest: str, reason: str, token: str) -> None:
    """Accept a phrase into your workspace's banned phrases (content lead, brand manager, admin)."""
    from signoff.memory.services import learn_banned_phrase

    rule = learn_banned_phrase(
        person=_acting_person(token), phrase=phrase, suggest=suggest, reason=reason
    )
    click.echo(
        f"Banned {rule['phrase']!r} in every channel from now on"
        + (f" (suggest {rule['suggest']!r})" if rule["suggest"] else "")
    )
