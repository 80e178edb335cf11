"""Reads the API needs that the apps' selectors do not offer (yet). Constant query counts.

Each returns plain data shaped like its response schema. Candidates to move into the apps'
``selectors`` modules once the web screens need them too.
"""

from collections.abc import Iterable

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from signoff.agents.context import CheckFinding
from signoff.briefs.models import Brief
from signoff.briefs.workflow import template_for
from signoff.core.errors import NotFound
from signoff.packages.claim_usage import package_ids_making
from signoff.packages.models import Finding, Package, Version
from signoff.packages.selectors import board, board_row, changes_between, package_detail
from signoff.web.pages import waiting_on_roles
from signoff.workflow import PackageState, Position, Template, gate_for
from signoff.workspaces.models import Person


def _brief_row(brief: Brief) -> dict:
    return {
        "slug": brief.slug,
        "name": brief.name,
        "content_type": brief.content_type,
        "template": brief.template,
        "owner": brief.owner,
        "stage": brief.stage,
        "state": brief.state,
        "latest_version": brief.latest_number,
        "approved_version": brief.approved_number,
        "packages": brief.package_count,
    }


def _annotated_briefs() -> QuerySet[Brief]:
    return Brief.objects.annotate(
        latest_number=Max("versions__number"),
        approved_number=Max("approved_version__number"),
        package_count=Count("packages", distinct=True),
    )


def briefs_of(person: Person) -> list[dict]:
    """Return the briefs of the person's workspace, newest first. One query."""
    briefs = _annotated_briefs().filter(workspace_id=person.workspace_id)
    return [_brief_row(b) for b in briefs.order_by("-created_at", "-id")]


def brief_summary(brief: Brief) -> dict:
    return _brief_row(_annotated_briefs().get(pk=brief.pk))


def brief_detail(brief: Brief) -> dict:
    """Return the brief, its latest version's document and that version's products."""
    version = brief.latest_version()
    products = [
        {
            "sku": p.sku,
            "name": p.name,
            "gtin": p.gtin,
            "price": None if p.price is None else f"{p.price:.2f}",
            "currency": p.currency,
            "attributes": p.attributes,
            "claims": p.claims,
            "images": p.images,
            "sources": p.field_sources,
        }
        for p in version.products.all()
    ]
    return {
        **brief_summary(brief),
        "version": version,
        "products": products,
        "input_findings": input_findings(version.screen().findings),
    }


def input_findings(findings: Iterable[CheckFinding]) -> list[dict]:
    """The input guard's findings as the API shows them."""
    return [
        {
            "agent": f.agent,
            "rule_id": f.rule_id,
            "severity": f.severity.value,
            "field": f.field or "",
            "message": f.message,
        }
        for f in findings
    ]


def _waiting_at(template: Template, gate_id: str) -> Q:
    """Return a filter for packages waiting on gate ``gate_id`` (none if it has no such gate)."""
    condition = Q(pk__in=[])
    for position in template.positions:
        if position.state is not PackageState.IN_REVIEW or position.blocked_from is not None:
            continue
        gate = gate_for(position, template)
        if gate is not None and gate.id == gate_id:
            condition |= Q(stage=position.stage.value, state=position.state.value)
    return condition


def _gate_id(package: Package, template: Template) -> str:
    if package.state != PackageState.IN_REVIEW:
        return ""
    gate = gate_for(Position.parse(package.position), template)
    return gate.id if gate else ""


def board_page(
    brief: Brief,
    person: Person,
    *,
    channel: str | None,
    sku: str | None,
    state: str | None,
    severity: str | None,
    gate: str | None,
    owner: str | None,
    mine: bool,
    limit: int,
    claim: str | None = None,
    offset: int,
    sort: str = "id",
) -> dict:
    """Return one page of the board and the total matching rows. Two queries at any size.

    ``mine`` keeps the packages waiting on a gate one of the person's roles owns, as the
    board screen's "waiting on me" does.
    """
    template = template_for(brief)
    rows = board(brief, channel=channel, sku=sku, state=state, severity=severity, sort=sort)
    if gate:
        rows = rows.filter(_waiting_at(template, gate))
    if owner:
        rows = rows.filter(owner=owner)
    if mine:
        rows = rows.filter(waiting_on_roles(template, person.roles))
    if claim:
        scope = Package.objects.filter(brief=brief)
        rows = rows.filter(pk__in=package_ids_making(brief.workspace, claim, scope))
    now = timezone.now()
    return {
        "count": rows.count(),
        "limit": limit,
        "offset": offset,
        "items": [
            {**board_row(p, now), "gate": _gate_id(p, template)}
            for p in rows[offset : offset + limit]
        ],
    }


def version_history(package: Package) -> list[dict]:
    """Return every version, oldest first, each with what changed against its parent: the
    diff reporter's lines, claims included (two queries per version: registry and product)."""
    versions = list(
        Version.objects.filter(package=package).select_related("brief_version").order_by("number")
    )
    by_id = {v.pk: v for v in versions}
    pairs = [(by_id[v.parent_id], v) for v in versions if v.parent_id in by_id]
    changes = dict(zip((new.pk for _, new in pairs), changes_between(package, pairs), strict=True))
    history = []
    for version in versions:
        parent = by_id.get(version.parent_id)
        history.append(
            {
                "number": version.number,
                "parent": parent.number if parent else None,
                "author": version.author,
                "created_at": version.created_at,
                "content_hash": version.content_hash,
                "origin": version.origin,
                "fields": version.fields,
                "changes": changes.get(version.pk, []),
            }
        )
    return history


def findings_of(package: Package, version: int | None = None) -> list[dict]:
    """Return the findings of the current version, or of version number ``version``."""
    if version is None:
        return package_detail(package)["findings"]
    findings = Finding.objects.filter(version__package=package, version__number=version)
    rows = list(findings.order_by("id"))
    if not rows and not package.versions.filter(number=version).exists():
        raise NotFound(f"package {package.pk} has no version {version}")
    return [
        {
            "id": f.pk,
            "agent": f.agent,
            "rule_id": f.rule_id,
            "severity": f.severity,
            "field": f.field,
            "span": [f.span_start, f.span_end] if f.span_start is not None else None,
            "message": f.message,
            "suggested_fix": f.suggested_fix,
        }
        for f in rows
    ]
