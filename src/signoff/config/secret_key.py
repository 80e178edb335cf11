"""Whether a secret key is fit for production (``SIGNOFF_PRODUCTION=1``). No Django imports:
the settings module calls it before Django is set up.

The key signs sessions, CSRF tokens and password-reset links: a guessable one lets anyone forge
a signed-in session. Refused: keys shorter than 50 characters or made of fewer than 5 distinct
characters (Django's own ``security.W009`` bar, here an error at start-up instead of a warning
in ``check --deploy``), and keys that are a known placeholder or contain one: this repository's
development key, Django's ``django-insecure-`` keys, ``changeme`` and the like.
"""

from __future__ import annotations

MIN_LENGTH = 50
MIN_DISTINCT = 5
DEVELOPMENT_KEY = "signoff-local-development-key-not-for-production"
INSECURE_PREFIX = "django-insecure-"
# Compared without case, spaces, dashes or underscores: "Change_Me" is "changeme".
PLACEHOLDERS = (
    "signofflocaldevelopmentkey",
    "notforproduction",
    "djangoinsecure",
    "changeme",
    "changethis",
    "replaceme",
    "yoursecretkey",
    "secretkeyhere",
    "insecurekey",
    "placeholder",
    "xxxxxxxx",
)
HOW = "e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def secret_key_problem(key: str) -> str | None:
    """Return why ``key`` may not be a production secret key, or None if it may."""
    folded = "".join(c for c in key.lower() if c not in " -_")
    placeholder = next((p for p in PLACEHOLDERS if p in folded), None)
    if not key:
        why = "it is not set"
    elif key == DEVELOPMENT_KEY:
        why = "it is the development key"
    elif key.lower().startswith(INSECURE_PREFIX):
        why = f"it is a {INSECURE_PREFIX} key"
    elif placeholder is not None:
        why = f"it contains the placeholder {placeholder!r}"
    elif len(key) < MIN_LENGTH:
        why = f"it has {len(key)} characters, fewer than {MIN_LENGTH}"
    elif len(set(key)) < MIN_DISTINCT:
        why = f"it uses {len(set(key))} distinct characters, fewer than {MIN_DISTINCT}"
    else:
        return None
    return (
        f"SIGNOFF_PRODUCTION=1 needs SIGNOFF_SECRET_KEY: a long random secret of at least "
        f"{MIN_LENGTH} characters, but {why} ({HOW})"
    )
