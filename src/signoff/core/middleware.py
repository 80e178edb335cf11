"""Refuse input no database can store, before any view sees it."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, JsonResponse


class RejectNulBytesMiddleware:
    """A NUL byte in the query string or a form field is refused as bad input (422).

    PostgreSQL text cannot hold NUL; SQLite can. Refusing it everywhere keeps the two
    databases alike and turns a server error into a clear answer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = unquote_to_bytes(request.META.get("QUERY_STRING", ""))
        if b"\x00" in query or _body_has_nul(request):
            error = {
                "code": "invalid_input",
                "message": "input must not contain NUL bytes",
                "problems": [],
            }
            return JsonResponse({"error": error}, status=422)
        return self.get_response(request)


def _body_has_nul(request: HttpRequest) -> bool:
    if request.method in ("POST", "PUT", "PATCH") and request.content_type == "application/json":
        body = request.body
        return b"\x00" in body or b"\\u0000" in body
    if request.method != "POST" or request.content_type not in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        return False
    return any("\x00" in value for values in request.POST.lists() for value in values[1])
