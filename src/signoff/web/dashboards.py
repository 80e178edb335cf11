"""Dashboards per role: a registry of widgets and each person's saved layout.

A widget is a name, a title and a builder ``(person, workspace) -> context``. Every builder
reads across all briefs of the person's workspace and runs a fixed number of queries whatever
the number of packages, so the dashboard costs the same at 36 packages and at 2,000.
Reads only, like ``pages``: the one write here is the person's own layout.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from signoff.audit import scope as audit_scope
from signoff.audit.models import Event
from signoff.audit.registry import PACKAGE_GATE_APPROVED
from signoff.audit.selectors import history
from signoff.briefs.completeness import fact_label
from signoff.briefs.models import Brief
from signoff.briefs.workflow import brief_gate, template_for
from signoff.metrics.widgets import operations, operations_weekly
from signoff.packages.models import Finding, Package
from signoff.packages.selectors import blocking_reason, sla_report
from signoff.web.models import DashboardLayout
from signoff.web.pages import duration, urgency, waiting_on_roles
from signoff.workflow import Gate, GateLevel, PackageState, Position, Template, gate_for
from signoff.workspaces.models import Person, Workspace

ROWS = 10  # rows a list widget shows; the rest is a count and a link to the board
WINDOW = timedelta(days=7)  # "recently", for throughput and agent activity
PACKAGE_DECISIONS = (PACKAGE_GATE_APPROVED, "package.gate.rejected")
DECISIONS = (*PACKAGE_DECISIONS, "brief.gate.approved", "brief.gate.rejected")
DRAFT_EVENTS = ("package.drafted", "package.draft_failed")
STATE_ORDER = [s.value for s in PackageState]

Builder = Callable[[Person, Workspace], dict]


class UnknownWidget(ValueError):
    """A layout change named a widget the registry does not have."""

    def __init__(self, name: str) -> None:
        self.name = name
        known = ", ".join(WIDGETS)
        super().__init__(f"Unknown widget {name!r}. Known widgets: {known}.")


@dataclass(frozen=True)
class Widget:
    name: str
    title: str
    description: str  # one line, shown in the "add a widget" menu
    builder: Builder

    @property
    def template(self) -> str:
        return f"web/_widget_{self.name}.html"


# --- shared reads ---------------------------------------------------------------------------


def _briefs(workspace: Workspace) -> list[Brief]:
    """Return the workspace's briefs (one query), with the workspace already attached.

    Attaching it saves ``template_for`` (and ``sla_report``) one query per brief.
    """
    briefs = list(Brief.objects.filter(workspace=workspace).order_by("-created_at"))
    for brief in briefs:
        brief.workspace = workspace
    return briefs


def _templates(briefs: list[Brief]) -> dict[str, Template]:
    """Return each template the briefs use, by name; gate settings are per workspace."""
    templates: dict[str, Template] = {}
    for brief in briefs:
        if brief.template not in templates:
            templates[brief.template] = template_for(brief)
    return templates


def _gates(templates: dict[str, Template]) -> dict[str, Gate]:
    """Return every package-level gate by id, in the order packages meet them."""
    gates: dict[str, Gate] = {}
    for template in templates.values():
        for gate in template.gates:
            if gate.level is GateLevel.PACKAGE:
                gates.setdefault(gate.id, gate)
    return gates


def _gate_of(package: Package, templates: dict[str, Template]) -> Gate | None:
    template = templates.get(package.brief.template)
    if template is None or package.state != PackageState.IN_REVIEW:
        return None
    return gate_for(Position.parse(package.position), template)


def _names(workspace: Workspace) -> dict[str, str]:
    """Return each person's name by email (one query), to show decisions by name."""
    return dict(Person.objects.filter(workspace=workspace).values_list("email", "name"))


# --- the widgets ----------------------------------------------------------------------------


