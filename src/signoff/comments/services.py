"""Adding and resolving inline comments; reading them and a person's open mentions.

A comment is memory first: its text is stored by ``memory.services.comment_on`` as a Note
(with the ``package.commented`` event), in the same transaction as its anchor and mentions.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from signoff.agents.context import field_texts
from signoff.audit.services import record
from signoff.comments.anchors import locate, mentioned
from signoff.comments.models import Comment, Mention
from signoff.core.errors import InputError, NotFound
from signoff.memory.services import comment_on
from signoff.packages.models import Package
from signoff.workflow import ErrorCode, StateError
from signoff.workspaces.models import Person

MAX_COMMENT = 5000  # characters: a comment, not a document


def add_comment(
    *,
    package: Package,
    person: Person,
    text: str,
    field: str = "",
    quote: str = "",
    start: int | None = None,
    end: int | None = None,
    via: str = "web",
) -> Comment:
    """Store a comment on the package's current version, anchored and with its mentions.

    Raises ``InputError`` (naming text, field, quote or start) before anything is stored.
    """
    text = (text or "").strip()
    if len(text) > MAX_COMMENT:
        raise InputError.single(f"a comment has at most {MAX_COMMENT} characters", field="text")
    with transaction.atomic():
        package = Package.objects.select_for_update(of=("self",)).get(pk=package.pk)
        version = package.current_version
        texts = dict(field_texts(version.fields)) if version else {}
        anchor = locate(texts, field.strip(), quote, start, end)
        people = Person.objects.filter(workspace_id=package.brief.workspace_id, active=True)
        emails = mentioned(text, people.values_list("email", "name"))
        data: dict = {"via": via, "mentions": emails}
        if anchor:
            data["anchor"] = {
                "field": anchor.field,
                "quote": anchor.quote,
                "start": anchor.start,
                "end": anchor.end,
            }
        note = comment_on(package=package, person=person, text=text, version=version, data=data)
        comment = Comment.objects.create(
            note=note,
            package=package,
            version=version,
            field=anchor.field if anchor else "",
            quote=anchor.quote if anchor else "",
            start=anchor.start if anchor else None,
            end=anchor.end if anchor else None,
        )
        Mention.objects.bulk_create(
            Mention(comment=comment, person=p) for p in people.filter(email__in=emails)
        )
    return comment


def resolve_comment(*, comment_id: int, person: Person, note: str = "") -> Comment:
    """Mark a comment resolved (by anyone in its workspace), with the event; 409 if it is."""
    with transaction.atomic():
        comment = (
            Comment.objects.select_for_update(of=("self",))
            .select_related("note", "package", "package__brief__workspace")
            .filter(pk=comment_id, package__brief__workspace_id=person.workspace_id)
            .first()
        )
        if comment is None:
            raise NotFound(f"no comment {comment_id}")
        if comment.resolved:
            raise StateError(
                ErrorCode.INVALID_STATE,
                f"comment {comment.pk} was resolved by {comment.resolved_by} already",
            )
        comment.resolved_at = timezone.now()
        comment.resolved_by = person.email
        comment.resolution = note.strip()
        comment.save(update_fields=["resolved_at", "resolved_by", "resolution"])
        package = comment.package
        record(
            action="package.comment_resolved",
            actor=person.email,
            subject_type="package",
            subject_id=str(package.pk),
            workspace=package.brief.workspace.slug,
            note=comment.resolution,
            sku=package.sku,
            channel=package.channel,
            data={"comment": comment.pk, "note": comment.note_id},
        )
    return comment


def comments_on(package: Package) -> QuerySet[Comment]:
    """The package's comments, oldest first, with their text and mentioned people."""
    return (
        Comment.objects.filter(package=package)
        .select_related("note", "version")
        .prefetch_related("mentions__person")
    )


def comment_for(person: Person, comment_id: int) -> Comment:
    comment = (
        Comment.objects.filter(pk=comment_id, package__brief__workspace_id=person.workspace_id)
        .select_related("note", "version", "package")
        .first()
    )
    if comment is None:
        raise NotFound(f"no comment {comment_id}")
    return comment


def open_mentions(person: Person, limit: int = 20) -> list[Mention]:
    """Where the person is mentioned in a comment nobody has resolved yet, newest first."""
    return list(
        Mention.objects.filter(person=person, comment__resolved_at__isnull=True)
        .select_related("comment__note", "comment__package", "comment__package__brief")
        .order_by("-comment_id")[:limit]
    )


def as_row(comment: Comment) -> dict:
    """A comment as the API and the CLI show it."""
    return {
        "id": comment.pk,
        "package_id": comment.package_id,
        "version": comment.version.number if comment.version else None,
        "person": comment.note.person,
        "text": comment.note.text,
        "created_at": comment.note.created_at,
        "field": comment.field or None,
        "quote": comment.quote or None,
        "start": comment.start,
        "end": comment.end,
        "mentions": [m.person.email for m in comment.mentions.all()],
        "resolved": comment.resolved,
        "resolved_by": comment.resolved_by or None,
        "resolved_at": comment.resolved_at,
        "resolution": comment.resolution or None,
    }
