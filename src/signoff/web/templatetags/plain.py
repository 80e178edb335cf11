"""Plain words in templates: ``{% load plain %}`` then ``{{ package.position|position }}``.

Each filter only calls :mod:`signoff.core.labels`; people's names are read once per render
(``{% person_name email %}``), so a page of 50 rows costs one query for them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template

from signoff.core import labels

register = template.Library()


@register.filter
def stage(value: object) -> str:
    return labels.stage_label(value)


@register.filter
def state(value: object) -> str:
    return labels.state_label(value)


@register.filter
def position(value: object) -> str:
    return labels.position_label(value)


@register.filter
def role(value: object) -> str:
    return labels.role_label(value)


@register.filter
def roles(value: object) -> str:
    return ", ".join(labels.role_label(r) for r in (value or [])) or "no role"


@register.filter
def field_label(path: object, spec_labels: Any = None) -> str:
    return labels.field_label(
        str(path or ""), spec_labels if isinstance(spec_labels, dict) else None
    )


@register.filter
def channel(value: object) -> str:
    return labels.channel_label(str(value or ""), labels.channel_names())


def _names(context: template.Context) -> dict[str, str]:
    cache = context.render_context
    if "plain_names" not in cache:
        viewer = context.get("person")
        workspace_id = getattr(viewer, "workspace_id", None)
        found: dict[str, str] = {}
        if workspace_id is not None:
            from signoff.workspaces.models import Person

            found = dict(
                Person.objects.filter(workspace_id=workspace_id).values_list("email", "name")
            )
        cache["plain_names"] = found
    return cache["plain_names"]


@register.simple_tag(takes_context=True)
def person_name(context: template.Context, email: object) -> str:
    """A person's name for an email, in the viewer's workspace; agents in words."""
    return labels.person_label(str(email or ""), _names(context))


@register.filter
def deadline(brief: Any) -> str:
    """The brief's deadline (from its approved version, else its latest) and how far off."""
    from django.utils import timezone

    version = getattr(brief, "approved_version", None) or brief.latest_version()
    raw = (version.data or {}).get("deadline") if version else None
    try:
        due = date.fromisoformat(str(raw)[:10]) if raw else None
    except ValueError:
        return f"Deadline {raw}"
    return labels.deadline_label(due, timezone.localdate())


@register.filter
def brief_gate_id(brief: Any) -> str:
    """The id of the brief's own gate ("G1"); empty for a template with none (a campaign)."""
    from signoff.briefs.workflow import brief_gate, template_for

    gate = brief_gate(template_for(brief))
    return gate.id if gate is not None else ""


@register.filter
def brief_position(brief: Any) -> str:
    """Where the brief stands at its brief gate ("Brief intake", "Approved"); empty for a
    template with no brief gate (a campaign), where the brief itself never waits."""
    return labels.position_label(brief.position) if brief_gate_id(brief) else ""
