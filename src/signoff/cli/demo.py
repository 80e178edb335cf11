"""`signoff demo`: the Lumen Home example from brief to launch, delivery and performance.

Every step goes through the same services the CLI, API and web app use, acting as the demo
workspace's people in their roles: every decision is recorded like any other, and no gate is
passed by anything but its owner's approval. What the demo adds to the shipped example (its
folder destination and a performance export of the channel it launches) lives beside it in
``signoff/demo/lumen-home`` and is written into the demo's own copy under SIGNOFF_HOME.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from signoff.cli.base import _database_label, _migrate, command, err, main, out
from signoff.cli.board import _print_blocking, _print_board
from signoff.cli.metrics import _num, _pct
from signoff.cli.runs import _progress_runner
from signoff.cli.server import serve_app

if TYPE_CHECKING:
    from signoff.briefs.models import Brief

DEMO_DIR = Path(__file__).parent.parent / "demo" / "lumen-home"
DEMO_BRIEF = "spring-candles-2027"
DEMO_BRIEF_FILE = Path("briefs") / "spring-candles.yaml"
DEMO_CAMPAIGN_FILE = Path("briefs") / "cozy-season-campaign.yaml"
DEMO_CONTENT_LEAD = "maya@lumen.example"
DEMO_PASSWORD = "signoff-demo"
# The campaign channel the demo launches: its hero image is optional, so the gift set (which
# has no packshot to make images from) ships as copy only and the whole channel can launch.
DEMO_CHANNEL = "email_promo"
DEMO_DESTINATIONS = "demo-destinations.yaml"
DEMO_PERFORMANCE = "cozy-email-performance.csv"  # dates as +N: days after the launch
CMO = "sofia@lumen.example"  # owns the campaign's `approve` gate and launches
CEO = "daniel@lumen.example"  # owns `coherence`
OPERATOR = "ari@lumen.example"  # renders images and imports performance


def _demo_campaign(copy: Path) -> Brief:
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
        return brief
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
    return brief


def _demo_launch(copy: Path, brief: Brief) -> date | None:
    """Take the campaign's email channel through both gates, launch it and deliver it to the
    workspace's folder destination; return the launch day (None if it could not launch)."""
    from signoff.delivery.services import launch_channel
    from signoff.outbox.selectors import deliveries_of
    from signoff.outbox.worker import work
    from signoff.packages.decisions import approve_package
    from signoff.packages.models import Package
    from signoff.workspaces.tokens import find_person

    out.print(f"\n[bold]The cozy-season campaign: launch and delivery ({DEMO_CHANNEL})[/]")
    packages = list(Package.objects.filter(brief=brief, channel=DEMO_CHANNEL).order_by("id"))
    for email, gate in ((CMO, "approve"), (CEO, "coherence")):
        person = find_person(email, "lumen-home")
        refused = []
        for package in packages:
            result = approve_package(
                package_id=package.pk, person=person, note="Approved in the demo"
            )
            if not result.ok:
                refused.append(f"{package.pk} ({package.sku} {package.variant}): {result.message}")
        passed = len(packages) - len(refused)
        out.print(
            f"  {gate}: {passed} of {len(packages)} packages approved by {email}", markup=False
        )
        for line in refused:
            out.print(f"    refused {line}", markup=False)
        if refused:
            return None
    cmo = find_person(CMO, "lumen-home")
    # The bundle goes into the demo's folder, which the next demo run starts afresh.
    launched = launch_channel(
        brief=brief, channel=DEMO_CHANNEL, person=cmo, out_dir=copy / "exports"
    )
    out.print(
        f"  Launched {len(launched.packages)} packages as {cmo.email}; bundle {launched.bundle}",
        markup=False,
    )
    summary = work(wait_all=True)  # what `signoff worker` does, here until the queue is empty
    rows = deliveries_of(brief, channel=DEMO_CHANNEL)
    out.print(f"  Worker: {summary.attempts} deliveries attempted", markup=False)
    # One line per destination, state and receipt (a folder's feed carries every package).
    groups: dict[tuple[str, str, str], list[str]] = {}
    for row in rows:
        said = row["receiver_id"] if row["state"] == "delivered" else row["last_error"]
        key = (f"{row['destination']} ({row['kind']})", row["state"], said)
        groups.setdefault(key, []).append(f"{row['package']} {row['sku']} {row['variant']}")
    for (destination, state, said), packages in groups.items():
        out.print(f"    {destination}: {state} ({said}): {len(packages)} packages", markup=False)
        out.print(f"      {', '.join(packages)}", markup=False)
    folder = copy / "deliveries" / "email"
    for feed in sorted(folder.glob(f"{brief.slug}-{DEMO_CHANNEL}.*")):
        with feed.open(encoding="utf-8", newline="") as handle:
            packages = [row["package_id"] for row in csv.DictReader(handle)]
        out.print(
            f"  Feed: {feed} ({len(packages)} packages: {', '.join(packages)}; the hero "
            f"images in {folder / brief.slug})",
            markup=False,
        )
    out.print(
        f"Next: `signoff deliveries list {brief.slug}`, `signoff worker` (sends what a launch "
        f"queues), the brief's matrix in the web app (/briefs/{brief.slug}/matrix/) shows "
        "each package's deliveries.",
        markup=False,
    )
    return launched.launched_at.date() if launched.launched_at else None


