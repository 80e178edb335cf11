"""Create, use and revoke review links. Every use is audited, as ``system:review_link``.

Views are aggregated so an anonymous visitor cannot swamp the append-only log: the first view
of a link in each hour is a ``link.viewed`` event at once, the others in that hour are counted
beside the chain and carried into the link's next ``link.viewed`` event (``data.earlier_views``)
by :func:`signoff.packages.refusals.record_once_per_window`. Comments stay one event each.

A link is a random 256-bit token (shown once, to the content lead who creates it) of which
only the SHA-256 is stored. It opens the current versions of the packages it names, and lets
the guest comment on them: nothing else. Comments go to memory like any other comment, by
``guest:<name>``, so the next drafts read them.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from signoff.audit.models import ActorKind
from signoff.audit.services import record
from signoff.core.errors import InputError, NotFound, Problem
from signoff.memory.services import remember
from signoff.packages.models import Note, Package
from signoff.packages.refusals import record_once_per_window
from signoff.sharing.models import ReviewComment, ReviewLink
from signoff.workflow import AuthorityError, ErrorCode, Role
from signoff.workspaces.models import Person

TOKEN_BYTES = 32  # 256 bits
DEFAULT_EXPIRY = timedelta(days=7)
MAX_EXPIRY = timedelta(days=30)
MAX_PACKAGES = 500
ACTOR = "system:review_link"
LINK_KEEPERS = frozenset({Role.CONTENT_LEAD})
GUEST_NAME_MAX = 80
COMMENT_MAX = 2000


class LinkRefused(Exception):
    """The token is unknown, expired or revoked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "unknown", "expired" or "revoked"


def hash_token(token: str) -> str:
    """Return the stored form of a token (SHA-256 hex; the token is 256 random bits)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _require_keeper(person: Person, doing: str) -> Person:
    person = Person.objects.select_related("workspace").get(pk=person.pk)
    if not person.active or not LINK_KEEPERS & set(person.roles):
        raise AuthorityError(
            ErrorCode.WRONG_ROLE,
            f"{person.email} may not {doing}: needs {', '.join(sorted(LINK_KEEPERS))}",
            required_roles=LINK_KEEPERS,
        )
    return person


def channel_package_ids(person: Person, brief_slug: str, channel: str) -> list[int]:
    """Return the ids of one channel's packages of a brief in the person's workspace."""
    ids = list(
        Package.objects.filter(
            brief__workspace_id=person.workspace_id, brief__slug=brief_slug, channel=channel
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not ids:
        raise NotFound(f"no packages of brief {brief_slug!r} on channel {channel!r}")
    return ids


def link_scope(
    person: Person,
    package_ids: Iterable[int],
    *,
    brief: str | None = None,
    channel: str | None = None,
) -> tuple[list[int], dict]:
    """Return the packages a new link covers and the scope it records.

    The packages named, or, when none are, every package of ``brief`` on ``channel`` (both
    needed): ``{"kind": "channel", ...}``. Nothing named at all is left to
    :func:`create_review_link` to refuse.
    """
    ids = list(package_ids)
    if not ids and brief and channel:
        scope = {"kind": "channel", "brief": brief, "channel": channel}
        return channel_package_ids(person, brief, channel), scope
    return ids, {"kind": "packages"}


def create_review_link(
    person: Person,
    package_ids: Iterable[int],
    expires_in: timedelta = DEFAULT_EXPIRY,
    note: str = "",
    *,
    scope: dict | None = None,
) -> tuple[ReviewLink, str]:
    """Create a link to ``package_ids`` for ``expires_in``; return it and its token (once).

    Only a content lead may; every package must be in the person's workspace (any other id
    is reported as not found, never confirmed).
    """
    ids = list(dict.fromkeys(int(i) for i in package_ids))
    problems = []
    if not ids:
        problems.append(Problem("name at least one package", field="packages"))
    if len(ids) > MAX_PACKAGES:
        problems.append(Problem(f"at most {MAX_PACKAGES} packages per link", field="packages"))
    if not timedelta(minutes=1) <= expires_in <= MAX_EXPIRY:
        problems.append(
            Problem(f"expiry must be between 1 minute and {MAX_EXPIRY.days} days", field="expires")
        )
    if problems:
        raise InputError(problems)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        person = _require_keeper(person, "create review links")
        packages = list(
            Package.objects.filter(pk__in=ids, brief__workspace_id=person.workspace_id).only("id")
        )
        missing = sorted(set(ids) - {p.pk for p in packages})
        if missing:
            raise NotFound(f"no package {', '.join(map(str, missing))}")
        link = ReviewLink.objects.create(
            workspace=person.workspace,
            token_hash=hash_token(token),
            created_by=person.email,
            note=" ".join(note.split())[:2000],
            scope=scope or {"kind": "packages"},
            expires_at=timezone.now() + expires_in,
        )
        link.packages.set(packages)
        record(
            action="link.created",
            actor=person.email,
            subject_type="review_link",
            subject_id=link.pk,
            workspace=person.workspace.slug,
            note=link.note,
            data={
                "link": link.pk,
                "packages": sorted(p.pk for p in packages),
                "expires_at": link.expires_at.isoformat(),
                "scope": link.scope,
            },
        )
    return link, token


def revoke_review_link(person: Person, link_id: int) -> ReviewLink:
    """Revoke a link of the person's workspace; it is refused from now on."""
    with transaction.atomic():
        person = _require_keeper(person, "revoke review links")
        link = (
            ReviewLink.objects.select_for_update()
            .filter(pk=link_id, workspace_id=person.workspace_id)
            .first()
        )
        if link is None:
            raise NotFound(f"no review link {link_id}")
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.revoked_by = person.email
            link.save(update_fields=["revoked_at", "revoked_by"])
            record(
                action="link.revoked",
                actor=person.email,
                subject_type="review_link",
                subject_id=link.pk,
                workspace=person.workspace.slug,
                data={"link": link.pk},
            )
    return link


