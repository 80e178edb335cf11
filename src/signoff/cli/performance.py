"""Channel performance: `performance import` and `performance report`."""

from __future__ import annotations

from pathlib import Path

import click

from signoff.cli.base import _acting_person, _emit_json, command, main, token_option


@main.group()
def performance() -> None:
    """What launched content earned: import channel exports, see winners and losers."""


@performance.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--brief", "brief_ref", help="Match rows only to this brief's launches.")
@click.option("--json", "as_json", is_flag=True)
@token_option
@command()
def performance_import(file: str, brief_ref: str | None, as_json: bool, token: str) -> None:
    """Import a channel performance CSV (date, channel, sku, variant, impressions, clicks,
    add_to_cart, orders, revenue, spend; optional market, returns, rating).

    Each row is matched to the launched package version it measures. A bad row refuses the
    whole file (each problem as file:line: column); importing a file again stores nothing.
    """
    from signoff.briefs.services import get_brief
    from signoff.insights.services import import_file

    person = _acting_person(token)
    brief = get_brief(brief_ref) if brief_ref else None
    result = import_file(path=Path(file), person=person, brief=brief)
    if as_json:
        _emit_json(result.as_dict())
        return
    if not result.new_rows:
        click.echo(
            f"{file}: nothing new: all {result.unchanged} rows were imported before "
            "(nothing stored)"
        )
        return
    click.echo(
        f"{file}: imported {result.new_rows} of {result.rows} rows "
        f"({result.unchanged} already stored) for {', '.join(result.briefs)}; "
        f"{result.learnings} winners in memory"
    )


@performance.command("report")
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--json", "as_json", is_flag=True)
@command(writes=False)
def performance_report(brief_ref: str, as_json: bool) -> None:
    """Winners and losers per channel and content attribute, with intervals and the data
    still needed where there is no verdict yet."""
    from signoff.briefs.services import get_brief
    from signoff.insights.reporting import report_as_dict
    from signoff.insights.selectors import brief_report
    from signoff.insights.stats import percent

    reports = brief_report(get_brief(brief_ref))
    if as_json:
        _emit_json(report_as_dict(reports))
        return
    if not reports:
        click.echo("No performance imported for this brief yet.")
    for channel in reports:
        click.echo(
            f"{channel.channel}: {channel.packages} packages, {channel.impressions:,} "
            f"impressions, CTR {percent(channel.ctr)}, conversion {percent(channel.conversion)}"
        )
        for attribute in channel.attributes:
            for comparison in (attribute.ctr, attribute.conversion):
                arms = "; ".join(
                    f"{a.label} {percent(a.rate)} [{percent(a.low)}-{percent(a.high)}] "
                    f"{a.verdict.value}"
                    for a in comparison.arms
                )
                click.echo(f"  {attribute.attribute} {comparison.metric}: {arms}")
                needed = comparison.needed
                if needed:
                    click.echo(f"    needs {needed:,} more {comparison.trial_unit} per value")
                elif needed is None:
                    click.echo("    the values are equal so far: no sample size tells them apart")
