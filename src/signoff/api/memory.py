"""Memory: search what people decided and said, the banned phrases it suggests, and accepting
one into the workspace's rules (content lead, brand manager or admin, as in the CLI)."""

import dataclasses

from django.http import HttpRequest
from ninja import Query, Router, Status

from signoff.api.errors import error_responses
from signoff.api.schemas import (
    BannedPhraseIn,
    BannedPhraseOut,
    MemoryNoteOut,
    MemorySearchQuery,
    SuggestionOut,
)
from signoff.memory.search import search_notes
from signoff.memory.services import learn_banned_phrase, rejection_notes
from signoff.memory.suggestions import suggest_banned_phrases
from signoff.workspaces.rules import brand_rules

router = Router(tags=["memory"])


@router.get("/search", response={200: list[MemoryNoteOut], **error_responses()})
def search(request: HttpRequest, query: Query[MemorySearchQuery]) -> list[dict]:
    """Full-text search over rejection notes, edits, approvals, comments, ratings and winning
    copy of your workspace: every word of ``q`` (as a prefix), best first."""
    notes = search_notes(
        workspace_id=request.auth.workspace_id,
        query=query.q,
        sku=query.sku,
        channel=query.channel,
        limit=query.limit,
    )
    return [
        {
            "id": n.pk,
            "kind": n.kind,
            "package": n.package_id,
            "brief": n.package.brief.slug,
            "sku": n.sku,
            "channel": n.channel,
            "gate": n.gate,
            "person": n.person,
            "rule_ids": n.rule_ids,
            "created_at": n.created_at,
            "text": n.text,
        }
        for n in notes
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
