"""One error envelope for every refusal, and the handlers that map exceptions to it.

=====================  ======  ===============================================================
exception              status  ``error.code``
=====================  ======  ===============================================================
(body is not JSON)     400     ``bad_request`` (also: too many form fields or files)
(body too large)       413     ``too_large``: over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MiB)
(no or bad token)      401     ``unauthenticated``
Throttled              429     ``throttled``: too many unknown tokens from one address
AuthorityError         403     the workflow's code: ``wrong_role``, ``maker_checker``, ...
NotFound, Http404      404     ``not_found`` (also for objects of another workspace)
StateError             409     the workflow's code: ``invalid_state``, ``not_reviewed``, ...
InputError             422     ``invalid_input``, with ``problems`` (field path + message)
request validation     422     ``invalid_input``, with ``problems``
DecisionInputError     422     the workflow's code: ``note_required``, with ``problems`` too
=====================  ======  ===============================================================

Every 422 carries ``problems``, each located by ``field``: a dotted path into the request.
Each operation declares in the OpenAPI document every status it can answer (``error_responses``).
"""

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from signoff.api.middleware import TOO_LARGE
from signoff.core.errors import InputError, NotFound, Problem
from signoff.web.throttle import Throttled
from signoff.workflow import DecisionInputError, ErrorCode, WorkflowError
from signoff.workspaces.tokens import InvalidToken


class ApiErrorCode(StrEnum):
    """Codes the API adds to the workflow's ``ErrorCode`` (the UI shows the same ones)."""

    UNAUTHENTICATED = "unauthenticated"  # no, unknown, revoked or expired token, or person gone
    THROTTLED = "throttled"  # too many unknown tokens from this address: see Retry-After
    NOT_FOUND = NotFound.code  # no such object in the person's workspace
    INVALID_INPUT = InputError.code  # the request body or parameters are wrong; see problems
    BAD_REQUEST = "bad_request"  # the body could not be read at all (not JSON)
    TOO_LARGE = TOO_LARGE  # the body is over DATA_UPLOAD_MAX_MEMORY_SIZE (signoff.api.middleware)
    METHOD_NOT_ALLOWED = "method_not_allowed"


# Option names the services use for the CLI, and the request field that carries them here.
_CLI_FIELDS = {"--note": "note", "--set": "changes"}
# The request field carrying a CSV, by the file name its service is given (default: a brief's
# products CSV); the problem's ``line`` is then the CSV's line.
_CSV_BODIES = {"performance.csv": "csv"}
# The request field a workflow refusal of bad input (422) is about.
_DECISION_FIELDS = {ErrorCode.NOTE_REQUIRED: "note"}
# pydantic's messages that read better said the way intake says them.
_MESSAGES = {"missing": "this field is required", "extra_forbidden": "unknown field"}
# Request-level locations ninja puts in front of a field path.
_LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file"}


class ProblemOut(Schema):
    field: str | None = None  # dotted path into the request, e.g. ``products.0.price.amount``
    message: str
    line: int | None = None  # the CSV's line, when the problem is inside a CSV (``products_csv``)


class ErrorDetail(Schema):
    code: str
    message: str
    problems: list[ProblemOut] = []
    gate: str | None = None
    required_roles: list[str] = []


class ErrorOut(Schema):
    error: ErrorDetail


def error_responses(*codes: int) -> dict[int, type[ErrorOut]]:
    """Declare the error envelope for these statuses and those every endpoint can return.

    Every operation can answer 401 (token), 404 (an object outside your workspace, or none),
    422 (bad parameters, or a NUL byte anywhere) and 429 (too many unknown tokens from your
    address). Add 400 where there is a JSON body to read (413, a body over the size limit,
    comes with it), 403 where a service checks authority, 409 where it checks state.
    """
    body = {413} if 400 in codes else set()
    return dict.fromkeys(sorted({401, 404, 422, 429, *codes, *body}), ErrorOut)


def problem_out(problem: Problem) -> dict[str, Any]:
    field = _CLI_FIELDS.get(problem.field or "", problem.field)
    from_csv = bool(problem.file and problem.file.endswith(".csv"))
    body = _CSV_BODIES.get(problem.file or "", "products_csv")
    return {
        "field": f"{body}.{field}" if from_csv and field else field,
        "message": problem.message,
        "line": problem.line if from_csv else None,
    }


def _envelope(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _request_problems(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn ninja's validation errors into problems located in the request.

    ninja locates a body error as ``("body", <parameter>, *path)`` and a query or path error as
    ``("query", name)``; the body is the document itself, so both prefixes are dropped.
    """
    problems = []
    for err in errors:
        where, *path = err.get("loc") or ("",)
        if where == "body":
            path = path[1:]
        elif where not in _LOCATIONS:
            path = [where, *path]
        message = _MESSAGES.get(err.get("type", ""), err.get("msg", "invalid value"))
        problems.append({"field": ".".join(str(p) for p in path) or None, "message": message})
    return problems


def install(api: NinjaAPI) -> None:
    """Map every exception the services raise to the envelope and its status."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        response = api.create_response(request, body, status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="signoff"'
        return response

    @api.exception_handler(InvalidToken)
    def invalid_token(request: HttpRequest, exc: InvalidToken) -> HttpResponse:
        return respond(request, 401, _envelope(ApiErrorCode.UNAUTHENTICATED, str(exc)))

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        response = respond(request, 429, _envelope(ApiErrorCode.THROTTLED, str(exc)))
        response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(AuthenticationError)
    def no_token(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        message = "send your API token as 'Authorization: Bearer <token>'"
        return respond(request, 401, _envelope(ApiErrorCode.UNAUTHENTICATED, message))

    @api.exception_handler(WorkflowError)
    def refused(request: HttpRequest, exc: WorkflowError) -> HttpResponse:
        extra: dict[str, Any] = {}
        if isinstance(exc, DecisionInputError):  # bad input: say where, like any other 422
            field = _DECISION_FIELDS.get(exc.code)
            extra["problems"] = [{"field": field, "message": exc.message, "line": None}]
        body = _envelope(
            exc.code.value,
            exc.message,
            gate=exc.gate,
            required_roles=sorted(str(r) for r in exc.required_roles),
            **extra,
        )
        return respond(request, exc.http_status, body)

    @api.exception_handler(NotFound)
    def not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
        return respond(request, 404, _envelope(ApiErrorCode.NOT_FOUND, str(exc)))

    @api.exception_handler(Http404)
    def http_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, _envelope(ApiErrorCode.NOT_FOUND, str(exc) or "not found"))

    @api.exception_handler(InputError)
    def bad_input(request: HttpRequest, exc: InputError) -> HttpResponse:
        problems = [problem_out(p) for p in exc.problems]
        message = "; ".join(
            f"{p['field']}: {p['message']}" if p["field"] else p["message"] for p in problems
        )
        body = _envelope(ApiErrorCode.INVALID_INPUT, message, problems=problems)
        return respond(request, 422, body)

    @api.exception_handler(ValidationError)
    def invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        problems = _request_problems(exc.errors)
        message = "; ".join(f"{p['field'] or 'request'}: {p['message']}" for p in problems)
        body = _envelope(ApiErrorCode.INVALID_INPUT, message, problems=problems)
        return respond(request, 422, body)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {
            400: ApiErrorCode.BAD_REQUEST,
            404: ApiErrorCode.NOT_FOUND,
            405: ApiErrorCode.METHOD_NOT_ALLOWED,
        }.get(exc.status_code, f"http_{exc.status_code}")
        return respond(request, exc.status_code, _envelope(code, str(exc)))