def my_queue(person: Person, workspace: Workspace) -> dict:
    """Packages waiting on a gate one of the person's roles owns, oldest first. Four queries."""
    briefs = _briefs(workspace)
    templates = _templates(briefs)
    condition = Q(pk__in=[])
    for name, template in templates.items():
        condition |= Q(brief__template=name) & waiting_on_roles(template, person.roles)
    waiting = Package.objects.filter(brief__workspace=workspace).filter(condition)
    per_brief = {
        row["brief_id"]: row["n"]
        for row in waiting.values("brief_id").annotate(n=Count("id")).order_by()
    }
    now = timezone.now()
    rows = []
    for package in waiting.select_related("brief").order_by("stage_entered_at", "id")[:ROWS]:
        gate = _gate_of(package, templates)
        waited = (now - package.stage_entered_at).total_seconds()
        rows.append(
            {
                "package": package,
                "gate": gate,
                "waited": duration(waited),
                "urgency": urgency(gate, waited, package.state),
            }
        )
    # The brief-level gate (G1) is decided on the brief itself, not on packages.
    brief_waits = []
    for brief in briefs:
        gate = brief_gate(templates[brief.template])
        if (
            gate is not None
            and gate.owner.value in person.roles
            and brief.state == PackageState.IN_REVIEW
        ):
            brief_waits.append({"brief": brief, "gate": gate})
    return {
        "total": sum(per_brief.values()),
        "rows": rows,
        "per_brief": [
            {"brief": b, "count": per_brief[b.pk]} for b in briefs if per_brief.get(b.pk)
        ],
        "briefs": brief_waits,
        "roles": person.roles,
    }


def blocked(person: Person, workspace: Workspace) -> dict:
    """Blocked packages and why, grouped by cause. One query."""
    packages = list(
        Package.objects.filter(brief__workspace=workspace, state=PackageState.BLOCKED)
        .select_related("brief")
        .only("id", "sku", "channel", "variant", "blocked_reasons", "brief__slug", "brief__name")
        .order_by("stage_entered_at", "id")
    )
    causes: Counter[str] = Counter()
    for package in packages:
        # A package counts once per cause, however many fields of that cause it misses.
        seen = set()
        for reason in package.blocked_reasons:
            if reason.get("kind") == "missing_data":
                seen.add(f"missing {fact_label(reason['field'])}")
            else:
                seen.add(reason.get("message") or reason.get("kind", "other"))
        causes.update(seen or {"blocked"})
    return {
        "total": len(packages),
        "causes": causes.most_common(6),
        "rows": [{"package": p, "reason": blocking_reason(p)} for p in packages[:ROWS]],
    }


def sla_breaches(person: Person, workspace: Workspace) -> dict:
    """Packages over their gate's SLA, most overdue first, from ``sla_report`` per brief.

    One query finds the briefs that can have a breach at all; ``sla_report`` then costs two
    queries per such brief. The count follows briefs in breach, never the number of packages.
    """
    briefs = _briefs(workspace)
    templates = _templates(briefs)
    gates = [g for t in templates.values() for g in t.gates if g.sla_hours]
    rows: list[dict] = []
    if gates:
        now = timezone.now()
        shortest = timedelta(hours=min(g.sla_hours for g in gates))
        late = set(
            Package.objects.filter(
                brief__workspace=workspace,
                state=PackageState.IN_REVIEW,
                stage_entered_at__lt=now - shortest,
            )
            .values_list("brief_id", flat=True)
            .distinct()
        )
        for brief in briefs:
            if brief.pk in late:
                rows += [{**row, "brief": brief} for row in sla_report(brief, now)]
    rows.sort(key=lambda r: (-r["overdue_hours"], r["id"]))
    for row in rows:
        row["overdue"] = duration(row["overdue_hours"] * 3600)
    return {"total": len(rows), "rows": rows[:ROWS]}


