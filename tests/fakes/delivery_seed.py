"""Many published packages with their deliveries, fast: for the reliability tests and the
delivery benchmark, where going through drafting and three gates per package would only
measure those.

Packages are written directly as published (one version each) on a channel of the spring
brief, then :func:`signoff.outbox.services.enqueue_launch` writes their deliveries exactly as a
launch does, to the workspace's destinations for that channel.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from signoff.briefs.models import Brief
from signoff.core.hashing import content_hash
from signoff.outbox.services import enqueue_launch
from signoff.packages.models import Package, Version

CHANNEL = "meta_feed_ad"


def set_destinations(brief: Brief, destinations: list[dict]) -> None:
    workspace = brief.workspace
    workspace.destinations = destinations
    workspace.save(update_fields=["destinations"])


def seed_published(brief: Brief, count: int, *, channel: str = CHANNEL) -> list[int]:
    """Write ``count`` published packages on ``channel`` and their deliveries; return the
    delivery ids."""
    brief_version = brief.latest_version()
    now = timezone.now()
    with transaction.atomic():
        packages = Package.objects.bulk_create(
            [
                Package(
                    brief=brief,
                    sku=f"BULK-{n:05d}",
                    channel=channel,
                    stage="S6",
                    state=Package.State.PUBLISHED,
                    stage_entered_at=now,
                )
                for n in range(count)
            ],
            batch_size=500,
        )
        fields = [
            {"headline": f"Calm candle {n}", "primary_text": "Soy wax."} for n in range(count)
        ]
        versions = Version.objects.bulk_create(
            [
                Version(
                    package=package,
                    number=1,
                    fields=copy,
                    origin={"kind": "person", "note": "seeded"},
                    author="seed@lumen.example",
                    brief_version=brief_version,
                    content_hash=content_hash(copy),
                )
                for package, copy in zip(packages, fields, strict=True)
            ],
            batch_size=500,
        )
        for package, version in zip(packages, versions, strict=True):
            package.current_version = version
        Package.objects.bulk_update(packages, ["current_version"], batch_size=500)
        packages = list(
            Package.objects.filter(pk__in=[p.pk for p in packages])
            .select_related("brief__workspace", "current_version")
            .order_by("id")
        )
        return enqueue_launch(
            brief=brief,
            channel=channel,
            packages=packages,
            approvals=[[] for _ in packages],
            published_at=now,
            manifest_hash="0" * 64,
        )


SEED_SCRIPT = """
import json, os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "signoff.config.settings"
django.setup()
from pathlib import Path
from signoff.briefs.services import add_brief
from signoff.workspaces.services import load_workspace
from fakes.delivery_seed import seed_published, set_destinations
examples = Path(sys.argv[1])
load_workspace(examples / "workspace.yaml")
brief = add_brief(examples / "briefs" / "spring-candles.yaml",
                  products_csv=examples / "products.csv").brief
set_destinations(brief, json.loads(sys.argv[2]))
print(len(seed_published(brief, int(sys.argv[3]))))
"""

REPORT_SCRIPT = """
import json, os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "signoff.config.settings"
django.setup()
from signoff.outbox.models import Attempt, Delivery
rows = list(Delivery.objects.values("id", "state", "idempotency_key", "receiver_id",
                                     "attempts", "last_error"))
tries = list(Attempt.objects.values("delivery_id", "outcome", "error", "status"))
print(json.dumps({"deliveries": rows, "attempts": tries}))
"""
