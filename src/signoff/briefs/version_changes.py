"""What changed between two brief versions, field by field, and where the CSV overrode the
brief: what the G1 page shows instead of a YAML text diff.

``field_changes`` is pure (two brief dicts in, rows out); ``version_changes`` reads the
previous version and the products of one page of SKUs, so it costs the same at 100 products
and at 70,000; ``recorded_conflicts`` reads the conflicts ``add_brief`` recorded in the
version's event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from signoff.audit.models import Event
from signoff.briefs.impact import fact_changes
from signoff.briefs.models import BriefVersion

# The brief's own fields in the order a person reads a brief; anything else after them.
FIELD_ORDER = (
    "name",
    "content_type",
    "template",
    "owner",
    "deadline",
    "audience",
    "hypothesis",
    "key_messages",
    "acceptance_criteria",
    "channels",
    "channel_messages",
    "markets",
    "variants",
    "required_attributes",
    "data_requests",
    "references",
    "budget",
)
SKIPPED = {"brief", "workspace", "products"}  # the id and the place; products come apart


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _shown(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, list):
        return "; ".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    return str(value)


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict]:
    """Each brief field whose value differs: its label, before and after, and for a list the
    items added and removed."""
    keys = [k for k in FIELD_ORDER if k in before or k in after]
    keys += sorted((before.keys() | after.keys()) - set(FIELD_ORDER) - SKIPPED)
    rows = []
    for key in keys:
        was, now = before.get(key), after.get(key)
        if was == now or (not was and not now):
            continue
        row = {"field": key, "label": _label(key), "before": _shown(was), "after": _shown(now)}
        if isinstance(was, list) or isinstance(now, list):
            old_items = [_shown(v) for v in was or []]
            new_items = [_shown(v) for v in now or []]
            row["added"] = [v for v in new_items if v not in old_items]
            row["removed"] = [v for v in old_items if v not in new_items]
        rows.append(row)
    return rows


def _facts(products: Iterable) -> dict[str, dict]:
    return {
        p.sku: {
            "name": p.name,
            "gtin": p.gtin,
            "price": None if p.price is None else f"{p.price:.2f} {p.currency}",
            "claims": p.claims,
            "images": p.images,
            **{f"attributes.{k}": v for k, v in p.attributes.items()},
        }
        for p in products
    }


def version_changes(version: BriefVersion | None, skus: list[str]) -> dict | None:
    """The changes from the previous version: the brief's fields, the SKUs added and removed
    (counts, and those of ``skus``), and the facts that changed for ``skus``. None for a
    first version."""
    if version is None or version.number <= 1:
        return None
    previous = BriefVersion.objects.filter(brief_id=version.brief_id, number=version.number - 1)
    previous = previous.first()
    if previous is None:
        return None
    old_skus = set(previous.products.values_list("sku", flat=True))
    new_skus = set(version.products.values_list("sku", flat=True))
    shown = set(skus)
    before = _facts(previous.products.filter(sku__in=shown))
    after = _facts(version.products.filter(sku__in=shown))
    products = []
    for sku, changes in fact_changes(before, after).items():
        if changes:
            products.append(
                {
                    "sku": sku,
                    "changes": [
                        {"fact": c.fact, "before": _shown(c.old), "after": _shown(c.new)}
                        for c in changes
                    ],
                }
            )
    return {
        "previous": previous.number,
        "fields": field_changes(previous.data, version.data),
        "added": sorted(new_skus - old_skus),
        "removed": sorted(old_skus - new_skus),
        "products": products,
    }


def recorded_conflicts(version: BriefVersion | None) -> dict:
    """The CSV-against-brief conflicts recorded when the version was added (the CSV won)."""
    if version is None:
        return {"rows": [], "total": 0, "recorded": False}
    event = (
        Event.objects.filter(
            action__in=("brief.added", "brief.version_added"),
            subject_type="brief",
            subject_id=str(version.brief_id),
            data__version=version.number,
        )
        .order_by("-seq")
        .first()
    )
    data = event.data if event else {}
    if "conflicts" not in data:
        return {"rows": [], "total": 0, "recorded": False}
    rows = [
        {"sku": sku, "fact": fact, "brief": brief, "csv": csv}
        for sku, fact, brief, csv in data["conflicts"]
    ]
    return {"rows": rows, "total": data.get("conflicts_total", len(rows)), "recorded": True}


def brief_changes_report(brief, limit: int = 500) -> dict:  # noqa: ANN001 - a Brief
    """The latest version's changes and conflicts, as the CLI and the API give them (the
    product facts of the first ``limit`` products, in brief order)."""
    version = brief.latest_version()
    skus = (
        list(version.products.order_by("position").values_list("sku", flat=True)[:limit])
        if version
        else []
    )
    return {
        "brief": brief.slug,
        "version": version.number if version else None,
        "changes": version_changes(version, skus),
        "conflicts": recorded_conflicts(version),
    }