def _performance_file(copy: Path, launched_on: date) -> Path:
    """Write the demo's performance export with its +N days made dates after the launch."""
    source = (copy / DEMO_PERFORMANCE).read_text(encoding="utf-8").splitlines()
    lines = [source[0]]
    for line in source[1:]:
        offset, rest = line.split(",", 1)
        day = launched_on + timedelta(days=int(offset))
        lines.append(f"{day.isoformat()},{rest}")
    path = copy / f"performance-{launched_on.isoformat()}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _demo_performance(copy: Path, brief: Brief, launched_on: date) -> None:
    """Import what the launched channel earned, then show its winners and the team metrics."""
    from signoff.insights.reporting import verdict_text
    from signoff.insights.selectors import brief_report
    from signoff.insights.services import import_file
    from signoff.insights.stats import percent
    from signoff.metrics.selectors import operations_metrics
    from signoff.workspaces.tokens import find_person

    out.print(f"\n[bold]The cozy-season campaign: performance ({DEMO_CHANNEL})[/]")
    path = _performance_file(copy, launched_on)
    operator = find_person(OPERATOR, "lumen-home")
    result = import_file(path=path, person=operator)
    first, last = launched_on + timedelta(days=1), launched_on + timedelta(days=14)
    out.print(
        f"  Imported {result.new_rows} of {result.rows} rows as {operator.email} (simulated "
        f"numbers for {first} to {last}, the 14 days after today's launch): {path.name}; "
        f"{result.learnings} winners in memory",
        markup=False,
    )
    for channel in brief_report(brief):
        out.print(
            f"  {channel.channel}: {channel.packages} packages, {channel.impressions:,} "
            f"impressions, {channel.clicks:,} clicks (CTR {percent(channel.ctr)}), "
            f"{channel.orders:,} orders (conversion {percent(channel.conversion)}), "
            f"revenue ${channel.revenue_cents / 100:,.2f}",
            markup=False,
        )
        variant = next(a for a in channel.attributes if a.attribute == "variant")
        for comparison in (variant.ctr, variant.conversion):
            arms = ", ".join(
                f"{a.label} {percent(a.rate)} ({a.verdict.value})"
                for a in sorted(comparison.arms, key=lambda a: a.label)
            )
            out.print(f"    variant {comparison.metric}: {arms}", markup=False)
            out.print(f"      {verdict_text(comparison)}", markup=False)
    learnings = brief.learnings.filter(channel=DEMO_CHANNEL).order_by("attribute", "metric")
    for learning in learnings:
        out.print(
            f"    winner: {learning.attribute} {learning.winner!r} on {learning.metric} "
            f"(over {learning.runner_up!r})",
            markup=False,
        )
    overall = operations_metrics(brief.workspace)["overall"]
    out.print(
        f"  Metrics (workspace): {overall['packages']} packages, {overall['shipped']} shipped, "
        f"first pass {_pct(overall['first_pass_rate'])}, revisions/package "
        f"{_num(overall['revisions_per_package'])}, AI text shipped unedited "
        f"{_pct(overall['ai_unedited_share'])}, SLA breaches {_pct(overall['sla_breach_rate'])}"
        + (
            f", hours saved {_num(overall['hours_saved'], '{:.1f}')}"
            if overall["hours_saved"] is not None
            else ""
        ),
        markup=False,
    )
    out.print(
        f"Next: `signoff performance report {brief.slug}`, `signoff metrics`, the "
        f"brief's performance page in the web app (/briefs/{brief.slug}/performance/).",
        markup=False,
    )


@main.command()
@click.option("--no-serve", is_flag=True, help="Do everything but start the web app.")
@click.option("--port", default=8000, show_default=True, type=int)
@command(needs_db=False)
def demo(no_serve: bool, port: int) -> None:
    """Load the Lumen Home example afresh: run its spring launch and show the board, then take
    the cozy-season campaign through images, both gates, launch, delivery and performance."""
    from django.contrib.auth import get_user_model

    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief
    from signoff.outbox.models import Delivery
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
    # The demo's delivery destination joins its copy of the workspace file, where a user
    # looking at what the demo loaded sees it (the shipped file stays the shared example).
    destinations = (copy / DEMO_DESTINATIONS).read_text(encoding="utf-8")
    with (copy / "workspace.yaml").open("a", encoding="utf-8") as workspace_file:
        workspace_file.write("\n" + destinations)
    # Starting clean: the audit log keeps earlier demos' events (it is append-only).
    get_user_model().objects.filter(signoff_account__person__workspace__slug="lumen-home").delete()
    # A delivery keeps its package version from being deleted: an earlier demo's go first.
    Delivery.objects.filter(brief__workspace__slug="lumen-home").delete()
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
    campaign = _demo_campaign(copy)
    launched_on = _demo_launch(copy, campaign)
    if launched_on is not None:
        _demo_performance(copy, campaign, launched_on)
    people = ", ".join(
        f"{p.email} ({', '.join(p.roles)})"
        for p in workspace.people.filter(active=True).order_by("email")
    )
    out.print(f"\nWeb app: sign in as any of {people}; password: {DEMO_PASSWORD}", markup=False)
    if not no_serve:
        serve_app("127.0.0.1", port)
