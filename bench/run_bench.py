"""Benchmark `signoff run` on a generated brief of 100 SKUs x 20 channels (2,000 packages).

Reports packages per second and the ratio to a bare bulk insert of the same number of
package, version and finding rows (same database, same process, same row contents).

    python bench/run_bench.py                       # embedded SQLite in a temporary home
    SIGNOFF_DATABASE_URL=postgres://... python bench/run_bench.py   # PostgreSQL

Target (issue #2): run time at most 2x the bare insert.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
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
    """Bulk-insert copies of the run's package, version and finding rows; return seconds."""
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
                            brief_version=v.brief_version,
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
                )
                for old, n in new_versions
                for f in by_version.get(old.pk, [])
            ),
            batch_size=2000,
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="signoff-bench-"))
    os.environ.setdefault("SIGNOFF_HOME", str(tmp))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signoff.config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from signoff.briefs.models import Brief
    from signoff.briefs.services import add_brief
    from signoff.packages.models import Finding, Package
    from signoff.packages.services import run_brief
    from signoff.workspaces.services import load_workspace

    call_command("migrate", verbosity=0)
    vendor = (
        "SQLite" if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else "PostgreSQL"
    )
    stamp = str(int(time.time()))
    workspace, _ = load_workspace(_workspace(tmp, f"bench-{stamp}"))
    runs, bares = [], []
    for i in range(args.repeat):
        report = add_brief(
            _brief(tmp, f"run-{stamp}-{i}", workspace.slug, workspace.channels, args.skus)
        )
        start = time.perf_counter()
        summary = run_brief(report.brief)
        runs.append(time.perf_counter() - start)
        bare_brief = Brief.objects.create(
            workspace=workspace,
            slug=f"bare-{stamp}-{i}",
            name="bare",
            content_type="ecommerce",
            template="ecommerce",
        )
        bares.append(_bare_insert(bare_brief, report.brief))
    packages = Package.objects.filter(brief=report.brief).count()
    findings = Finding.objects.filter(version__package__brief=report.brief).count()
    run_s, bare_s = statistics.median(runs), statistics.median(bares)
    print(
        f"database: {vendor}; packages: {packages} ({args.skus} SKUs x "
        f"{len(workspace.channels)} channels); findings: {findings}; drafted: {summary.drafted}"
    )
    print(f"run: median {run_s:.3f} s of {args.repeat} ({packages / run_s:.0f} packages/s)")
    print(f"bare bulk insert of the same rows: median {bare_s:.3f} s")
    print(f"ratio run / bare insert: {run_s / bare_s:.2f} (target <= 2.0)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
