"""Packages: detail, versions, findings and their suggested fixes, comments, compare and
ratings, reassignment, and the gate decisions (one, or a batch)."""

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

from django.http import HttpRequest
from ninja import Query, Router, Status

from signoff.api import queries
from signoff.api.errors import error_responses
from signoff.api.schemas import (
    ApproveIn,
    BatchIn,
    BatchOut,
    CommentIn,
    CompareOut,
    EditIn,
    EditOut,
    FindingOut,
    Id,
    ItemResultOut,
    NoteOut,
    PackageOut,
    RatingIn,
    ReassignIn,
    RejectIn,
    VersionOut,
)
from signoff.api.scope import owned_package_ids, package_for
from signoff.comments.services import add_comment
from signoff.core import labels
from signoff.core.errors import InputError, NotFound, Problem
from signoff.packages.assignment import reassign_item, reassign_package
from signoff.packages.authoring import apply_fix as apply_suggested_fix
from signoff.packages.authoring import edit_package
from signoff.packages.decisions import (
    ItemResult,
    approve_package,
    decide_each,
    reject_package,
    review_package,
)
from signoff.packages.eligibility import eligibility_answer, package_eligibility
from signoff.packages.models import Note
from signoff.packages.selectors import package_detail
from signoff.web import compare as comparing
from signoff.workspaces.models import Person

router = Router(tags=["packages"])
DECIDES = error_responses(400, 403, 409)  # a decision with a body
NO_BODY_DECIDES = error_responses(403, 409)


@contextmanager
def _under(prefix: str) -> Iterator[None]:
    """Report the services' problems at their path inside the request field ``prefix``."""
    try:
        yield
    except InputError as exc:
        raise InputError(
            [
                Problem(
                    p.message,
                    field=prefix if p.field in (None, "--set") else f"{prefix}.{p.field}",
                )
                for p in exc.problems
            ]
        ) from exc


def _batch_action(person: Person, payload: BatchIn) -> Callable[[int], ItemResult]:
    """Return what to do with each id; a package outside the workspace is not found."""
    owned = owned_package_ids(person, payload.ids)

    def act(package_id: int) -> ItemResult:
        if package_id not in owned:
            raise NotFound(f"no package {package_id} in {person.workspace.slug}")
        if payload.action == "reassign":
            return reassign_item(package_id=package_id, person=person, owner_email=payload.owner)
        if payload.action == "review":
            return review_package(package_id=package_id, person=person)
        if payload.action == "review_approve":
            review_package(package_id=package_id, person=person)
            return approve_package(
                package_id=package_id,
                person=person,
                note=payload.note,
                batch=True,
                expected_gate=payload.expected_gate,
            )
        decision = approve_package if payload.action == "approve" else reject_package
        return decision(
            package_id=package_id,
            person=person,
            note=payload.note,
            batch=True,
            expected_gate=payload.expected_gate,
        )

    return act


# Before the "/{package_id}" paths, which would otherwise take "batch" as an id.
@router.post("/batch", response={200: BatchOut, **error_responses(400)})
def batch(request: HttpRequest, payload: BatchIn) -> dict:
    """Approve, reject, review or reassign (to ``owner``) many packages; each succeeds or is
    refused on its own.

    200 once the request is valid: each result carries ``ok``, ``code`` and the
    ``http_status`` it would have had alone. Batch approval takes only versions you marked
    reviewed. Reassigning without an ``owner`` is a 422.
    """
    if payload.action == "reassign" and not payload.owner.strip():
        raise InputError([Problem("choose the person to reassign the packages to", field="owner")])
    ids = list(dict.fromkeys(payload.ids))
    results = decide_each(ids, _batch_action(request.auth, payload))
    ok = sum(r.ok for r in results)
    return {
        "results": [dataclasses.asdict(r) for r in results],
        "ok": ok,
        "refused": len(results) - ok,
    }


@router.get("/{package_id}", response={200: PackageOut, **error_responses()})
def detail(request: HttpRequest, package_id: Id) -> dict:
    """The current version (every field), its origin, findings and completeness; in
    ``eligibility``, who can act on its gate and what each of your actions would cause
    (approve, reject, review, edit, fix), asked of the same rules a decision meets."""
    package = package_for(request.auth, package_id)
    return {
        **package_detail(package),
        "channel_label": labels.channel_label(package.channel, labels.channel_names()),
        "position_label": labels.position_label(package.position),
        "eligibility": eligibility_answer(package_eligibility(package, request.auth)),
    }


@router.get("/{package_id}/versions", response={200: list[VersionOut], **error_responses()})
def versions(request: HttpRequest, package_id: Id) -> list[dict]:
    """Every version, oldest first, with what changed against its parent."""
    return queries.version_history(package_for(request.auth, package_id))


@router.get("/{package_id}/findings", response={200: list[FindingOut], **error_responses()})
def findings(request: HttpRequest, package_id: Id, version: Id | None = None) -> list[dict]:
    """The findings of the current version, or of version number ``version``."""
    return queries.findings_of(package_for(request.auth, package_id), version)


@router.post("/{package_id}/review", response={200: ItemResultOut, **NO_BODY_DECIDES})
def review(request: HttpRequest, package_id: Id) -> ItemResult:
    """Mark the current version reviewed by you (batch approval takes reviewed versions only)."""
    package = package_for(request.auth, package_id)
    return review_package(package_id=package.pk, person=request.auth)


@router.post("/{package_id}/approve", response={200: ItemResultOut, **DECIDES})
def approve(request: HttpRequest, package_id: Id, payload: ApproveIn) -> ItemResult:
    """Pass the gate the package waits on, for its current version."""
    package = package_for(request.auth, package_id)
    return approve_package(package_id=package.pk, person=request.auth, **payload.dict())


