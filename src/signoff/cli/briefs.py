"""Briefs: `brief add`, `parse`, `approve`, `enrich`, `accept` and `update`."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import click

from signoff.cli.base import (
    _acting_person,
    _emit_json,
    command,
    err,
    main,
    token_option,
)


@main.group()
def brief() -> None:
    """Briefs: add them, and (later) approve and update them."""


@brief.command("add")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--products",
    "products_csv",
    type=click.Path(dir_okay=False),
    help="A PIM-style CSV of product facts; it wins over the brief on conflicts.",
)
@command()
def brief_add(file: str, products_csv: str | None) -> None:
    """Store a brief (and its products) as a new version."""
    from signoff.briefs.services import add_brief

    report = add_brief(file, products_csv=products_csv)
    version = report.version
    if not report.created_version:
        err.print(f"Brief {report.brief.slug} unchanged (still version {version.number}).")
    else:
        err.print(
            f"Stored brief {report.brief.slug} version {version.number} "
            f"({version.products.count()} products)."
        )
    if products_csv:
        taken = Counter(source for _, _, source in report.sources)
        err.print(
            f"Facts taken: {taken.get('brief', 0)} from the brief, "
            f"{taken.get('csv', 0)} from {products_csv}."
        )
        by_sku: dict[str, list[str]] = {}
        for sku, field, source in report.sources:
            if source == "csv":
                by_sku.setdefault(sku, []).append(field)
        for sku, fields in by_sku.items():
            err.print(f"  {sku}: from CSV: {', '.join(fields)}", markup=False)
        for sku, field, old, new in report.conflicts:
            err.print(
                f"  conflict {sku}.{field}: brief {old!r}, CSV {new!r} (CSV kept)", markup=False
            )
    from rich.markup import escape

    # The input guard's findings quote the brief's own text: printed as text, never markup.
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    if any(f.severity.value == "block" for f in report.findings):
        err.print("[red]G1 waits for a version without the blocking input findings above.[/]")


@brief.command("parse")
@click.argument("notes", type=click.Path(dir_okay=False, exists=True))
@click.option("--workspace", "workspace_slug", required=True)
@click.option(
    "-o",
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    help="Write the brief YAML here (default: stdout).",
)
@command()
def brief_parse(notes: str, workspace_slug: str, out_path: str | None) -> None:
    """Turn free-text kickoff notes into a brief to review, with its open questions."""
    import datetime

    import yaml

    from signoff.agents.brief_parser import parse_kickoff_notes
    from signoff.workspaces.rules import brand_rules
    from signoff.workspaces.services import get_workspace

    workspace = get_workspace(workspace_slug)
    parsed = parse_kickoff_notes(
        Path(notes).read_text(encoding="utf-8"),
        workspace=workspace.slug,
        rules=brand_rules(workspace),
        today=datetime.datetime.now(datetime.UTC).date(),
    )
    header = [f"# Drafted by the brief parser from {notes}: review before adding it."]
    header += [f"# Open question: {q}" for q in parsed.open_questions]
    header += [f"# Mentioned product: {p}" for p in parsed.mentioned_products]
    document = (
        "\n".join(header) + "\n" + yaml.safe_dump(parsed.brief, sort_keys=False, allow_unicode=True)
    )
    if out_path:
        Path(out_path).write_text(document, encoding="utf-8")
        err.print(f"Wrote {out_path}")
    else:
        click.echo(document, nl=False)
    for finding in parsed.findings:
        click.echo(f"{notes}: {finding.severity}: {finding.rule_id}: {finding.message}", err=True)


@brief.command("approve")
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--note", default="")
@click.option("--yes", is_flag=True, help="Approve without showing the diff first.")
@token_option
@command()
def brief_approve(brief_ref: str, note: str, yes: bool, token: str) -> None:
    """G1: approve the brief's current version (shown as user brief vs enriched brief)."""
    from signoff.briefs.approval import approve_brief, brief_diff
    from signoff.briefs.services import get_brief

    person = _acting_person(token)
    target = get_brief(brief_ref)
    if not yes:
        for line in brief_diff(target.latest_version()):
            err.print(line, markup=False, highlight=False)
    approval = approve_brief(brief=target, person=person, note=note)
    err.print(
        f"G1 approved by {approval.person}: {target.slug} version "
        f"{approval.brief_version.number} ({approval.content_hash[:12]}) is locked."
    )


