"""Benchmark `signoff run` on a generated brief of 100 SKUs x 20 channels (2,000 packages).

Reports packages per second and the ratio to a bare bulk insert of the same package, version
and finding rows (Django ``bulk_create``, same database, same process, same row contents), then
where the run's time goes, and the board read (``board`` + ``board_row``) at that size. With the
builtin composer a run this size drafts and checks in worker processes (one per core), which the
breakdown cannot see into: their time shows as waiting in ``run_brief``.

    python bench/run_bench.py                       # embedded SQLite in a temporary home
    SIGNOFF_DATABASE_URL=postgres://... python bench/run_bench.py   # PostgreSQL
    python bench/run_bench.py --profile run.pstats  # also cProfile one run, top functions

The workspace is the demo ``workspace.yaml`` with the ten shipped catalog channels plus ten
more defined under ``channel_overrides``; every brief passes G1 (``approve_brief`` by the
workspace's content_lead) before it runs, as ``run_brief`` requires.

Target (issue #2): run time at most 2x the bare insert. Results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

SCENTS = [
    "lavender and cedar",
    "neroli and bergamot",
    "green fig and vetiver",
    "peony and pink pepper",
    "petrichor and white tea",
    "rhubarb and rose",
    "smoked oak and amber",
    "sea salt and sage",
    "black tea and plum",
    "orange blossom",
]
WORDS = [
    "Meadow",
    "Harbor",
    "Orchard",
    "Cedar",
    "Linen",
    "Ember",
    "Willow",
    "Juniper",
    "Quiet",
    "Morning",
    "Garden",
    "Harvest",
    "Coast",
    "Valley",
    "River",
    "Fern",
]


def _workspace(tmp: Path, slug: str) -> Path:
    from signoff.channels.catalog import catalog_ids, load_catalog

    base = yaml.safe_load(
        (
            Path(__file__).resolve().parents[1]
            / "src"
            / "signoff"
            / "demo"
            / "lumen-home"
            / "workspace.yaml"
        ).read_text()
    )
    catalog = load_catalog()
    ids = sorted(catalog_ids())[:10]
    overrides = {}
    for channel_id in ids:  # ten more channels: the same specs for a second storefront
        spec = catalog[channel_id].model_dump(mode="json", exclude_defaults=False)
        spec["id"] = f"{channel_id}_b"
        spec["name"] = f"{spec['name']} (second storefront)"
        overrides[spec["id"]] = spec
    base["workspace"] = slug
    base["channels"] = ids + list(overrides)
    base["channel_overrides"] = overrides
    path = tmp / f"{slug}.yaml"
    path.write_text(yaml.safe_dump(base, sort_keys=False))
    return path


def _brief(tmp: Path, slug: str, workspace: str, channels: list[str], skus: int) -> Path:
    products = []
    for i in range(skus):
        size = 8 if i % 2 else 14
        products.append(
            {
                "sku": f"BEN-{i:04d}",
                "name": f"{WORDS[i % len(WORDS)]} {WORDS[(i // len(WORDS)) % len(WORDS)]} Candle",
                "gtin": f"{850012300000 + i:014d}",
                "price": {"amount": 32.0 if size == 8 else 48.0, "currency": "USD"},
                "attributes": {
                    "scent": SCENTS[i % len(SCENTS)],
                    "size": f"{size} oz",
                    "burn_time_hours": 50 if size == 8 else 80,
                    "wax": "soy wax",
                    "wick": "cotton",
                    "vessel": "reusable stoneware",
                    "color": "sage",
                },
                "claims": ["phthalate-free", "hand-poured"],
            }
        )
    brief = {
        "brief": slug,
        "name": f"Benchmark {slug}",
        "workspace": workspace,
        "content_type": "ecommerce",
        "markets": ["en-US"],
        "channels": channels,
        "variants": 1,
        "audience": "Adults furnishing a first home.",
        "key_messages": ["Hand-poured soy wax candles with phthalate-free fragrance."],
        "products": products,
    }
    path = tmp / f"{slug}.yaml"
    path.write_text(yaml.safe_dump(brief, sort_keys=False))
    return path


def _bare_insert(brief, template_brief) -> float:
    """Bulk-insert copies of the run's package, version and finding rows; return seconds.

    The timed region is what a minimal writer of those rows must do: build the model instances
    and ``bulk_create`` them (packages, then versions, then findings) in one transaction. No
    audit events, no ``current_version`` update: those are the run's own cost.
    """
    from django.db import transaction
    from django.utils import timezone

    from signoff.packages.models import Finding, Package, Version

    packages = list(Package.objects.filter(brief=template_brief))
    versions = {v.package_id: v for v in Version.objects.filter(package__brief=template_brief)}
    findings = list(Finding.objects.filter(version__package__brief=template_brief))
    by_version: dict[int, list] = {}
    for f in findings:
        by_version.setdefault(f.version_id, []).append(f)
    now = timezone.now()
    start = time.perf_counter()
    with transaction.atomic():
        new_packages = Package.objects.bulk_create(
            Package(
                brief=brief,
                sku=p.sku,
                channel=p.channel,
                market=p.market,
                variant=p.variant,
                stage=p.stage,
                state=p.state,
                owner=p.owner,
                stage_entered_at=now,
                completeness=p.completeness,
                blocked_reasons=p.blocked_reasons,
                confidence=p.confidence,
            )
            for p in packages
        )
        new_versions = []
        for old, new in zip(packages, new_packages, strict=True):
            v = versions.get(old.pk)
            if v is not None:
                new_versions.append(
                    (
                        v,
                        Version(
                            package=new,
                            number=v.number,
                            fields=v.fields,
                            origin=v.origin,
                            author=v.author,
                            # _id: the object would cost one lazy SELECT per row, in the
                            # timed region, and inflate the baseline.
                            brief_version_id=v.brief_version_id,
                            content_hash=v.content_hash,
                        ),
                    )
                )
        Version.objects.bulk_create(n for _, n in new_versions)
        Finding.objects.bulk_create(
            (
                Finding(
                    version=n,
                    agent=f.agent,
                    rule_id=f.rule_id,
                    severity=f.severity,
                    field=f.field,
                    span_start=f.span_start,
                    span_end=f.span_end,
                    message=f.message,
                    suggested_fix=f.suggested_fix,
                    related=f.related,
                )
                for old, n in new_versions
                for f in by_version.get(old.pk, [])
            ),
            batch_size=2000,
        )
    return time.perf_counter() - start


class Breakdown:
    """Exclusive wall time per labelled function, and SQL time attributed to its caller.

    Wraps module attributes in place (the names ``run_brief`` calls), so nothing in the
    application changes; the wrappers cost about a microsecond per call.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list] = []  # [label, start, time spent in labelled children]
        self._undo: list[tuple[object, str, object]] = []
        self.statements: list[tuple[float, str]] = []  # (seconds, SQL) of every statement

    def enter(self, label: str) -> None:
        self._stack.append([label, time.perf_counter(), 0.0])

    def exit(self) -> None:
        label, start, children = self._stack.pop()
        elapsed = time.perf_counter() - start
        self.seconds[label] += elapsed - children
        self.calls[label] += 1
        if self._stack:
            self._stack[-1][2] += elapsed

    def wrap(self, owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            self.enter(label)
            try:
                return original(*args, **kwargs)
            finally:
                self.exit()

        self._undo.append((owner, name, original))
        setattr(owner, name, timed)

    def sql(self, execute, sql, params, many, context):
        parent = self._stack[-1][0] if self._stack else "outside"
        self.enter(f"SQL in {parent}")
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((time.perf_counter() - start, sql))
            self.exit()

    def undo(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()


def _instrument(breakdown: Breakdown) -> None:
    # Each name is wrapped in the module that looks it up when the run calls it.
    from signoff.agents import checking
    from signoff.agents.providers import get_provider
    from signoff.packages import drafting, planning, run_records

    provider = get_provider()
    breakdown.wrap(provider, "draft", "drafting (builtin provider)")
    for name, label in [
        ("check_spec", "check: spec"),
        ("scan_claims", "check: claims"),
        ("check_voice", "check: voice"),
        ("check_pii", "check: pii"),
    ]:
        breakdown.wrap(checking, name, label)
    for module, name, label in [
        (planning, "find_gaps", "completeness (find_gaps)"),
        (planning, "plan_cell", "plan (workflow decide)"),
        (planning, "check_product_images", "check: images"),
        (drafting, "audit_consistency", "check: consistency"),
        (run_records, "store_plans", "store: build rows (python)"),
        (run_records, "_position_fields", "store: position fields + confidence"),
        (run_records, "version_digest", "store: version content hash"),
        (run_records, "_events", "store: build audit event dicts"),
        (run_records, "record_many", "audit: record_many (normalise + hash)"),
        (run_records, "record", "audit: record (run started/finished)"),
    ]:
        breakdown.wrap(module, name, label)


def _run(brief, person) -> tuple[float, object]:
    from signoff.briefs.approval import approve_brief
    from signoff.packages.services import run_brief

    approve_brief(brief=brief, person=person)  # G1: not part of the timed run
    brief.refresh_from_db()
    start = time.perf_counter()
    summary = run_brief(brief)
    return time.perf_counter() - start, summary


def _board(brief, repeat: int) -> tuple[list[float], int, int]:
    """Time the board read (``board`` + ``board_row`` for every row); count its queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from signoff.packages.selectors import board, board_row

    samples, queries, rows = [], 0, 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            rows = len([board_row(p) for p in board(brief)])
            samples.append(time.perf_counter() - start)
        queries = len(ctx.captured_queries)
    return samples, queries, rows


def _seconds(samples: list[float]) -> str:
    return " ".join(f"{s:.3f}" for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", metavar="FILE", help="also cProfile one run into FILE")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="signoff-bench-"))
    os.environ.setdefault("SIGNOFF_HOME", str(tmp))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signoff.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from signoff.audit.models import Event
    from signoff.briefs.models import Brief
    from signoff.briefs.services import add_brief
    from signoff.packages.models import Finding, Package
    from signoff.workspaces.models import Person
    from signoff.workspaces.services import load_workspace

    call_command("migrate", verbosity=0)
    vendor = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(
        connection.vendor, connection.vendor
    )
    stamp = str(int(time.time()))
    workspace, _ = load_workspace(_workspace(tmp, f"bench-{stamp}"))
    lead = next(
        p
        for p in Person.objects.filter(workspace=workspace, active=True)
        if "content_lead" in p.roles
    )

    def new_brief(name: str) -> Brief:
        path = _brief(tmp, f"{name}-{stamp}", workspace.slug, workspace.channels, args.skus)
        return add_brief(path).brief

    runs, bares = [], []
    for i in range(args.repeat):
        brief = new_brief(f"run-{i}")
        seconds, summary = _run(brief, lead)
        runs.append(seconds)
        bare_brief = Brief.objects.create(
            workspace=workspace,
            slug=f"bare-{stamp}-{i}",
            name="bare",
            content_type="ecommerce",
            template="ecommerce",
        )
        bares.append(_bare_insert(bare_brief, brief))
    packages = Package.objects.filter(brief=brief).count()
    findings = Finding.objects.filter(version__package__brief=brief).count()
    events = Event.objects.filter(data__run=summary.run_id).count()
    run_s, bare_s = statistics.median(runs), statistics.median(bares)
    print(
        f"database: {vendor}; packages: {packages} ({args.skus} SKUs x "
        f"{len(workspace.channels)} channels); drafted: {summary.drafted}; "
        f"findings: {findings}; package audit events: {events}"
    )
    print(f"run: median {run_s:.3f} s of {args.repeat} [{_seconds(runs)}]", end=" ")
    print(f"({packages / run_s:.0f} packages/s)")
    print(f"bare bulk insert of the same rows: median {bare_s:.3f} s [{_seconds(bares)}]")
    print(f"ratio run / bare insert: {run_s / bare_s:.2f} (target <= 2.0)")

    board_samples, board_queries, board_rows = _board(brief, 5)
    print(
        f"board + board_row, {board_rows} rows: median "
        f"{statistics.median(board_samples) * 1000:.1f} ms of {len(board_samples)}, "
        f"{board_queries} queries"
    )

    # Where the time goes: --repeat more runs with every stage wrapped in a timer.
    breakdowns, totals = [], []
    for i in range(args.repeat):
        breakdown = Breakdown()
        _instrument(breakdown)
        brief = new_brief(f"breakdown-{i}")
        with connection.execute_wrapper(breakdown.sql):
            seconds, _ = _run(brief, lead)
        breakdown.undo()
        breakdown.seconds["run_brief, not above (incl. waiting on worker processes)"] = (
            seconds - sum(breakdown.seconds.values())
        )
        breakdowns.append(breakdown)
        totals.append(seconds)
    total = statistics.median(totals)
    labels = {label for b in breakdowns for label in b.seconds}
    median = {
        label: statistics.median(b.seconds.get(label, 0.0) for b in breakdowns) for label in labels
    }
    print(
        f"\nbreakdown, median exclusive time of {args.repeat} instrumented runs "
        f"(median run {total:.3f} s [{_seconds(totals)}]):"
    )
    for label in sorted(labels, key=lambda label: -median[label]):
        calls = breakdowns[0].calls.get(label, 0)
        spent = median[label]
        print(f"  {label:<48} {spent:7.3f} s {spent / total:6.1%}  {calls:>6} calls")
    groups = defaultdict(float)
    for label, spent in median.items():
        if "audit" in label:
            group = "audit events (python + SQL)"
        elif label.startswith("SQL"):
            group = "DB writes and reads, SQL (packages, versions, findings, run)"
        elif label.startswith("store"):
            group = "building the rows (python: value tuples, content hashes)"
        elif label.startswith("drafting"):
            group = "drafting"
        elif label.startswith("check"):
            group = "checks"
        else:
            group = "planning, completeness, other"
        groups[group] += spent
    print("  by group:")
    for group, spent in sorted(groups.items(), key=lambda item: -item[1]):
        print(f"    {group:<62} {spent:7.3f} s {spent / total:6.1%} {spent / bare_s:5.2f}x bare")
    print("  slowest statements (last run):")
    for spent, sql in sorted(breakdowns[-1].statements, key=lambda item: -item[0])[:6]:
        print(f"    {spent:7.3f} s  {' '.join(sql.split())[:110]}")

    if args.profile:
        brief = new_brief("profile")
        profiler = cProfile.Profile()
        profiler.enable()
        _run(brief, lead)
        profiler.disable()
        profiler.dump_stats(args.profile)
        print(f"\ncProfile of one run (includes G1 approval), top 25 by own time: {args.profile}")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
