"""Refuse an API request body Django will not read with the API's error envelope.

Django refuses a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (``RequestDataTooBig``) or with too
many fields (``TooManyFieldsSent``, ``TooManyFilesSent``) by raising where the body is first
read, and answers that with its HTML 400 page. Under ``/api/`` this middleware reads the body
first and answers those refusals itself, as JSON: 413 ``too_large`` naming the limit, or 400
``bad_request``. The web screens keep Django's HTML answer.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

# Where signoff.config.urls mounts the API.
API_PREFIX = "/api/"
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
TOO_LARGE = "too_large"


def too_large_message(request: HttpRequest) -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    sent = request.META.get("CONTENT_LENGTH") or ""
    size = f" has {int(sent):,} bytes;" if sent.isdigit() else " is too large;"
    return (
        f"the request body{size} this server reads at most {limit:,} bytes "
        f"({limit / 1024 / 1024:.1f} MiB, DATA_UPLOAD_MAX_MEMORY_SIZE): send less per request"
    )


class ApiBodyLimitMiddleware:
    """Read an API request's body before any view, and refuse an unreadable one as JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX) and request.method in (
            "POST",
            "PUT",
            "PATCH",
            "DELETE",
        ):
            refusal = _read_body(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)


def _read_body(request: HttpRequest) -> JsonResponse | None:
    """Read (and keep) the body the way the view will; return the refusal if Django won't."""
    try:
        if request.content_type in FORMS:
            request.POST  # noqa: B018 - parsed once here; files stream to disk as usual
        else:
            request.body  # noqa: B018 - kept on the request for the view
    except RequestDataTooBig:
        return _refusal(413, TOO_LARGE, too_large_message(request))
    except TooManyFieldsSent:
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return _refusal(400, "bad_request", f"the form has more than {limit:,} fields")
    except TooManyFilesSent:
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return _refusal(400, "bad_request", f"the form has more than {limit:,} files")
    except MultiPartParserError as exc:
        return _refusal(400, "bad_request", f"the multipart body could not be read: {exc}")
    return None


def _refusal(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "problems": []}}, status=status
    )