@brief.command("enrich")
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--json", "as_json", is_flag=True)
@command(writes=False)
def brief_enrich(brief_ref: str, as_json: bool) -> None:
    """The enricher's proposals: messages per channel, facts to request, references to reuse."""
    from signoff.briefs.enrichment import proposals_for
    from signoff.briefs.services import get_brief

    proposals = proposals_for(get_brief(brief_ref))
    if as_json:
        _emit_json([dataclasses.asdict(p) for p in proposals])
        return
    if not proposals:
        click.echo("Nothing to propose.")
    for p in proposals:
        click.echo(f"{p.id}  {p.kind:<12} {p.target}: {p.value}\n          ({p.reason})")
    if proposals:
        click.echo(f"Accept with: signoff brief accept {brief_ref} ID... [--edit ID=TEXT]")


@brief.command("accept")
@click.argument("brief_ref", metavar="BRIEF")
@click.argument("ids", nargs=-1, metavar="PROPOSAL...")
@click.option(
    "--edit",
    "edits",
    multiple=True,
    metavar="ID=TEXT",
    help="Accept a proposal with your own wording.",
)
@token_option
@command()
def brief_accept(brief_ref: str, ids: tuple[str, ...], edits: tuple[str, ...], token: str) -> None:
    """Accept (or edit) proposals: the brief gets a new version for G1."""
    from signoff.briefs.enrichment import accept_proposals
    from signoff.briefs.services import get_brief
    from signoff.packages.authoring import parse_assignments

    version = accept_proposals(
        brief=get_brief(brief_ref),
        person=_acting_person(token),
        ids=list(ids),
        edits=parse_assignments(edits),
    )
    click.echo(f"Stored version {version.number} of {version.brief.slug}; G1 approves it.")


@brief.command("update")
@click.argument("brief_ref", metavar="BRIEF")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--products", "products_csv", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the impact analysis as JSON.")
@token_option
@command()
def brief_update(
    brief_ref: str, file: str, products_csv: str | None, as_json: bool, token: str
) -> None:
    """A new brief version; after G1, an impact analysis and the touched packages re-drafted."""
    from signoff.briefs.approval import update_brief
    from signoff.briefs.services import get_brief

    person = _acting_person(token)
    report = update_brief(
        brief=get_brief(brief_ref), path=file, products_csv=products_csv, person=person
    )
    impacts, spared = (
        [
            {"package": i.package_id, "sku": i.sku, "channel": i.channel, "reasons": i.reasons}
            for i in items
        ]
        for items in (report.impacts, report.spared)
    )
    if as_json:
        _emit_json(
            {
                "version": report.brief.version.number,
                "touched": impacts,
                "untouched": report.untouched,
                "spared": spared,
            }
        )
        return
    version = report.brief.version
    if not report.brief.created_version:
        err.print(f"Unchanged: still version {version.number}.")
        return
    err.print(f"Stored version {version.number}.")
    if report.impacts:
        err.print(
            f"{len(impacts)} packages touched (back to draft, approvals voided); "
            f"{report.untouched} keep their versions and approvals. G1 is needed again."
        )
        for item in impacts:
            click.echo(
                f"  {item['package']} {item['sku']} x {item['channel']}: "
                f"{'; '.join(item['reasons'])}"
            )
    if spared:
        err.print(
            f"{len(spared)} packages of changed products left alone: their channel does not "
            "use what changed and their copy does not state it."
        )
        for item in spared:
            click.echo(
                f"  {item['package']} {item['sku']} x {item['channel']}: left alone: "
                f"{'; '.join(item['reasons'])}"
            )


@brief.command("changes")
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--json", "as_json", is_flag=True)
@command(writes=False)
def brief_changes(brief_ref: str, as_json: bool) -> None:
    """What G1 shows: the latest version's changes field by field, and the CSV's conflicts."""
    from signoff.briefs.services import get_brief
    from signoff.briefs.version_changes import brief_changes_report

    report = brief_changes_report(get_brief(brief_ref))
    if as_json:
        _emit_json(report)
        return
    changes = report["changes"]
    if changes is None:
        click.echo(f"version {report['version']}: the first")
    else:
        click.echo(f"version {report['version']} against version {changes['previous']}:")
        for row in changes["fields"]:
            click.echo(f"  {row['label']}: {row['before'] or '—'} -> {row['after'] or '—'}")
        for sku in changes["added"]:
            click.echo(f"  product added: {sku}")
        for sku in changes["removed"]:
            click.echo(f"  product removed: {sku}")
        for product in changes["products"]:
            for c in product["changes"]:
                click.echo(f"  {product['sku']} {c['fact']}: {c['before']} -> {c['after']}")
    conflicts = report["conflicts"]
    click.echo(f"conflicts (the CSV wins): {conflicts['total']}")
    for c in conflicts["rows"]:
        click.echo(f"  {c['sku']} {c['fact']}: brief {c['brief']!r}, CSV {c['csv']!r}")
