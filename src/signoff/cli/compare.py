"""Comparing providers on one package: `compare`."""

from __future__ import annotations

import dataclasses

import click

from signoff.cli.base import (
    _emit_json,
    command,
    main,
    out,
)


@main.command()
@click.option("--brief", "brief_ref", metavar="BRIEF", help="The brief the package belongs to.")
@click.option(
    "--package",
    "package_ref",
    required=True,
    metavar="PACKAGE",
    help="An id, brief/SKU/channel[/variant], or SKU/channel[/variant] with --brief.",
)
@click.option(
    "--providers", required=True, help="Comma-separated: builtin,openai:MODEL,anthropic:MODEL"
)
@click.option("--json", "as_json", is_flag=True)
@command(writes=False)
def compare(brief_ref: str | None, package_ref: str, providers: str, as_json: bool) -> None:
    """Draft one package with several providers side by side, with findings and cost."""
    from signoff.packages.compare import compare_providers

    specs = [s.strip() for s in providers.split(",") if s.strip()]
    candidates = compare_providers(_package_in(brief_ref, package_ref), specs)
    if as_json:
        _emit_json([dataclasses.asdict(c) for c in candidates])
        return
    for c in candidates:
        out.print(
            f"\n[bold]{c.provider}[/] ({c.model or '-'}): "
            + (f"{len(c.findings)} findings" if c.ok else f"[red]failed[/]: {c.error}")
            + f"; {c.input_tokens}+{c.output_tokens} tokens, ${c.cost:.4f}, "
            f"{c.latency_ms:.0f} ms"
        )
        for name, value in c.fields.items():
            text = "; ".join(value) if isinstance(value, list) else value
            out.print(f"  {name}: {text}", markup=False)
        for f in c.findings:
            out.print(
                f"  {f['severity']} {f['rule_id']} {f['field'] or ''}: {f['message']}", markup=False
            )


def _package_in(brief_ref: str | None, package_ref: str):  # noqa: ANN202 - returns a Package
    """Resolve a package reference, within ``brief_ref`` when one is given."""
    from signoff.briefs.services import get_brief
    from signoff.core.errors import InputError
    from signoff.packages.selectors import get_package

    if brief_ref is None:
        return get_package(package_ref)
    brief = get_brief(brief_ref)
    if package_ref.isdigit():
        package = get_package(package_ref)
        if package.brief_id != brief.pk:
            raise InputError.single(
                f"package {package_ref} belongs to brief {package.brief.slug}, not {brief.slug}",
                field="--package",
            )
        return package
    return get_package(f"{brief.slug}/{package_ref}")
