"""The workflow template a brief follows, and where its packages start."""

from __future__ import annotations

from signoff.briefs.models import Brief
from signoff.workflow import Gate, GateLevel, PackageState, Position, Template, load_template


def template_for(brief: Brief) -> Template:
    """Return the brief's template with the workspace's gate owners and SLA hours applied."""
    settings = (brief.workspace.workflows or {}).get(brief.template)
    return load_template(brief.template, settings)


def brief_gate(template: Template) -> Gate | None:
    """Return the brief-level gate (G1 in e-commerce), if the template has one."""
    return next((g for g in template.gates if g.level is GateLevel.BRIEF), None)


def first_package_position(template: Template) -> Position:
    """Return where a new package waits for its first draft (S2/draft in e-commerce)."""
    stage = next(s.stage for s in template.stages if s.stage not in template.brief_stages)
    return Position(stage, PackageState.DRAFT)
