"""References of a brief: `refs add` and `refs list`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from signoff.cli.base import _acting_person, _emit_json, command, err, main, out

KINDS = ("packshot", "brand_example", "previous_winner", "negative", "competitor", "inspiration")


@main.group()
def refs() -> None:
    """A brief's references: packshots, brand examples, previous winners, negatives."""


@refs.command("add")
@click.argument("brief_ref", metavar="BRIEF")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--kind", required=True, type=click.Choice(KINDS))
@click.option("--sku", default="", help="The SKU a packshot shows (required for packshots).")
@click.option("--note", default="", help="What the reference is for.")
@click.option("--token", envvar="SIGNOFF_TOKEN", default="", help="Act as this token's person.")
@command()
def refs_add(
    brief_ref: str, files: tuple[str, ...], kind: str, sku: str, note: str, token: str
) -> None:
    """Store files as references of the brief, once each (by SHA-256); all or none."""
    from signoff.briefs.services import get_brief
    from signoff.core.errors import InputError, Problem
    from signoff.visuals.references import ReferenceFile, add_references

    brief = get_brief(brief_ref)
    actor = _acting_person(token).email if token else "system:cli"
    items, problems = [], []
    for name in files:
        path = Path(name)
        if not path.is_file():
            problems.append(Problem("file not found", file=name))
            continue
        items.append(ReferenceFile(path.read_bytes(), path.name, kind, sku, note))
    if problems:
        raise InputError(problems)
    added = add_references(brief=brief, files=items, actor=actor)
    for reference in added:
        err.print(
            f"{reference.kind} {reference.filename} ({reference.blob.width}x"
            f"{reference.blob.height}) sha256 {reference.blob.sha256[:12]}"
            + (f" for {reference.sku}" if reference.sku else "")
        )
        for conversion in reference.notes:
            err.print(f"  note: {conversion}")


@refs.command("list")
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command(writes=False)
def refs_list(brief_ref: str, as_json: bool) -> None:
    """The brief's references, oldest first."""
    from signoff.briefs.services import get_brief
    from signoff.visuals.selectors import references_of

    rows = references_of(get_brief(brief_ref))
    if as_json:
        _emit_json(rows)
        return
    table = Table("id", "kind", "sku", "file", "size", "sha256", "note")
    for row in rows:
        size = "x".join(map(str, row["size"])) if row["size"] else "-"
        table.add_row(
            str(row["id"]),
            row["kind"],
            row["sku"] or "",
            row["file"] or "(note)",
            size,
            (row["sha256"] or "")[:12],
            row["note"],
        )
    out.print(table)
