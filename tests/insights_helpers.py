"""What the insights tests share: launched packages made directly (no drafting, no gates),
so an import has something to measure in milliseconds rather than a whole run."""

from __future__ import annotations

import datetime as dt

from signoff.briefs.models import Brief
from signoff.core.hashing import content_hash
from signoff.delivery.models import Launch
from signoff.packages.models import Package, Version

LAUNCHED = dt.datetime(2027, 2, 15, 9, 0, tzinfo=dt.UTC)
HEADER = "date,channel,sku,variant,impressions,clicks,add_to_cart,orders,revenue,spend\n"


def launch(
    brief: Brief,
    cells: list[tuple[str, str, str]],
    *,
    at: dt.datetime = LAUNCHED,
    leads: dict[str, str] | None = None,
) -> dict[tuple[str, str, str], Package]:
    """Publish packages for (channel, sku, variant) cells and record their channels' launches.

    ``leads`` gives a variant's recorded lead (as the builtin drafter records it)."""
    version = brief.latest_version()
    made: dict[tuple[str, str, str], Package] = {}
    for channel, sku, variant in cells:
        package = Package.objects.create(
            brief=brief,
            sku=sku,
            channel=channel,
            variant=variant,
            stage="S6",
            state=Package.State.PUBLISHED,
            stage_entered_at=at,
        )
        fields = {"headline": f"{sku} {'short' if variant == 'A' else 'a much longer title ' * 3}"}
        current = Version.objects.create(
            package=package,
            number=1,
            fields=fields,
            origin={
                "kind": "agent",
                "parameters": {"tone": "calm", "lead": (leads or {}).get(variant, "scent")},
            },
            author="agent:copy_drafter",
            brief_version=version,
            content_hash=content_hash(fields),
        )
        package.current_version = current
        package.save(update_fields=["current_version"])
        made[(channel, sku, variant)] = package
    for channel in sorted({c for c, _, _ in cells}):
        ids = [p.pk for key, p in made.items() if key[0] == channel]
        record = Launch.objects.create(
            brief=brief, channel=channel, person="lena@lumen.example", packages=ids
        )
        Launch.objects.filter(pk=record.pk).update(created_at=at)
    return made


def csv_text(rows: list[tuple]) -> str:
    """A performance CSV of (date, channel, sku, variant, impressions, clicks, orders) rows."""
    lines = [
        f"{d},{ch},{sku},{v},{i},{c},{o},{o},{o * 30}.00,{i // 100}.50"
        for d, ch, sku, v, i, c, o in rows
    ]
    return HEADER + "\n".join(lines) + "\n"
