"""Read the audit log and the packages' rows into the records ``compute`` works on.

A fixed number of queries whatever the size: the packages, their events (one index range on
``audit_event_workspace``), their versions (only the columns needed, cost read from the
origin JSON in Python), and the rejection notes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time

from django.utils import timezone

from signoff.audit.models import Event
from signoff.briefs.models import Brief
from signoff.briefs.workflow import template_for
from signoff.metrics.compute import (
    Move,
    PackageInfo,
    Records,
    Rejection,
    VersionInfo,
    follow,
    grouped,
    shipped_time,
)
from signoff.packages.models import Note, Package, Version
from signoff.workflow import GateLevel, Template
from signoff.workspaces.models import Workspace


def _gates_at(template: Template) -> dict[str, tuple[str, float]]:
    """Each position where a package waits on a gate: {"S3/in_review": ("G2", 48.0)}."""
    return {
        str(row.source): (gate.id, gate.sla_hours)
        for row in template.transitions
        if row.gate and row.action.value == "approve"
        for gate in [template.gate(row.gate)]
        if gate.level is GateLevel.PACKAGE
    }


def baseline_hours(workspace: Workspace) -> float | None:
    """The workspace file's ``metrics.manual_hours_per_package``, or None if not set."""
    value = (workspace.metrics or {}).get("manual_hours_per_package")
    return float(value) if value is not None else None


def since_moment(since: date | datetime | None) -> datetime | None:
    if since is None or isinstance(since, datetime):
        return since
    return datetime.combine(since, time.min, tzinfo=UTC)


def records_for(
    workspace: Workspace,
    *,
    brief: Brief | None = None,
    since: date | datetime | None = None,
) -> Records:
    """The records of every package of the workspace (or of one brief), counted from
    ``since``: waits and stays that ended before it, and older versions and rejections,
    are left out; a package counts as shipped only if it passed its last gate since."""
    start = since_moment(since)
    briefs = [brief] if brief is not None else list(Brief.objects.filter(workspace=workspace))
    templates: dict[str, dict[str, tuple[str, float]]] = {}
    slugs = {}
    for item in briefs:
        item.workspace = workspace
        if item.template not in templates:
            templates[item.template] = _gates_at(template_for(item))
        slugs[item.pk] = item.slug
    template_of = {b.pk: b.template for b in briefs}
    rows = list(
        Package.objects.filter(brief_id__in=list(slugs)).values_list(
            "id", "brief_id", "channel", "state", "current_version__origin__kind"
        )
    )
    moves: dict[int, list[Move]] = defaultdict(list)
    events = Event.objects.filter(workspace=workspace.slug, subject_type="package")
    if brief is not None:
        events = events.filter(subject_id__in=[str(r[0]) for r in rows])
    for subject, at, action, actor, source, target, gate in events.order_by("seq").values_list(
        "subject_id", "occurred_at", "action", "actor", "from_position", "to_position", "gate"
    ):
        if source and target:
            moves[int(subject)].append(Move(int(subject), at, action, actor, source, target, gate))
    records = Records(packages={})
    for pk, brief_id, channel, state, origin_kind in rows:
        mine = moves.get(pk, [])
        shipped_at = shipped_time(mine) if state in ("approved", "published") else None
        shipped = shipped_at is not None and (start is None or shipped_at >= start)
        info = PackageInfo(
            id=pk,
            brief=slugs[brief_id],
            channel=channel,
            gates_at=templates[template_of[brief_id]],
            shipped=shipped,
            ai_unedited=origin_kind == "agent",  # not a person's edit, nor an accepted fix
        )
        spans, waits = follow(info, mine)
        records.spans += [s for s in spans if start is None or s.end is None or s.end >= start]
        records.waits += [w for w in waits if start is None or w.end is None or w.end >= start]
        if shipped:
            records.shipped_at[pk] = shipped_at
        records.packages[pk] = info
    versions = Version.objects.filter(package_id__in=list(records.packages))
    notes = Note.objects.filter(package_id__in=list(records.packages), kind=Note.Kind.REJECTION)
    if start is not None:
        versions = versions.filter(created_at__gte=start)
        notes = notes.filter(created_at__gte=start)
    for package_id, number, author, at, origin in versions.values_list(
        "package_id", "number", "author", "created_at", "origin"
    ):
        cost = (origin or {}).get("cost") or 0.0
        records.versions.append(VersionInfo(package_id, number, author, at, float(cost)))
    for package_id, gate, person, at, rule_ids in notes.values_list(
        "package_id", "gate", "person", "created_at", "rule_ids"
    ):
        records.rejections.append(Rejection(package_id, gate, person, at, tuple(rule_ids or ())))
    return records


def operations_metrics(
    workspace: Workspace,
    *,
    brief: Brief | None = None,
    since: date | datetime | None = None,
    now: datetime | None = None,
) -> dict:
    """The operations metrics of a workspace (or one brief): overall and per brief, channel,
    gate, person and ISO week. See ``signoff.metrics.compute`` for the definitions."""
    now = now or timezone.now()
    records = records_for(workspace, brief=brief, since=since)
    baseline = baseline_hours(workspace)
    return {
        "workspace": workspace.slug,
        "brief": brief.slug if brief is not None else None,
        "since": since_moment(since).isoformat() if since else None,
        "computed_at": now.isoformat(),
        "manual_hours_per_package": baseline,
        **grouped(records, now=now, baseline_hours=baseline),
    }
