"""API tokens: issued to one person, shown once, stored as SHA-256, expiring and revocable.

A token lives ``SIGNOFF_TOKEN_DAYS`` (90) days unless issued for fewer or more. A person lists
and revokes their own tokens; a workspace ``admin`` lists and revokes everyone's in the
workspace; the local ``signoff token`` commands see every workspace. Leaving the workspace
file revokes a person's tokens, and revoked stays revoked: coming back needs a new token.
Issue and revoke are audited (``token.issued``, ``token.revoked``) in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from signoff.audit.models import ActorKind
from signoff.audit.services import record, record_many
from signoff.core.errors import InputError, NotFound
from signoff.workflow import AuthorityError, ErrorCode, Role
from signoff.workspaces.models import ApiToken, Person

PREFIX = "so_"
PREFIX_LENGTH = 10  # "so_" and 7 characters: stored and shown, so people can tell tokens apart
MIN_PREFIX = 7  # the shortest prefix `token revoke` accepts ("so_" and 4 characters)
DEFAULT_DAYS = 90
MAX_DAYS = 366
TOKEN_ADMINS = frozenset({Role.ADMIN})  # who manages everyone's tokens in their workspace
REMOVED = "removed from the workspace"
NEW_TOKEN_HINT = "issue a new one (the web app's Tokens page, or `signoff token issue EMAIL`)"


class InvalidToken(Exception):
    """The token is unknown, revoked or expired, or its person is no longer active."""


class UnknownToken(InvalidToken):
    """No such token was ever issued here: what a guess gets (the sign-in throttle counts it)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _actor_kind(actor: str) -> str:
    return ActorKind.SYSTEM if actor.startswith("system:") else ActorKind.PERSON


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


def token_days(days: int | None = None) -> int:
    """Return the lifetime to issue for: ``days``, or the ``SIGNOFF_TOKEN_DAYS`` setting."""
    if days is None:
        days = getattr(settings, "SIGNOFF_TOKEN_DAYS", DEFAULT_DAYS)
        field = "SIGNOFF_TOKEN_DAYS"
    else:
        field = "days"
    if not 1 <= days <= MAX_DAYS:
        raise InputError.single(
            f"a token lives between 1 and {MAX_DAYS} days, got {days}", field=field
        )
    return days


def issue_token(
    *,
    email: str,
    workspace: str | None = None,
    days: int | None = None,
    actor: str = "system:cli",
) -> str:
    """Create a token for the person and return it; only its hash is kept."""
    return _issue(find_person(email, workspace), days=days, actor=actor)[1]


def issue_own_token(person: Person, *, days: int | None = None) -> tuple[ApiToken, str]:
    """Issue a token to ``person`` at their own request (the web app); return it and its key.

    Nobody issues a token for someone else outside the local command: a token acts as its
    person, so that would let one person act as another.
    """
    person = Person.objects.select_related("workspace").get(pk=person.pk)
    if not person.active:
        raise NotFound(f"{person.email} is no longer active in {person.workspace.slug}")
    return _issue(person, days=days, actor=person.email)


def _issue(person: Person, *, days: int | None, actor: str) -> tuple[ApiToken, str]:
    lifetime = token_days(days)
    token = PREFIX + secrets.token_urlsafe(32)  # 256 bits from the OS CSPRNG
    with transaction.atomic():
        stored = ApiToken.objects.create(
            person=person,
            key_hash=_digest(token),
            prefix=token[:PREFIX_LENGTH],
            expires_at=timezone.now() + timedelta(days=lifetime),
        )
        record(
            action="token.issued",
            actor=actor,
            actor_kind=_actor_kind(actor),
            subject_type="person",
            subject_id=person.email,
            workspace=person.workspace.slug,
            data={
                "prefix": stored.prefix,
                "token": stored.pk,
                "expires_at": stored.expires_at.isoformat(),
            },
        )
    return stored, token


def authenticate(token: str) -> Person:
    """Return the active person the token belongs to, or raise InvalidToken saying why."""
    if not token:
        raise InvalidToken("no token given: set SIGNOFF_TOKEN or pass --token")
    if not token.startswith(PREFIX):
        raise UnknownToken(f"not a Signoff token (they start with {PREFIX!r})")
    stored = (
        ApiToken.objects.select_related("person", "person__workspace")
        .filter(key_hash=_digest(token))
        .first()
    )
    if stored is None:
        raise UnknownToken("unknown token")
    if stored.revoked_at is not None:
        why = f" ({stored.revoked_reason})" if stored.revoked_reason else ""
        raise InvalidToken(
            f"token {stored.prefix}... was revoked on {_when(stored.revoked_at)}{why}; "
            + NEW_TOKEN_HINT
        )
    now = timezone.now()
    if now >= stored.expires_at:
        raise InvalidToken(
            f"token {stored.prefix}... expired on {_when(stored.expires_at)}; {NEW_TOKEN_HINT}"
        )
    if not stored.person.active:
        raise InvalidToken(f"{stored.person.email} is no longer active in the workspace")
    ApiToken.objects.filter(pk=stored.pk).update(last_used_at=now)
    return stored.person


