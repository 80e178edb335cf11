"""Memory: search what people decided, said and wrote, the banned phrases it suggests, and
accepting one into the workspace's rules (content lead, brand manager or admin, as in the CLI)."""

import dataclasses
from typing import Annotated

from django.http import HttpRequest
from ninja import Query, Router, Status

from signoff.api.errors import error_responses
from signoff.api.schemas import (
    BannedPhraseIn,
    BannedPhraseOut,
    MemoryHitOut,
    MemorySearchQuery,
    MemorySource,
    SuggestionOut,
)
from signoff.audit import scope as audit_scope
from signoff.memory.search import SOURCES, search_memory
from signoff.memory.services import learn_banned_phrase, rejection_notes
from signoff.memory.suggestions import suggest_banned_phrases
from signoff.workspaces.rules import brand_rules

router = Router(tags=["memory"])


@router.get("/search", response={200: list[MemoryHitOut], **error_responses()})
def search(
    request: HttpRequest,
    query: Query[MemorySearchQuery],
    # A list parameter stays out of the query Schema so its errors name it ("source.0").
    source: Annotated[list[MemorySource] | None, Query(max_length=3)] = None,  # default: all
) -> list[dict]:
    """Full-text search of your workspace's memory, as ``signoff memory search``: notes
    (rejections, edits, approvals, comments and ratings, winning copy), every version's copy,
    and decision events with a note (an event's ``id`` is its position in your workspace's
    log). Every word of ``q`` must match (as a prefix); best first."""
    hits = search_memory(
        workspace_id=request.auth.workspace_id,
        query=query.q,
        sku=query.sku,
        channel=query.channel,
        sources=tuple(source or ()) or SOURCES,
        limit=query.limit,
    )
    # An event is named by its position in your workspace's log, never by the installation's
    # sequence number (signoff.web.audit_scope).
    events = audit_scope.positions(
        request.auth.workspace.slug, (h.id for h in hits if h.source == "event")
    )
    return [
        {**hit.as_dict(), "at": hit.at, "id": events.get(hit.id, hit.id)}
        if hit.source == "event"
        else {**hit.as_dict(), "at": hit.at}
        for hit in hits
    ]


@router.get("/suggestions", response={200: list[SuggestionOut], **error_responses()})
def suggestions(request: HttpRequest) -> list[dict]:
    """Phrases reviewers keep quoting in rejections, on several packages, proposed as banned
    phrases. A person decides: nothing becomes a rule by itself."""
    workspace = request.auth.workspace
    known = [b.phrase for b in brand_rules(workspace).banned]
    found = suggest_banned_phrases(rejection_notes(workspace.pk), known)
    return [dataclasses.asdict(s) for s in found]


@router.post("/banned-phrases", response={201: BannedPhraseOut, **error_responses(400, 403)})
def ban(request: HttpRequest, payload: BannedPhraseIn) -> Status[dict]:
    """Accept a phrase into your workspace's banned phrases, for every channel from now on
    (content lead, brand manager or admin: 403 otherwise). Audited; a phrase already banned
    is a 422 at ``phrase``."""
    rule = learn_banned_phrase(person=request.auth, **payload.dict())
    return Status(201, rule)
