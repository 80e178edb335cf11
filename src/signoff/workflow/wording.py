"""How the workflow words roles, lists of people and whole messages for people to read.

Pure Python, inside the workflow package (which imports nothing outside itself);
``signoff.core.labels`` re-exports these with the rest of the plain-words vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

ROLE_LABELS: Mapping[str, str] = {
    "content_lead": "Content lead",
    "compliance": "Compliance",
    "brand_manager": "Brand manager",
    "operator": "Operator",
    "admin": "Admin",
    "cmo": "CMO",
    "ceo": "CEO",
}


def role_label(role: object) -> str:
    """Return ``content_lead`` as ``Content lead``."""
    return ROLE_LABELS.get(str(role), str(role or "").replace("_", " ").capitalize())


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ROLE_IDS = re.compile(r"\b(" + "|".join(r for r in ROLE_LABELS if "_" in r) + r")\b")


def plain_message(message: str, names: Mapping[str, str] | None = None) -> str:
    """Return a whole refusal or result message in plain words: each email a person's name
    (where known), each role id in words ("another content_lead" -> "another content lead").
    Nothing is cut: the reason stays whole."""
    names = names or {}
    message = _EMAIL.sub(lambda m: names.get(m.group(), m.group()), message)
    return _ROLE_IDS.sub(lambda m: m.group().replace("_", " "), message)


def names_list(names: list[str], joiner: str = "or") -> str:
    """Return ``["Omar", "Lena", "Ari"]`` as ``Omar, Lena or Ari``."""
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} {joiner} {names[-1]}"