# --- who sees and revokes which tokens --------------------------------------------------------


def is_token_admin(person: Person) -> bool:
    return bool(TOKEN_ADMINS & set(person.roles))


def tokens_of(person: Person) -> QuerySet[ApiToken]:
    """Return the tokens ``person`` manages: their own, or (an admin) their workspace's."""
    tokens = ApiToken.objects.select_related("person", "person__workspace")
    if is_token_admin(person):
        return tokens.filter(person__workspace_id=person.workspace_id)
    return tokens.filter(person_id=person.pk)


def all_tokens(*, workspace: str | None = None, email: str | None = None) -> QuerySet[ApiToken]:
    """Every token, newest first (the local command), optionally of one workspace or email."""
    tokens = ApiToken.objects.select_related("person", "person__workspace")
    if workspace:
        tokens = tokens.filter(person__workspace__slug=workspace)
    if email:
        tokens = tokens.filter(person__email=email.lower())
    return tokens


def revoke_token(*, person: Person, token_id: int) -> ApiToken:
    """Revoke a token ``person`` manages (their own; an admin: any in their workspace).

    Another workspace's token is not found; a colleague's, for someone not an admin, is refused
    (``wrong_role``). Revoking a revoked token changes nothing and records nothing.
    """
    with transaction.atomic():
        person = Person.objects.select_related("workspace").get(pk=person.pk)
        token = (
            ApiToken.objects.select_for_update(of=("self",))
            .select_related("person", "person__workspace")
            .filter(pk=token_id, person__workspace_id=person.workspace_id)
            .first()
        )
        if token is None or not person.active:
            raise NotFound(f"no token {token_id} in {person.workspace.slug}")
        if token.person_id != person.pk and not is_token_admin(person):
            raise AuthorityError(
                ErrorCode.WRONG_ROLE,
                f"{person.email} may revoke only their own tokens; {token.person.email}'s "
                f"needs {', '.join(sorted(TOKEN_ADMINS))}",
                required_roles=TOKEN_ADMINS,
            )
        reason = "revoked by its owner" if token.person_id == person.pk else "revoked by an admin"
        _revoke([token], actor=person.email, reason=reason)
    return token


def revoke_by_key(key: str, *, workspace: str | None = None, actor: str = "system:cli") -> ApiToken:
    """Revoke the token ``key`` names: the whole token, or a prefix as ``token list`` shows it."""
    key = key.strip().removesuffix("...")
    tokens = all_tokens(workspace=workspace).select_for_update(of=("self",))
    where = {"file": "<command line>", "field": "TOKEN"}
    with transaction.atomic():
        if len(key) > PREFIX_LENGTH:
            found = list(tokens.filter(key_hash=_digest(key)))
            if not found:
                raise NotFound(
                    "no such token: it was never issued here (to name one by its prefix, give "
                    f"only its first {MIN_PREFIX} to {PREFIX_LENGTH} characters)"
                )
        elif not key.startswith(PREFIX) or len(key) < MIN_PREFIX:
            raise InputError.single(
                f"give the whole token or its prefix (at least {MIN_PREFIX} characters, as "
                "`signoff token list` shows it, e.g. so_Ab3x9Qz)",
                **where,
            )
        else:
            found = list(tokens.filter(prefix__startswith=key)[:6])
            if not found:
                raise NotFound(f"no token starts with {key!r}")
            if len(found) > 1:
                named = ", ".join(f"{t.prefix}... ({t.person.email})" for t in found[:5])
                raise InputError.single(
                    f"{key!r} starts several tokens ({named}); give more characters", **where
                )
        _revoke(found, actor=actor, reason="revoked from the command line")
    return found[0]


def revoke_people_tokens(
    people: Iterable[Person], *, actor: str, reason: str = REMOVED
) -> list[ApiToken]:
    """Revoke every live token of ``people`` (a workspace load: those no longer listed).

    Must run inside the caller's transaction, with the change that removes them.
    """
    ids = [p.pk for p in people]
    if not ids:
        return []
    tokens = list(
        ApiToken.objects.select_for_update(of=("self",))
        .select_related("person", "person__workspace")
        .filter(person_id__in=ids, revoked_at__isnull=True)
    )
    _revoke(tokens, actor=actor, reason=reason)
    return tokens


def _revoke(tokens: list[ApiToken], *, actor: str, reason: str) -> None:
    now = timezone.now()
    live = [t for t in tokens if t.revoked_at is None]
    if not live:
        return
    for token in live:
        token.revoked_at, token.revoked_by, token.revoked_reason = now, actor, reason
    ApiToken.objects.bulk_update(live, ["revoked_at", "revoked_by", "revoked_reason"])
    record_many(
        [
            {
                "action": "token.revoked",
                "actor": actor,
                "actor_kind": _actor_kind(actor),
                "subject_type": "person",
                "subject_id": token.person.email,
                "workspace": token.person.workspace.slug,
                "note": reason,
                "data": {"prefix": token.prefix, "token": token.pk},
            }
            for token in live
        ]
    )
