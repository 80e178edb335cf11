"""Reads for the board, "what is blocking this launch?" and one package. Constant queries."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, F, IntegerField, Q, QuerySet, Value
from django.utils import timezone

from signoff.briefs.completeness import fact_label
from signoff.briefs.models import Brief, Product
from signoff.channels.catalog import resolve_spec
from signoff.core.errors import NotFound
from signoff.packages.claims import CLAIM_KEEPERS
from signoff.packages.confidence import CAREFUL_READ_BELOW, careful_read
from signoff.packages.diffing import describe_changes
from signoff.packages.image_slots import missing_slots, required_slots
from signoff.packages.models import Finding, Package, Version
from signoff.workspaces.rules import brand_rules
from signoff.workspaces.selectors import role_holders

SEVERITIES = ("block", "warn", "info")
# How the board may be sorted: by id (the order packages were made), or by confidence, lowest
# first (what a reviewer should read first), packages with no draft (no score) last.
SORTS = ("id", "confidence")


def careful_read_below(workspace: object) -> int:
    """The workspace's threshold for "needs a careful read" (``policies.careful_read_below``)."""
    policies = getattr(workspace, "policies", None) or {}
    return int(policies.get("careful_read_below", CAREFUL_READ_BELOW))


def board(
    brief: Brief,
    *,
    channel: str | None = None,
    sku: str | None = None,
    state: str | None = None,
    severity: str | None = None,
    sort: str = "id",
) -> QuerySet[Package]:
    """Return the brief's packages with finding counts per severity, in one query."""
    counts = {
        f"{s}_findings": Count(
            "current_version__findings", filter=Q(current_version__findings__severity=s)
        )
        for s in SEVERITIES
    }
    if sort not in SORTS:
        raise ValueError(f"unknown board sort {sort!r}; expected one of {', '.join(SORTS)}")
    order = ("id",) if sort == "id" else (F("confidence").asc(nulls_last=True), "id")
    packages = (
        Package.objects.filter(brief=brief)
        .annotate(
            **counts,
            careful_below=Value(careful_read_below(brief.workspace), IntegerField()),
        )
        .order_by(*order)
    )
    if channel:
        packages = packages.filter(channel=channel)
    if sku:
        packages = packages.filter(sku=sku)
    if state:
        packages = packages.filter(state=state)
    if severity:
        packages = packages.filter(**{f"{severity}_findings__gt": 0})
    return packages


