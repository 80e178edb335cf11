"""Extension points that apps built on briefs fill when they start.

The visuals app turns a brief's named files into references and adds their hashes to a G1
approval; it registers here, so briefs never imports it (no cycle between the two apps).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from signoff.briefs.models import Brief, BriefVersion

# Called inside add_brief's transaction with the new version and the actor; each returns facts
# to keep in the version's event (one event per version, whatever the hooks did); may raise
# InputError, which refuses the whole brief version.
brief_version_added: list[Callable[[BriefVersion, str], dict[str, Any]]] = []
# Called inside approve_brief's transaction; each returns facts to keep in the G1 event.
approval_facts: list[Callable[[Brief], dict[str, Any]]] = []
# Called when a run counts what the brief has spent against its ``budget.max_cost``; each
# returns dollars spent outside copy drafting (image generation and edits), so one budget
# covers both.
brief_spend: list[Callable[[Brief], float]] = []