def pipeline(person: Person, workspace: Workspace) -> dict:
    """Package counts per stage and state, across briefs. Two queries."""
    templates = _templates(_briefs(workspace))
    labels: dict[str, str] = {}
    for template in templates.values():
        for info in template.stages:
            labels.setdefault(info.stage.value, info.label)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for stage, state, n in (
        Package.objects.filter(brief__workspace=workspace)
        .values_list("stage", "state")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[stage][state] += n
    states = [s for s in STATE_ORDER if any(counts[stage].get(s) for stage in counts)]
    order = list(labels)
    stages = sorted(counts, key=lambda s: (order.index(s) if s in order else len(order), s))
    totals = {stage: sum(counts[stage].values()) for stage in stages}
    return {
        "states": states,
        "rows": [
            {
                "stage": stage,
                "label": labels.get(stage, ""),
                "cells": [counts[stage].get(s, 0) for s in states],
                "total": totals[stage],
            }
            for stage in stages
        ],
        "total": sum(totals.values()),
        "widest": max(totals.values(), default=0),
    }


def gate_throughput(person: Person, workspace: Workspace) -> dict:
    """Approvals (and rejections) per gate in the last seven days, from the audit log. Two
    queries."""
    gates = _gates(_templates(_briefs(workspace)))
    since = timezone.now() - WINDOW
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"approved": 0, "rejected": 0})
    for gate, action, n in (
        Event.objects.filter(
            workspace=workspace.slug, action__in=PACKAGE_DECISIONS, occurred_at__gte=since
        )
        .values_list("gate", "action")
        .annotate(n=Count("seq"))
        .order_by()
    ):
        counts[gate or ""]["approved" if action == PACKAGE_GATE_APPROVED else "rejected"] += n
    ids = list(gates) + sorted(g for g in counts if g not in gates)
    rows = [
        {
            "gate": gate_id,
            "label": gates[gate_id].label if gate_id in gates else "",
            "role": gates[gate_id].owner.value if gate_id in gates else "",
            **counts[gate_id],
        }
        for gate_id in ids
    ]
    return {
        "rows": rows,
        "approved": sum(r["approved"] for r in rows),
        "widest": max((r["approved"] for r in rows), default=0),
        "since": since,
    }


def agent_activity(person: Person, workspace: Workspace) -> dict:
    """Drafts and findings per agent in the last seven days. Two queries."""
    since = timezone.now() - WINDOW
    agents: dict[str, dict[str, int]] = defaultdict(
        lambda: {"drafts": 0, "failed": 0, "block": 0, "warn": 0, "info": 0}
    )
    for actor, action, n in (
        Event.objects.filter(
            workspace=workspace.slug, action__in=DRAFT_EVENTS, occurred_at__gte=since
        )
        .values_list("actor", "action")
        .annotate(n=Count("seq"))
        .order_by()
    ):
        agents[actor.removeprefix("agent:")][
            "drafts" if action == DRAFT_EVENTS[0] else "failed"
        ] += n
    for agent, severity, n in (
        Finding.objects.filter(
            version__package__brief__workspace=workspace, version__created_at__gte=since
        )
        .values_list("agent", "severity")
        .annotate(n=Count("id"))
        .order_by()
    ):
        if severity in ("block", "warn", "info"):
            agents[agent][severity] += n
    rows = [
        {"agent": name, **numbers, "findings": numbers["block"] + numbers["warn"] + numbers["info"]}
        for name, numbers in agents.items()
    ]
    rows.sort(key=lambda r: (-r["drafts"], -r["findings"], r["agent"]))
    return {"rows": rows, "since": since}


def recent_decisions(person: Person, workspace: Workspace) -> dict:
    """The last approvals and rejections at any gate, newest first, each numbered in the
    workspace's log. Five queries."""
    events = list(history(workspace=workspace.slug).filter(action__in=DECISIONS)[:ROWS])
    audit_scope.number(workspace.slug, events)  # the API shows positions, never global seqs
    names = _names(workspace) if events else {}
    briefs = {str(b.pk): b for b in _briefs(workspace)} if events else {}
    rows = []
    for event in events:
        rows.append(
            {
                "event": event,
                "approved": event.action.endswith(".approved"),
                "who": names.get(event.actor, event.actor),
                "package_id": int(event.subject_id) if event.subject_type == "package" else None,
                "brief": briefs.get(event.subject_id) if event.subject_type == "brief" else None,
            }
        )
    return {"rows": rows}


