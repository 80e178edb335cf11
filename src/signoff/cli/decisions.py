"""Decisions on packages: `review`, `approve`, `reject` and `edit`."""

from __future__ import annotations

import dataclasses
import sys

import click

from signoff.cli.base import (
    REFUSAL_EXIT,
    _acting_person,
    _emit_json,
    command,
    main,
    token_option,
)


def _print_results(results: list, as_json: bool) -> None:
    if as_json:
        _emit_json([dataclasses.asdict(r) for r in results])
    else:
        for r in results:
            status = r.outcome if r.ok else f"refused ({r.code})"
            click.echo(f"{r.package_id}: {status}: {r.message}")
    refused = [r for r in results if not r.ok]
    if len(results) == 1 and refused:
        # One package: exit as any single refusal does (3 wrong state, 4 not allowed).
        sys.exit(REFUSAL_EXIT.get(refused[0].http_status, 1))
    if refused:
        sys.exit(1)


def _package_ids(refs: tuple[str, ...]) -> list[int]:
    from signoff.packages.selectors import get_package

    return [get_package(ref).pk for ref in refs]


@main.command()
@click.argument("packages", nargs=-1, required=True, metavar="PACKAGE...")
@click.option("--json", "as_json", is_flag=True)
@token_option
@command()
def review(packages: tuple[str, ...], as_json: bool, token: str) -> None:
    """Mark each package's current version reviewed by you (needed for batch approval)."""
    from signoff.packages.decisions import decide_each, review_package

    person = _acting_person(token)
    results = decide_each(
        _package_ids(packages), lambda pk: review_package(package_id=pk, person=person)
    )
    _print_results(results, as_json)


@main.command()
@click.argument("packages", nargs=-1, required=True, metavar="PACKAGE...")
@click.option("--note", default="")
@click.option(
    "--review",
    "and_review",
    is_flag=True,
    help="Mark each reviewed first (both recorded): review and approve in one pass.",
)
@click.option("--json", "as_json", is_flag=True)
@token_option
@command()
def approve(
    packages: tuple[str, ...], note: str, and_review: bool, as_json: bool, token: str
) -> None:
    """Approve each package at its current gate; several ids are a batch (reviewed only)."""
    from signoff.packages.decisions import approve_package, decide_each, review_package

    person = _acting_person(token)
    batch = len(packages) > 1

    def act(pk: int):  # noqa: ANN202 - an ItemResult
        if and_review:
            review_package(package_id=pk, person=person)
        return approve_package(package_id=pk, person=person, note=note, batch=batch)

    results = decide_each(_package_ids(packages), act)
    _print_results(results, as_json)


@main.command()
@click.argument("packages", nargs=-1, required=True, metavar="PACKAGE...")
@click.option("--note", required=True, help="Why: the next draft reads it.")
@click.option("--json", "as_json", is_flag=True)
@token_option
@command()
def reject(packages: tuple[str, ...], note: str, as_json: bool, token: str) -> None:
    """Reject each package at its current gate; it returns to the previous stage."""
    from signoff.packages.decisions import decide_each, reject_package

    person = _acting_person(token)
    batch = len(packages) > 1
    results = decide_each(
        _package_ids(packages),
        lambda pk: reject_package(package_id=pk, person=person, note=note, batch=batch),
    )
    _print_results(results, as_json)


@main.command()
@click.argument("package_ref", metavar="PACKAGE")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    required=True,
    help="field=value, or list_field[2]=value for one item.",
)
@click.option("--note", default="")
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Run the edit's checks and print the findings; save nothing.",
)
@token_option
@command()
def edit(
    package_ref: str, assignments: tuple[str, ...], note: str, check_only: bool, token: str
) -> None:
    """Save your new version of a package; approvals it no longer matches are voided."""
    from signoff.packages.authoring import edit_package, parse_assignments
    from signoff.packages.selectors import get_package

    person = _acting_person(token)
    if check_only:
        _check_edit(get_package(package_ref), person, parse_assignments(assignments))
        return
    result, changes = edit_package(
        package_id=get_package(package_ref).pk,
        person=person,
        changes=parse_assignments(assignments),
        note=note,
    )
    click.echo(f"{result.package_id}: {result.message}")
    for line in changes:
        click.echo(f"  {line}")


def _check_edit(package, person, changes: dict) -> None:  # noqa: ANN001 - models
    """What the web editor shows as you type: counts and findings of the changed copy."""
    from signoff.core.errors import NotFound
    from signoff.packages.editing import check_edit, field_counts

    if package.brief.workspace_id != person.workspace_id or package.current_version is None:
        raise NotFound(f"no version of package {package.pk} to edit in {person.workspace.slug}")
    checked = check_edit(package, package.current_version, changes)
    for count in field_counts(checked.spec, checked.fields):
        limit = f"/{count['max_chars']}" if count["max_chars"] else ""
        click.echo(f"{count['path']}: {count['length']}{limit} characters")
    for f in checked.findings:
        click.echo(f"{f.severity} {f.rule_id} {f.field or ''}: {f.message}")
    click.echo("nothing saved" + ("" if checked.changed else "; nothing would change"))
    if any(str(f.severity) == "block" for f in checked.findings):
        sys.exit(1)
