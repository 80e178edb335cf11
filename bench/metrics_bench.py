"""Benchmark the operations metrics of a 2,000-package brief against reading their rows.

Sets up a brief with 2,000 packages (250 SKUs x 4 channels x 2 variants; made directly, no
drafting), each with a realistic history in the audit log written through ``record_many``:
drafted, reviewed, approved at G2 (one in five rejected first and redrafted, with a second
version and a rejection note), G3 and G4, a few hours apart: about 9 events per package. Then,
interleaved ``--repeat`` times so a busy machine slows both alike:

* ``read``: the queries ``operations_metrics`` makes (briefs, packages, the workspace's
  package events, versions, rejection notes), every row fetched and thrown away: the least
  computing the metrics from the log can cost;
* ``metrics``: ``operations_metrics(workspace, brief=brief)``: those rows, then the waits,
  stays and every grouping (brief, channel, gate, person, week).

    .venv/bin/python bench/metrics_bench.py                      # SQLite, temporary home
    .venv/bin/python bench/metrics_bench.py --repeat 3
    SIGNOFF_DATABASE_URL=postgres://postgres@127.0.0.1:55433/signoff_bench \
        .venv/bin/python bench/metrics_bench.py                  # PostgreSQL (empty DB)

Target (issue #15): the metrics at most 2x the bare read. Results: docs/performance.md. Exits
1 when the target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHANNELS = ["amazon_us_pdp", "walmart_us", "meta_feed_ad", "instagram_post"]
SKUS = [f"LUM-M{i:04d}" for i in range(250)]
TARGET = 2.0


def _setup() -> None:
    os.environ.setdefault("SIGNOFF_HOME", tempfile.mkdtemp(prefix="signoff-metrics-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signoff.config.settings")
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _history(pk: int, sku: str, channel: str, start: dt.datetime, rejected: bool) -> list:
    """One package's moves as record_many events, and its rejection time (or None)."""
    moves = [("package.drafted", "agent:copy_drafter", "S2/draft", "S3/in_review", None, 0)]
    at = 0.0
    if rejected:
        moves += [
            (
                "package.gate.rejected",
                "maya@lumen.example",
                "S3/in_review",
                "S2/rejected",
                "G2",
                20,
            ),
            ("package.drafted", "agent:copy_drafter", "S2/rejected", "S3/in_review", None, 21),
        ]
        at = 21
    moves += [
        ("package.reviewed", "maya@lumen.example", "S3/in_review", "S3/in_review", "G2", at + 5),
        (
            "package.gate.approved",
            "maya@lumen.example",
            "S3/in_review",
            "S5/in_review",
            "G2",
            at + 30,
        ),
        (
            "package.gate.approved",
            "omar@lumen.example",
            "S5/in_review",
            "S6/in_review",
            "G3",
            at + 70,
        ),
        (
            "package.gate.approved",
            "lena@lumen.example",
            "S6/in_review",
            "S6/approved",
            "G4",
            at + 80,
        ),
    ]
    return [
        {
            "action": action,
            "actor": actor,
            "actor_kind": "agent" if actor.startswith("agent:") else "person",
            "subject_type": "package",
            "subject_id": str(pk),
            "workspace": "lumen-home",
            "from_position": source,
            "to_position": target,
            "sku": sku,
            "channel": channel,
            "gate": gate,
            "data": {"hours": hours, "start": start.isoformat()},
        }
        for action, actor, source, target, gate, hours in moves
    ]