WIDGETS: dict[str, Widget] = {
    w.name: w
    for w in [
        Widget("my_queue", "My queue", "Packages waiting on a gate you own", my_queue),
        Widget("blocked", "Blocked", "Blocked packages and why", blocked),
        Widget(
            "sla_breaches",
            "SLA breaches",
            "Packages waiting longer than their gate's SLA",
            sla_breaches,
        ),
        Widget("pipeline", "Pipeline by stage", "Packages per stage and state", pipeline),
        Widget(
            "gate_throughput", "Gate throughput", "Approvals per gate, last 7 days", gate_throughput
        ),
        Widget(
            "agent_activity",
            "Agent activity",
            "Drafts and findings per agent, last 7 days",
            agent_activity,
        ),
        Widget(
            "recent_decisions",
            "Recent decisions",
            "The latest approvals and rejections",
            recent_decisions,
        ),
        Widget(
            "operations",
            "Operations",
            "First-pass rate, revisions, AI text kept, cost, SLA breaches, hours saved",
            operations,
        ),
        Widget(
            "operations_weekly",
            "Operations by week",
            "Packages shipped, first-pass and SLA breach rates per week",
            operations_weekly,
        ),
    ]
}

# What each role sees before arranging anything: the questions that role asks first.
ROLE_DEFAULTS: dict[str, list[str]] = {
    "content_lead": ["my_queue", "sla_breaches", "pipeline", "recent_decisions"],
    "compliance": ["my_queue", "blocked", "recent_decisions"],
    "brand_manager": ["my_queue", "pipeline", "gate_throughput"],
    "operator": ["blocked", "pipeline", "agent_activity", "sla_breaches"],
    "cmo": ["operations", "operations_weekly", "pipeline", "gate_throughput", "recent_decisions"],
    "ceo": ["operations", "operations_weekly", "pipeline", "gate_throughput", "recent_decisions"],
}
FALLBACK = ["pipeline", "recent_decisions"]  # e.g. an admin with no other role


# --- layouts --------------------------------------------------------------------------------


def default_layout(person: Person) -> list[str]:
    """Return the role defaults; several roles merge in the order the person holds them."""
    widgets: list[str] = []
    for role in person.roles:
        for name in ROLE_DEFAULTS.get(role, []):
            if name not in widgets:
                widgets.append(name)
    return widgets or list(FALLBACK)


def layout_for(person: Person) -> list[str]:
    """Return the person's saved layout, or the role defaults if they never changed it."""
    saved = DashboardLayout.objects.filter(person=person).values_list("widgets", flat=True).first()
    if saved is None:
        return default_layout(person)
    # A widget retired from the registry drops out quietly rather than breaking the page.
    return [name for name in saved if name in WIDGETS]


def change_layout(person: Person, action: str, name: str = "") -> list[str]:
    """Apply one change (add, remove, up, down, reset) and return the saved layout.

    Raise UnknownWidget for a name the registry does not have. The row is locked while it
    changes so two tabs arranging at once cannot lose each other's change.
    """
    if action != "reset" and name not in WIDGETS:
        raise UnknownWidget(name)
    with transaction.atomic():
        if action == "reset":
            DashboardLayout.objects.filter(person=person).delete()
            return default_layout(person)
        layout, _ = DashboardLayout.objects.select_for_update().get_or_create(
            person=person, defaults={"widgets": default_layout(person)}
        )
        widgets = [w for w in layout.widgets if w in WIDGETS]
        if action == "add" and name not in widgets:
            widgets.append(name)
        elif action == "remove" and name in widgets:
            widgets.remove(name)
        elif action in ("up", "down") and name in widgets:
            i = widgets.index(name)
            j = i - 1 if action == "up" else i + 1
            if 0 <= j < len(widgets):
                widgets[i], widgets[j] = widgets[j], widgets[i]
        layout.widgets = widgets
        layout.save(update_fields=["widgets", "updated_at"])
    return widgets


def dashboard_page(person: Person) -> dict:
    """Return the person's widgets, each with its built context, and the ones they can add."""
    workspace = person.workspace
    layout = layout_for(person)
    return {
        "widgets": [
            {
                "widget": WIDGETS[name],
                "data": WIDGETS[name].builder(person, workspace),
                "first": i == 0,
                "last": i == len(layout) - 1,
            }
            for i, name in enumerate(layout)
        ],
        "addable": [w for name, w in WIDGETS.items() if name not in layout],
    }
