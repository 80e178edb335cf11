"""What each role decides, above the dashboard's widgets: reads only.

- everyone: comments that mention them and nobody has resolved yet;
- compliance: the claims registry at a glance (claims that hold packages, by status);
- the CMO decides the channel mix and when each channel launches: per brief and channel, how
  many packages are ready, blocked or still in review, against the brief's deadline;
- the CEO decides whether the set works as one campaign and what it brought: per brief, the
  coherence of the set (consistency findings, claims that hold it, sent-back packages) and its
  outcomes (launched channels, published packages, deliveries).

Kept apart from the widget registry (``dashboards``), which other widgets extend: this is
one include (``web/_role_dashboard.html``) and one API endpoint (``GET /api/dashboard/role``).
Each section runs a fixed number of queries whatever the number of packages.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict

from django.db.models import Count, F
from django.utils import timezone

from signoff.briefs.models import Brief, BriefVersion
from signoff.comments.services import as_row, open_mentions
from signoff.delivery.models import Launch
from signoff.outbox.models import Delivery
from signoff.packages.models import Finding, Package
from signoff.workspaces.models import Claim, Person

COHERENCE_AGENT = "consistency_auditor"


def _briefs(person: Person) -> list[Brief]:
    return list(Brief.objects.filter(workspace_id=person.workspace_id).order_by("-created_at"))


def _deadlines(briefs: list[Brief]) -> dict[int, datetime.date | None]:
    """Each brief's deadline, from its approved version (or its latest)."""
    versions = list(
        BriefVersion.objects.filter(brief__in=briefs)
        .order_by("brief_id", "number")
        .only("brief_id", "number", "data")
    )
    latest = {v.brief_id: v for v in versions}
    by_id = {v.pk: v for v in versions}
    chosen = {}
    for brief in briefs:
        version = by_id.get(brief.approved_version_id) or latest.get(brief.pk)
        raw = (version.data or {}).get("deadline") if version else None
        chosen[brief.pk] = datetime.date.fromisoformat(raw) if raw else None
    return chosen


def mentions(person: Person) -> list[dict]:
    return [
        {
            **as_row(m.comment),
            "brief": m.comment.package.brief.slug,
            "sku": m.comment.package.sku,
            "channel": m.comment.package.channel,
        }
        for m in open_mentions(person)
    ]


def claims_summary(person: Person) -> dict:
    """Claims by status, and how many packages each not-approved claim holds blocked."""
    claims = list(Claim.objects.filter(workspace_id=person.workspace_id).order_by("claim_id"))
    held: Counter[str] = Counter()
    blocked = Package.objects.filter(
        brief__workspace_id=person.workspace_id, state=Package.State.BLOCKED
    ).values_list("blocked_reasons", flat=True)
    for reasons in blocked:
        for reason in reasons or []:
            if reason.get("claim"):
                held[reason["claim"]] += 1
    return {
        "by_status": dict(Counter(c.status for c in claims)),
        "holding": [
            {"claim": c.claim_id, "status": c.status, "blocked": held[c.claim_id]}
            for c in claims
            if held[c.claim_id]
        ],
    }


def cmo_launch_plan(person: Person) -> list[dict]:
    """Per brief and channel: ready, in review, blocked, launched, against the deadline."""
    briefs = _briefs(person)
    deadlines = _deadlines(briefs)
    counts = (
        Package.objects.filter(brief__in=briefs)
        .values("brief_id", "channel", "state")
        .annotate(n=Count("id"))
    )
    cells: dict[tuple[int, str], Counter] = defaultdict(Counter)
    for row in counts:
        cells[(row["brief_id"], row["channel"])][row["state"]] += row["n"]
    launched = {
        (launch.brief_id, launch.channel): launch
        for launch in Launch.objects.filter(brief__in=briefs)
    }
    today = timezone.localdate()
    plan = []
    for brief in briefs:
        channels = []
        for (brief_id, channel), states in sorted(cells.items()):
            if brief_id != brief.pk:
                continue
            total = sum(states.values())
            ready = states[Package.State.APPROVED] + states[Package.State.PUBLISHED]
            launch = launched.get((brief.pk, channel))
            channels.append(
                {
                    "channel": channel,
                    "total": total,
                    "ready": ready,
                    "in_review": states[Package.State.IN_REVIEW] + states[Package.State.DRAFT],
                    "blocked": states[Package.State.BLOCKED],
                    "sent_back": states[Package.State.REJECTED],
                    "launched": launch.created_at if launch else None,
                    "decision": _launch_call(ready, total, launch is not None),
                }
            )
        deadline = deadlines.get(brief.pk)
        plan.append(
            {
                "brief": brief,
                "deadline": deadline,
                "days_left": (deadline - today).days if deadline else None,
                "days_late": (today - deadline).days if deadline and deadline < today else 0,
                "channels": channels,
            }
        )
    return plan


def _launch_call(ready: int, total: int, launched: bool) -> str:
    if launched:
        return "launched"
    if total and ready == total:
        return "ready to launch"
    return f"{total - ready} of {total} not ready"


def ceo_set(person: Person) -> list[dict]:
    """Per brief: does the set read as one campaign (coherence) and what did it bring."""
    briefs = _briefs(person)
    packages = Package.objects.filter(brief__in=briefs)
    states = defaultdict(Counter)
    for row in packages.values("brief_id", "state").annotate(n=Count("id")):
        states[row["brief_id"]][row["state"]] += row["n"]
    incoherent = defaultdict(set)
    coherence = Finding.objects.filter(
        agent=COHERENCE_AGENT, version__package__brief__in=briefs
    ).filter(version__package__current_version=F("version"))  # open on the current version
    for brief_id, package_id in coherence.values_list(
        "version__package__brief_id", "version__package_id"
    ):
        incoherent[brief_id].add(package_id)
    claim_held = Counter()
    for brief_id, reasons in packages.filter(state=Package.State.BLOCKED).values_list(
        "brief_id", "blocked_reasons"
    ):
        if any(r.get("claim") for r in reasons or []):
            claim_held[brief_id] += 1
    launches = Counter(Launch.objects.filter(brief__in=briefs).values_list("brief_id", flat=True))
    deliveries = defaultdict(Counter)
    for row in (
        Delivery.objects.filter(brief__in=briefs)
        .values("brief_id", "state")
        .annotate(n=Count("id"))
    ):
        deliveries[row["brief_id"]][row["state"]] += row["n"]
    out = []
    for brief in briefs:
        total = sum(states[brief.pk].values())
        consistent = total - len(incoherent[brief.pk])
        out.append(
            {
                "brief": brief,
                "total": total,
                "consistent": consistent,
                "coherence": round(100 * consistent / total) if total else None,
                "inconsistent": len(incoherent[brief.pk]),
                "claim_blocked": claim_held[brief.pk],
                "sent_back": states[brief.pk][Package.State.REJECTED],
                "published": states[brief.pk][Package.State.PUBLISHED],
                "channels_launched": launches[brief.pk],
                "delivered": deliveries[brief.pk][Delivery.State.DELIVERED],
                "failed": deliveries[brief.pk][Delivery.State.FAILED]
                + deliveries[brief.pk][Delivery.State.DEAD],
            }
        )
    return out


def role_panels(person: Person) -> dict:
    """The sections the person's roles decide on; mentions for everyone."""
    roles = set(person.roles)
    return {
        "mentions": mentions(person),
        "claims_summary": claims_summary(person) if "compliance" in roles else None,
        "cmo_plan": cmo_launch_plan(person) if "cmo" in roles else None,
        "ceo_set": ceo_set(person) if "ceo" in roles else None,
    }
