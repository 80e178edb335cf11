"""Setting up and serving: `init`, `load`, `serve` and `demo`."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import click

from signoff.cli.base import (
    _database_label,
    _migrate,
    command,
    err,
    main,
    out,
)
from signoff.cli.board import _print_blocking, _print_board
from signoff.cli.runs import _progress_runner
from signoff.cli.server import serve_app

DEMO_DIR = Path(__file__).parent.parent / "demo" / "lumen-home"
DEMO_BRIEF = "spring-candles-2027"
DEMO_BRIEF_FILE = Path("briefs") / "spring-candles.yaml"
DEMO_CAMPAIGN_FILE = Path("briefs") / "cozy-season-campaign.yaml"
DEMO_CONTENT_LEAD = "maya@lumen.example"


@main.command()
@command(needs_db=False)
def init() -> None:
    """Create (or upgrade) the database under SIGNOFF_HOME."""
    _migrate()
    err.print(f"Database ready: {_database_label()}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@command()
def load(file: str) -> None:
    """Create or update a workspace from its YAML file."""
    from signoff.workspaces.services import load_workspace

    workspace, created = load_workspace(file)
    verb = "Created" if created else "Updated"
    err.print(
        f"{verb} workspace {workspace.slug}: {workspace.people.filter(active=True).count()} "
        f"people, {workspace.claims.count()} claims, {len(workspace.channels)} channels"
    )


DEMO_PASSWORD = "signoff-demo"


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--no-worker",
    is_flag=True,
    help="Start no background worker here: separate `signoff worker` processes run the queue.",
)
@command()
def serve(host: str, port: int, no_worker: bool) -> None:
    """Serve the web app and the API, with a background worker (Ctrl-C stops both)."""
    serve_app(host, port, worker=not no_worker)


def _demo_campaign(copy: Path) -> None:
    """Take the cozy-season campaign from brief to rendered images: a batch of options from
    the packshot, the CMO's rating and selection, renditions for every channel slot."""
    from signoff.briefs.services import add_brief
    from signoff.visuals.decisions import rate_image, select_image
    from signoff.visuals.generation import execute_image_run, queue_image_run
    from signoff.visuals.models import ImageVersion
    from signoff.visuals.rendering import render_brief
    from signoff.workspaces.tokens import find_person

    out.print("\n[bold]The cozy-season campaign: images[/]")
    brief = add_brief(copy / DEMO_CAMPAIGN_FILE, actor="system:demo").brief
    _progress_runner(brief)
    operator = find_person("ari@lumen.example", "lumen-home")
    cmo = find_person("sofia@lumen.example", "lumen-home")
    run = queue_image_run(
        brief=brief,
        person=operator,
        n=4,
        hypothesis="An evening ritual by a window, low warm light",
    )
    outcome = execute_image_run(run.pk)
    for sku, reason in outcome.missing.items():
        out.print(f"  {sku}: {reason}", markup=False)
    options = list(ImageVersion.objects.filter(brief=brief, status="ready").order_by("number"))
    for option in options:
        out.print(f"  option {option.pk} ({option.sku} #{option.number})", markup=False)
    if not options:
        return
    chosen = min(options, key=lambda o: (o.findings.filter(severity="block").count(), o.number))
    rate_image(image=chosen, person=cmo, stars=5, tags=["warm", "calm"], note="The ritual reads")
    select_image(image=chosen, person=cmo, note="Selected by the demo's CMO")
    report = render_brief(brief=brief, person=operator)
    out.print(
        f"  Selected option {chosen.pk} as {cmo.email}; {len(report.rendered)} renditions made "
        f"and attached to {sum(1 for a in report.attached if a['outcome'] == 'attached')} "
        f"packages (as {operator.email}).",
        markup=False,
    )
    for row in report.rendered:
        out.print(f"    {row['channel']}/{row['slot']}: {row['file']}", markup=False)
    out.print(
        f"Next: `signoff images list {brief.slug}`, the brief's images page in the web app.",
        markup=False,
    )


@main.command()
@click.option("--no-serve", is_flag=True, help="Do everything but start the web app.")
@click.option("--port", default=8000, show_default=True, type=int)
@command(needs_db=False)
def demo(no_serve: bool, port: int) -> None:
    """Load the Lumen Home example afresh, run its spring launch and show the board."""
    from django.contrib.auth import get_user_model

    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief
    from signoff.packages.selectors import blocking as blocking_query
    from signoff.packages.selectors import board as board_query
    from signoff.packages.selectors import board_row
    from signoff.web.accounts import ensure_users
    from signoff.workspaces.models import Workspace
    from signoff.workspaces.services import load_workspace
    from signoff.workspaces.tokens import find_person

    _migrate()
    err.print(f"Database: {_database_label()}")
    from django.conf import settings

    # The demo's files live under SIGNOFF_HOME so its images stay viewable after the run.
    copy = settings.SIGNOFF_HOME / "demo" / "lumen-home"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(DEMO_DIR, copy)
    # Starting clean: the audit log keeps earlier demos' events (it is append-only).
    get_user_model().objects.filter(signoff_account__person__workspace__slug="lumen-home").delete()
    Workspace.objects.filter(slug="lumen-home").delete()
    workspace, _ = load_workspace(copy / "workspace.yaml", actor="system:demo")
    ensure_users(workspace, DEMO_PASSWORD)
    report = add_brief(
        copy / DEMO_BRIEF_FILE, products_csv=copy / "products.csv", actor="system:demo"
    )
    # G1 is passed by the demo's content lead, recorded like any other approval.
    lead = find_person(DEMO_CONTENT_LEAD, "lumen-home")
    approve_brief(brief=report.brief, person=lead, note="Approved by the demo")
    err.print(f"G1 approved as {lead.email} (the demo's content lead).")
    report.brief.refresh_from_db()
    summary = _progress_runner(report.brief)
    rows = [board_row(p) for p in board_query(report.brief)]
    _print_board(rows)
    out.print()
    _print_blocking(blocking_query(report.brief))
    states = Counter(row["state"] for row in rows)
    severities = Counter()
    for row in rows:
        severities.update(row["findings"])
    out.print("\n[bold]Summary[/]")
    out.print(
        "Packages: "
        + ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
        + f" ({summary.packages} in all)"
    )
    out.print("Findings: " + ", ".join(f"{severities[s]} {s}" for s in ("block", "warn", "info")))
    blocked = [row for row in rows if row["state"] == "blocked"]
    for row in blocked:
        out.print(
            f"  blocked {row['id']} {row['sku']} x {row['channel']}: {row['blocking_reason']}",
            markup=False,
        )
    out.print(
        f"\nNext: `signoff board {DEMO_BRIEF}`, `signoff blocking {DEMO_BRIEF}`, "
        "`signoff show PACKAGE`, `signoff metrics` (the team's cycle times and rates); "
        "after a launch, `signoff performance import FILE.csv` (docs/insights.md); "
        "act as a person with "
        "`export SIGNOFF_TOKEN=$(signoff token issue maya@lumen.example)`",
        markup=False,
    )
    _demo_campaign(copy)
    people = ", ".join(
        f"{p.email} ({', '.join(p.roles)})"
        for p in workspace.people.filter(active=True).order_by("email")
    )
    out.print(f"\nWeb app: sign in as any of {people}; password: {DEMO_PASSWORD}", markup=False)
    if not no_serve:
        serve_app("127.0.0.1", port)