@router.post("/{package_id}/reject", response={200: ItemResultOut, **DECIDES})
def reject(request: HttpRequest, package_id: Id, payload: RejectIn) -> ItemResult:
    """Send the package back to the previous stage; the note is required and the next draft
    reads it."""
    package = package_for(request.auth, package_id)
    return reject_package(package_id=package.pk, person=request.auth, **payload.dict())


@router.post("/{package_id}/edit", response={200: EditOut, **DECIDES})
def edit(request: HttpRequest, package_id: Id, payload: EditIn) -> dict:
    """Save your new version; approvals it no longer matches are voided."""
    package = package_for(request.auth, package_id)
    with _under("changes"):
        result, changes = edit_package(
            package_id=package.pk,
            person=request.auth,
            changes=payload.changes,
            note=payload.note,
            base_version=payload.base_version,
        )
    return {"result": dataclasses.asdict(result), "changes": changes}


@router.post(
    "/{package_id}/findings/{finding_id}/apply", response={200: EditOut, **NO_BODY_DECIDES}
)
def apply_fix(request: HttpRequest, package_id: Id, finding_id: Id) -> dict:
    """Apply a finding's suggested fix as a new version by you, like any edit: approvals it no
    longer matches are voided, and you may not approve it yourself (maker-checker).

    The finding must be on the current version (404 otherwise) and suggest a fix (422).
    """
    package = package_for(request.auth, package_id)
    result, changes = apply_suggested_fix(
        package_id=package.pk, finding_id=finding_id, person=request.auth
    )
    return {"result": dataclasses.asdict(result), "changes": changes}


@router.post("/{package_id}/reassign", response={200: ItemResultOut, **DECIDES})
def reassign(request: HttpRequest, package_id: Id, payload: ReassignIn) -> ItemResult:
    """Make ``owner`` (an active person of your workspace) the package's owner. Operators and
    gate owners may; a package already owned by them is refused (422, nothing changes)."""
    package = package_for(request.auth, package_id)
    return reassign_package(package_id=package.pk, person=request.auth, owner_email=payload.owner)


def _note_row(note: Note, version_number: int | None = None) -> dict:
    return {
        "id": note.pk,
        "kind": note.kind,
        "person": note.person,
        "text": note.text,
        "version": version_number or (note.version.number if note.version else None),
        "gate": note.gate,
        "created_at": note.created_at,
    }


@router.post("/{package_id}/comments", response={201: NoteOut, **error_responses(400)})
def comment(request: HttpRequest, package_id: Id, payload: CommentIn) -> Status[dict]:
    """Comment on the package's current version (any person of the workspace). Comments are
    memory: later drafts of the same SKU or channel read them."""
    package = package_for(request.auth, package_id)
    # Mentions (@name) are read here too; anchors are for POST .../inline-comments.
    comment = add_comment(package=package, person=request.auth, text=payload.text, via="api")
    return Status(201, _note_row(comment.note))


@router.get("/{package_id}/comments", response={200: list[NoteOut], **error_responses()})
def comments(request: HttpRequest, package_id: Id) -> list[dict]:
    """Everything said about the package, newest first: comments, and the notes of rejections,
    approvals and edits (``kind`` says which)."""
    package = package_for(request.auth, package_id)
    notes = (
        Note.objects.filter(package=package)
        .select_related("version")
        .order_by("-created_at", "-id")
    )
    return [_note_row(n) for n in notes]


@router.get("/{package_id}/compare", response={200: CompareOut, **error_responses()})
def compare(
    request: HttpRequest,
    package_id: Id,
    # List parameters stay out of a query Schema so their errors name them ("others.0").
    others: Annotated[list[Id] | None, Query(max_length=3)] = None,  # other variants (current)
    versions: Annotated[list[Id] | None, Query(max_length=3)] = None,  # earlier versions
) -> dict:
    """Two to four candidates side by side: the current version, and ``others`` (variants of
    the same SKU, channel and market) or earlier ``versions``; with neither, every variant.
    A package that is not a variant of this one is not found (404)."""
    package = package_for(request.auth, package_id)
    try:
        pairs = comparing.choose(
            package, [str(i) for i in others or []], [str(n) for n in versions or []]
        )
    except comparing.CompareError as exc:
        raise InputError([Problem(str(exc), field="others")]) from exc
    page = comparing.compare_page(package, request.auth, pairs)
    return {
        "package": package.pk,
        "candidates": [
            {
                "key": c.key,
                "package": c.package.pk,
                "variant": c.package.variant,
                "version": c.version.number,
                "current": c.current,
                "base": c.base,
                "content_hash": c.version.content_hash,
                "fields": c.version.fields,
                "findings": c.findings,
                "counts": {s: c.counts.get(s, 0) for s in ("block", "warn", "info")},
                "ratings": [_note_row(n, c.version.number) for n in c.ratings],
            }
            for c in page["candidates"]
        ],
        "differs": [row["path"] for row in page["table"] if row["differs"]],
        "siblings": [s["package"].pk for s in page["siblings"]],
        "tags": list(comparing.TAGS),
    }


@router.post(
    "/{package_id}/versions/{number}/ratings",
    response={201: NoteOut, **error_responses(400)},
)
def rate(request: HttpRequest, package_id: Id, number: Id, payload: RatingIn) -> Status[dict]:
    """Rate one version 1-5 with feedback tags (any person of the workspace). The rating is a
    comment in memory: later drafts of the SKU and channel read it, memory search finds it."""
    package = package_for(request.auth, package_id)
    note = comparing.rate_candidate(
        person=request.auth,
        package=package,
        version_number=number,
        rating=payload.rating,
        tags=list(payload.tags),
        text=payload.text,
    )
    return Status(201, _note_row(note, number))
