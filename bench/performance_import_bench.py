"""Benchmark the performance import: N rows for a 2,000-package brief, against a bare insert.

Sets up a brief with 2,000 launched packages (250 SKUs x 4 channels x 2 variants; made
directly, no drafting) and writes a performance CSV of N rows (N / 2,000 days per package).
Then, interleaved ``--repeat`` times on an emptied table so a busy machine slows both alike:

* ``bare``: the same rows, already parsed and matched, inserted with ``insert_rows`` in one
  transaction (what storing them costs at the least: the reference);
* ``import``: ``import_file``: read and check every value, match every row to its launched
  package, look for rows stored before, insert, recompute the brief's winners per channel
  and attribute (``brief_report`` over all N rows) and record the audit event, in one
  transaction;

and once each: the recompute alone (``brief_report``) and a re-import of the same file
(nothing new: every row found stored).

    .venv/bin/python bench/performance_import_bench.py                     # N=1,000,000, SQLite
    .venv/bin/python bench/performance_import_bench.py --rows 200000 --repeat 3
    SIGNOFF_DATABASE_URL=postgres://postgres@127.0.0.1:55433/signoff_bench \
        .venv/bin/python bench/performance_import_bench.py                 # PostgreSQL

Target (issue #15): import at most 2x the bare insert. Results: docs/performance.md. Exits 1
when the target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHANNELS = ["amazon_us_pdp", "walmart_us", "meta_feed_ad", "instagram_post"]
SKUS = [f"LUM-B{i:04d}" for i in range(250)]
TARGET = 2.0


def _setup() -> None:
    os.environ.setdefault("SIGNOFF_HOME", tempfile.mkdtemp(prefix="signoff-perf-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signoff.config.settings")
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _brief():  # noqa: ANN202 - returns (brief, person)
    """The Lumen Home workspace and spring brief, with 2,000 launched packages."""
    from django.db import transaction

    from signoff.briefs.services import add_brief
    from signoff.core.hashing import content_hash
    from signoff.delivery.models import Launch
    from signoff.packages.models import Package, Version
    from signoff.workspaces.services import load_workspace

    demo = REPO / "src" / "signoff" / "demo" / "lumen-home"
    workspace, _ = load_workspace(demo / "workspace.yaml")
    brief = add_brief(demo / "briefs" / "spring-candles.yaml", products_csv=demo / "products.csv")
    brief = brief.brief
    version = brief.latest_version()
    launched = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with transaction.atomic():
        packages = Package.objects.bulk_create(
            Package(
                brief=brief,
                sku=sku,
                channel=channel,
                variant=variant,
                stage="S6",
                state=Package.State.PUBLISHED,
                stage_entered_at=launched,
            )
            for channel in CHANNELS
            for sku in SKUS
            for variant in "AB"
        )
        versions = Version.objects.bulk_create(
            Version(
                package=p,
                number=1,
                fields=(
                    f := {"title": f"{p.sku} candle " + "x" * (20 if p.variant == "A" else 60)}
                ),
                origin={"kind": "agent", "parameters": {"tone": "calm", "lead": p.variant}},
                author="agent:copy_drafter",
                brief_version=version,
                content_hash=content_hash(f),
            )
            for p in packages
        )
        for p, v in zip(packages, versions, strict=True):
            p.current_version = v
        Package.objects.bulk_update(packages, ["current_version"])
        for channel in CHANNELS:
            ids = [p.pk for p in packages if p.channel == channel]
            launch = Launch.objects.create(
                brief=brief, channel=channel, person="lena@lumen.example", packages=ids
            )
            Launch.objects.filter(pk=launch.pk).update(created_at=launched)
    return brief, workspace.people.get(email="ari@lumen.example")


def _csv(path: Path, rows: int) -> None:
    """N rows: every package, day after day from the launch; variant B clicks a little more."""
    days = max(1, rows // (len(CHANNELS) * len(SKUS) * 2))
    start = dt.date(2026, 1, 1)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("date,channel,sku,variant,impressions,clicks,add_to_cart,orders,revenue,spend\n")
        for day in range(days):
            date = (start + dt.timedelta(days=day)).isoformat()
            for channel in CHANNELS:
                for n, sku in enumerate(SKUS):
                    for variant in "AB":
                        if written == rows:
                            return
                        impressions = 1000 + (n * 37 + day * 11) % 500
                        clicks = impressions // (40 if variant == "A" else 34)
                        orders = clicks // 12
                        out.write(
                            f"{date},{channel},{sku},{variant},{impressions},{clicks},"
                            f"{orders * 2},{orders},{orders * 32}.00,{clicks // 10}.50\n"
                        )
                        written += 1


def _empty() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM insights_performancerow")
        cursor.execute("DELETE FROM insights_learning")
        cursor.execute("DELETE FROM insights_performanceimport")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    _setup()
    from django.db import connection, transaction

    from signoff.core.rows import insert_rows
    from signoff.insights import csvfile
    from signoff.insights.models import PerformanceImport, PerformanceRow
    from signoff.insights.selectors import brief_report, launch_index
    from signoff.insights.services import import_file

    brief, person = _brief()
    path = Path(os.environ["SIGNOFF_HOME"]) / "performance.csv"
    _csv(path, args.rows)
    index = launch_index(person.workspace_id, brief.pk)
    parsed = csvfile.read(path.read_text(encoding="utf-8"), str(path), index).rows
    print(
        f"{connection.vendor}: {len(parsed):,} rows, {path.stat().st_size / 1e6:.0f} MB, "
        f"2,000 packages",
        flush=True,
    )
    bare, full = [], []
    for _ in range(args.repeat):
        _empty()
        started = time.perf_counter()
        with transaction.atomic():
            source = PerformanceImport.objects.create(
                workspace_id=person.workspace_id,
                person=person.email,
                file_name="bare",
                sha256="0" * 64,
                rows=len(parsed),
                new_rows=len(parsed),
            )
            insert_rows(
                PerformanceRow, PerformanceRow.ROW_COLUMNS, ((source.pk, *r) for r in parsed)
            )
        bare.append(time.perf_counter() - started)
        _empty()
        started = time.perf_counter()
        result = import_file(path=path, person=person, brief=brief)
        full.append(time.perf_counter() - started)
        assert result.new_rows == len(parsed), result
        print(f"  bare {bare[-1]:.2f} s, import {full[-1]:.2f} s", flush=True)
    started = time.perf_counter()
    reports = brief_report(brief)
    recompute = time.perf_counter() - started
    started = time.perf_counter()
    again = import_file(path=path, person=person, brief=brief)
    reimport = time.perf_counter() - started
    assert again.new_rows == 0
    ratio = statistics.median(full) / statistics.median(bare)
    print(
        f"bare insert {statistics.median(bare):.2f} s; import {statistics.median(full):.2f} s "
        f"({len(parsed) / statistics.median(full):,.0f} rows/s, {ratio:.2f}x bare; target "
        f"{TARGET}x); recompute alone {recompute:.2f} s ({len(reports)} channels, "
        f"{result.learnings} winners); re-import (nothing new) {reimport:.2f} s"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
