"""Plain words for what people read: stages, states, positions, roles, gates, fields, channels.

Pure Python, no Django: the web app's ``plain`` template filters and the API's ``label`` fields
both call these, so a screen and an API client say the same thing. Stored names stay as they
are (``S5/in_review``, ``bullet_points[0]``); only what is shown changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

# Roles, people lists and whole messages are worded by the workflow package itself (it may
# import nothing outside itself); they are part of this module's vocabulary all the same.
from signoff.workflow.wording import ROLE_LABELS, names_list, plain_message, role_label

# Each stage by what happens there, in the words a reviewer uses (not the seed's "S5").
STAGE_LABELS: Mapping[str, str] = {
    "S1": "Brief intake",
    "S2": "AI draft",
    "S3": "Draft review",
    "S4": "Channel adaptation",
    "S5": "Compliance review",
    "S6": "Launch approval",
    "C1": "Generate",
    "C2": "Asset review",
    "C3": "Coherence check",
    "C4": "Launch",
    "P1": "Draft",
    "P2": "Post review",
    "P3": "Launch approval",
}

STATE_LABELS: Mapping[str, str] = {
    "draft": "Drafting",
    "in_review": "In review",
    "approved": "Approved",
    "rejected": "Sent back",
    "blocked": "Blocked",
    "published": "Published",
}


# The item of a list field, where its label's plural does not end in a plain "s".
_ITEM_NAMES: Mapping[str, str] = {
    "bullet_points": "Bullet",
    "item_specifics": "Item specific",
    "search_terms": "Search term",
}
_PATH = re.compile(r"^(?P<name>[a-z0-9_]+)(?:\[(?P<index>\d+)\])?$")


def words(value: object) -> str:
    """Return a stored name as words, capitalised: ``in_review`` -> ``In review``."""
    text = str(value or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def stage_label(stage: object) -> str:
    """Return ``S5`` as ``Compliance review``; an unknown stage as its words."""
    return STAGE_LABELS.get(str(stage), words(stage))


def state_label(state: object) -> str:
    """Return ``in_review`` as ``In review``."""
    return STATE_LABELS.get(str(state), words(state))


def position_label(position: object) -> str:
    """Return a position (``S5/in_review``) as a person says it.

    Waiting in review, the stage says it all ("Compliance review"); otherwise the state leads
    ("Sent back to Draft review", "Blocked at Compliance review", "Approved", "Published").
    """
    stage, _, state = str(position).partition("/")
    if not state:
        return stage_label(stage)
    if state == "in_review":
        return stage_label(stage)
    if state in ("approved", "published"):
        return state_label(state)
    if state == "rejected":
        return f"Sent back to {stage_label(stage)}"
    if state == "draft":
        return f"Drafting ({stage_label(stage)})"
    return f"{state_label(state)} at {stage_label(stage)}"


def gate_label(gate_id: str, label: str = "") -> str:
    """Return a gate with what it decides: ``G3 · Compliance sign-off``."""
    return f"{gate_id} · {words(label)}" if label else gate_id


def field_label(path: str, labels: Mapping[str, str] | None = None) -> str:
    """Return a field path as a person reads it: ``bullet_points[0]`` -> ``Bullet 1``.

    ``labels`` maps a field name to its channel spec's label ("Bullet points"); without one,
    the name's words are used. An image slot (``images.main``) reads "Image: main".
    """
    if path.startswith("images."):
        return f"Image: {words(path.removeprefix('images.')).lower()}"
    match = _PATH.match(path)
    if not match:
        return words(path)
    name, index = match["name"], match["index"]
    label = (labels or {}).get(name) or words(name)
    if index is None:
        return label
    return f"{_item_name(name, label)} {int(index) + 1}"


def _item_name(name: str, label: str) -> str:
    if name in _ITEM_NAMES:
        return _ITEM_NAMES[name]
    if label.endswith(" points"):
        return label.removesuffix(" points")
    if label.endswith("s") and not label.endswith("ss"):
        return label[:-1]
    return label


def channel_label(channel_id: str, names: Mapping[str, str]) -> str:
    """Return a channel's display name (``amazon_us_pdp`` -> ``Amazon US product page``)."""
    return names.get(channel_id) or words(channel_id)


def channel_names() -> dict[str, str]:
    """Every shipped channel's display name by id (the catalog is read once per process)."""
    from signoff.channels.catalog import load_catalog  # the catalog is pure: specs in YAML

    return {channel_id: spec.name for channel_id, spec in load_catalog().items()}


def person_label(email: str, names: Mapping[str, str]) -> str:
    """Return a person's name for an email; an agent or system actor in words.

    ``agent:copy_drafter`` -> ``Copy drafter (agent)``; an unknown email stays an email, so
    nobody is ever shown as someone else.
    """
    if not email:
        return ""
    if email in names:
        return names[email]
    kind, sep, rest = email.partition(":")
    if sep and kind in ("agent", "system", "suggestion"):
        return f"{words(rest)} ({kind})"
    return email


def deadline_label(deadline: date | None, today: date) -> str:
    """Return a brief's deadline with how far off it is: ``Due Mar 14 (in 5 days)``."""
    if deadline is None:
        return "No deadline"
    days = (deadline - today).days
    when = f"{deadline:%b} {deadline.day}, {deadline.year}"
    if days > 1:
        return f"Due {when} (in {days} days)"
    if days == 1:
        return f"Due {when} (tomorrow)"
    if days == 0:
        return f"Due {when} (today)"
    return f"Due {when} (overdue by {-days} day{'s' if days != -1 else ''})"


__all__ = [
    "ROLE_LABELS",
    "STAGE_LABELS",
    "STATE_LABELS",
    "channel_label",
    "channel_names",
    "deadline_label",
    "field_label",
    "gate_label",
    "names_list",
    "person_label",
    "plain_message",
    "position_label",
    "role_label",
    "stage_label",
    "state_label",
    "words",
]