def _brief():  # noqa: ANN202 - returns (workspace, brief)
    """The Lumen Home workspace and spring brief, with 2,000 packages and their history."""
    from django.db import transaction

    from signoff.audit.services import record_many
    from signoff.briefs.services import add_brief
    from signoff.core.hashing import content_hash
    from signoff.packages.models import Note, Package, Version
    from signoff.workspaces.services import load_workspace

    demo = REPO / "src" / "signoff" / "demo" / "lumen-home"
    workspace, _ = load_workspace(demo / "workspace.yaml")
    brief = add_brief(demo / "briefs" / "spring-candles.yaml", products_csv=demo / "products.csv")
    brief = brief.brief
    version = brief.latest_version()
    start = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
    with transaction.atomic():
        packages = Package.objects.bulk_create(
            Package(
                brief=brief,
                sku=sku,
                channel=channel,
                variant=variant,
                stage="S6",
                state=Package.State.APPROVED,
                stage_entered_at=start,
            )
            for channel in CHANNELS
            for sku in SKUS
            for variant in "AB"
        )
        versions, notes, events = [], [], []
        for n, p in enumerate(packages):
            rejected = n % 5 == 0
            for number in (1, 2) if rejected else (1,):
                fields = {"title": f"{p.sku} candle v{number}"}
                versions.append(
                    Version(
                        package=p,
                        number=number,
                        fields=fields,
                        origin={"kind": "agent", "cost": 0.0004},
                        author="agent:copy_drafter",
                        brief_version=version,
                        content_hash=content_hash(fields),
                    )
                )
            if rejected:
                notes.append(
                    Note(
                        package=p,
                        person="maya@lumen.example",
                        kind=Note.Kind.REJECTION,
                        gate="G2",
                        rule_ids=["voice.banned_phrase"],
                        text="lead with the scent",
                    )
                )
            events += _history(p.pk, p.sku, p.channel, start, rejected)
        Version.objects.bulk_create(versions)
        Note.objects.bulk_create(notes)
        record_many(events)
    # record_many stamps every event "now" (the log's times cannot be set), so the cycle
    # times come out near 0: the work per event is the same as with real times.
    print(f"{len(packages)} packages, {len(versions)} versions, {len(events)} events")
    return workspace, brief


def _read(workspace, brief) -> None:  # noqa: ANN001
    from signoff.audit.models import Event
    from signoff.briefs.models import Brief
    from signoff.packages.models import Note, Package, Version

    list(Brief.objects.filter(pk=brief.pk))
    ids = list(
        Package.objects.filter(brief=brief).values_list(
            "id", "brief_id", "channel", "state", "current_version__origin__kind"
        )
    )
    pks = [r[0] for r in ids]
    list(
        Event.objects.filter(
            workspace=workspace.slug, subject_type="package", subject_id__in=[str(p) for p in pks]
        )
        .order_by("seq")
        .values_list(
            "subject_id", "occurred_at", "action", "actor", "from_position", "to_position", "gate"
        )
    )
    list(
        Version.objects.filter(package_id__in=pks).values_list(
            "package_id", "number", "author", "created_at", "origin"
        )
    )
    list(
        Note.objects.filter(package_id__in=pks, kind="rejection").values_list(
            "package_id", "gate", "person", "created_at", "rule_ids"
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    _setup()
    from signoff.metrics.selectors import operations_metrics

    workspace, brief = _brief()
    times: dict[str, list[float]] = {"read": [], "metrics": []}
    data = None
    for _ in range(args.repeat):
        # A full collection before each: otherwise one of the two pays for sweeping the
        # set-up's objects (400 ms here), whichever happens to cross the threshold.
        gc.collect()
        began = time.perf_counter()
        _read(workspace, brief)
        times["read"].append(time.perf_counter() - began)
        gc.collect()
        began = time.perf_counter()
        data = operations_metrics(workspace, brief=brief)
        times["metrics"].append(time.perf_counter() - began)
    read, metrics = (statistics.median(times[k]) for k in ("read", "metrics"))
    overall = data["overall"]
    print(
        f"read {read * 1000:.0f} ms · metrics {metrics * 1000:.0f} ms · "
        f"ratio {metrics / read:.2f}x (target {TARGET:.1f}x) · "
        f"first pass {overall['first_pass_rate']}, shipped {overall['shipped']}, "
        f"G2 median {overall['cycle_hours']['gates']['G2']['median']} h"
    )
    return 0 if metrics / read <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
