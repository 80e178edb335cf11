"""What each screen shows, built from the selectors. Reads only: decisions live in the services.

Every function here runs a fixed number of queries whatever the number of packages, so the
board costs the same at 36 packages and at 2,000 (it shows 50 per page).
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone

from signoff.agents.context import field_texts
from signoff.audit.selectors import history
from signoff.briefs.completeness import fact_label
from signoff.briefs.models import Brief
from signoff.briefs.workflow import template_for
from signoff.channels.catalog import resolve_spec
from signoff.core import labels
from signoff.core.phrases import phrase_change
from signoff.packages.claim_usage import package_ids_making
from signoff.packages.eligibility import package_eligibility
from signoff.packages.models import Package, Version
from signoff.packages.selectors import (
    blocking,
    board,
    board_row,
    package_detail,
    version_changes,
)
from signoff.web.fieldtext import copy_snippets, field_names
from signoff.workflow import Gate, GateLevel, PackageState, Position, Template, gate_for
from signoff.workspaces.models import Person, Workspace
from signoff.workspaces.selectors import role_holders

PAGE_SIZE = 50
SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}


# --- small formatting helpers -------------------------------------------------------------


def duration(seconds: float) -> str:
    """Return a short human duration: "12 min", "5 h", "2 d 4 h"."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} d {hours % 24} h"


def urgency(gate: Gate | None, waited_seconds: float, state: str) -> str:
    """Return the SLA colour of a package: on_time, due_soon, overdue, blocked or idle."""
    if state == PackageState.BLOCKED:
        return "blocked"
    if gate is None:
        return "idle"
    share = waited_seconds / 3600 / gate.sla_hours if gate.sla_hours else 0
    if share >= 1:
        return "overdue"
    if share >= 0.75:
        return "due_soon"
    return "on_time"


def gate_of(package: Package, template: Template) -> Gate | None:
    if package.state != PackageState.IN_REVIEW:
        return None
    return gate_for(Position.parse(package.position, blocked_from=package.blocked_from), template)


# --- the board ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardQuery:
    """The board's filters, as the GET parameters give them."""

    channel: str = ""
    sku: str = ""
    state: str = ""
    severity: str = ""
    gate: str = ""  # waiting on this gate
    owner: str = ""  # an email, or NO_OWNER
    mine: bool = False
    claim: str = ""  # only packages whose current copy makes this claim
    sort: str = ""  # "" (the order packages were made) or "confidence" (lowest first)
    page: int | str = 1


NO_OWNER = "-"  # the owner filter's value for packages nobody owns

# More ways to sort the board than the selector's own (id, confidence): key -> (label,
# order). Every order ends on id, so pages are stable; each is the one query's ORDER BY.
MORE_SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "waiting": ("Waiting longest first", ("stage_entered_at", "id")),
    "findings": ("Most blocking findings first", ("-block_findings", "-warn_findings", "id")),
    "sku": ("By SKU", ("sku", "channel", "variant", "id")),
    "channel": ("By channel", ("channel", "sku", "variant", "id")),
    "stage": ("By stage", ("stage", "state", "id")),
}


def _waiting(template: Template, wanted: Callable[[Gate], bool]) -> Q:
    """Return a filter for unblocked packages waiting on a gate that ``wanted`` accepts."""
    condition = Q(pk__in=[])
    for position in template.positions:
        if position.state is not PackageState.IN_REVIEW or position.blocked_from is not None:
            continue
        gate = gate_for(position, template)
        if gate is not None and wanted(gate):
            condition |= Q(stage=position.stage.value, state=position.state.value)
    return condition


def waiting_on_roles(template: Template, roles: list[str]) -> Q:
    """Return a filter for packages waiting on a gate one of ``roles`` owns."""
    return _waiting(template, lambda gate: gate.owner.value in roles)


def waiting_on_gate(template: Template, gate_id: str) -> Q:
    """Return a filter for packages waiting on gate ``gate_id``."""
    return _waiting(template, lambda gate: gate.id == gate_id)


def board_choices(brief: Brief) -> dict[str, list]:
    """Return the values the board's filters offer (two queries)."""
    template = template_for(brief)
    version = brief.approved_version or brief.latest_version()
    data = version.data if version else {}
    owners = Package.objects.filter(brief=brief).order_by("owner").values_list("owner", flat=True)
    return {
        "channels": list(data.get("channels", [])),
        "skus": list(version.products.values_list("sku", flat=True)) if version else [],
        "states": [s.value for s in PackageState],
        "severities": ["block", "warn", "info"],
        "gates": [
            (g.id, f"{g.id} · {g.label}") for g in template.gates if g.level is GateLevel.PACKAGE
        ],
        "owners": [o or NO_OWNER for o in owners.distinct()],
        "claims": list(brief.workspace.claims.values_list("claim_id", flat=True)),
    }


