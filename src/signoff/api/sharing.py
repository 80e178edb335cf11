"""Stakeholder review links: a content lead shares packages with someone without an account.

The guest's own pages (view and comment, nothing else) stay on the web at the link's URL;
here a content lead creates, lists and revokes links. Every use is audited.
"""

from datetime import timedelta

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Status

from signoff.api.errors import error_responses
from signoff.api.schemas import Id, ReviewLinkCreatedOut, ReviewLinkIn, ReviewLinkOut
from signoff.sharing import services
from signoff.sharing.models import ReviewLink

router = Router(tags=["review links"])


def _link_row(link: ReviewLink, packages: int) -> dict:
    return {
        "id": link.pk,
        "status": link.status(),
        "created_by": link.created_by,
        "note": link.note,
        "scope": link.scope,
        "packages": packages,
        "created_at": link.created_at,
        "expires_at": link.expires_at,
        "revoked_at": link.revoked_at,
        "revoked_by": link.revoked_by,
    }


@router.post("", response={201: ReviewLinkCreatedOut, **error_responses(400, 403)})
def create(request: HttpRequest, payload: ReviewLinkIn) -> Status[dict]:
    """Share ``packages``, or every package of a ``brief``'s ``channel``, for ``days`` days
    (content leads only: 403 otherwise). The token is in the answer once; only its hash is
    kept. A package outside your workspace is not found (404)."""
    ids, scope = services.link_scope(
        request.auth, payload.packages, brief=payload.brief, channel=payload.channel
    )
    link, token = services.create_review_link(
        request.auth, ids, timedelta(days=payload.days), payload.note, scope=scope
    )
    url = request.build_absolute_uri(reverse("sharing:review", kwargs={"token": token}))
    return Status(201, {"link": _link_row(link, len(ids)), "token": token, "url": url})


@router.get("", response={200: list[ReviewLinkOut], **error_responses()})
def links(request: HttpRequest) -> list[dict]:
    """Your workspace's review links, newest first (the last 100)."""
    return [_link_row(link, link.package_count) for link in services.links_of(request.auth)]


@router.post("/{link_id}/revoke", response={200: ReviewLinkOut, **error_responses(403)})
def revoke(request: HttpRequest, link_id: Id) -> dict:
    """Revoke a link: it no longer opens (content leads only). Revoking it again is harmless."""
    link = services.revoke_review_link(request.auth, link_id)
    return _link_row(link, link.packages.count())
