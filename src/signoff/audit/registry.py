"""The registered audit actions.

An action name is part of the log's meaning forever, so names are declared once here (or by
an app at import time) and ``record()`` refuses any other: a typo cannot create a new kind of
event that no report or selector knows about.
"""

from __future__ import annotations

import re
from types import MappingProxyType

from signoff.audit.chain import CHECKPOINT_ACTION  # written by record_many itself, never callers
from signoff.audit.errors import UnknownAction

# Lowercase dotted segments, at least two: "package.drafted", "package.gate.approved".
_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")

_actions: dict[str, str] = {}

#: Read-only view of name -> label, for reports and the UI.
ACTIONS = MappingProxyType(_actions)


def register_action(name: str, label: str) -> str:
    """Register ``name`` with a human label and return the name.

    Registering the same pair again is a no-op (modules may be imported twice); giving an
    existing name another label is an error, because two apps would disagree on its meaning.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"audit action {name!r} must be lowercase dotted, e.g. 'package.drafted'")
    if not label.strip():
        raise ValueError(f"audit action {name!r} needs a label")
    existing = _actions.get(name)
    if existing is not None and existing != label:
        raise ValueError(f"audit action {name!r} is already registered as {existing!r}")
    _actions[name] = label
    return name


def is_registered(name: str) -> bool:
    return name in _actions


def known_actions() -> frozenset[str]:
    """Return every registered action name."""
    return frozenset(_actions)


def label_for(name: str) -> str:
    """Return the label of a registered action; raise UnknownAction otherwise."""
    try:
        return _actions[name]
    except KeyError:
        raise UnknownAction(name) from None


def require_registered(name: str) -> None:
    if name not in _actions:
        raise UnknownAction(name)


PACKAGE_GATE_APPROVED = "package.gate.approved"

_BUILTIN = {
    "workspace.loaded": "Workspace loaded",
    "workspace.updated": "Workspace updated",
    "brief.added": "Brief added",
    "brief.version_added": "Brief version added",
    "brief.approved": "Brief approved (G1)",
    "brief.notes_parse_requested": "Kickoff notes sent to the brief parser",
    "brief.notes_parsed": "Kickoff notes read into a brief draft",
    "brief.notes_parse_refused": "Brief parser gave no valid brief from the notes",
    "brief.notes_parse_failed": "Brief parser stopped on an error",
    "brief.notes_purged": "Kickoff notes past their keeping time deleted",
    "run.started": "Run started",
    "run.finished": "Run finished",
    "run.failed": "Run stopped on an error",
    "run.interrupted": "Run found ended without finishing (its worker died)",
    "package.created": "Package created",
    "package.drafted": "Package drafted",
    "package.checked": "Package checked",
    "package.blocked": "Package blocked",
    "package.unblocked": "Package unblocked",
    "package.reviewed": "Package marked reviewed",
    PACKAGE_GATE_APPROVED: "Gate approved",
    "package.gate.rejected": "Gate rejected",
    "package.edited": "Package edited",
    "package.approvals_voided": "Approvals voided by a content change",
    "claim.status_changed": "Claim status changed",
    "channel.launched": "Channel launched",
    "token.issued": "API token issued",
    CHECKPOINT_ACTION: "Audit checkpoint (closes a segment of the log)",
}
for _name, _label in _BUILTIN.items():
    register_action(_name, _label)
