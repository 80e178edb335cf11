"""Inline comments (anchored to a passage, with @mentions, resolved when done), a person's open
mentions, and the copy editor's live check (the edit's checks, nothing saved)."""

from django.http import HttpRequest
from ninja import Router, Status

from signoff.api.errors import error_responses
from signoff.api.schemas.comments import (
    CommentOut,
    EditCheckIn,
    EditCheckOut,
    InlineCommentIn,
    MentionOut,
    ResolveIn,
)
from signoff.api.schemas.common import Id
from signoff.api.scope import package_for
from signoff.comments.services import (
    add_comment,
    as_row,
    comment_for,
    comments_on,
    open_mentions,
    resolve_comment,
)
from signoff.core.errors import InputError, Problem
from signoff.packages.editing import check_edit, field_counts

router = Router(tags=["comments"])


@router.post(
    "/packages/{package_id}/inline-comments",
    response={201: CommentOut, **error_responses(400)},
)
def add(request: HttpRequest, package_id: Id, payload: InlineCommentIn) -> Status[dict]:
    """Comment on the current version, optionally anchored to a passage (``field`` with
    ``quote`` and/or ``start``/``end``); ``@name`` mentions a person of the workspace, who then
    sees it in ``GET /api/mentions``. Stored as memory like every comment."""
    package = package_for(request.auth, package_id)
    comment = add_comment(package=package, person=request.auth, via="api", **payload.dict())
    return Status(201, as_row(comment_for(request.auth, comment.pk)))


@router.get(
    "/packages/{package_id}/inline-comments",
    response={200: list[CommentOut], **error_responses()},
)
def list_comments(request: HttpRequest, package_id: Id) -> list[dict]:
    """The package's comments, oldest first, with anchors, mentions and resolution."""
    return [as_row(c) for c in comments_on(package_for(request.auth, package_id))]


@router.post(
    "/comments/{comment_id}/resolve",
    response={200: CommentOut, **error_responses(400, 409)},
)
def resolve(request: HttpRequest, comment_id: Id, payload: ResolveIn) -> dict:
    """Resolve a comment (anyone in the workspace), with an optional note; 409 if it is."""
    comment = resolve_comment(comment_id=comment_id, person=request.auth, note=payload.note)
    return as_row(comment_for(request.auth, comment.pk))


@router.get("/mentions", response={200: list[MentionOut], **error_responses()})
def mentions(request: HttpRequest) -> list[dict]:
    """Comments that mention you and nobody has resolved yet, newest first."""
    return [
        {
            "comment": as_row(m.comment),
            "brief": m.comment.package.brief.slug,
            "sku": m.comment.package.sku,
            "channel": m.comment.package.channel,
        }
        for m in open_mentions(request.auth, limit=100)
    ]


@router.post(
    "/packages/{package_id}/edit/check",
    response={200: EditCheckOut, **error_responses(400, 409)},
)
def edit_check(request: HttpRequest, package_id: Id, payload: EditCheckIn) -> dict:
    """Run the checks an edit would run on these changes and say what they find; nothing is
    saved (``POST /edit`` saves). Counts are characters per field or list item."""
    package = package_for(request.auth, package_id)
    previous = package.current_version
    if previous is None:
        raise InputError([Problem("the package has no version to edit yet", field="changes")])
    checked = check_edit(package, previous, payload.changes)
    return {
        "changed": checked.changed,
        "counts": field_counts(checked.spec, checked.fields),
        "findings": [
            {
                "agent": f.agent,
                "rule_id": f.rule_id,
                "severity": str(f.severity),
                "field": f.field,
                "span": list(f.span) if f.span else None,
                "message": f.message,
                "suggested_fix": f.suggested_fix,
            }
            for f in checked.findings
        ],
    }
