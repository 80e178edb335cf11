"""The API object: token auth on every operation, the error envelope, and the routers.

OpenAPI at ``/api/openapi.json``, interactive docs at ``/api/docs``.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, re_path
from ninja import NinjaAPI

from signoff.api import (
    audit,
    briefs,
    claims,
    comments,
    dashboard,
    deliveries,
    errors,
    feeds,
    memory,
    metrics,
    notifications,
    packages,
    performance,
    sharing,
    tokens,
    visuals,
)
from signoff.api.auth import TokenAuth
from signoff.api.schemas import MeOut
from signoff.workspaces.models import Person

api = NinjaAPI(
    title="Signoff API",
    version="1",
    description=(
        "Briefs, runs, packages, gates, memory, dashboards, review links and the audit log of "
        "a Signoff workspace: what the screens do, through the same services. "
        "Authenticate with `Authorization: Bearer <token>` (`signoff token issue EMAIL`). "
        'Every refusal is `{"error": {"code", "message", ...}}`: 401 no or bad token, '
        "403 authority (wrong_role, maker_checker, same_person_two_gates), 404 not found "
        "(including another "
        "workspace's objects), 409 state, 422 bad input with `problems` located by field "
        "path, 413 a body over the size limit (2.5 MiB), 429 too many unknown tokens from "
        "one address (see `Retry-After`). Each "
        "operation lists every status it can answer. Tokens expire (90 days by default) and "
        "can be revoked: `/tokens`."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
)
errors.install(api)


@api.get("/me", response={200: MeOut, **errors.error_responses()}, tags=["people"])
def me(request: HttpRequest) -> Person:
    """The person your token acts as, their roles and workspace."""
    return request.auth


api.add_router("/briefs", briefs.router)
api.add_router("/packages", packages.router)
api.add_router("/claims", claims.router)
api.add_router("/audit", audit.router)
api.add_router("/memory", memory.router)
api.add_router("/metrics", metrics.router)
api.add_router("/notifications", notifications.router)
api.add_router("/dashboard", dashboard.router)
api.add_router("/performance", performance.router)
api.add_router("/review-links", sharing.router)
api.add_router("/tokens", tokens.router)
api.add_router("/", visuals.router)
api.add_router("/", feeds.router)
api.add_router("/", deliveries.router)
api.add_router("/", comments.router)


def unmatched(request: HttpRequest, rest: str) -> JsonResponse:
    """Answer any other path under the API with the envelope, not Django's HTML 404."""
    body = {"error": {"code": errors.ApiErrorCode.NOT_FOUND, "message": f"no API path {rest!r}"}}
    return JsonResponse(body, status=404)


def urls() -> tuple[list[URLResolver | URLPattern], str, str]:
    """The API's URLconf for ``path("api/", ...)``: its operations, then the JSON 404."""
    patterns, app_name, namespace = api.urls
    return [*patterns, re_path(r"^(?P<rest>.*)$", unmatched)], app_name, namespace
