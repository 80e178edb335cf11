"""The workflow template a brief follows, and where its packages start."""

from __future__ import annotations

from signoff.briefs.models import Brief
from signoff.core.errors import InputError, Problem
from signoff.workflow import (
    Gate,
    GateLevel,
    PackageState,
    Position,
    SettingsError,
    Template,
    load_template,
    settings_problems,
)


def template_for(brief: Brief) -> Template:
    """Return the brief's template with the workspace's gate owners and SLA hours applied.

    Settings are checked when the workspace file loads, but a workspace stored before that
    check may hold some the template cannot take (``sla_hours: {G2: -4}``). That is bad input
    in the workspace file, not a crash: raise ``InputError`` naming the workspace, every bad
    setting, and that the fixed file must be loaded again.
    """
    workspace = brief.workspace
    settings = (workspace.workflows or {}).get(brief.template)
    try:
        return load_template(brief.template, settings)
    except SettingsError as first:
        problems = settings_problems(brief.template, settings) or [first]
        raise InputError(
            [
                Problem(
                    f"{p.expected}; stored before workflow settings were checked: fix the "
                    "workspace file and load it again (`signoff load WORKSPACE_FILE`)",
                    file=f"workspace {workspace.slug}",
                    field=".".join(p.path),
                )
                for p in problems
            ]
        ) from first


def brief_gate(template: Template) -> Gate | None:
    """Return the brief-level gate (G1 in e-commerce), if the template has one."""
    return next((g for g in template.gates if g.level is GateLevel.BRIEF), None)


def first_package_position(template: Template) -> Position:
    """Return where a new package waits for its first draft (S2/draft in e-commerce)."""
    stage = next(s.stage for s in template.stages if s.stage not in template.brief_stages)
    return Position(stage, PackageState.DRAFT)