def board_packages(brief: Brief, person: Person, query: BoardQuery) -> QuerySet[Package]:
    template = template_for(brief)
    packages = board(
        brief,
        channel=query.channel or None,
        sku=query.sku or None,
        state=query.state or None,
        severity=query.severity or None,
        sort="confidence" if query.sort == "confidence" else "id",
    )
    if query.sort in MORE_SORTS:
        packages = packages.order_by(*MORE_SORTS[query.sort][1])
    if query.gate:
        packages = packages.filter(waiting_on_gate(template, query.gate))
    if query.owner:
        packages = packages.filter(owner="" if query.owner == NO_OWNER else query.owner)
    if query.mine:
        packages = packages.filter(waiting_on_roles(template, person.roles))
    if query.claim:
        # Claims are read from the copy (signoff.packages.claim_usage), not stored per package.
        making = package_ids_making(
            brief.workspace, query.claim, Package.objects.filter(brief=brief)
        )
        packages = packages.filter(pk__in=making)
    return packages


def board_page(brief: Brief, person: Person, query: BoardQuery) -> dict:
    """Return one page of board rows with gate, owner and SLA colour (constant queries)."""
    template = template_for(brief)
    paginator = Paginator(board_packages(brief, person, query), PAGE_SIZE)
    page: Page = paginator.get_page(query.page)
    holders = role_holders(brief.workspace_id)
    now = timezone.now()
    rows = []
    thumbs = main_images(list(page.object_list), brief.workspace)
    snippets = copy_snippets(list(page.object_list))
    for package in page.object_list:
        row = board_row(package, now)
        row["thumb"] = thumbs.get(package.pk)
        row["snippet"] = snippets.get(package.pk, "")
        gate = gate_of(package, template)
        row["gate"] = gate.id if gate else ""
        row["gate_label"] = gate.label if gate else ""
        row["gate_role"] = gate.owner.value if gate else ""
        row["gate_people"] = holders.get(gate.owner.value, []) if gate else []
        row["mine"] = bool(gate) and gate.owner.value in person.roles
        row["sla_hours"] = gate.sla_hours if gate else None
        row["time_in_stage"] = duration(row["time_in_stage_seconds"])
        row["urgency"] = urgency(gate, row["time_in_stage_seconds"], package.state)
        rows.append(row)
    return {"rows": rows, "page": page, "paginator": paginator, "total": paginator.count}


_BLOCKING_GROUPS = (
    "missing_data",
    "other_blocks",
    "blocking_findings",
    "missing_images",
    "waiting_on_gate",
)


def blocking_panel(brief: Brief) -> dict:
    """Return "what is blocking this launch?" with a few package ids per line."""
    report = blocking(brief)
    for group in _BLOCKING_GROUPS:
        for entry in report[group]:
            entry["shown"] = entry["packages"][:8]
            entry["more"] = max(len(entry["packages"]) - 8, 0)
    report["clear"] = not any(report[g] for g in _BLOCKING_GROUPS)
    return report


# --- one package ----------------------------------------------------------------------------

# Which layout previews which channel; the slots come from each field's ``compose`` role.
LAYOUTS = {
    "amazon_us_pdp": "product_page",
    "walmart_us": "product_page",
    "target_plus": "product_page",
    "ebay_listing": "product_page",
    "google_merchant": "shopping",
    "meta_feed_ad": "feed_card",
    "instagram_post": "post",
    "google_ads_rsa": "search_ad",
    "email_promo": "email",
    "print_poster_a2": "poster",
}


@dataclass
class Segment:
    text: str
    severity: str = ""  # set when a finding points at this span


@dataclass
class FieldView:
    path: str  # "title", "bullet_points[2]"
    label: str
    segments: list[Segment]
    severity: str = ""  # the worst finding on this field
    items: list[FieldView] = field(default_factory=list)  # for list fields


