"""`signoff metrics`: how the team's work goes (cycle times, first-pass rate, revisions,
rejection reasons, AI text shipped unedited, model cost, SLA breaches, hours saved)."""

from __future__ import annotations

from datetime import datetime

import click
from rich.table import Table

from signoff.cli.base import _emit_json, command, main, out

GROUPS = (
    ("by_brief", "brief"),
    ("by_channel", "channel"),
    ("by_gate", "gate"),
    ("by_person", "person"),
    ("by_week", "week"),
)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _num(value: float | None, fmt: str = "{:.2f}") -> str:
    return "—" if value is None else fmt.format(value)


def _workspace_of(brief_ref: str | None, slug: str | None):  # noqa: ANN202 - a Workspace
    from signoff.workspaces.models import Workspace
    from signoff.workspaces.services import get_workspace

    if slug:
        return get_workspace(slug)
    found = list(Workspace.objects.all()[:2])
    if len(found) != 1:
        raise click.ClickException("name the workspace with --workspace (or give a BRIEF)")
    return found[0]


@main.command()
@click.argument("brief_ref", metavar="[BRIEF]", required=False)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="From this day (UTC).")
@click.option("--workspace", "workspace_slug", help="Without BRIEF: the workspace to measure.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command(writes=False)
def metrics(
    brief_ref: str | None, since: datetime | None, workspace_slug: str | None, as_json: bool
) -> None:
    """Operations metrics of one brief, or of every brief in the workspace: overall and per
    brief, channel, gate, person and ISO week (docs/metrics.md defines each)."""
    from signoff.briefs.services import get_brief
    from signoff.metrics.selectors import operations_metrics

    brief = get_brief(brief_ref) if brief_ref else None
    workspace = brief.workspace if brief else _workspace_of(brief_ref, workspace_slug)
    data = operations_metrics(workspace, brief=brief, since=since.date() if since else None)
    if as_json:
        _emit_json(data)
        return
    overall = data["overall"]
    scope = f"brief {data['brief']}" if data["brief"] else f"workspace {data['workspace']}"
    out.print(f"[bold]{scope}[/bold]" + (f" since {data['since'][:10]}" if data["since"] else ""))
    out.print(
        f"packages {overall['packages']} · shipped {overall['shipped']} · "
        f"first pass {_pct(overall['first_pass_rate'])} · "
        f"revisions/package {_num(overall['revisions_per_package'])} · "
        f"AI text shipped unedited {_pct(overall['ai_unedited_share'])} · "
        f"SLA breaches {_pct(overall['sla_breach_rate'])} · "
        f"model cost/shipped {_num(overall['cost_per_shipped'], '${:.4f}')} · "
        f"hours saved {_num(overall['hours_saved'], '{:.1f}')}",
        markup=False,
    )
    cycle = Table(title="cycle time (hours)", header_style="bold")
    for column in ("where", "n", "median", "p90"):
        cycle.add_column(column)
    for kind in ("stages", "gates"):
        for name, dist in overall["cycle_hours"][kind].items():
            cycle.add_row(name, str(dist["n"]), _num(dist["median"]), _num(dist["p90"]))
    if cycle.row_count:
        out.print(cycle)
    else:
        out.print("cycle time: no package has left a stage or passed a gate yet", markup=False)
    for key, label in GROUPS:
        if not data[key] or (key == "by_brief" and len(data[key]) == 1):
            continue  # one brief: its row is the overall line above
        table = Table(title=f"per {label}", header_style="bold")
        for column in (
            label,
            "decisions",
            "first pass",
            "revisions/pkg",
            "SLA breach",
            "shipped",
            "AI unedited",
            "cost/shipped",
            "hours saved",
        ):
            table.add_column(column)
        for name, row in data[key].items():
            table.add_row(
                name,
                str(row["decisions"]),
                _pct(row["first_pass_rate"]),
                _num(row["revisions_per_package"]),
                _pct(row["sla_breach_rate"]),
                "—" if row["shipped"] is None else str(row["shipped"]),
                _pct(row["ai_unedited_share"]),
                _num(row["cost_per_shipped"], "${:.4f}"),
                _num(row["hours_saved"], "{:.1f}"),
            )
        out.print(table)
    if overall["rejection_reasons"]:
        reasons = ", ".join(f"{rule} {n}" for rule, n in overall["rejection_reasons"].items())
        out.print(f"rejection reasons by rule: {reasons}", markup=False)
