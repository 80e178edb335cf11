"""Which renditions get a "Proof" link: those of a channel that prints."""

from __future__ import annotations

from django import template
from pydantic import ValidationError

from signoff.channels.catalog import resolve_spec
from signoff.core.errors import NotFound
from signoff.visuals.proof import prints
from signoff.workspaces.models import Workspace

register = template.Library()


@register.filter
def prints_on(channel_id: object, workspace: object) -> bool:
    """Whether ``channel_id`` prints (a physical size or a slot with a dpi) as ``workspace``
    sees it: ``{% if r.channel|prints_on:brief.workspace %}``."""
    if not isinstance(workspace, Workspace) or not channel_id:
        return False
    try:
        spec = resolve_spec(str(channel_id), workspace.channel_overrides.get(str(channel_id)))
    except (NotFound, ValidationError):
        return False
    return prints(spec.images)
