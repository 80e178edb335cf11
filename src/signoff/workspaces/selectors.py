"""Reads about people."""

from __future__ import annotations

from collections import defaultdict

from signoff.workspaces.models import Person


def role_holders(workspace_id: int) -> dict[str, list[str]]:
    """Return each role's active holders' emails, in one query."""
    holders: dict[str, list[str]] = defaultdict(list)
    for email, roles in Person.objects.filter(workspace_id=workspace_id, active=True).values_list(
        "email", "roles"
    ):
        for role in roles:
            holders[role].append(email)
    return dict(holders)