def board_row(package: Package, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    return {
        "id": package.pk,
        "sku": package.sku,
        "channel": package.channel,
        "market": package.market,
        "variant": package.variant,
        "stage": package.stage,
        "state": package.state,
        "owner": package.owner,
        "time_in_stage_seconds": int((now - package.stage_entered_at).total_seconds()),
        "confidence": package.confidence,
        "findings": {s: getattr(package, f"{s}_findings", 0) for s in SEVERITIES},
        "blocking_reason": blocking_reason(package),
        "careful_read": careful_read(package.confidence, getattr(package, "careful_below", None)),
    }


def blocking_reason(package: Package) -> str:
    if package.blocked_reasons:
        missing = [r["field"] for r in package.blocked_reasons if r["kind"] == "missing_data"]
        others = [r["message"] for r in package.blocked_reasons if r["kind"] != "missing_data"]
        parts = [f"missing {', '.join(fact_label(f) for f in missing)}"] if missing else []
        return "; ".join(parts + others)
    blocks = getattr(package, "block_findings", 0)
    if blocks:
        return f"{blocks} blocking finding{'s' if blocks != 1 else ''}"
    return ""


def blocking(brief: Brief) -> dict:
    """Answer "what is blocking this launch?", grouped by cause. Five queries.

    ``other_blocks`` (a flagged or withdrawn claim, any cause but missing data) says per group
    the claim (or None), an example message, the packages, and ``released_by``: each role that
    can release them with the people holding it.
    """
    from signoff.briefs.workflow import brief_gate, template_for
    from signoff.workflow import Position, gate_for

    template = template_for(brief)
    packages = list(board(brief))
    missing: dict[str, dict] = {}
    waiting: dict[str, dict] = {}
    other: dict[str, dict] = {}
    for package in packages:
        for reason in package.blocked_reasons:
            if reason.get("kind") != "missing_data":
                key = reason.get("claim") or reason.get("kind", "other")
                entry = other.setdefault(
                    key,
                    {
                        "cause": reason.get("kind", "other"),
                        "claim": reason.get("claim"),
                        "example": reason["message"],
                        "packages": [],
                    },
                )
                entry["packages"].append(package.pk)
                continue
            entry = missing.setdefault(
                package.sku,
                {"sku": package.sku, "fields": set(), "channels": set(), "packages": []},
            )
            entry["fields"].add(reason["field"])
            entry["channels"].add(package.channel)
            if package.pk not in entry["packages"]:
                entry["packages"].append(package.pk)
        gate = gate_for(
            Position.parse(package.position, blocked_from=package.blocked_from), template
        )
        if package.state == Package.State.IN_REVIEW and gate is not None:
            entry = waiting.setdefault(
                gate.id, {"gate": gate.id, "role": gate.owner.value, "packages": []}
            )
            entry["packages"].append(package.pk)
    findings = Finding.objects.filter(
        version__package__brief=brief,
        version__package__current_version=F("version"),
        severity="block",
    ).values("rule_id", "agent", "message", "version__package_id")
    by_rule: dict[str, dict] = {}
    for finding in findings:
        entry = by_rule.setdefault(
            finding["rule_id"],
            {
                "rule_id": finding["rule_id"],
                "agent": finding["agent"],
                "example": finding["message"],
                "packages": [],
            },
        )
        if finding["version__package_id"] not in entry["packages"]:
            entry["packages"].append(finding["version__package_id"])
    holders = role_holders(brief.workspace_id)
    first_gate = brief_gate(template)
    if first_gate is not None and brief.state != Package.State.APPROVED:
        waiting = {
            first_gate.id: {
                "gate": first_gate.id,
                "role": first_gate.owner.value,
                "packages": [],
                "brief": brief.slug,
            },
            **waiting,
        }
    for entry in waiting.values():
        entry["people"] = holders.get(entry["role"], [])
    for entry in other.values():
        # A claim block is released by the claims registry's keepers reinstating the claim
        # (or, per package, by an edit that drops it); other causes name no role.
        keepers = sorted(CLAIM_KEEPERS) if entry["claim"] else []
        entry["released_by"] = [
            {"role": r.value, "people": holders.get(r.value, [])} for r in keepers
        ]
    return {
        "brief": brief.slug,
        "packages": len(packages),
        "ready": sum(1 for p in packages if p.state == Package.State.APPROVED),
        "missing_data": [
            {
                **e,
                "fields": sorted(e["fields"]),
                "labels": [fact_label(f) for f in sorted(e["fields"])],
                "channels": sorted(e["channels"]),
            }
            for e in missing.values()
        ],
        "other_blocks": list(other.values()),
        "blocking_findings": sorted(by_rule.values(), key=lambda e: -len(e["packages"])),
        "missing_images": _missing_images(brief, packages),
        "waiting_on_gate": list(waiting.values()),
    }


def _missing_images(brief: Brief, packages: list[Package]) -> list[dict]:
    """Per channel, the drafted packages whose required image slots are still empty (the
    last gate and launch refuse them). One query for the versions' images."""
    overrides = brief.workspace.channel_overrides
    required = {
        channel: required_slots(resolve_spec(channel, overrides.get(channel)))
        for channel in {p.channel for p in packages}
    }
    drafted = [
        p
        for p in packages
        if p.current_version_id and required[p.channel] and p.state != Package.State.PUBLISHED
    ]
    images = dict(
        Version.objects.filter(pk__in=[p.current_version_id for p in drafted]).values_list(
            "pk", "images"
        )
    )
    by_channel: dict[str, dict] = {}
    for package in drafted:
        empty = missing_slots(required[package.channel], images.get(package.current_version_id))
        if not empty:
            continue
        entry = by_channel.setdefault(
            package.channel, {"channel": package.channel, "slots": set(), "packages": []}
        )
        entry["slots"].update(empty)
        entry["packages"].append(package.pk)
    return [
        {**entry, "slots": [s for s in required[channel] if s in entry["slots"]]}
        for channel, entry in sorted(by_channel.items())
    ]


def get_package(ref: str) -> Package:
    """Find a package by id, or by ``brief/SKU/channel[/variant[/market]]``."""
    query = Package.objects.select_related("brief", "brief__workspace", "current_version")
    if ref.isdigit():
        found = list(query.filter(pk=int(ref)))
    else:
        parts = ref.split("/")
        if len(parts) < 3:
            raise NotFound(f"no package {ref!r}: give its id or brief/SKU/channel[/variant]")
        lookup = {"brief__slug": parts[0], "sku": parts[1], "channel": parts[2]}
        if len(parts) > 3:
            lookup["variant"] = parts[3]
        if len(parts) > 4:
            lookup["market"] = parts[4]
        found = list(query.filter(**lookup)[:2])
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound(f"no package {ref!r}")
    raise NotFound(f"{ref!r} matches several packages; add the variant or use the id")


def package_detail(package: Package) -> dict:
    version = package.current_version
    findings = list(version.findings.all()) if version else []
    return {
        "id": package.pk,
        "brief": package.brief.slug,
        "sku": package.sku,
        "channel": package.channel,
        "market": package.market,
        "variant": package.variant,
        "stage": package.stage,
        "state": package.state,
        "owner": package.owner,
        "confidence": package.confidence,
        "careful_read": careful_read(
            package.confidence, careful_read_below(package.brief.workspace)
        ),
        "completeness": package.completeness,
        "blocked_reasons": package.blocked_reasons,
        "version": None
        if version is None
        else {
            "number": version.number,
            "content_hash": version.content_hash,
            "author": version.author,
            "created_at": version.created_at.isoformat(),
            "origin": version.origin,
            "fields": version.fields,
        },
        "findings": [
            {
                "id": f.pk,
                "agent": f.agent,
                "rule_id": f.rule_id,
                "severity": f.severity,
                "field": f.field,
                "span": [f.span_start, f.span_end] if f.span_start is not None else None,
                "message": f.message,
                "suggested_fix": f.suggested_fix,
                "related": f.related,
            }
            for f in findings
        ],
    }


def sla_report(brief: Brief, now: datetime | None = None) -> list[dict]:
    """Return packages waiting on a gate longer than its SLA, oldest first."""
    from signoff.briefs.workflow import template_for
    from signoff.workflow import Position, gate_for

    now = now or timezone.now()
    template = template_for(brief)
    holders = role_holders(brief.workspace_id)
    rows = []
    for package in Package.objects.filter(brief=brief, state=Package.State.IN_REVIEW).order_by(
        "stage_entered_at", "id"
    ):
        gate = gate_for(Position.parse(package.position), template)
        if gate is None:
            continue
        waited = (now - package.stage_entered_at).total_seconds() / 3600
        if waited > gate.sla_hours:
            rows.append(
                {
                    "id": package.pk,
                    "sku": package.sku,
                    "channel": package.channel,
                    "variant": package.variant,
                    "gate": gate.id,
                    "owner_role": gate.owner.value,
                    "people": holders.get(gate.owner.value, []),
                    "waiting_hours": round(waited, 1),
                    "sla_hours": gate.sla_hours,
                    "overdue_hours": round(waited - gate.sla_hours, 1),
                }
            )
    return rows


def version_changes(package: Package, old: Version, new: Version) -> list[str]:
    """The diff reporter's lines from ``old`` to ``new``: fields, facts, and claims (which
    need the workspace's claims registry and the product's own claims)."""
    return changes_between(package, [(old, new)])[0]


def changes_between(package: Package, pairs: list[tuple[Version, Version]]) -> list[list[str]]:
    """``version_changes`` for each ``(old, new)`` pair of one package's versions, reading the
    claims registry and the product facts once for all of them."""
    if not pairs:
        return []
    rules = brand_rules(package.brief.workspace)
    products = {
        product.brief_version_id: product.facts()
        for product in Product.objects.filter(
            brief_version_id__in={new.brief_version_id for _, new in pairs}, sku=package.sku
        )
    }
    return [
        describe_changes(
            old.fields, new.fields, rules=rules, product=products.get(new.brief_version_id)
        )
        for old, new in pairs
    ]