def links_of(person: Person) -> list[ReviewLink]:
    """Return the links of the person's workspace, newest first, with their package counts."""
    from django.db.models import Count

    return list(
        ReviewLink.objects.filter(workspace_id=person.workspace_id)
        .annotate(package_count=Count("packages"))
        .order_by("-created_at", "-id")[:100]
    )


# --- what the guest does ------------------------------------------------------------------


def _open(token: str, now: datetime | None = None, *, lock: bool = False) -> ReviewLink:
    if not token or len(token) > 200:
        raise LinkRefused("unknown")
    links = ReviewLink.objects.select_related("workspace")
    if lock:
        links = links.select_for_update()
    link = links.filter(token_hash=hash_token(token)).first()
    if link is None:
        raise LinkRefused("unknown")
    status = link.status(now)
    if status != "active":
        raise LinkRefused(status)
    return link


def _package(link: ReviewLink, package_id: int) -> Package:
    package = (
        link.packages.select_related("brief", "brief__workspace", "current_version")
        .filter(pk=package_id)
        .first()
    )
    if package is None:
        raise NotFound(f"package {package_id} is not part of this review link")
    return package


def now() -> datetime:
    """The clock views are counted by (tests replace it to cross an hour on purpose)."""
    return timezone.now()


def _viewed(link: ReviewLink, package: Package | None) -> int | None:
    """Count a view; return the ``link.viewed`` event's seq if it is the hour's first."""
    window = now().replace(minute=0, second=0, microsecond=0)
    key = {
        "workspace": link.workspace.slug,
        "actor": ACTOR,
        "attempt": "view",
        "subject_type": "review_link",
        "subject_id": str(link.pk),
        "code": "viewed",
    }

    def event(carried: int, earlier: list[datetime]) -> dict:
        return {
            "action": "link.viewed",
            "actor": ACTOR,
            "actor_kind": ActorKind.SYSTEM,
            "subject_type": "review_link",
            "subject_id": link.pk,
            "workspace": link.workspace.slug,
            "sku": package.sku if package else None,
            "channel": package.channel if package else None,
            "data": {
                "link": link.pk,
                "package": package.pk if package else None,  # what this first view opened
                "window": window.isoformat(),
                # Views of earlier hours (after each hour's first) that no event counted yet.
                "earlier_views": carried,
                "earlier_windows": [w.isoformat() for w in earlier],
            },
        }

    return record_once_per_window(key, window, event)


def view_link(token: str) -> tuple[ReviewLink, list[Package]]:
    """Open a link: its packages, in order. Audited as ``link.viewed``."""
    with transaction.atomic():
        link = _open(token)
        packages = list(
            link.packages.select_related("brief", "current_version").order_by(
                "brief_id", "sku", "channel", "market", "variant"
            )
        )
        _viewed(link, None)
    return link, packages


def view_package(token: str, package_id: int) -> tuple[ReviewLink, Package, list[Note]]:
    """Open one package of a link, and the comments made through this link on it. Audited."""
    with transaction.atomic():
        link = _open(token)
        package = _package(link, package_id)
        comments = list(
            Note.objects.filter(package=package, review_comment__link=link).order_by("created_at")
        )
        _viewed(link, package)
    return link, package, comments


def clean_guest_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InputError([Problem("say who you are", field="name")])
    if len(name) > GUEST_NAME_MAX:
        raise InputError([Problem(f"at most {GUEST_NAME_MAX} characters", field="name")])
    return name


def comment_via_link(token: str, package_id: int, *, guest: str, text: str) -> Note:
    """Add a guest's comment on a package's current version to memory. Audited."""
    guest = clean_guest_name(guest)
    text = text.strip()
    if not text:
        raise InputError([Problem("write a comment", field="text")])
    if len(text) > COMMENT_MAX:
        raise InputError([Problem(f"at most {COMMENT_MAX} characters", field="text")])
    with transaction.atomic():
        link = _open(token, lock=True)  # a revoke in flight waits, or wins
        package = _package(link, package_id)
        note = remember(
            kind=Note.Kind.COMMENT,
            package=package,
            text=text,
            person=f"guest:{guest}",
            version=package.current_version,
        )
        ReviewComment.objects.create(link=link, note=note, guest=guest)
        version = package.current_version
        record(
            action="link.commented",
            actor=ACTOR,
            actor_kind=ActorKind.SYSTEM,
            subject_type="package",
            subject_id=package.pk,
            workspace=link.workspace.slug,
            content_hash=version.content_hash if version else "",
            note=text,
            sku=package.sku,
            channel=package.channel,
            data={
                "link": link.pk,
                "guest": guest,
                "note": note.pk,
                "version": version.number if version else None,
            },
        )
    return note
