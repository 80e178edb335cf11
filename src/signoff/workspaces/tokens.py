"""API tokens: one per person per issue, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from signoff.audit.services import record
from signoff.core.errors import NotFound
from signoff.workspaces.models import ApiToken, Person

PREFIX = "so_"


class InvalidToken(Exception):
    """The token is unknown, revoked, or its person is no longer active."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_person(email: str, workspace: str | None = None) -> Person:
    people = Person.objects.select_related("workspace").filter(email=email.lower(), active=True)
    if workspace:
        people = people.filter(workspace__slug=workspace)
    found = list(people[:2])
    if not found:
        raise NotFound(f"no active person {email!r}" + (f" in {workspace}" if workspace else ""))
    if len(found) > 1:
        raise NotFound(f"{email} belongs to several workspaces; name one with --workspace")
    return found[0]


def issue_token(*, email: str, workspace: str | None = None, actor: str = "system:cli") -> str:
    """Create a token for the person and return it; only its hash is kept."""
    person = find_person(email, workspace)
    token = PREFIX + secrets.token_urlsafe(32)  # 256 bits from the OS CSPRNG
    with transaction.atomic():
        ApiToken.objects.create(person=person, key_hash=_digest(token), prefix=token[:10])
        record(
            action="token.issued",
            actor=actor,
            actor_kind="system",
            subject_type="person",
            subject_id=person.email,
            workspace=person.workspace.slug,
            data={"prefix": token[:10]},
        )
    return token


def authenticate(token: str) -> Person:
    """Return the active person the token belongs to, or raise InvalidToken."""
    if not token:
        raise InvalidToken("no token given: set SIGNOFF_TOKEN or pass --token")
    if not token.startswith(PREFIX):
        raise InvalidToken(f"not a Signoff token (they start with {PREFIX!r})")
    try:
        stored = ApiToken.objects.select_related("person", "person__workspace").get(
            key_hash=_digest(token), revoked_at__isnull=True
        )
    except ApiToken.DoesNotExist as exc:
        raise InvalidToken("unknown or revoked token") from exc
    if not stored.person.active:
        raise InvalidToken(f"{stored.person.email} is no longer active in the workspace")
    ApiToken.objects.filter(pk=stored.pk).update(last_used_at=timezone.now())
    return stored.person