def _segments(text: str, spans: list[tuple[int, int, str]]) -> list[Segment]:
    """Split ``text`` into runs; a character under several findings shows the worst one."""
    marks = [""] * len(text)
    for start, end, severity in spans:
        for i in range(max(start, 0), min(end, len(text))):
            if not marks[i] or SEVERITY_ORDER.get(severity, 9) < SEVERITY_ORDER[marks[i]]:
                marks[i] = severity
    out: list[Segment] = []
    for char, severity in zip(text, marks, strict=True):
        if out and out[-1].severity == severity:
            out[-1].text += char
        else:
            out.append(Segment(char, severity))
    return out or [Segment("")]


def _worst(severities: list[str]) -> str:
    return min(severities, key=lambda s: SEVERITY_ORDER.get(s, 9)) if severities else ""


def slot_order(channel: str, workspace: Workspace) -> list[str]:
    """Return the image slot ids of a channel, main slot first."""
    spec = resolve_spec(channel, workspace.channel_overrides.get(channel))
    return [slot.id for slot in spec.images.slots] if spec.images else []


def slot_images(images: dict | None, order: list[str]) -> list[dict]:
    """Return a version's images (``Version.images``) as a list in the channel's slot order."""
    if not images:
        return []
    ranked = sorted(images, key=lambda s: order.index(s) if s in order else len(order))
    return [{"slot": slot, **images[slot]} for slot in ranked]


def main_images(packages: list[Package], workspace: Workspace) -> dict[int, dict]:
    """Return each package's main (first slot) image, by package id (one query)."""
    ids = [p.current_version_id for p in packages if p.current_version_id]
    stored = dict(
        Version.objects.filter(pk__in=ids, images__isnull=False).values_list("pk", "images")
    )
    orders: dict[str, list[str]] = {}
    out = {}
    for package in packages:
        images = stored.get(package.current_version_id)
        if not images:
            continue
        if package.channel not in orders:
            orders[package.channel] = slot_order(package.channel, workspace)
        listed = slot_images(images, orders[package.channel])
        if listed:
            out[package.pk] = listed[0]
    return out


def preview(package: Package, fields: dict, findings: list[dict]) -> dict:
    """Return the package's fields arranged by role for its channel's preview layout."""
    workspace = package.brief.workspace
    spec = resolve_spec(package.channel, workspace.channel_overrides.get(package.channel))
    spans: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    severities: dict[str, list[str]] = defaultdict(list)
    for finding in findings:
        path = finding["field"]
        if not path:
            continue
        severities[path].append(finding["severity"])
        severities[path.partition("[")[0]].append(finding["severity"])
        if finding["span"]:
            spans[path].append((finding["span"][0], finding["span"][1], finding["severity"]))

    def view(path: str, label: str, text: str) -> FieldView:
        return FieldView(
            path, label, _segments(text, spans.get(path, [])), _worst(severities.get(path, []))
        )

    slots: dict[str, FieldView] = {}
    extra: list[FieldView] = []
    for name, value in fields.items():
        field_spec = spec.fields.get(name)
        label = field_spec.label if field_spec and field_spec.label else name.replace("_", " ")
        compose = field_spec.compose if field_spec else None
        role = str(getattr(compose, "value", compose) or name)
        if isinstance(value, list):
            fv = FieldView(name, label, [], _worst(severities.get(name, [])))
            fv.items = [view(f"{name}[{i}]", label, str(item)) for i, item in enumerate(value)]
        else:
            fv = view(name, label, "" if value is None else str(value))
        if role in slots:
            extra.append(fv)
        else:
            slots[role] = fv
    images = package.current_version.images if package.current_version else None
    slots_in_order = [slot.id for slot in spec.images.slots] if spec.images else []
    listed = slot_images(images, slots_in_order)
    return {
        "layout": LAYOUTS.get(package.channel, "generic"),
        "channel_name": spec.name,
        "image": listed[0] if listed else None,
        "slots": slots,
        "all": list(slots.values()) + extra,
    }


@dataclass
class DiffRow:
    path: str
    before: list[tuple[str, str]]  # (op, text): op is "same", "del" or "ins"
    after: list[tuple[str, str]]
    changed: bool


def side_by_side(old: dict, new: dict) -> list[DiffRow]:
    """Return one row per field path, with word-level changes marked on both sides."""
    before, after = dict(field_texts(old)), dict(field_texts(new))
    rows = []
    for path in [*before, *(p for p in after if p not in before)]:
        a, b = before.get(path, ""), after.get(path, "")
        if a == b:
            rows.append(DiffRow(path, [("same", a)], [("same", b)], False))
            continue
        left: list[tuple[str, str]] = []
        right: list[tuple[str, str]] = []
        aw, bw = a.split(" "), b.split(" ")
        matcher = difflib.SequenceMatcher(a=aw, b=bw, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                left.append(("same", " ".join(aw[i1:i2]) + " "))
                right.append(("same", " ".join(bw[j1:j2]) + " "))
                continue
            if i2 > i1:
                left.append(("del", " ".join(aw[i1:i2])))
                left.append(("same", " "))
            if j2 > j1:
                right.append(("ins", " ".join(bw[j1:j2])))
                right.append(("same", " "))
        rows.append(DiffRow(path, left, right, True))
    return rows


def _origin_line(version: Version) -> str:
    origin = version.origin or {}
    if origin.get("kind") == "person":
        note = f": {origin['note']}" if origin.get("note") else ""
        return f"edited by {origin.get('person', version.author)}{note}"
    if origin.get("kind") == "suggestion":
        # The checker's fix, accepted verbatim (policy accepted_suggestion_authorship).
        return (
            f"suggested fix by {origin.get('agent')} ({origin.get('rule_id')}), accepted by "
            f"{origin.get('accepted_by')}"
        )
    parts = [origin.get("agent") or version.author]
    if origin.get("provider"):
        parts.append(
            f"{origin['provider']}" + (f"/{origin['model']}" if origin.get("model") else "")
        )
    return "drafted by " + " · ".join(str(p) for p in parts)


def gate_panel(package: Package, person: Person, template: Template | None = None) -> dict:
    """Return the gate the package waits on, its owner, and whether this person holds it."""
    template = template or template_for(package.brief)
    gate = gate_of(package, template)
    holders = role_holders(package.brief.workspace_id) if gate else {}
    reviewed = (
        gate is not None
        and package.current_version_id is not None
        and package.reviews.filter(
            version_id=package.current_version_id, person=person.email
        ).exists()
    )
    return {
        "package": package,
        "gate": gate,
        "people": holders.get(gate.owner.value, []) if gate else [],
        "holds_role": bool(gate) and gate.owner.value in person.roles,
        "reviewed": reviewed,
        # Who can act and what each button would cause, asked before anyone clicks.
        "eligibility": package_eligibility(package, person),
    }


def package_page(package: Package, person: Person) -> dict:
    """Return everything the package screen shows."""
    template = template_for(package.brief)
    detail = package_detail(package)
    findings = sorted(
        detail["findings"], key=lambda f: (SEVERITY_ORDER.get(f["severity"], 9), f["id"])
    )
    fields = detail["version"]["fields"] if detail["version"] else {}
    texts = dict(field_texts(fields))
    names = field_names(package)
    for finding in findings:
        # An image finding's suggestion is advice (re-render ...), not text to put in a field.
        finding["fixable"] = (
            bool(finding["suggested_fix"])
            and finding["field"] != ""
            and not finding["field"].startswith("images.")
        )
        finding["field_label"] = labels.field_label(finding["field"], names)
        if finding["fixable"]:
            # The phrase that changes, not the whole field (the fix is stored whole).
            finding["change"] = phrase_change(
                texts.get(finding["field"], ""), finding["suggested_fix"]
            )
    versions = list(package.versions.order_by("-number"))
    current = package.current_version
    previous = next((v for v in versions if current and v.number == current.number - 1), None)
    diff = None
    if current and previous:
        diff = {
            "previous": previous,
            "rows": side_by_side(previous.fields, current.fields),
            "lines": version_changes(package, previous, current),
        }
    events = list(
        history(
            subject_type="package",
            subject_id=str(package.pk),
            workspace=package.brief.workspace.slug,
            limit=100,
        )
    )
    return {
        "package": package,
        "detail": detail,
        "preview": preview(package, fields, findings) if current else None,
        "findings": findings,
        "counts": {s: sum(1 for f in findings if f["severity"] == s) for s in SEVERITY_ORDER},
        "versions": [{"version": v, "origin": _origin_line(v)} for v in versions],
        "diff": diff,
        "events": events,
        "notes": list(package.notes.order_by("-created_at")[:20]),
        "panel": gate_panel(package, person, template),
        "field_names": field_names(package),
        "missing": [fact_label(f) for f in (package.completeness or {}).get("missing", [])],
        "images": slot_images(
            current.images if current else None,
            slot_order(package.channel, package.brief.workspace),
        ),
    }


def now() -> datetime:
    return timezone.now()
